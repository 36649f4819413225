//! Logs (tracing) and metrics (Prometheus). Both are process-wide, so they
//! are set up once even when tests start many applications in one process.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogSettings;

/// Installs the log subscriber. Tests call it with `quiet` unless
/// `TEST_LOG` is set, so a passing run prints nothing.
pub fn init_logging(settings: &LogSettings, quiet: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = if quiet {
        builder.with_writer(std::io::sink).try_init()
    } else if settings.format == "json" {
        builder.json().with_writer(std::io::stderr).try_init()
    } else {
        builder.with_writer(std::io::stderr).try_init()
    };
    let _ = result;
}

/// The process's Prometheus recorder, installed on first use.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .expect("static buckets")
                .build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            keep_histograms_drained(handle.clone());
            handle
        })
        .clone()
}

/// How often histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The thread that runs the recorder's upkeep.
const UPKEEP_THREAD: &str = "metrics-upkeep";

/// Every histogram sample (one per store batch, for two histograms) is
/// queued in the recorder until something folds it into the buckets.
/// Reading /metrics does, but a node nobody scrapes would hold every
/// sample it ever recorded: memory growing for as long as it runs. A
/// thread of its own, so it works whichever runtime (or none) asks first.
fn keep_histograms_drained(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name(UPKEEP_THREAD.into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the metrics upkeep; histograms grow until /metrics is read");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thread names as the kernel reports them (cut to 15 bytes).
    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .expect("/proc")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_string())
            .collect()
    }

    #[test]
    fn histograms_are_drained_without_anyone_reading_metrics() {
        let _ = metrics();
        let _ = metrics();
        let upkeep = || {
            thread_names()
                .iter()
                .filter(|name| name.as_str() == UPKEEP_THREAD)
                .count()
        };
        // The new thread names itself once it runs.
        let named_by = std::time::Instant::now() + Duration::from_secs(5);
        while upkeep() == 0 && std::time::Instant::now() < named_by {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            upkeep(),
            1,
            "one upkeep thread per process: {:?}",
            thread_names()
        );
    }
}
