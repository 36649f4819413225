//! The machine: file descriptor limit, and CPU and memory of server processes.

use std::time::Duration;

/// Raises this process's open-file limit to the hard limit (children inherit it),
/// since every connection is a file descriptor on both ends. Returns the new limit.
pub fn raise_fd_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_max;
            }
        }
        lim.rlim_cur
    }
}

fn clock_ticks_per_s() -> f64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// User plus system CPU time a process has used so far, from /proc/PID/stat.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after ")".
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) / clock_ticks_per_s(),
    ))
}

/// Resident memory of a process in KiB, from /proc/PID/status.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// CPU and memory of the server processes at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu: Duration,
    /// The load generator's CPU time at the same moment.
    pub client_cpu: Duration,
    pub rss_kb: u64,
    /// False when any process could not be read (gone, or not ours to measure).
    pub known: bool,
}

/// Sums CPU and RSS over the given processes.
pub fn usage(pids: &[u32]) -> Usage {
    let mut u = Usage {
        known: !pids.is_empty(),
        client_cpu: own_cpu_time().unwrap_or_default(),
        ..Usage::default()
    };
    for &pid in pids {
        match (cpu_time(pid), rss_kb(pid)) {
            (Some(c), Some(r)) => {
                u.cpu += c;
                u.rss_kb += r;
            }
            _ => u.known = false,
        }
    }
    u
}

/// This process's CPU time so far (the load generator's share of the machine).
pub fn own_cpu_time() -> Option<Duration> {
    cpu_time(std::process::id())
}
