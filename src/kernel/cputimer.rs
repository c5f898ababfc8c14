//! ITIMER_VIRTUAL and ITIMER_PROF: per-process interval timers that count
//! the process's CPU time (user, or user + system, from `acct`) instead
//! of wall time.
//!
//! Expiries are kept as points on the process's own CPU clock. The vCPU
//! checks them each time the guest comes back (`check`), and while such a
//! timer is armed the scheduler bounds the guest's run by `budget`, so a
//! busy loop that never makes a syscall is still interrupted in time.

use super::acct;
use super::signal::{self, SigInfo};
use super::task::{self, lock, Pid, Task, ThreadGroup};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Mutex;

pub const ITIMER_VIRTUAL: i32 = 1;
pub const ITIMER_PROF: i32 = 2;
const SIGVTALRM: i32 = 26;
const SIGPROF: i32 = 27;
/// si_code of signals the kernel sends (SI_KERNEL).
const SI_KERNEL: i32 = 0x80;

/// One armed timer: expiry on the process CPU clock, and interval (ns).
type Timer = Option<(i64, i64)>;

/// tgid -> [virtual, prof].
static TIMERS: Mutex<BTreeMap<Pid, [Timer; 2]>> = Mutex::new(BTreeMap::new());
/// Any timer armed at all: keeps the per-switch check free otherwise.
static ANY: AtomicBool = AtomicBool::new(false);

fn slot(which: i32) -> usize {
    (which - ITIMER_VIRTUAL) as usize
}

/// The process CPU clocks the two timers count: [user, user + system].
fn clocks(tg: &ThreadGroup) -> [i64; 2] {
    let u = acct::process_usage(tg);
    [u.utime, u.utime + u.stime]
}

fn remaining(timer: Timer, now: i64) -> (i64, i64) {
    // An expired timer not yet seen by `check` still reads as running,
    // as Linux reports at least one tick.
    timer.map_or((0, 0), |(e, i)| ((e - now).max(1_000), i))
}

/// Arm (`value_ns` > 0) or disarm timer `which` of `tg`; returns the old
/// (remaining, interval).
pub fn set(tg: &ThreadGroup, which: i32, value_ns: i64, interval_ns: i64) -> (i64, i64) {
    let now = clocks(tg)[slot(which)];
    let mut g = lock(&TIMERS);
    let e = g.entry(tg.tgid).or_default();
    let old = remaining(e[slot(which)], now);
    e[slot(which)] = (value_ns > 0).then(|| (now.saturating_add(value_ns), interval_ns));
    if e.iter().all(Option::is_none) {
        g.remove(&tg.tgid);
    }
    ANY.store(!g.is_empty(), Relaxed);
    old
}

/// Timer `which` of `tg`: (remaining, interval).
pub fn get(tg: &ThreadGroup, which: i32) -> (i64, i64) {
    let now = clocks(tg)[slot(which)];
    let timer = lock(&TIMERS).get(&tg.tgid).and_then(|e| e[slot(which)]);
    remaining(timer, now)
}

/// The process is gone (or the kernel reboots): drop its timers.
pub fn cancel(tgid: Pid) {
    let mut g = lock(&TIMERS);
    g.remove(&tgid);
    ANY.store(!g.is_empty(), Relaxed);
}

pub fn reset() {
    lock(&TIMERS).clear();
    ANY.store(false, Relaxed);
}

/// How long `t` may run before one of its process's CPU timers can be
/// due: a process's CPU clock does not advance faster than the wall clock
/// while one of its threads holds the single vCPU.
pub fn budget(t: &Task) -> Option<i64> {
    if !ANY.load(Relaxed) {
        return None;
    }
    let timers = *lock(&TIMERS).get(&t.tgid())?;
    let now = clocks(&t.tg());
    (0..2)
        .filter_map(|k| timers[k].map(|(e, _)| (e - now[k]).max(0)))
        .min()
}

/// Send the signals of `t`'s process's CPU timers that are due, and
/// re-arm those with an interval.
pub fn check(t: &Task) {
    if !ANY.load(Relaxed) {
        return;
    }
    let tgid = t.tgid();
    if !lock(&TIMERS).contains_key(&tgid) {
        return;
    }
    let Some(tg) = task::group(tgid) else { return };
    let now = clocks(&tg);
    let mut due = Vec::new();
    {
        let mut g = lock(&TIMERS);
        let Some(e) = g.get_mut(&tgid) else { return };
        for (k, signo) in [(0, SIGVTALRM), (1, SIGPROF)] {
            let Some((exp, int)) = e[k] else { continue };
            if exp > now[k] {
                continue;
            }
            // One signal however late we are, as Linux (no overrun count
            // for itimers); the next expiry stays on the interval's grid
            // unless that has already passed too.
            e[k] = (int > 0).then(|| {
                let next = exp.saturating_add(int);
                (
                    if next <= now[k] {
                        now[k].saturating_add(int)
                    } else {
                        next
                    },
                    int,
                )
            });
            due.push(signo);
        }
        if e.iter().all(Option::is_none) {
            g.remove(&tgid);
        }
        ANY.store(!g.is_empty(), Relaxed);
    }
    for signo in due {
        let _ = signal::send_to_process(
            tgid,
            SigInfo {
                signo,
                code: SI_KERNEL,
                ..Default::default()
            },
        );
    }
}
