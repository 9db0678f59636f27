//! The reporting service process: serves; `migrate` applies its migrations and exits (the
//! migration job of deploy/k8s/base/reporting.yaml).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = kit::telemetry::init(reporting::SERVICE)?;
    let config = || kit::Config::from_env(reporting::SERVICE, reporting::DEFAULT_PORT);
    match std::env::args().nth(1).as_deref() {
        None => reporting::run(config()?, kit::shutdown::os_signal()).await,
        // The migration job: only the database settings are read (it has no Kafka or TLS
        // credentials), and it exits once the schema is migrated.
        Some("migrate") => {
            let config = kit::Config::for_migration(reporting::SERVICE, reporting::DEFAULT_PORT)?;
            kit::db::migrate_command(&config, reporting::migrations()).await
        }
        Some(other) => anyhow::bail!(
            "unknown command {other:?}: run without arguments to serve, or `migrate` to apply the migrations and exit"
        ),
    }
}
