//! Time: the guest's clocks (monotonic from boot, realtime from the host)
//! and per-process interval timers (ITIMER_REAL / alarm; the CPU-time
//! ones are in `cputimer`).

use super::signal::{self, SigInfo, SIGALRM};
use super::task::{self, lock, Pid};
use crate::arch;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

static BOOT_NS: AtomicI64 = AtomicI64::new(0);

/// Record the boot instant (CLOCK_MONOTONIC starts near zero at boot).
pub fn init() {
    BOOT_NS.store(arch::platform().monotonic_ns(), Ordering::Relaxed);
}

/// Kernel-internal monotonic time (host clock), for deadlines.
pub fn monotonic_ns() -> i64 {
    arch::platform().monotonic_ns()
}

/// Nanoseconds since boot (guest CLOCK_MONOTONIC / BOOTTIME).
pub fn uptime_ns() -> i64 {
    arch::platform().monotonic_ns() - BOOT_NS.load(Ordering::Relaxed)
}

/// Guest monotonic value → kernel deadline.
pub fn guest_mono_to_kernel(ns: i64) -> i64 {
    ns.saturating_add(BOOT_NS.load(Ordering::Relaxed))
}

/// The guest's CLOCK_REALTIME minus the host's: what clock_settime,
/// settimeofday and adjtimex(ADJ_SETOFFSET) changed. The host's own clock
/// is never set; every reader of the guest's wall clock comes here.
static REALTIME_OFFSET: AtomicI64 = AtomicI64::new(0);

/// The guest's CLOCK_REALTIME (host clock plus the guest's offset).
pub fn realtime_ns() -> i64 {
    arch::platform()
        .realtime_ns()
        .saturating_add(REALTIME_OFFSET.load(Ordering::Relaxed))
}

/// Set the guest's CLOCK_REALTIME to `ns` from now on.
pub fn set_realtime_ns(ns: i64) {
    let off = ns.saturating_sub(arch::platform().realtime_ns());
    REALTIME_OFFSET.store(off, Ordering::Relaxed);
    clock_was_set();
}

/// Step the guest's CLOCK_REALTIME by `delta` ns.
pub fn step_realtime_ns(delta: i64) {
    REALTIME_OFFSET.fetch_add(delta, Ordering::Relaxed);
    clock_was_set();
}

/// The wall clock was set: timerfds armed with TFD_TIMER_CANCEL_ON_SET
/// are cancelled (Linux's clock_was_set). Realtime deadlines need nothing:
/// they are converted to kernel time afresh whenever the next one is armed.
fn clock_was_set() {
    super::vdso::clock_was_set();
    crate::fs::timerfd::clock_was_set();
}

pub const CLOCK_REALTIME: i32 = 0;
pub const CLOCK_MONOTONIC: i32 = 1;
pub const CLOCK_BOOTTIME: i32 = 7;
pub const CLOCK_REALTIME_ALARM: i32 = 8;
pub const CLOCK_BOOTTIME_ALARM: i32 = 9;
/// TAI: the wall clock here (no leap-second offset is kept).
pub const CLOCK_TAI: i32 = 11;

/// The current value of a timer clock (REALTIME, or MONOTONIC/BOOTTIME,
/// which are the same here: the guest never suspends). The _ALARM clocks
/// count as their base clocks (there is no suspend to wake from).
pub fn timer_clock_now(clock: i32) -> i64 {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_ALARM | CLOCK_TAI => realtime_ns(),
        _ => uptime_ns(),
    }
}

/// The kernel deadline (`monotonic_ns`) at which `clock` reads `ns`.
/// Computed afresh each time, so a REALTIME deadline follows clock_settime.
pub fn timer_clock_deadline(clock: i32, ns: i64) -> i64 {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_ALARM | CLOCK_TAI => {
            monotonic_ns().saturating_add(ns.saturating_sub(realtime_ns()))
        }
        _ => guest_mono_to_kernel(ns),
    }
}

/// ITIMER_REAL expiries: tgid -> (next expiry, interval).
static ITIMERS: Mutex<BTreeMap<Pid, (i64, i64)>> = Mutex::new(BTreeMap::new());

/// Set ITIMER_REAL for a process; returns the old (remaining, interval).
pub fn set_itimer(tgid: Pid, value_ns: i64, interval_ns: i64) -> (i64, i64) {
    let now = monotonic_ns();
    let mut g = lock(&ITIMERS);
    let old = g
        .remove(&tgid)
        .map(|(e, i)| ((e - now).max(1), i))
        .unwrap_or((0, 0));
    if value_ns > 0 {
        g.insert(tgid, (now.saturating_add(value_ns), interval_ns));
    }
    old
}

pub fn get_itimer(tgid: Pid) -> (i64, i64) {
    let now = monotonic_ns();
    lock(&ITIMERS)
        .get(&tgid)
        .map(|&(e, i)| ((e - now).max(1), i))
        .unwrap_or((0, 0))
}

/// The process is gone: drop its interval timers (real, virtual, prof).
pub fn cancel_itimer(tgid: Pid) {
    lock(&ITIMERS).remove(&tgid);
    super::cputimer::cancel(tgid);
}

pub fn next_itimer() -> Option<i64> {
    lock(&ITIMERS).values().map(|v| v.0).min()
}

/// Fire due interval timers.
pub fn expire_itimers(now: i64) {
    let due: Vec<Pid> = {
        let mut g = lock(&ITIMERS);
        let mut due = Vec::new();
        let keys: Vec<Pid> = g
            .iter()
            .filter(|(_, v)| v.0 <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            let (e, i) = g[&k];
            if i > 0 {
                let mut next = e.saturating_add(i);
                if next <= now {
                    next = now.saturating_add(i);
                }
                g.insert(k, (next, i));
            } else {
                g.remove(&k);
            }
            due.push(k);
        }
        due
    };
    for pid in due {
        if task::group(pid).is_some() {
            let _ = signal::send_to_process(
                pid,
                SigInfo {
                    signo: SIGALRM,
                    code: 0x80,
                    ..Default::default()
                },
            );
        }
    }
}

/// A new boot: no timers, and the wall clock follows the host's again
/// (as a Linux kernel reads its RTC when it boots).
pub fn reset() {
    lock(&ITIMERS).clear();
    crate::fs::timerfd::reset();
    super::posix_timers::reset();
    super::cputimer::reset();
    REALTIME_OFFSET.store(0, Ordering::Relaxed);
    super::vdso::clock_was_set();
}
