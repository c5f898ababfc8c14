//! The POSIX timer syscalls: guest memory in and out around
//! `posix_timers`.

use super::errno::{Errno, KResult};
use super::posix_timers;
use super::sys_timerfd::itimerspec_ns;
use super::task::Task;
use crate::abi::{self, signal::Sigevent, time::Itimerspec};
use std::sync::Arc;

/// timer_create; a NULL sigevent means SIGALRM to the process.
pub fn sys_timer_create(t: &Arc<Task>, clock: i32, sevp: u64, idp: u64) -> KResult<u64> {
    let ev: Option<Sigevent> = if sevp != 0 {
        Some(abi::read_val(&t.mm(), sevp)?)
    } else {
        None
    };
    let id = posix_timers::create(t, clock, ev)?;
    if let Err(e) = abi::write_val(&t.mm(), idp, &id) {
        // As Linux: no timer for a caller that cannot learn its id.
        let _ = posix_timers::delete(t, id);
        return Err(e);
    }
    Ok(0)
}

/// timer_settime
pub fn sys_timer_settime(t: &Arc<Task>, id: i32, flags: u32, new: u64, old: u64) -> KResult<u64> {
    if new == 0 {
        return Err(Errno::EINVAL);
    }
    let it: Itimerspec = abi::read_val(&t.mm(), new)?;
    let (value, interval) = itimerspec_ns(&it)?;
    let prev = posix_timers::set(t, id, flags, value, interval)?;
    if old != 0 {
        abi::write_val(&t.mm(), old, &prev)?;
    }
    Ok(0)
}

/// timer_gettime
pub fn sys_timer_gettime(t: &Arc<Task>, id: i32, cur: u64) -> KResult<u64> {
    let v = posix_timers::get(t, id)?;
    abi::write_val(&t.mm(), cur, &v)?;
    Ok(0)
}

/// timer_getoverrun
pub fn sys_timer_getoverrun(t: &Arc<Task>, id: i32) -> KResult<u64> {
    Ok(posix_timers::getoverrun(t, id)? as u64)
}

/// timer_delete
pub fn sys_timer_delete(t: &Arc<Task>, id: i32) -> KResult<u64> {
    posix_timers::delete(t, id)?;
    Ok(0)
}
