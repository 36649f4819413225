//! A real SMTP server for the tests: `tests/smtp/sink.py` (Debian's
//! python3-aiosmtpd) on a free port, writing each message it receives to a
//! folder. Dropping the sink closes its standard input, which stops it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct SmtpSink {
    pub port: u16,
    pub folder: PathBuf,
    _child: Child,
    _dir: tempfile::TempDir,
}

/// Debian's python3 has python3-aiosmtpd; a python3 earlier on PATH may not.
fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("received");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(&folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink starts in time")
            .unwrap()
            .unwrap_or_else(|| {
                panic!("the SMTP sink did not start: install python3-aiosmtpd (apt-get install -y python3-aiosmtpd)")
            });
        let port = line
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink said {line:?}"));
        SmtpSink {
            port,
            folder,
            _child: child,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.folder)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
            .iter()
            .map(|p| readable(&std::fs::read_to_string(p).unwrap()))
            .collect()
    }

    /// Waits for the `n`th message (1-based) to `address` and returns it.
    pub async fn nth_to(&self, address: &str, n: usize) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let to_address: Vec<String> = self
                .messages()
                .into_iter()
                .filter(|m| {
                    m.lines()
                        .any(|l| l.to_ascii_lowercase().starts_with("to:") && l.contains(address))
                })
                .collect();
            if to_address.len() >= n {
                return to_address[n - 1].clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no message {n} to {address} arrived; received: {:?}",
                self.messages()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The 6-digit code in a sign-in message (on a line of its own).
pub fn code_in(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {message}"))
        .to_string()
}

/// The sign-in link in a message: `(attempt, code)` from `…#signin=ATTEMPT.CODE`.
pub fn link_in(message: &str) -> (String, String, String) {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| l.contains("#signin="))
        .unwrap_or_else(|| panic!("no link in {message}"));
    let (page, fragment) = line.split_once("#signin=").unwrap();
    let (attempt, code) = fragment.split_once('.').unwrap();
    (page.to_string(), attempt.to_string(), code.to_string())
}

/// The message as a mail client shows it: a quoted-printable body decoded
/// (soft line breaks joined, `=XX` turned back into bytes).
fn readable(message: &str) -> String {
    let quoted = message
        .lines()
        .any(|l| l.eq_ignore_ascii_case("content-transfer-encoding: quoted-printable"));
    if !quoted {
        return message.to_string();
    }
    let joined = message.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
