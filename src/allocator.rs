//! The C allocator's arenas. glibc gives threads up to eight arenas per
//! core, and each keeps its own free space: with chorus's threads (the
//! runtime's workers, one per SQLite connection, short-lived blocking
//! ones) allocating and freeing each other's memory, free space piles up
//! unevenly across arenas and resident memory creeps upward for hours
//! while what is live stays flat (docs/benchmarks.md, "Staying up").
//! Fewer arenas reuse their free space instead.

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
