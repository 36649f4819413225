//! The C allocator's arenas. glibc gives threads up to eight arenas per
//! core, and each keeps its own free space: with chorus's threads (the
//! runtime's workers, one per SQLite connection, short-lived blocking
//! ones) allocating and freeing each other's memory, free space piles up
//! unevenly across arenas and resident memory creeps upward for hours
//! while what is live stays flat (docs/benchmarks.md, "Staying up").
//! Fewer arenas reuse their free space instead.
//!
//! Even so, free() gives back only the free space at the very top of a
//! heap: a page freed below a chunk still in use stays resident until
//! `malloc_trim` walks the heaps and returns every whole free page. A
//! thread does that on a timer, so what the process holds follows what
//! it uses (the hour's soak grew by more than the 5% an hour the bench
//! allows without it).

use std::time::Duration;

/// Arenas per core; glibc's default is 8.
pub const ARENAS_PER_CORE: usize = 1;

/// Caps the arenas at [`ARENAS_PER_CORE`] per core (at least 2), unless
/// `MALLOC_ARENA_MAX` was set, which glibc has read already and which
/// the operator meant. Call before the runtime starts its threads: a
/// thread keeps the arena it first got. Returns the cap applied.
pub fn limit_arenas() -> Option<usize> {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return None;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let arenas = (cores * ARENAS_PER_CORE).max(2);
    set_arena_max(arenas).then_some(arenas)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(arenas: usize) -> bool {
    let arenas = libc::c_int::try_from(arenas).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes a tuning value of the C allocator.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: usize) -> bool {
    false
}

/// How often free pages inside the heaps are returned to the system. A
/// trim walks every arena under its lock (longer the larger they are:
/// 10 ms for 128 MB of free space in tests/allocator_trim.rs), so
/// it runs seldom.
pub const TRIM_EVERY: Duration = Duration::from_secs(30);

/// The thread that trims.
const TRIM_THREAD: &str = "malloc-trim";

/// Starts a thread that returns free pages to the system every `every`.
/// Returns whether it started (and whether this allocator can trim).
/// Called before logging is set up, so a failure goes to stderr.
pub fn keep_trimmed(every: Duration) -> bool {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return false;
    }
    let spawned = std::thread::Builder::new()
        .name(TRIM_THREAD.into())
        .spawn(move || loop {
            std::thread::sleep(every);
            trim();
        });
    match spawned {
        Ok(_) => true,
        Err(error) => {
            eprintln!(
                "chorus: cannot start the allocator's trim ({error}); free pages stay resident"
            );
            false
        }
    }
}

/// Returns every whole free page in the C allocator's heaps to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() {
    // SAFETY: malloc_trim only releases memory that no allocation uses.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() {}
