//! Time syscalls: clocks, sleeps, interval timers.

use super::cputimer;
use super::errno::{Errno, KResult};
use super::sched;
use super::task::{RestartBlock, Task};
use super::time;
use std::sync::Arc;

fn ts_bytes(ns: i64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0..8].copy_from_slice(&ns.div_euclid(1_000_000_000).to_le_bytes());
    b[8..16].copy_from_slice(&ns.rem_euclid(1_000_000_000).to_le_bytes());
    b
}

fn read_ts(t: &Task, addr: u64) -> KResult<i64> {
    let b = t.mm().read_vec(addr, 16)?;
    let s = i64::from_le_bytes(b[0..8].try_into().unwrap());
    let ns = i64::from_le_bytes(b[8..16].try_into().unwrap());
    if s < 0 || !(0..1_000_000_000).contains(&ns) {
        return Err(Errno::EINVAL);
    }
    Ok(s.saturating_mul(1_000_000_000).saturating_add(ns))
}

fn clock_ns(t: &Task, clk: i32) -> KResult<i64> {
    Ok(match clk {
        0 | 5 | 8 | 11 => time::realtime_ns(),
        1 | 4 | 6 | 7 | 9 => time::uptime_ns(),
        c if c == 2 || c == 3 || c < 0 => super::sys_rusage::cpu_clock_ns(t, c)?,
        _ => return Err(Errno::EINVAL),
    })
}

/// clock_gettime
pub fn sys_clock_gettime(t: &Arc<Task>, clk: i32, ts: u64) -> KResult<u64> {
    let ns = clock_ns(t, clk)?;
    t.mm().write(ts, &ts_bytes(ns))?;
    Ok(0)
}

/// clock_getres
pub fn sys_clock_getres(t: &Arc<Task>, clk: i32, ts: u64) -> KResult<u64> {
    clock_ns(t, clk)?;
    if ts != 0 {
        let res = if clk == 5 || clk == 6 { 4_000_000 } else { 1 };
        t.mm().write(ts, &ts_bytes(res))?;
    }
    Ok(0)
}

