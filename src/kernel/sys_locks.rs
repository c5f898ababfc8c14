//! flock(2) and fcntl's record-lock commands: the descriptor and argument
//! checks in Linux's order; the locks themselves are `fs::locks`.

use super::errno::{Errno, KResult};
use super::task::Task;
use crate::fs::file::{File, O_PATH};
use crate::fs::locks;
use std::sync::Arc;

/// The open file behind `fd`; O_PATH descriptors cannot be locked.
fn lockable(t: &Task, fd: i32) -> KResult<Arc<File>> {
    let f = t
        .files()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(fd)?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    Ok(f)
}

/// flock
pub fn sys_flock(t: &Arc<Task>, fd: i32, op: i32) -> KResult<u64> {
    if locks::flock_ignored(op) {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            log::warn!("flock: LOCK_MAND support has been removed. Request ignored.")
        });
        return Ok(0);
    }
    let ty = locks::flock_type(op)?;
    let f = lockable(t, fd)?;
    locks::flock(t, &f, ty, op & locks::LOCK_NB != 0)
}

/// fcntl F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK,
/// F_OFD_SETLKW.
pub fn fcntl_lock(t: &Arc<Task>, fd: i32, cmd: u32, arg: u64) -> KResult<u64> {
    let f = lockable(t, fd)?;
    locks::fcntl(t, &f, cmd, arg)
}
