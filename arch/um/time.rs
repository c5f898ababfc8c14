//! Host clocks.

fn clock(id: libc::clockid_t) -> (i64, i64) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out pointer.
    unsafe { libc::clock_gettime(id, &mut ts) };
    (ts.tv_sec, ts.tv_nsec)
}

/// Host CLOCK_MONOTONIC in nanoseconds.
pub fn monotonic_ns() -> i64 {
    let (s, n) = clock(libc::CLOCK_MONOTONIC);
    s * 1_000_000_000 + n
}

/// Host CLOCK_REALTIME in nanoseconds.
pub fn realtime_ns() -> i64 {
    let (s, n) = clock(libc::CLOCK_REALTIME);
    s * 1_000_000_000 + n
}
