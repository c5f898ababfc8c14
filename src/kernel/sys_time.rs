//! Time syscalls: clocks, sleeps, interval timers.

use super::cputimer;
use super::errno::{Errno, KResult};
use super::sched;
use super::task::{RestartBlock, Task};
use super::time;
use super::vdso;
use crate::abi::{
    self,
    time::{Itimerval, Timespec, Timeval},
};
use std::sync::Arc;

/// A guest timespec as a relative time in ns (EINVAL if malformed).
fn read_ts(t: &Task, addr: u64) -> KResult<i64> {
    abi::read_val::<Timespec>(&t.mm(), addr)?.to_ns()
}

fn clock_ns(t: &Task, clk: i32) -> KResult<i64> {
    Ok(match clk {
        // The clocks the vDSO serves read what it reads.
        0 | 5 | 8 | 11 => vdso::real_ns(),
        1 | 4 | 6 | 7 | 9 => vdso::mono_ns(),
        c if c == 2 || c == 3 || c < 0 => super::sys_rusage::cpu_clock_ns(t, c)?,
        _ => return Err(Errno::EINVAL),
    })
}

/// clock_gettime
pub fn sys_clock_gettime(t: &Arc<Task>, clk: i32, ts: u64) -> KResult<u64> {
    let ns = clock_ns(t, clk)?;
    abi::write_val(&t.mm(), ts, &Timespec::from_ns(ns))?;
    Ok(0)
}

/// clock_getres
pub fn sys_clock_getres(t: &Arc<Task>, clk: i32, ts: u64) -> KResult<u64> {
    clock_ns(t, clk)?;
    if ts != 0 {
        let res = if clk == 5 || clk == 6 { 4_000_000 } else { 1 };
        abi::write_val(&t.mm(), ts, &Timespec::from_ns(res))?;
    }
    Ok(0)
}

/// gettimeofday
pub fn sys_gettimeofday(t: &Arc<Task>, tv: u64, tz: u64) -> KResult<u64> {
    if tv != 0 {
        abi::write_val(&t.mm(), tv, &Timeval::from_ns(vdso::real_ns()))?;
    }
    if tz != 0 {
        abi::write_val(&t.mm(), tz, &super::sys_clock::timezone())?;
    }
    Ok(0)
}

/// time
pub fn sys_time(t: &Arc<Task>, tloc: u64) -> KResult<u64> {
    let s = vdso::real_ns() / 1_000_000_000;
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
                abi::write_val(&t.mm(), rem, &Timespec::from_ns(left))?;
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

/// getitimer: what is left of timer `which` and its interval.
pub fn sys_getitimer(t: &Arc<Task>, which: i32, val: u64) -> KResult<u64> {
    let (v, i) = match which {
        0 => time::get_itimer(t.tgid()),
        cputimer::ITIMER_VIRTUAL | cputimer::ITIMER_PROF => cputimer::get(&t.tg(), which),
        _ => return Err(Errno::EINVAL),
    };
    abi::write_val(&t.mm(), val, &Itimerval::from_ns(v, i))?;
    Ok(0)
}

/// setitimer: ITIMER_REAL counts wall time (SIGALRM), ITIMER_VIRTUAL the
/// process's user time (SIGVTALRM), ITIMER_PROF its user + system time
/// (SIGPROF). A null new value disarms, as Linux.
pub fn sys_setitimer(t: &Arc<Task>, which: i32, new: u64, old: u64) -> KResult<u64> {
    if !(0..=2).contains(&which) {
        return Err(Errno::EINVAL);
    }
    let (v, i) = if new != 0 {
        let it: Itimerval = abi::read_val(&t.mm(), new)?;
        (it.it_value.to_ns()?, it.it_interval.to_ns()?)
    } else {
        (0, 0)
    };
    let prev = if which == 0 {
        time::set_itimer(t.tgid(), v, i)
    } else {
        cputimer::set(&t.tg(), which, v, i)
    };
    if old != 0 {
        abi::write_val(&t.mm(), old, &Itimerval::from_ns(prev.0, prev.1))?;
    }
    Ok(0)
}

/// alarm
pub fn sys_alarm(t: &Arc<Task>, secs: u32) -> KResult<u64> {
    let (rem, _) = time::set_itimer(t.tgid(), secs as i64 * 1_000_000_000, 0);
    Ok(((rem + 999_999_999) / 1_000_000_000) as u64)
}