/// gettimeofday
pub fn sys_gettimeofday(t: &Arc<Task>, tv: u64, tz: u64) -> KResult<u64> {
    if tv != 0 {
        let ns = time::realtime_ns();
        let mut b = [0u8; 16];
        b[0..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
        b[8..16].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
        t.mm().write(tv, &b)?;
    }
    if tz != 0 {
        t.mm().write(tz, &super::sys_clock::timezone_bytes())?;
    }
    Ok(0)
}

/// time
pub fn sys_time(t: &Arc<Task>, tloc: u64) -> KResult<u64> {
    let s = time::realtime_ns() / 1_000_000_000;
    if tloc != 0 {
        t.mm().write_u64(tloc, s as u64)?;
    }
    Ok(s as u64)
}

/// Sleep until monotonic `dl`. Interrupted: ERESTARTSYS for an absolute
/// sleep (its restart class, ERESTARTNOHAND, restarts it from the
/// registers with the same end); a relative one writes what is left to
/// `rem` (if given) and returns ERESTART_RESTARTBLOCK, keeping its
/// deadline for restart_syscall. A handler makes both EINTR.
fn sleep_until(t: &Task, dl: i64, relative: bool, rem: u64) -> KResult<u64> {
    loop {
        let now = time::monotonic_ns();
        if now >= dl {
            return Ok(0);
        }
        if let Err(e) = sched::wait(t, Some(dl)) {
            if !relative {
                return Err(e);
            }
            if rem != 0 {
                let left = (dl - time::monotonic_ns()).max(0);
                t.mm().write(rem, &ts_bytes(left))?;
            }
            t.lock().restart_block = Some(RestartBlock::Sleep { deadline: dl, rem });
            return Err(Errno::ERESTART_RESTARTBLOCK);
        }
    }
}

/// restart_syscall: carry on with the wait a signal without a handler
/// interrupted; EINTR when there is none (Linux's do_no_restart_syscall).
pub fn sys_restart_syscall(t: &Arc<Task>) -> KResult<u64> {
    let r = t.lock().restart_block.take();
    match r {
        Some(RestartBlock::Sleep { deadline, rem }) => sleep_until(t, deadline, true, rem),
        Some(RestartBlock::Futex {
            addr,
            val,
            bitset,
            deadline,
            private,
        }) => super::futex::wait(t, addr, val, bitset, Some(deadline), private),
        Some(RestartBlock::Poll {
            fds,
            nfds,
            deadline,
        }) => super::sys_poll::restart_poll(t, fds, nfds, deadline),
        None => Err(Errno::EINTR),
    }
}

/// nanosleep
pub fn sys_nanosleep(t: &Arc<Task>, req: u64, rem: u64) -> KResult<u64> {
    let dl = time::monotonic_ns().saturating_add(read_ts(t, req)?);
    sleep_until(t, dl, true, rem)
}

/// clock_nanosleep
pub fn sys_clock_nanosleep(
    t: &Arc<Task>,
    clk: i32,
    flags: i32,
    req: u64,
    rem: u64,
) -> KResult<u64> {
    const TIMER_ABSTIME: i32 = 1;
    let v = read_ts(t, req)?;
    let now_k = time::monotonic_ns();
    let abs = flags & TIMER_ABSTIME != 0;
    let dl = if abs {
        // The clock's time now gives the kernel deadline (a later
        // clock_settime does not move it).
        let now_c = clock_ns(t, clk)?;
        now_k.saturating_add(v.saturating_sub(now_c))
    } else {
        clock_ns(t, clk)?;
        now_k.saturating_add(v)
    };
    sleep_until(t, dl, !abs, rem)
}

fn itv_bytes(val_ns: i64, int_ns: i64) -> [u8; 32] {
    let mut b = [0u8; 32];
    let tv = |ns: i64| ((ns / 1_000_000_000), (ns % 1_000_000_000) / 1000);
    let (a, b1) = tv(int_ns);
    let (c, d) = tv(val_ns);
    b[0..8].copy_from_slice(&a.to_le_bytes());
    b[8..16].copy_from_slice(&b1.to_le_bytes());
    b[16..24].copy_from_slice(&c.to_le_bytes());
    b[24..32].copy_from_slice(&d.to_le_bytes());
    b
}

/// getitimer: what is left of timer `which` and its interval.
pub fn sys_getitimer(t: &Arc<Task>, which: i32, val: u64) -> KResult<u64> {
    let (v, i) = match which {
        0 => time::get_itimer(t.tgid()),
        cputimer::ITIMER_VIRTUAL | cputimer::ITIMER_PROF => cputimer::get(&t.tg(), which),
        _ => return Err(Errno::EINVAL),
    };
    t.mm().write(val, &itv_bytes(v, i))?;
    Ok(0)
}

/// A guest `struct timeval` in ns: EINVAL unless 0 <= tv_usec < 10^6 and
/// tv_sec >= 0, as Linux's setitimer checks.
fn timeval_ns(b: &[u8]) -> KResult<i64> {
    let s = i64::from_le_bytes(b[0..8].try_into().unwrap());
    let us = i64::from_le_bytes(b[8..16].try_into().unwrap());
    if s < 0 || !(0..1_000_000).contains(&us) {
        return Err(Errno::EINVAL);
    }
    Ok(s.saturating_mul(1_000_000_000).saturating_add(us * 1000))
}

/// setitimer: ITIMER_REAL counts wall time (SIGALRM), ITIMER_VIRTUAL the
/// process's user time (SIGVTALRM), ITIMER_PROF its user + system time
/// (SIGPROF). A null new value disarms, as Linux.
pub fn sys_setitimer(t: &Arc<Task>, which: i32, new: u64, old: u64) -> KResult<u64> {
    if !(0..=2).contains(&which) {
        return Err(Errno::EINVAL);
    }
    let (v, i) = if new != 0 {
        let b = t.mm().read_vec(new, 32)?;
        (timeval_ns(&b[16..32])?, timeval_ns(&b[0..16])?)
    } else {
        (0, 0)
    };
    let prev = if which == 0 {
        time::set_itimer(t.tgid(), v, i)
    } else {
        cputimer::set(&t.tg(), which, v, i)
    };
    if old != 0 {
        t.mm().write(old, &itv_bytes(prev.0, prev.1))?;
    }
    Ok(0)
}

/// alarm
pub fn sys_alarm(t: &Arc<Task>, secs: u32) -> KResult<u64> {
    let (rem, _) = time::set_itimer(t.tgid(), secs as i64 * 1_000_000_000, 0);
    Ok(((rem + 999_999_999) / 1_000_000_000) as u64)
}
