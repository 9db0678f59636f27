//! For the store tests: a throwaway PostgreSQL cluster (devstack's `PgCluster`, which needs
//! the server's `initdb`/`pg_ctl`; without them the tests fail, they do not skip) with the
//! service's migrations applied.

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// The cluster (stopped when dropped) and a pool on it.
pub(crate) async fn database() -> (devstack::postgres::PgCluster, PgPool) {
    let cluster = tokio::task::spawn_blocking(devstack::postgres::PgCluster::start)
        .await
        .expect("join")
        .expect("a throwaway PostgreSQL (initdb and pg_ctl installed)");
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&cluster.admin_url())
        .await
        .expect("connect");
    crate::MIGRATIONS.run(&pool).await.expect("migrations");
    (cluster, pool)
}
