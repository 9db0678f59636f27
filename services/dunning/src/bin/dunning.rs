//! The dunning service process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(dunning::SERVICE)?;
    let config = kit::Config::from_env(dunning::SERVICE, dunning::DEFAULT_PORT)?;
    dunning::run(config, kit::shutdown::os_signal()).await
}
