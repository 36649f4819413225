//! chorus returns free pages inside the C allocator's heaps to the system
//! (src/allocator.rs). Its own test binary: resident memory is per process,
//! and another test's arenas would blur what this one measures.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

/// Resident memory of this process, in bytes (from /proc/self/statm).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    pages * page
}

#[test]
fn a_trim_returns_free_pages_below_live_memory() {
    // Blocks under the mmap threshold come from the heap; the last one
    // stays allocated, above the others, so free() alone cannot give
    // their pages back (it only trims the top of a heap).
    const BLOCKS: usize = 16_384;
    const SIZE: usize = 8 * 1024;
    let blocks: Vec<Vec<u8>> = (0..BLOCKS).map(|i| vec![(i % 251) as u8; SIZE]).collect();
    let pin = vec![7u8; SIZE];
    let before_free = resident_bytes();
    drop(blocks);
    let freed = resident_bytes();
    let trimming = std::time::Instant::now();
    chorus::allocator::trim();
    let took = trimming.elapsed();
    let trimmed = resident_bytes();
    assert_eq!(pin[SIZE - 1], 7);
    let held = BLOCKS * SIZE;
    eprintln!("resident: {before_free} with the blocks, {freed} after free, {trimmed} after trim, in {took:?}");
    assert!(
        freed + held / 2 > before_free,
        "free() alone gave back most of the blocks; the test no longer shows what trim is for"
    );
    assert!(
        trimmed + held / 2 < freed,
        "trim gave back less than half of {held} free bytes: {freed} -> {trimmed}"
    );
}
