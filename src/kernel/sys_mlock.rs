//! mlock, mlock2, munlock, mlockall, munlockall: locked pages are counted
//! against RLIMIT_MEMLOCK (unless the caller has CAP_IPC_LOCK) and shown
//! as VmLck, with Linux's EINVAL/EPERM/ENOMEM/EAGAIN rules. Nothing is
//! swapped, so locking changes no residency.

use super::errno::{Errno, KResult};
use super::rlimits::RLIMIT_MEMLOCK;
use super::task::{Task, RLIM_INFINITY};
use crate::mm::frame::PAGE_SIZE;
use crate::mm::page_up;
use std::sync::Arc;

const MLOCK_ONFAULT: u32 = 1;
const MCL_CURRENT: u32 = 1;
const MCL_FUTURE: u32 = 2;
const MCL_ONFAULT: u32 = 4;

/// The caller's RLIMIT_MEMLOCK in pages and whether it has CAP_IPC_LOCK
/// (read before taking the mm's lock).
pub fn memlock(t: &Task) -> (u64, bool) {
    let (soft, cap) = {
        let tg = t.tg();
        let g = tg.lock();
        (
            g.rlimits[RLIMIT_MEMLOCK].0,
            g.creds.capable(super::caps::CAP_IPC_LOCK),
        )
    };
    let pages = if soft == RLIM_INFINITY {
        u64::MAX
    } else {
        soft / PAGE_SIZE
    };
    (pages, cap)
}

/// Linux's can_do_mlock: a nonzero RLIMIT_MEMLOCK or CAP_IPC_LOCK.
fn can_mlock(t: &Task) -> KResult<(u64, bool)> {
    let (limit, cap) = memlock(t);
    let soft_zero = t.tg().lock().rlimits[RLIMIT_MEMLOCK].0 == 0;
    if soft_zero && !cap {
        return Err(Errno::EPERM);
    }
    Ok((limit, cap))
}

/// The page range `[addr & ~4095, page_up(addr + len))`.
fn range(addr: u64, len: u64) -> KResult<(u64, u64)> {
    let start = addr & !(PAGE_SIZE - 1);
    let len = page_up(len.checked_add(addr - start).ok_or(Errno::EINVAL)?);
    let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
    Ok((start, end))
}

/// mlock
pub fn sys_mlock(t: &Arc<Task>, addr: u64, len: u64) -> KResult<u64> {
    sys_mlock2(t, addr, len, 0)
}

/// mlock2: MLOCK_ONFAULT is accepted (pages are never evicted anyway).
pub fn sys_mlock2(t: &Arc<Task>, addr: u64, len: u64, flags: u32) -> KResult<u64> {
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    let (limit, cap) = can_mlock(t)?;
    let (start, end) = range(addr, len)?;
    if start == end {
        return Ok(0);
    }
    let mm = t.mm();
    let mut m = mm.lock();
    // Pages already locked in the range do not count twice.
    let locked = (end - start) / PAGE_SIZE + m.locked_pages() - m.locked_in(start, end);
    if locked > limit && !cap {
        return Err(Errno::ENOMEM);
    }
    m.set_locked(start, end, true)?;
    Ok(0)
}

/// munlock
pub fn sys_munlock(t: &Arc<Task>, addr: u64, len: u64) -> KResult<u64> {
    let (start, end) = range(addr, len)?;
    if start == end {
        return Ok(0);
    }
    t.mm().lock().set_locked(start, end, false)?;
    Ok(0)
}

/// mlockall: MCL_CURRENT needs the whole address space within the limit;
/// MCL_FUTURE makes later mappings locked (mmap fails with EAGAIN past
/// the limit then).
pub fn sys_mlockall(t: &Arc<Task>, flags: u32) -> KResult<u64> {
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT
    {
        return Err(Errno::EINVAL);
    }
    let (limit, cap) = can_mlock(t)?;
    let mm = t.mm();
    let mut m = mm.lock();
    if flags & MCL_CURRENT != 0 && !cap && m.vm_pages(None).0 > limit {
        return Err(Errno::ENOMEM);
    }
    m.set_lock_future(flags & MCL_FUTURE != 0);
    if flags & MCL_CURRENT != 0 {
        m.lock_all();
    }
    Ok(0)
}

/// munlockall
pub fn sys_munlockall(t: &Arc<Task>) -> KResult<u64> {
    t.mm().lock().unlock_all();
    Ok(0)
}

/// A new mapping of `len` bytes that will be locked (MAP_LOCKED or
/// MCL_FUTURE) must fit in RLIMIT_MEMLOCK (`memlock`; Linux's
/// mlock_future_ok) with the `locked_now` pages: EAGAIN otherwise.
pub fn future_ok((limit, cap): (u64, bool), locked_now: u64, len: u64) -> KResult<()> {
    if !cap && locked_now + len / PAGE_SIZE > limit {
        return Err(Errno::EAGAIN);
    }
    Ok(())
}

/// MAP_LOCKED needs the right to lock at all (Linux's can_do_mlock).
pub fn map_locked_ok(t: &Task) -> KResult<()> {
    can_mlock(t).map(|_| ())
}
