//! fanotify syscalls: fanotify_init and fanotify_mark, with Linux's
//! checks in Linux's order (the events themselves are `fs::fanotify`'s).

use super::errno::{Errno, KResult};
use super::sys_fs::{fd_file, lookup_as, read_path};
use super::task::{lock, Task};
use crate::abi::fanotify::*;
use crate::fs::fanotify::mark::Target;
use crate::fs::fanotify::{self, Group, FAN_UNPRIV_GROUP, FD_EVENTS, FID_BITS, PERM_EVENTS};
use crate::fs::file::{
    File, O_ACCMODE, O_APPEND, O_CLOEXEC, O_DSYNC, O_NOATIME, O_NONBLOCK, O_RDONLY, O_RDWR,
    O_WRONLY,
};
use crate::fs::permission::{self, MAY_READ};
use std::sync::Arc;

const O_LARGEFILE: u32 = 0o100000;
const O_SYNC: u32 = 0o4010000;
/// What event_f_flags may hold.
const EVENT_F_BITS: u32 =
    O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_CLOEXEC | O_LARGEFILE | O_NOATIME;
/// fanotify_init flags Linux knows.
const INIT_FLAGS: u32 = FAN_CLOEXEC
    | FAN_NONBLOCK
    | FAN_CLASS_BITS
    | FAN_UNLIMITED_QUEUE
    | FAN_UNLIMITED_MARKS
    | FAN_REPORT_PIDFD
    | FAN_REPORT_TID
    | FAN_REPORT_FID
    | FAN_REPORT_DIR_FID
    | FAN_REPORT_NAME
    | FAN_REPORT_TARGET_FID
    | FAN_REPORT_FD_ERROR
    | FAN_REPORT_MNT;
/// The ones only CAP_SYS_ADMIN may use.
const ADMIN_INIT_FLAGS: u32 = FAN_CLASS_CONTENT
    | FAN_CLASS_PRE_CONTENT
    | FAN_UNLIMITED_QUEUE
    | FAN_UNLIMITED_MARKS
    | FAN_REPORT_PIDFD
    | FAN_REPORT_FD_ERROR;
/// Reports this kernel does not make: pidfds, mount ids, descriptor
/// errors, audit records.
const UNSUPPORTED_INIT_FLAGS: u32 =
    FAN_REPORT_PIDFD | FAN_REPORT_FD_ERROR | FAN_REPORT_MNT | FAN_ENABLE_AUDIT;
/// Events that may happen to directories only (dirent events and the
/// directory flags): a mark on a non-directory with them is ENOTDIR where
/// Linux is strict.
const DIRONLY_BITS: u64 = fanotify::fid::DIRENT_EVENTS | FAN_EVENT_ON_CHILD | FAN_ONDIR;
/// Events fanotify_mark knows, descriptor and directory-entry ones.
const ALL_EVENTS: u64 = FD_EVENTS
    | PERM_EVENTS
    | FAN_ATTRIB
    | FAN_MOVED_FROM
    | FAN_MOVED_TO
    | FAN_CREATE
    | FAN_DELETE
    | FAN_DELETE_SELF
    | FAN_MOVE_SELF
    | FAN_FS_ERROR
    | FAN_RENAME
    | FAN_Q_OVERFLOW
    | FAN_ONDIR
    | FAN_EVENT_ON_CHILD;
const MARK_FLAGS: u32 = FAN_MARK_ADD
    | FAN_MARK_REMOVE
    | FAN_MARK_DONT_FOLLOW
    | FAN_MARK_ONLYDIR
    | FAN_MARK_IGNORED_MASK
    | FAN_MARK_IGNORED_SURV_MODIFY
    | FAN_MARK_FLUSH
    | FAN_MARK_EVICTABLE
    | FAN_MARK_IGNORE
    | FAN_MARK_TYPE_BITS;

