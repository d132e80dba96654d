//! Histogram samples do not pile up when nothing scrapes `/metrics`: the exporter keeps every
//! raw sample until a render, and the server's upkeep task folds them into buckets instead.
//! Live heap bytes are counted exactly by this test binary's allocator, and time is tokio's
//! paused clock, so the figure does not depend on the machine or its load.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// 200,000 observations: over 3 MB of raw samples if nothing folds them.
fn observe_a_round() {
    for i in 0..200_000 {
        metrics::histogram!("http_request_duration_seconds", "method" => "GET", "route" => "/x")
            .record(f64::from(i) * 1e-6);
    }
}

/// Lets one upkeep period pass on the paused clock and the upkeep task run.
async fn one_period() {
    tokio::time::advance(alojamientos::telemetry::UPKEEP_EVERY).await;
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn histogram_memory_stays_bounded_when_nothing_scrapes() {
    let handle = alojamientos::telemetry::metrics_handle();
    let _upkeep = alojamientos::telemetry::spawn_upkeep(handle);
    observe_a_round();
    one_period().await;
    let before = LIVE.load(Ordering::Relaxed);
    for _ in 0..20 {
        observe_a_round();
        one_period().await;
    }
    let grown = LIVE.load(Ordering::Relaxed) - before;
    // Unfolded, the 20 rounds keep 65 MB; folded, at most the last round waits to be freed.
    assert!(
        grown < 4 << 20,
        "the heap grew by {grown} bytes over 4,000,000 observations"
    );
}
