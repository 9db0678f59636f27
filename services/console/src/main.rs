//! `console`: the web console. Settings: README "Web console".

use console::Application;
use console::config::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init("console")?;
    let settings = Settings::from_env().map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = Application::build(settings).await?;
    app.run(kit::shutdown::os_signal()).await
}