/// fanotify_init
pub fn sys_fanotify_init(t: &Arc<Task>, flags: u32, event_f_flags: u32) -> KResult<u64> {
    let c = t.creds();
    if !c.capable(super::caps::CAP_SYS_ADMIN)
        && (flags & ADMIN_INIT_FLAGS != 0 || flags & (FID_BITS | FAN_REPORT_MNT) == 0)
    {
        return Err(Errno::EPERM);
    }
    if flags & !INIT_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & FAN_REPORT_PIDFD != 0 && flags & FAN_REPORT_TID != 0 {
        return Err(Errno::EINVAL);
    }
    if event_f_flags & !EVENT_F_BITS != 0 {
        return Err(Errno::EINVAL);
    }
    match event_f_flags & O_ACCMODE {
        O_RDONLY | O_WRONLY | O_RDWR => {}
        _ => return Err(Errno::EINVAL),
    }
    // File handles replace descriptors, which the permission classes need;
    // a name is a directory's entry, so it comes with the directory's
    // handle; the target's handle comes with name and object handles.
    let fid_mode = flags & FID_BITS;
    if fid_mode != 0 && flags & FAN_CLASS_BITS != FAN_CLASS_NOTIF {
        return Err(Errno::EINVAL);
    }
    if fid_mode & FAN_REPORT_NAME != 0 && fid_mode & FAN_REPORT_DIR_FID == 0 {
        return Err(Errno::EINVAL);
    }
    if fid_mode & FAN_REPORT_TARGET_FID != 0
        && fid_mode & (FAN_REPORT_NAME | FAN_REPORT_FID) != FAN_REPORT_NAME | FAN_REPORT_FID
    {
        return Err(Errno::EINVAL);
    }
    if flags & UNSUPPORTED_INIT_FLAGS != 0 {
        log::info!("fanotify_init: flags {flags:#x}: pidfd, mount and descriptor-error reports are not supported (EINVAL)");
        return Err(Errno::EINVAL);
    }
    if fanotify::groups_of(c.euid) >= fanotify::MAX_USER_GROUPS {
        return Err(Errno::EMFILE);
    }
    if flags & FAN_CLASS_BITS == FAN_CLASS_BITS {
        return Err(Errno::EINVAL);
    }
    let unpriv = if c.capable(crate::kernel::caps::CAP_SYS_ADMIN) {
        0
    } else {
        FAN_UNPRIV_GROUP
    };
    let g = Group::new(flags | unpriv, event_f_flags, c.euid);
    let fflags = O_RDWR
        | if flags & FAN_NONBLOCK != 0 {
            O_NONBLOCK
        } else {
            0
        };
    let f = File::new(g, None, None, fflags);
    let nofile = t.nofile();
    Ok(lock(&t.files()).install(f, flags & FAN_CLOEXEC != 0, nofile)? as u64)
}

