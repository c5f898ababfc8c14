//! POSIX per-process timers: timer_create, timer_settime, timer_gettime,
//! timer_getoverrun and timer_delete.
//!
//! Wall-clock timers fire from the scheduler's deadline machinery
//! (`next_deadline`/`expire`); CPU-clock ones are checked when the guest
//! comes back to the kernel, as the ITIMER_PROF ones (`check_cpu`). As in
//! Linux, a timer has at most one signal queued: an expiry while it is
//! still pending counts as an overrun, which the queued siginfo carries
//! (si_overrun) and timer_getoverrun reports once it was delivered.

use super::errno::{Errno, KResult};
use super::signal::{self, SigInfo, SIGALRM, SI_TIMER};
use super::task::{self, lock, Pid, Task, Tid};
use super::time::{self, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_TAI};
use crate::abi::signal::{Sigevent, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID};
use crate::abi::time::{Itimerspec, Timespec};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const TIMER_ABSTIME: u32 = 1;

/// Whom an expiry signals.
#[derive(Clone, Copy, PartialEq)]
enum Notify {
    None,
    Process,
    Thread(Tid),
}

struct Timer {
    clock: i32,
    notify: Notify,
    signo: i32,
    value: u64,
    /// Next expiry on the timer's clock (None: disarmed).
    expires: Option<i64>,
    interval: i64,
    /// Our signal was queued and had not been seen delivered yet.
    queued: bool,
    /// Overruns carried by the queued signal.
    overrun: i32,
    /// Overruns of the last delivered signal (timer_getoverrun).
    overrun_last: i32,
}

/// (tgid, timer id) -> timer.
static TIMERS: Mutex<BTreeMap<(Pid, i32), Timer>> = Mutex::new(BTreeMap::new());

fn is_cpu(clock: i32) -> bool {
    clock == CLOCK_PROCESS_CPUTIME_ID
}

/// The process's CPU time (user + system), the CPU clock's value.
fn cpu_now(tgid: Pid) -> i64 {
    task::group(tgid).map_or(0, |tg| {
        let u = super::acct::process_usage(&tg);
        u.utime + u.stime
    })
}

fn clock_now(tgid: Pid, clock: i32) -> i64 {
    if is_cpu(clock) {
        cpu_now(tgid)
    } else {
        time::timer_clock_now(clock)
    }
}

/// Is this the queued signal of timer `id`?
fn ours(id: i32, signo: i32) -> impl Fn(&SigInfo) -> bool {
    move |i| i.code == SI_TIMER && i.pid == id && i.signo == signo
}

/// Run `f` on the pending set where the timer's signal is queued.
fn with_pending<R>(
    tgid: Pid,
    tm: &Timer,
    f: impl FnOnce(&mut signal::SigPending) -> R,
) -> Option<R> {
    match tm.notify {
        Notify::None => None,
        Notify::Process => task::group(tgid).map(|g| f(&mut g.lock().pending)),
        Notify::Thread(tid) => thread(tgid, tid).map(|t| f(&mut t.lock().pending)),
    }
}

/// The SIGEV_THREAD_ID target, if it is still a thread of the process (a
/// tid reused by another process after the thread exited is not).
fn thread(tgid: Pid, tid: Tid) -> Option<std::sync::Arc<Task>> {
    task::task(tid).filter(|t| t.tgid() == tgid)
}

/// Notice a delivery: the signal is queued no more, its overruns become
/// what timer_getoverrun reports.
fn sync(tgid: Pid, id: i32, tm: &mut Timer) {
    if tm.queued
        && with_pending(tgid, tm, |p| p.find_mut(ours(id, tm.signo)).is_some()) != Some(true)
    {
        tm.queued = false;
        tm.overrun_last = tm.overrun;
        tm.overrun = 0;
    }
}

