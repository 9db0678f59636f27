//! The reporting service process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(reporting::SERVICE)?;
    let config = kit::Config::from_env(reporting::SERVICE, reporting::DEFAULT_PORT)?;
    reporting::run(config, kit::shutdown::os_signal()).await
}
