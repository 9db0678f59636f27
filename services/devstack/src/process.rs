//! Service processes: started from the workspace's built binaries, logged to files,
//! stopped gracefully (SIGTERM) or killed (SIGKILL) on demand.

use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// One running (or stopped) service process.
#[derive(Debug)]
pub struct ServiceProcess {
    name: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    ready_file: PathBuf,
    log_file: PathBuf,
    child: Option<Child>,
    addr: Option<SocketAddr>,
}

/// `METRICS_ADDR` for a process: a free local port unless the environment names one.
fn with_metrics(mut env: Vec<(String, String)>) -> anyhow::Result<Vec<(String, String)>> {
    if !env.iter().any(|(k, _)| k == "METRICS_ADDR") {
        let port = crate::postgres::free_port()?;
        env.push(("METRICS_ADDR".to_owned(), format!("127.0.0.1:{port}")));
    }
    Ok(env)
}

impl ServiceProcess {
    /// Starts `name` with `env` added to this process's environment. Its output goes to
    /// `<dir>/<name>.log`.
    pub fn spawn(name: &str, env: Vec<(String, String)>, dir: &Path) -> anyhow::Result<Self> {
        let binary = bin_dir()?.join(name);
        if !binary.exists() {
            bail!(
                "the {name} binary is not built ({} is missing); run `cargo build --workspace --bins` first",
                binary.display()
            );
        }
        let mut process = Self {
            name: name.to_owned(),
            binary,
            env: with_metrics(env)?,
            ready_file: dir.join(format!("{name}.ready")),
            log_file: dir.join(format!("{name}.log")),
            child: None,
            addr: None,
        };
        process.start()?;
        Ok(process)
    }

    /// Starts another process of the same service with the same environment (another
    /// replica, on its own gRPC port), named `name` for its log and ready files.
    pub fn spawn_replica(&self, name: &str, dir: &Path) -> anyhow::Result<Self> {
        let mut env = self.env.clone();
        env.retain(|(k, _)| k != "GRPC_ADDR" && k != "METRICS_ADDR");
        env.push(("GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
        let mut process = Self {
            name: name.to_owned(),
            binary: self.binary.clone(),
            env: with_metrics(env)?,
            ready_file: dir.join(format!("{name}.ready")),
            log_file: dir.join(format!("{name}.log")),
            child: None,
            addr: None,
        };
        process.start()?;
        Ok(process)
    }

    fn start(&mut self) -> anyhow::Result<()> {
        let _ = std::fs::remove_file(&self.ready_file);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)?;
        let mut command = Command::new(&self.binary);
        command
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("READY_FILE", &self.ready_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if let Some(addr) = self.addr {
            // A restart keeps the address clients already know.
            command.env("GRPC_ADDR", addr.to_string());
        }
        self.child = Some(
            command
                .spawn()
                .with_context(|| format!("starting {}", self.binary.display()))?,
        );
        Ok(())
    }

    /// Waits until the service wrote its ready file; fails early if the process exits.
    pub async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<SocketAddr> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.ready_file)
                && let Ok(addr) = text.trim().parse::<SocketAddr>()
            {
                self.addr = Some(addr);
                return Ok(addr);
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "{} exited with {status} during start-up:\n{}",
                    self.name,
                    self.log_tail(30)
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{} was not ready after {timeout:?}:\n{}",
                    self.name,
                    self.log_tail(30)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The environment the process was started with (beyond this process's own).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// The operating system's id of the running process.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The gRPC address, once ready.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Where the process serves `/metrics` (issue 16 item 3).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.env
            .iter()
            .find(|(k, _)| k == "METRICS_ADDR")
            .and_then(|(_, v)| v.parse().ok())
    }

    /// The process's metrics in the Prometheus text format, scraped over HTTP/1.1.
    ///
    /// # Errors
    /// No metrics address, or the scrape failed.
    pub async fn scrape(&self) -> anyhow::Result<String> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let addr = self
            .metrics_addr()
            .ok_or_else(|| anyhow::anyhow!("{} has no METRICS_ADDR", self.name))?;
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let (head, body) = response
            .split_once("\r\n\r\n")
            .ok_or_else(|| anyhow::anyhow!("{}: not an HTTP response", self.name))?;
        anyhow::ensure!(
            head.starts_with("HTTP/1.1 200"),
            "{}: /metrics answered {}",
            self.name,
            head.lines().next().unwrap_or_default()
        );
        Ok(body.to_owned())
    }

    /// Path of the log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Kills the process with SIGKILL: no shutdown work at all, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again after [`kill`](Self::kill) or [`terminate`](Self::terminate).
    pub async fn restart(&mut self, timeout: Duration) -> anyhow::Result<SocketAddr> {
        self.kill();
        self.start()?;
        self.wait_ready(timeout).await
    }

    /// Asks the process to stop (SIGTERM) and waits up to `grace`, then kills it. Returns true
    /// when it exited by itself with success (a graceful shutdown).
    pub fn terminate(&mut self, grace: Duration) -> bool {
        self.terminate_explained(grace).is_ok()
    }

    /// [`terminate`](Self::terminate), saying why a shutdown was not graceful: the exit
    /// status it ended with, or that it was still running after `grace` and was killed.
    ///
    /// # Errors
    /// The shutdown was not graceful (or the process was not running).
    pub fn terminate_explained(&mut self, grace: Duration) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Err("not running".to_owned());
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("exited with {status} after SIGTERM"))
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!(
            "still running {} s after SIGTERM, killed",
            grace.as_secs()
        ))
    }

    /// The last `lines` lines of the log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_file).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where the service binaries are: `COLLECTIONS_BIN_DIR`, else next to this executable
/// (`target/<profile>/`, also when this is a test binary in `target/<profile>/deps/`).
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("COLLECTIONS_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe()?;
    let mut dir = exe
        .parent()
        .context("executable has no directory")?
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    Ok(dir)
}
