//! chorus caps the C allocator's arenas (src/allocator.rs). Its own test
//! binary: arenas are per process, and a thread keeps the arena it first got.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::sync::{Arc, Barrier};

/// The arenas glibc has made, from `malloc_info`'s report.
fn arenas() -> usize {
    let mut buffer: *mut libc::c_char = std::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: open_memstream allocates the buffer it reports; it is read
    // after fclose and then freed, as its manual says.
    let report = unsafe {
        let stream = libc::open_memstream(&mut buffer, &mut size);
        assert!(!stream.is_null());
        assert_eq!(libc::malloc_info(0, stream), 0);
        libc::fclose(stream);
        let text = std::slice::from_raw_parts(buffer as *const u8, size).to_vec();
        libc::free(buffer.cast());
        String::from_utf8(text).expect("XML")
    };
    report.matches("<heap nr=").count()
}

#[test]
fn threads_share_a_few_arenas() {
    let Some(cap) = chorus::allocator::limit_arenas() else {
        eprintln!("MALLOC_ARENA_MAX is set: the operator's cap applies, not chorus's");
        return;
    };
    // More threads than the cap, all allocating at once: glibc's default
    // (8 per core) would give each its own arena.
    let threads = cap + 4;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let held = vec![1u8; 64 * 1024];
                barrier.wait();
                held.len()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), 64 * 1024);
    }
    let made = arenas();
    assert!(
        made <= cap,
        "{made} arenas for {threads} threads, cap {cap}"
    );
}
