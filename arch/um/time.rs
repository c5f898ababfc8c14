//! Host clocks.

use nix::time::{clock_gettime, ClockId};

fn clock(id: ClockId) -> (i64, i64) {
    // Only an invalid clock id can fail, and both ids are fixed.
    let ts = clock_gettime(id).unwrap_or_else(|e| panic!("clock_gettime({id}): {e}"));
    (ts.tv_sec(), ts.tv_nsec())
}

/// Host CLOCK_MONOTONIC in nanoseconds.
pub fn monotonic_ns() -> i64 {
    let (s, n) = clock(ClockId::CLOCK_MONOTONIC);
    s * 1_000_000_000 + n
}

/// Host CLOCK_REALTIME in nanoseconds.
pub fn realtime_ns() -> i64 {
    let (s, n) = clock(ClockId::CLOCK_REALTIME);
    s * 1_000_000_000 + n
}
