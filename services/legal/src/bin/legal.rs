//! The legal service process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(legal::SERVICE)?;
    let config = kit::Config::from_env(legal::SERVICE, legal::DEFAULT_PORT)?;
    legal::run(config, kit::shutdown::os_signal()).await
}
