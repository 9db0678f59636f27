//! The contracts service process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(contracts::SERVICE)?;
    let config = kit::Config::from_env(contracts::SERVICE, contracts::DEFAULT_PORT)?;
    contracts::run(config, kit::shutdown::os_signal()).await
}
