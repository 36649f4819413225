//! A PostgreSQL and a Redis of the load test's own, for scenarios that stop
//! and start them (restarts): the machine's shared services are never touched.
//!
//! PostgreSQL refuses to run as root, so as root the cluster is made and run
//! by the `postgres` user (`runuser`); as anyone else, by that user.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use tokio::process::{Child, Command};

/// Where PostgreSQL's server programs are: `$PG_BIN`, else the newest
/// /usr/lib/postgresql/N/bin, else whatever `pg_ctl` is on the PATH.
fn pg_bin(program: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir).join(program);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin").join(program);
            bin.exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map_or_else(|| PathBuf::from(program), |(_, p)| p)
}

/// A port nobody listens on now (the kernel's choice).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no memory effects.
    unsafe { libc::geteuid() == 0 }
}

/// The uid and gid of a user, from the password database.
fn user_ids(name: &str) -> anyhow::Result<(u32, u32)> {
    let cname = std::ffi::CString::new(name)?;
    // SAFETY: getpwnam returns a pointer to static storage or null; we copy
    // the two numbers out at once, before any other call could reuse it.
    unsafe {
        let pw = libc::getpwnam(cname.as_ptr());
        if pw.is_null() {
            bail!("no user {name:?} to run PostgreSQL as (PostgreSQL refuses root)");
        }
        Ok(((*pw).pw_uid, (*pw).pw_gid))
    }
}

/// A private PostgreSQL cluster in a temporary directory, trust auth for
/// `postgres` on 127.0.0.1, default durability (fsync and synchronous commit on).
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    port: u16,
    running: bool,
}

impl PrivatePostgres {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command for a PostgreSQL program, as the `postgres` user when we are root.
    fn command(program: &str) -> Command {
        let bin = pg_bin(program);
        if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(bin);
            cmd
        } else {
            Command::new(bin)
        }
    }

    async fn run(mut cmd: Command, what: &str) -> anyhow::Result<()> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
            .await
            .map_err(|_| anyhow!("{what} took over two minutes"))?
            .with_context(|| format!("{what}: starting {cmd:?}"))?;
        if !out.status.success() {
            bail!(
                "{what} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// `initdb`, then starts the server on a free port.
    pub async fn start() -> anyhow::Result<PrivatePostgres> {
        let dir = tempfile::Builder::new().prefix("chorus-lt-pg-").tempdir()?;
        if is_root() {
            let (uid, gid) = user_ids("postgres")?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .context("handing the PostgreSQL directory to the postgres user")?;
        }
        let mut pg = PrivatePostgres {
            port: free_port()?,
            dir,
            running: false,
        };
        let mut init = Self::command("initdb");
        init.arg("-D")
            .arg(pg.data())
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .env("LC_ALL", "C");
        Self::run(init, "initdb").await?;
        pg.start_again().await?;
        Ok(pg)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        let mut cmd = Self::command("pg_ctl");
        cmd.arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("postgres.log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
                self.port,
                self.dir.path().display()
            ))
            .args(["-w", "-t", "60", "start"]);
        Self::run(cmd, "pg_ctl start").await?;
        self.running = true;
        Ok(())
    }

    /// `pg_ctl stop -m fast`: clients are disconnected, the server shuts down cleanly.
    pub async fn stop_fast(&mut self) -> anyhow::Result<()> {
        let mut cmd = Self::command("pg_ctl");
        cmd.arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "-t", "60", "stop"]);
        Self::run(cmd, "pg_ctl stop").await?;
        self.running = false;
        Ok(())
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }
}

impl Drop for PrivatePostgres {
    /// pg_ctl's server is not our child: stop it here so no run leaves one behind.
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        let bin = pg_bin("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            std::process::Command::new(bin)
        };
        let _ = cmd
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A private redis-server on a unix socket in a temporary directory, no persistence.
pub struct PrivateRedis {
    child: Option<Child>,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl PrivateRedis {
    pub async fn start() -> anyhow::Result<PrivateRedis> {
        let dir = tempfile::Builder::new()
            .prefix("chorus-lt-redis-")
            .tempdir()?;
        let socket = dir.path().join("redis.sock");
        let mut redis = PrivateRedis {
            child: None,
            socket,
            _dir: dir,
        };
        redis.start_again().await?;
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// Starts redis-server on the same socket and waits until it accepts.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", "0", "--unixsocket"])
            .arg(&self.socket)
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        self.child = Some(
            cmd.spawn()
                .context("starting redis-server (is it installed?)")?,
        );
        wait_for_socket(&self.socket, Duration::from_secs(10)).await
    }

    /// SIGTERM (no persistence: it exits at once), and waits for it to end.
    pub async fn stop_fast(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                // SAFETY: a signal to the child we started.
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGTERM);
                }
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                child.kill().await?;
            }
        }
        let _ = std::fs::remove_file(&self.socket);
        Ok(())
    }
}

async fn wait_for_socket(socket: &Path, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if tokio::net::UnixStream::connect(socket).await.is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "redis-server did not listen on {} in {timeout:?}",
                socket.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
