//! The payments service process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(payments::SERVICE)?;
    let config = kit::Config::from_env(payments::SERVICE, payments::DEFAULT_PORT)?;
    payments::run(config, kit::shutdown::os_signal()).await
}
