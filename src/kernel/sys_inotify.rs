//! inotify syscalls: inotify_init, inotify_init1, inotify_add_watch,
//! inotify_rm_watch (the events themselves are `fs::inotify`'s).

use super::errno::{Errno, KResult};
use super::sys_fs::{fd_file, lookup_as, read_path, AT_FDCWD};
use super::task::{lock, Task};
use crate::fs::file::{File, O_CLOEXEC, O_NONBLOCK, O_RDONLY};
use crate::fs::inotify::{Inotify, IN_DONT_FOLLOW, IN_ONLYDIR};
use crate::fs::permission::{self, MAY_READ};
use std::sync::Arc;

/// The inotify instance open as `fd` (EINVAL for any other file).
fn instance(t: &Task, fd: i32) -> KResult<Arc<Inotify>> {
    fd_file(t, fd)?
        .ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<Inotify>().ok())
        .ok_or(Errno::EINVAL)
}

/// inotify_init, inotify_init1
pub fn sys_inotify_init1(t: &Arc<Task>, flags: u32) -> KResult<u64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = File::new(Inotify::new(), None, None, O_RDONLY | (flags & O_NONBLOCK));
    let nofile = t.nofile();
    Ok(lock(&t.files()).install(f, flags & O_CLOEXEC != 0, nofile)? as u64)
}

/// inotify_add_watch: watch the file at `path` (read permission needed).
pub fn sys_inotify_add_watch(t: &Arc<Task>, fd: i32, path: u64, mask: u32) -> KResult<u64> {
    let ino = instance(t, fd)?;
    let path = read_path(t, path)?;
    let c = t.creds();
    let p = lookup_as(t, &c, AT_FDCWD, &path, mask & IN_DONT_FOLLOW == 0)?;
    let st = p.inode.stat();
    if mask & IN_ONLYDIR != 0 && !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    permission::inode_permission(&c, &*p.inode, &st, MAY_READ)?;
    Ok(ino.add_watch(p.inode.clone(), mask)? as u64)
}

/// inotify_rm_watch
pub fn sys_inotify_rm_watch(t: &Arc<Task>, fd: i32, wd: i32) -> KResult<u64> {
    instance(t, fd)?.rm_watch(wd)?;
    Ok(0)
}
