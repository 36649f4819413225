//! Starting a server process, learning its address from its stdout, stopping it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// A server the load test started. Killed if dropped without `stop`.
pub struct ServerProcess {
    child: Child,
    pub pid: u32,
    /// What followed the readiness prefix, e.g. `http://127.0.0.1:41234`.
    pub base_url: String,
    pub log: PathBuf,
}

/// Spawns `cmd` and waits until it prints a line starting with `ready_prefix`.
/// Everything it prints goes to `log`.
pub async fn spawn(
    mut cmd: Command,
    ready_prefix: &str,
    log: &Path,
    timeout: Duration,
) -> anyhow::Result<ServerProcess> {
    let stderr = std::fs::File::create(log.with_extension("stderr.log"))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .kill_on_drop(true);
    // If the load test itself is killed, its servers go with it.
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    let pid = child.id().ok_or_else(|| anyhow!("process ended at once"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut out = tokio::fs::File::create(log).await?;
    let wait_ready = async {
        while let Some(line) = lines.next_line().await? {
            out.write_all(line.as_bytes()).await?;
            out.write_all(b"\n").await?;
            if let Some(pos) = line.find(ready_prefix) {
                return Ok(Some(line[pos + ready_prefix.len()..].trim().to_string()));
            }
        }
        Ok::<_, std::io::Error>(None)
    };
    let found = tokio::time::timeout(timeout, wait_ready).await;
    let base_url = match found {
        Ok(Ok(Some(url))) => url,
        Ok(Ok(None)) | Ok(Err(_)) => bail!(
            "{:?} ended before printing {ready_prefix:?}; its output:\n{}",
            cmd.as_std().get_program(),
            tail(log)
        ),
        Err(_) => bail!(
            "{:?} printed no {ready_prefix:?} within {timeout:?}; its output:\n{}",
            cmd.as_std().get_program(),
            tail(log)
        ),
    };
    // Keep draining stdout into the log so the process never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = out.write_all(line.as_bytes()).await;
            let _ = out.write_all(b"\n").await;
        }
    });
    Ok(ServerProcess {
        child,
        pid,
        base_url,
        log: log.to_path_buf(),
    })
}

/// The last lines a process wrote, for error messages.
pub fn tail(log: &Path) -> String {
    let mut text = String::new();
    for path in [log.to_path_buf(), log.with_extension("stderr.log")] {
        if let Ok(t) = std::fs::read_to_string(&path) {
            let lines: Vec<&str> = t.lines().collect();
            let from = lines.len().saturating_sub(15);
            text.push_str(&lines[from..].join("\n"));
            text.push('\n');
        }
    }
    text
}

impl ServerProcess {
    /// SIGTERM, then SIGKILL if it has not ended within `grace`.
    pub async fn stop(mut self, grace: Duration) {
        // SAFETY: kill sends a signal to the child we started.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Runs a command to completion with `input` on stdin; fails with its output.
pub async fn run_with_input(mut cmd: Command, input: &str) -> anyhow::Result<String> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).await?;
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .map_err(|_| anyhow!("{cmd:?} took over a minute"))??;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}
