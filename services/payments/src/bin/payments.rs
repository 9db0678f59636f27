//! The payments service process: serves, or with `reseal` seals every stored account again
//! under the current key (R-O4).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(payments::SERVICE)?;
    let config = kit::Config::from_env(payments::SERVICE, payments::DEFAULT_PORT)?;
    match std::env::args().nth(1).as_deref() {
        None => payments::run(config, kit::shutdown::os_signal()).await,
        Some("reseal") => payments::reseal(config).await,
        Some(other) => anyhow::bail!(
            "unknown command {other:?}: run without arguments to serve, or `reseal` to seal every stored account under PII_KEY_ID"
        ),
    }
}