/// fanotify_mark
pub fn sys_fanotify_mark(
    t: &Arc<Task>,
    fd: i32,
    flags: u32,
    mask: u64,
    dirfd: i32,
    pathname: u64,
) -> KResult<u64> {
    let kind = flags & FAN_MARK_TYPE_BITS;
    let cmd = flags & (FAN_MARK_ADD | FAN_MARK_REMOVE | FAN_MARK_FLUSH);
    let ignore = flags & (FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORE);
    if mask >> 32 != 0 {
        return Err(Errno::EINVAL);
    }
    if ![FAN_MARK_INODE, FAN_MARK_MOUNT, FAN_MARK_FILESYSTEM].contains(&kind) {
        // FAN_MARK_MNTNS goes with FAN_REPORT_MNT, not supported.
        return Err(Errno::EINVAL);
    }
    match cmd {
        FAN_MARK_ADD | FAN_MARK_REMOVE if mask == 0 => return Err(Errno::EINVAL),
        FAN_MARK_ADD | FAN_MARK_REMOVE => {}
        FAN_MARK_FLUSH if flags & !(FAN_MARK_TYPE_BITS | FAN_MARK_FLUSH) != 0 => {
            return Err(Errno::EINVAL)
        }
        FAN_MARK_FLUSH => {}
        _ => return Err(Errno::EINVAL),
    }
    if flags & !MARK_FLAGS != 0 || mask & !ALL_EVENTS != 0 {
        return Err(Errno::EINVAL);
    }
    // FAN_MARK_IGNORE and the legacy ignored mask exclude each other, and
    // an ignore mask is only added or removed.
    if ignore == FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORE || ignore != 0 && cmd == FAN_MARK_FLUSH {
        return Err(Errno::EINVAL);
    }
    if flags & FAN_MARK_EVICTABLE != 0 && (kind != FAN_MARK_INODE || cmd != FAN_MARK_ADD) {
        return Err(Errno::EINVAL);
    }
    let g = fd_file(t, fd)?
        .ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<Group>().ok())
        .ok_or(Errno::EINVAL)?;
    // Mount and filesystem marks need CAP_SYS_ADMIN, in the caller and in
    // the group's maker.
    if kind != FAN_MARK_INODE
        && (!t.creds().capable(crate::kernel::caps::CAP_SYS_ADMIN) || g.unprivileged())
    {
        return Err(Errno::EPERM);
    }
    if mask & PERM_EVENTS != 0 && !g.content_class() {
        return Err(Errno::EINVAL);
    }
    if mask & FAN_FS_ERROR != 0 && kind != FAN_MARK_FILESYSTEM {
        return Err(Errno::EINVAL);
    }
    // Events without a path to open need file-handle reports, and cannot
    // be told apart by mount.
    let fid_mode = g.fid_mode();
    if mask & !(FD_EVENTS | PERM_EVENTS | FAN_Q_OVERFLOW | FAN_ONDIR | FAN_EVENT_ON_CHILD) != 0
        && (fid_mode == 0 || kind == FAN_MARK_MOUNT)
    {
        return Err(Errno::EINVAL);
    }
    // A rename is reported by its old and new names.
    if mask & FAN_RENAME != 0 && fid_mode & FAN_REPORT_NAME == 0 {
        return Err(Errno::EINVAL);
    }
    if cmd == FAN_MARK_FLUSH {
        g.flush_marks(kind);
        return Ok(0);
    }
    // The object: the path, or with no path the file open as dirfd.
    let c = t.creds();
    let p = if pathname == 0 {
        let f = fd_file(t, dirfd)?;
        let p = f.path.clone().ok_or(Errno::EBADF)?;
        if flags & FAN_MARK_ONLYDIR != 0 && !p.inode.stat().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        p
    } else {
        let name = read_path(t, pathname)?;
        let p = lookup_as(t, &c, dirfd, &name, flags & FAN_MARK_DONT_FOLLOW == 0)?;
        if flags & FAN_MARK_ONLYDIR != 0 && !p.inode.stat().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        p
    };
    let st = p.inode.stat();
    permission::inode_permission(&c, &*p.inode, &st, MAY_READ)?;
    if fid_mode != 0 {
        // Linux's fanotify_test_fsid and fanotify_test_fid: a mount or
        // filesystem mark needs a filesystem id, every mark handles.
        if kind != FAN_MARK_INODE && crate::fs::fhandle::fsid_of(&*p.inode) == 0 {
            return Err(Errno::ENODEV);
        }
        if p.inode.file_handle().is_none() {
            return Err(Errno::EOPNOTSUPP);
        }
    }
    let strict = fid_mode & FAN_REPORT_TARGET_FID != 0 || flags & FAN_MARK_IGNORE != 0;
    if strict && kind == FAN_MARK_INODE && !st.is_dir() && mask & DIRONLY_BITS != 0 {
        return Err(Errno::ENOTDIR);
    }
    let (target, hold) = match kind {
        FAN_MARK_INODE => (Target::Inode((st.dev, st.ino)), Some(p.inode.clone())),
        FAN_MARK_MOUNT => {
            let m = crate::fs::mount::mount_of(&p).ok_or(Errno::EINVAL)?;
            (Target::Mount(m.id), None)
        }
        _ => (Target::Fs(st.dev), None),
    };
    // Only an inode mark on a directory watches children.
    let mut mask = mask;
    if kind != FAN_MARK_INODE || !st.is_dir() {
        mask &= !FAN_EVENT_ON_CHILD;
    }
    if cmd == FAN_MARK_ADD {
        g.add_mark(target, hold, mask, flags);
        Ok(0)
    } else {
        g.remove_mark(target, mask, flags).map(|()| 0)
    }
}
