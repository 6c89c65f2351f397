//! Feeds arbitrary pgoutput message sequences to the sans-IO Decoder and the LogicalDecoder,
//! re-encoding what decodes; the checks are in `../checks/pgoutput_decode.rs`, shared with the
//! ordinary test that replays the seeds (`protocol-tests/tests/fuzz_seeds.rs`).
//!
//! This target also measures allocations: the global allocator below records the largest
//! single request made while the checks run, which must stay within a bound linear in the
//! input, so no column, relation or tuple count read from the bytes is allocated for before it
//! is checked against what is there.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::fuzz_target;

#[path = "../checks/pgoutput_decode.rs"]
mod pgoutput_decode;

/// The system allocator, recording the largest size asked for since the last reset.
struct Measured;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s contract;
// the only addition is an atomic maximum, which allocates nothing.
unsafe impl GlobalAlloc for Measured {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's guarantees for `alloc` are passed on as they are.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: the caller's guarantees for `realloc` are passed on as they are.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's guarantees for `dealloc` are passed on as they are.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Measured = Measured;

/// The largest single allocation allowed for `len` input bytes: a few words per input byte
/// (a tuple's column slots, a relation's columns) and a fixed allowance.
fn allowed(len: usize) -> usize {
    (1 << 20) + 64 * len
}

fuzz_target!(|data: &[u8]| {
    LARGEST.store(0, Ordering::Relaxed);
    pgoutput_decode::check(data);
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= allowed(data.len()),
        "one allocation of {largest} bytes for an input of {} bytes",
        data.len()
    );
});
