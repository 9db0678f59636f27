//! The production path of issue 16 item 4: the schema is changed by a migration job with a
//! role that owns it, the service runs under a role with rows only (`DATABASE_MIGRATE=false`),
//! and SIGTERM drains before the listener closes.
//!
//! On a fresh database prepared by the very `deploy/k8s/platform/roles.sql` that CloudNativePG
//! runs in production:
//! - dunning under its runtime role with `DATABASE_MIGRATE=false` refuses to start on the
//!   unmigrated schema, saying to run the migration job;
//! - `dunning migrate` under the runtime role is refused by PostgreSQL (no DDL), under the
//!   migration role (and with nothing but the database settings) it migrates and exits;
//! - then dunning starts under the runtime role, writes its rows (the contact-log key at
//!   start-up), and that role still cannot create a table;
//! - SIGTERM with `GRPC_DRAIN_MS`: readiness turns NOT_SERVING at once while liveness stays
//!   SERVING and the gRPC port still accepts connections; the process exits cleanly after it.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use devstack::provision::PgUrl;
use devstack::{Stack, StackOptions};
use sqlx::{Connection as _, Executor as _, PgConnection};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::OrLogs;

/// What CloudNativePG runs when the production cluster is created.
const ROLES_SQL: &str = include_str!("../../deploy/k8s/platform/roles.sql");
const SERVICE: &str = "dunning";
const API: &str = "receivables.dunning.v1.DunningService";

