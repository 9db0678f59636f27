//! The scoring service process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(scoring::SERVICE)?;
    let config = kit::Config::from_env(scoring::SERVICE, scoring::DEFAULT_PORT)?;
    scoring::run(config, kit::shutdown::os_signal()).await
}
