//! The load average: Linux's exponentially decayed 1, 5 and 15 minute
//! averages of runnable and uninterruptible tasks, in its fixed point,
//! sampled every 5 seconds. Without a periodic tick, missed samples are
//! made up when the vCPU next passes by (or /proc/loadavg is read) with the
//! count of that moment, as Linux's NO_HZ catch-up does.

use super::task::{self, lock, State};
use std::sync::Mutex;

const FSHIFT: u32 = 11;
const FIXED_1: u64 = 1 << FSHIFT;
/// 1/exp(5s/1min), 1/exp(5s/5min), 1/exp(5s/15min) in fixed point.
const EXP: [u64; 3] = [1884, 2014, 2037];
const LOAD_FREQ_NS: i64 = 5_000_000_000;
/// Past this many missed samples the averages have converged anyway.
const MAX_CATCH_UP: i64 = 2048;

struct Load {
    /// Monotonic time of the next sample; 0 before the first.
    next: i64,
    avg: [u64; 3],
}

static LOAD: Mutex<Load> = Mutex::new(Load {
    next: 0,
    avg: [0; 3],
});

/// Tasks that count: runnable, or asleep waiting for a disk.
fn active() -> u64 {
    task::all_tasks()
        .iter()
        .filter(|t| {
            let i = t.lock();
            i.state == State::Runnable || (i.state == State::Blocked && i.io_wait)
        })
        .count() as u64
}

/// Take the samples due by `now` (monotonic ns).
pub fn sample(now: i64) {
    let mut l = lock(&LOAD);
    if l.next == 0 {
        l.next = now + LOAD_FREQ_NS;
        return;
    }
    if now < l.next {
        return;
    }
    let n = ((now - l.next) / LOAD_FREQ_NS + 1).min(MAX_CATCH_UP);
    l.next += ((now - l.next) / LOAD_FREQ_NS + 1) * LOAD_FREQ_NS;
    let act = active() * FIXED_1;
    for _ in 0..n {
        for (a, e) in l.avg.iter_mut().zip(EXP) {
            // Linux's calc_load, rounding up while the load grows.
            let mut v = *a * e + act * (FIXED_1 - e);
            if act >= *a {
                v += FIXED_1 - 1;
            }
            *a = v / FIXED_1;
        }
    }
}

/// The three averages as "a.bc" strings.
pub fn averages() -> [String; 3] {
    let avg = lock(&LOAD).avg;
    avg.map(|a| {
        let a = a + FIXED_1 / 200;
        format!(
            "{}.{:02}",
            a >> FSHIFT,
            ((a & (FIXED_1 - 1)) * 100) >> FSHIFT
        )
    })
}

/// Start from zero (reboot).
pub fn reset() {
    *lock(&LOAD) = Load {
        next: 0,
        avg: [0; 3],
    };
}
