//! timerfd_create, timerfd_settime, timerfd_gettime (the file is in
//! `fs::timerfd`).

use super::errno::{Errno, KResult};
use super::task::{lock, Task};
use super::time::{
    CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
};
use crate::abi::{self, time::Itimerspec};
use crate::fs::file::{File, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::fs::timerfd::{TimerFd, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET};
use std::sync::Arc;

/// timerfd_create: EINVAL for other flags or clocks, in Linux's order; the
/// _ALARM clocks need CAP_WAKE_ALARM (root here) and count as their base
/// clocks.
pub fn sys_timerfd_create(t: &Arc<Task>, clock: i32, flags: u32) -> KResult<u64> {
    let clocks = [
        CLOCK_REALTIME,
        CLOCK_MONOTONIC,
        CLOCK_BOOTTIME,
        CLOCK_REALTIME_ALARM,
        CLOCK_BOOTTIME_ALARM,
    ];
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 || !clocks.contains(&clock) {
        return Err(Errno::EINVAL);
    }
    if matches!(clock, CLOCK_REALTIME_ALARM | CLOCK_BOOTTIME_ALARM)
        && !t.creds().capable(super::caps::CAP_WAKE_ALARM)
    {
        return Err(Errno::EPERM);
    }
    let f = File::new(
        TimerFd::new(clock),
        None,
        None,
        O_RDWR | (flags & O_NONBLOCK),
    );
    let nofile = t.nofile();
    Ok(lock(&t.files()).install(f, flags & O_CLOEXEC != 0, nofile)? as u64)
}

/// The timerfd behind `fd`: EBADF if none, EINVAL if another file.
fn timerfd(t: &Task, fd: i32) -> KResult<Arc<TimerFd>> {
    let f = lock(&t.files()).get(fd)?;
    f.ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<TimerFd>().ok())
        .ok_or(Errno::EINVAL)
}

/// The value and interval of a guest itimerspec, in ns; EINVAL unless
/// both are valid timespecs (Linux's itimerspec64_valid).
pub fn itimerspec_ns(it: &Itimerspec) -> KResult<(i64, i64)> {
    Ok((it.it_value.to_ns()?, it.it_interval.to_ns()?))
}

/// timerfd_settime
pub fn sys_timerfd_settime(t: &Arc<Task>, fd: i32, flags: u32, new: u64, old: u64) -> KResult<u64> {
    let it: Itimerspec = abi::read_val(&t.mm(), new)?;
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let (value, interval) = itimerspec_ns(&it)?;
    let tfd = timerfd(t, fd)?;
    let prev = tfd.set(flags, value, interval);
    if old != 0 {
        abi::write_val(&t.mm(), old, &prev)?;
    }
    Ok(0)
}

/// timerfd_gettime
pub fn sys_timerfd_gettime(t: &Arc<Task>, fd: i32, cur: u64) -> KResult<u64> {
    let v = timerfd(t, fd)?.get();
    abi::write_val(&t.mm(), cur, &v)?;
    Ok(0)
}