/// Count the expirations up to `now` (re-arming a periodic timer, on its
/// grid) and signal them: one signal, or overruns while it is pending.
fn fire(tgid: Pid, id: i32, tm: &mut Timer, now: i64) {
    let Some(exp) = tm.expires else { return };
    if now < exp {
        return;
    }
    let n = if tm.interval > 0 {
        let n = (now - exp) / tm.interval + 1;
        tm.expires = Some(exp.saturating_add(n.saturating_mul(tm.interval)));
        n
    } else {
        tm.expires = None;
        1
    };
    if tm.notify == Notify::None {
        return;
    }
    sync(tgid, id, tm);
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    if tm.queued {
        tm.overrun = tm.overrun.saturating_add(n);
        let ov = tm.overrun;
        with_pending(tgid, tm, |p| {
            if let Some(i) = p.find_mut(ours(id, tm.signo)) {
                i.status = ov;
            }
        });
        return;
    }
    tm.overrun = n - 1;
    let info = SigInfo {
        signo: tm.signo,
        code: SI_TIMER,
        pid: id,
        status: tm.overrun,
        value: tm.value,
        ..Default::default()
    };
    match tm.notify {
        Notify::Thread(tid) => {
            if let Some(t) = thread(tgid, tid) {
                signal::send_to_thread(&t, info);
            }
        }
        _ => {
            let _ = signal::send_to_process(tgid, info);
        }
    }
    // An ignored signal is not queued: the next expiry sends afresh.
    tm.queued = with_pending(tgid, tm, |p| p.find_mut(ours(id, tm.signo)).is_some()) == Some(true);
}

/// The earliest kernel deadline of a wall-clock timer that signals.
pub fn next_deadline() -> Option<i64> {
    let g = lock(&TIMERS);
    g.values()
        .filter(|tm| !is_cpu(tm.clock) && tm.notify != Notify::None)
        .filter_map(|tm| Some(time::timer_clock_deadline(tm.clock, tm.expires?)))
        .min()
}

/// Fire the due wall-clock timers (from the scheduler).
pub fn expire() {
    let mut g = lock(&TIMERS);
    for (&(tgid, id), tm) in g.iter_mut() {
        if !is_cpu(tm.clock) && tm.expires.is_some() {
            fire(tgid, id, tm, time::timer_clock_now(tm.clock));
        }
    }
}

/// Fire `t`'s process's due CPU-clock timers (the guest came back).
pub fn check_cpu(t: &Task) {
    let tgid = t.tgid();
    let mut g = lock(&TIMERS);
    let mut now = None;
    for (&(_, id), tm) in g.range_mut((tgid, i32::MIN)..=(tgid, i32::MAX)) {
        if is_cpu(tm.clock) && tm.expires.is_some() {
            let n = *now.get_or_insert_with(|| cpu_now(tgid));
            fire(tgid, id, tm, n);
        }
    }
}

/// How long `t` may run before a CPU-clock timer of its process is due.
pub fn cpu_budget(t: &Task) -> Option<i64> {
    let tgid = t.tgid();
    let g = lock(&TIMERS);
    let mut it = g
        .range((tgid, i32::MIN)..=(tgid, i32::MAX))
        .filter(|(_, tm)| is_cpu(tm.clock))
        .filter_map(|(_, tm)| tm.expires)
        .peekable();
    it.peek()?;
    let now = cpu_now(tgid);
    it.map(|e| (e - now).max(0)).min()
}

/// timer_create: `ev` is the guest's sigevent (None: SIGALRM to the
/// process, sigval = the timer id). Returns the new id.
pub fn create(t: &Task, clock: i32, ev: Option<Sigevent>) -> KResult<i32> {
    match clock {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => {}
        CLOCK_PROCESS_CPUTIME_ID => {}
        time::CLOCK_REALTIME_ALARM | time::CLOCK_BOOTTIME_ALARM => {
            if !t.creds().capable(super::caps::CAP_WAKE_ALARM) {
                return Err(Errno::EPERM);
            }
        }
        // MONOTONIC_RAW and the coarse clocks have no timers.
        4..=6 => return Err(Errno::EOPNOTSUPP),
        // CLOCK_THREAD_CPUTIME_ID and per-pid CPU clocks are not done.
        _ => return Err(Errno::EINVAL),
    }
    let tgid = t.tgid();
    let (notify, signo, value) = match ev {
        None => (Notify::Process, SIGALRM, 0),
        Some(e) => {
            let notify = match e.sigev_notify {
                SIGEV_NONE => Notify::None,
                SIGEV_SIGNAL | SIGEV_THREAD => Notify::Process,
                SIGEV_THREAD_ID => {
                    let tid = e.sigev_notify_thread_id;
                    match task::task(tid) {
                        Some(x) if x.tgid() == tgid => Notify::Thread(tid),
                        _ => return Err(Errno::EINVAL),
                    }
                }
                _ => return Err(Errno::EINVAL),
            };
            if notify != Notify::None && !signal::valid_signal(e.sigev_signo) {
                return Err(Errno::EINVAL);
            }
            (notify, e.sigev_signo, e.sigev_value)
        }
    };
    let mut g = lock(&TIMERS);
    // Ids count up from 0 within the process, as Linux's.
    let id = (0..i32::MAX)
        .find(|i| !g.contains_key(&(tgid, *i)))
        .ok_or(Errno::EAGAIN)?;
    g.insert(
        (tgid, id),
        Timer {
            clock,
            notify,
            signo,
            value: if ev.is_none() { id as u64 } else { value },
            expires: None,
            interval: 0,
            queued: false,
            overrun: 0,
            overrun_last: 0,
        },
    );
    Ok(id)
}

