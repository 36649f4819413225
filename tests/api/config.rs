//! Settings: a bad value stops the real binary before it listens, with a
//! message naming the setting.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// Environment, config file, the setting named, where it was set.
type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, &'a str, &'a str);

#[tokio::test]
async fn a_zero_where_a_positive_number_belongs_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("chorus.db");
    let file = dir.path().join("chorus.toml");
    std::fs::write(&file, "[ws]\nmessage_burst = 0\n").unwrap();
    let file = file.to_str().unwrap();
    let cases: [Case; 4] = [
        (
            &[("CHORUS_STORE__BATCH_MAX", "0")],
            None,
            "store.batch_max",
            "CHORUS_",
        ),
        (
            &[("CHORUS_HUB__RING_SIZE", "0")],
            None,
            "hub.ring_size",
            "CHORUS_",
        ),
        (
            &[("CHORUS_REPORT__MIN_GROUP_SIZE", "-3")],
            None,
            "report.min_group_size",
            "CHORUS_",
        ),
        (&[], Some(file), "ws.message_burst", "chorus.toml"),
    ];
    for (env, config, setting, place) in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chorus"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--database"])
            .arg(format!("sqlite://{}", database.display()))
            .envs(env.iter().copied())
            .env_remove("CHORUS_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(config) = config {
            command.args(["--config", config]);
        }
        let output = tokio::time::timeout(Duration::from_secs(30), command.output())
            .await
            .expect("chorus stops in time")
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{setting}: {stdout}");
        assert!(
            stderr.contains(&format!("`{setting}` must be greater than 0")),
            "{setting}: {stderr}"
        );
        assert!(stderr.contains(place), "{setting}: {stderr}");
        assert!(!stdout.contains("listening"), "{setting}: {stdout}");
        assert!(!database.exists(), "{setting}: the store was opened");
    }
}
