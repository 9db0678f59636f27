//! The contracts service process: serves, or with `reseal` seals every stored account again
//! under the current key (R-O4).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(contracts::SERVICE)?;
    let config = kit::Config::from_env(contracts::SERVICE, contracts::DEFAULT_PORT)?;
    match std::env::args().nth(1).as_deref() {
        None => contracts::run(config, kit::shutdown::os_signal()).await,
        Some("reseal") => contracts::reseal(config).await,
        Some(other) => anyhow::bail!(
            "unknown command {other:?}: run without arguments to serve, or `reseal` to seal every stored account under PII_KEY_ID"
        ),
    }
}
