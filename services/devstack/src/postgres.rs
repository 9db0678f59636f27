//! A throwaway PostgreSQL cluster made with the installed server's `initdb` and `pg_ctl`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// A running throwaway cluster; stopped (and its files removed) when dropped.
#[derive(Debug)]
pub struct PgCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    run_as_postgres: bool,
    port: u16,
    options: String,
    _dir: tempfile::TempDir,
}

impl PgCluster {
    /// Creates and starts a cluster under a new temporary directory, listening on
    /// 127.0.0.1 on a free port, with trust authentication (it never leaves this machine).
    /// Commits are not flushed to disk (fsync and synchronous_commit off: a test database
    /// that is thrown away); see [`start_durable`](Self::start_durable).
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(false)
    }

    /// [`start`](Self::start) with durable commits: fsync, synchronous_commit and full-page
    /// writes on, as production runs (the load harness measures with this).
    pub fn start_durable() -> anyhow::Result<Self> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("collections-pg-")
            .tempdir()?;
        let data_dir = dir.path().join("data");
        let run_as_postgres = is_root();
        if run_as_postgres {
            // initdb refuses to run as root: the cluster belongs to the postgres user.
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()))
            .context("giving the cluster directory to the postgres user")?;
        }
        let initdb = bin_dir.join("initdb");
        let mut cmd = as_cluster_owner(run_as_postgres, &initdb);
        cmd.arg("-D").arg(&data_dir).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]);
        run(&mut cmd).context("initdb failed")?;

        let port = free_port()?;
        let durability = if durable {
            // The load harness reads what each statement cost (pg_stat_statements), with the
            // production cluster's shared buffers and checkpoint distance
            // (deploy/k8s/platform/postgres.yaml).
            "-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=512MB -c max_wal_size=4GB \
             -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"
        } else {
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        // random_page_cost as deploy/k8s/platform/postgres.yaml sets it (SSD, data in memory):
        // at the default the planner scanned whole tables for batches of a hundred keys.
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 \
             -c random_page_cost=1.1 {durability}",
            dir.path().display()
        );
        let cluster = Self {
            bin_dir,
            data_dir,
            run_as_postgres,
            port,
            options,
            _dir: dir,
        };
        cluster.resume()?;
        Ok(cluster)
    }

    /// Starts the server (again, after [`stop`](Self::stop)) on the same port and data.
    pub fn resume(&self) -> anyhow::Result<()> {
        let log = self._dir.path().join("postgres.log");
        let mut cmd = as_cluster_owner(self.run_as_postgres, &self.bin_dir.join("pg_ctl"));
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args(["-o", &self.options, "-l"])
            .arg(&log)
            .args(["-w", "-t", "60", "start"]);
        run(&mut cmd).with_context(|| format!("pg_ctl start failed; see {}", log.display()))
    }

    /// The server's process id (first line of `postmaster.pid`), while it runs.
    pub fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Superuser URL of the cluster's `postgres` database.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server now (fast shutdown).
    pub fn stop(&self) {
        let mut cmd = as_cluster_owner(self.run_as_postgres, &self.bin_dir.join("pg_ctl"));
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "stop"]);
        let _ = cmd.output();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The directory holding `initdb` and `pg_ctl`: `PG_BIN_DIR`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server found (looked for /usr/lib/postgresql/*/bin/initdb). \
             Run deploy/local/install-deps.sh, set PG_BIN_DIR, or set DATABASE_URL to an existing server"
        ),
    }
}

fn as_cluster_owner(run_as_postgres: bool, program: &Path) -> Command {
    if run_as_postgres {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let output = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !output.status.success() {
        bail!(
            "{cmd:?} exited with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