fn run(env: &[(String, String)], clear: bool, arg: Option<&str>) -> anyhow::Result<Output> {
    let mut command = Command::new(devstack::process::bin_dir()?.join(SERVICE));
    if clear {
        command.env_clear();
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    if let Some(arg) = arg {
        command.arg(arg);
    }
    Ok(command.output()?)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `env` with `overrides` replacing (or adding) variables.
fn with(env: &[(String, String)], overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    out.extend(
        overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    out
}

async fn health(addr: &str, service: &str) -> anyhow::Result<i32> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut client = HealthClient::new(channel);
    let response = client
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?;
    Ok(response.into_inner().status)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_runs_on_a_schema_its_migration_job_prepared_and_drains_on_sigterm() {
    let options = StackOptions {
        isolated: true,
        only: vec![SERVICE.to_owned()],
        ..StackOptions::default()
    };
    let mut stack = Stack::start(options, |_| {})
        .await
        .expect("the stack starts");
    // The stack's own dunning only lends its environment (broker, TLS, tokens); stop it so
    // the one started below is the only member of the consumer group.
    let env = match stack.process(SERVICE) {
        Ok(process) => process.env().to_vec(),
        Err(error) => panic!("{error:#}"),
    };
    stack.kill(SERVICE).or_logs(&stack);

    // A fresh database as production's: roles.sql as the superuser, LOGIN for the migration
    // role (CloudNativePG's managed roles do that, with the secrets' passwords).
    let admin = PgUrl::parse(&stack.superuser_url).or_logs(&stack);
    let database = format!("mj_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let password = kit::config::env_string("COLLECTIONS_ROLE_PASSWORD", "collections");
    let mut conn = PgConnection::connect(&stack.superuser_url)
        .await
        .or_logs(&stack);
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{database}\""
    )))
    .await
    .or_logs(&stack);
    conn.close().await.or_logs(&stack);
    let superuser = admin.with(&admin.user, admin.password.as_deref(), &database);
    let mut conn = PgConnection::connect(&superuser).await.or_logs(&stack);
    sqlx::raw_sql(ROLES_SQL)
        .execute(&mut conn)
        .await
        .or_logs(&stack);
    conn.execute(sqlx::AssertSqlSafe(format!(
        "ALTER ROLE collections_{SERVICE}_migrate LOGIN PASSWORD '{password}'"
    )))
    .await
    .or_logs(&stack);
    conn.close().await.or_logs(&stack);
    let runtime_url = admin.with(
        &format!("collections_{SERVICE}"),
        Some(&password),
        &database,
    );
    let migrate_url = admin.with(
        &format!("collections_{SERVICE}_migrate"),
        Some(&password),
        &database,
    );
    let runtime = with(
        &env,
        &[
            ("DATABASE_URL", &runtime_url),
            ("DATABASE_MIGRATE", "false"),
            ("METRICS_ADDR", ""),
        ],
    );

    // 1. Not migrated yet: refused, naming the job to run.
    let refused = run(&runtime, false, None).or_logs(&stack);
    let said = text(&refused);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("DATABASE_MIGRATE=false")
            && said.contains("Run the migration job first")
            && said.contains("dunning migrate"),
        "{said}"
    );

    // 2. The runtime role may not change the schema, so it cannot migrate.
    let no_ddl = run(&runtime, false, Some("migrate")).or_logs(&stack);
    assert!(!no_ddl.status.success(), "{}", text(&no_ddl));
    assert!(
        text(&no_ddl).contains("permission denied"),
        "{}",
        text(&no_ddl)
    );

    // 3. The migration job: its role, only the database settings (no Kafka, TLS or keys).
    let job_env = vec![
        ("DATABASE_URL".to_owned(), migrate_url.clone()),
        ("DATABASE_SCHEMA".to_owned(), SERVICE.to_owned()),
        ("RUST_LOG".to_owned(), "warn".to_owned()),
    ];
    let migrated = run(&job_env, true, Some("migrate")).or_logs(&stack);
    assert!(migrated.status.success(), "{}", text(&migrated));
    assert!(
        String::from_utf8_lossy(&migrated.stdout).contains("schema dunning migrated to version"),
        "{}",
        text(&migrated)
    );
    // Again: nothing to do, still fine (the Job may run on every release).
    let again = run(&job_env, true, Some("migrate")).or_logs(&stack);
    assert!(again.status.success(), "{}", text(&again));

    // 4. Now the service starts under the runtime role, and drains on SIGTERM.
    let health_addr = format!(
        "127.0.0.1:{}",
        devstack::postgres::free_port().or_logs(&stack)
    );
    let serving = with(
        &runtime,
        &[
            ("GRPC_HEALTH_ADDR", &health_addr),
            ("GRPC_DRAIN_MS", "6000"),
        ],
    );
    let dir = tempfile::tempdir().or_logs(&stack);
    let mut process =
        devstack::process::ServiceProcess::spawn(SERVICE, serving, dir.path()).or_logs(&stack);
    let addr = process
        .wait_ready(Duration::from_secs(60))
        .await
        .or_logs(&stack);

    let mut as_runtime = PgConnection::connect(&runtime_url).await.or_logs(&stack);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM dunning.contact_log_keys")
        .fetch_one(&mut as_runtime)
        .await
        .or_logs(&stack);
    assert!(keys >= 1, "the start-up INSERT of the signing key");
    let ddl = as_runtime
        .execute("CREATE TABLE dunning.sneaky (id INT)")
        .await
        .expect_err("the runtime role has no DDL");
    assert!(ddl.to_string().contains("permission denied"), "{ddl}");
    as_runtime.close().await.or_logs(&stack);

    let serving_code = ServingStatus::Serving as i32;
    let not_serving = ServingStatus::NotServing as i32;
    // The health listener is its own socket, bound beside the gRPC port: ask until it
    // answers (a refused connection right after start-up is not an answer).
    let mut answered = health(&health_addr, API).await;
    let asked = Instant::now();
    while answered.is_err() && asked.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        answered = health(&health_addr, API).await;
    }
    assert_eq!(answered.or_logs(&stack), serving_code);
    let pid = process.id().expect("running");
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .or_logs(&stack);
    assert!(status.success());
    // Readiness fails at once; liveness stays up; the gRPC port still takes connections.
    let mut drained = false;
    while sent.elapsed() < Duration::from_millis(3000) {
        if health(&health_addr, API).await.ok() == Some(not_serving) {
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(drained, "readiness still SERVING 3 s after SIGTERM");
    assert_eq!(
        health(&health_addr, "").await.or_logs(&stack),
        serving_code,
        "liveness must stay SERVING while draining"
    );
    tokio::net::TcpStream::connect(addr)
        .await
        .expect("the gRPC port is still open while draining");
    // All of that inside the drain, or it proves nothing about it.
    assert!(
        sent.elapsed() < Duration::from_millis(6000),
        "the checks took {:?}, longer than the drain",
        sent.elapsed()
    );
    let clean = tokio::task::spawn_blocking(move || {
        let exited = process.terminate(Duration::from_secs(30));
        (exited, process)
    })
    .await
    .or_logs(&stack);
    assert!(
        clean.0,
        "dunning did not exit cleanly:\n{}",
        clean.1.log_tail(30)
    );
    assert!(
        sent.elapsed() >= Duration::from_secs(6),
        "exited after {:?}, before GRPC_DRAIN_MS=6000",
        sent.elapsed()
    );
    stack.stop(|_| {});
}