/// (time left, interval) of a timer, after counting due expiries.
fn current(tgid: Pid, id: i32, tm: &mut Timer) -> Itimerspec {
    let now = clock_now(tgid, tm.clock);
    fire(tgid, id, tm, now);
    let left = tm.expires.map_or(0, |e| (e - now).max(1));
    Itimerspec {
        it_interval: Timespec::from_ns(tm.interval),
        it_value: Timespec::from_ns(left),
    }
}

/// timer_gettime
pub fn get(t: &Task, id: i32) -> KResult<Itimerspec> {
    let tgid = t.tgid();
    let mut g = lock(&TIMERS);
    let tm = g.get_mut(&(tgid, id)).ok_or(Errno::EINVAL)?;
    Ok(current(tgid, id, tm))
}

/// timer_settime: arm (value > 0) or disarm; returns the old setting. A
/// signal still queued from the old setting is dropped, as Linux (6.13+)
/// drops it on delivery.
pub fn set(t: &Task, id: i32, flags: u32, value: i64, interval: i64) -> KResult<Itimerspec> {
    let tgid = t.tgid();
    let mut g = lock(&TIMERS);
    let tm = g.get_mut(&(tgid, id)).ok_or(Errno::EINVAL)?;
    let old = current(tgid, id, tm);
    with_pending(tgid, tm, |p| p.remove_where(ours(id, tm.signo)));
    tm.queued = false;
    tm.overrun = 0;
    tm.overrun_last = 0;
    tm.interval = if value > 0 { interval } else { 0 };
    tm.expires = (value > 0).then(|| {
        if flags & TIMER_ABSTIME != 0 {
            value
        } else {
            clock_now(tgid, tm.clock).saturating_add(value)
        }
    });
    // An expiry already in the past fires at once.
    let now = clock_now(tgid, tm.clock);
    fire(tgid, id, tm, now);
    Ok(old)
}

/// timer_getoverrun
pub fn getoverrun(t: &Task, id: i32) -> KResult<i32> {
    let tgid = t.tgid();
    let mut g = lock(&TIMERS);
    let tm = g.get_mut(&(tgid, id)).ok_or(Errno::EINVAL)?;
    sync(tgid, id, tm);
    Ok(tm.overrun_last)
}

/// timer_delete: the timer goes, and its signal if still queued.
pub fn delete(t: &Task, id: i32) -> KResult<()> {
    let tgid = t.tgid();
    let tm = lock(&TIMERS).remove(&(tgid, id)).ok_or(Errno::EINVAL)?;
    with_pending(tgid, &tm, |p| p.remove_where(ours(id, tm.signo)));
    Ok(())
}

/// The process execs or exits: its timers go.
pub fn exit_process(tgid: Pid) {
    let mut g = lock(&TIMERS);
    let ids: Vec<_> = g
        .range((tgid, i32::MIN)..=(tgid, i32::MAX))
        .map(|(k, _)| *k)
        .collect();
    for k in ids {
        g.remove(&k);
    }
}

/// Forget every timer (reboot).
pub fn reset() {
    lock(&TIMERS).clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer_sig(id: i32, signo: i32) -> SigInfo {
        SigInfo {
            signo,
            code: SI_TIMER,
            pid: id,
            ..Default::default()
        }
    }

    /// A timer finds only its own queued signal, and dropping it leaves
    /// the other queued instances of the same real-time signal pending.
    #[test]
    fn queued_timer_signal_is_found_and_dropped_alone() {
        let rt = 34;
        let mut p = signal::SigPending::default();
        p.add(timer_sig(0, rt));
        p.add(timer_sig(1, rt));
        p.find_mut(ours(1, rt)).expect("timer 1's signal").status = 5;
        assert!(p.find_mut(ours(2, rt)).is_none());
        p.remove_where(ours(0, rt));
        assert_eq!(p.set, signal::bit(rt));
        let left = p.take(0).expect("timer 1's signal");
        assert_eq!((left.pid, left.status), (1, 5));
        p.add(timer_sig(3, SIGALRM));
        p.remove_where(ours(3, SIGALRM));
        assert_eq!(p.set, 0);
    }
}
