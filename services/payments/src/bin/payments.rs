//! The payments service process: serves; `migrate` applies its migrations and exits (the
//! migration job); `reseal` seals every stored account again under the current key (R-O4).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(payments::SERVICE)?;
    let config = || kit::Config::from_env(payments::SERVICE, payments::DEFAULT_PORT);
    match std::env::args().nth(1).as_deref() {
        None => payments::run(config()?, kit::shutdown::os_signal()).await,
        // The migration job: only the database settings are read (it has no Kafka or TLS
        // credentials), and it exits once the schema is migrated.
        Some("migrate") => {
            let config = kit::Config::for_migration(payments::SERVICE, payments::DEFAULT_PORT)?;
            kit::db::migrate_command(&config, payments::migrations()).await
        }
        Some("reseal") => payments::reseal(config()?).await,
        Some(other) => anyhow::bail!(
            "unknown command {other:?}: run without arguments to serve, `migrate` to apply the migrations and exit, or `reseal` to seal every stored account under PII_KEY_ID"
        ),
    }
}
