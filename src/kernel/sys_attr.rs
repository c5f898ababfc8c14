//! Attribute syscalls: chmod, chown, utimes, truncate and access, with
//! the permission rules of `fs::setattr` and `fs::permission`.

use super::errno::{Errno, KResult};
use super::sys_fs::{fd_file, lookup_as, lookup_flags_as, read_path, want_write, want_write_file};
use super::sys_fs::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use super::task::{Creds, Task};
use crate::abi;
use crate::fs::inotify;
use crate::fs::permission::{self, MAY_WRITE};
use crate::fs::setattr;
use crate::fs::vfs::{Inode, Path, SetAttr, Stat, Timespec};
use std::sync::Arc;

/// faccessat2's flag: check with the effective ids.
const AT_EACCESS: u32 = 0x200;
const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

/// What an attribute change applies to: the inode, and the path it was
/// reached by (for inotify), if any.
struct Target {
    inode: Arc<dyn Inode>,
    path: Option<Path>,
}

impl Target {
    /// The walked path `p`, to be changed: EROFS if its mount is read-only.
    fn path(p: Path) -> KResult<Target> {
        want_write(&p)?;
        Ok(Target {
            inode: p.inode.clone(),
            path: Some(p),
        })
    }

    /// The open file `fd`, to be changed: EROFS if its mount is read-only.
    fn fd(t: &Task, fd: i32) -> KResult<Target> {
        let f = fd_file(t, fd)?;
        want_write_file(&f)?;
        Ok(Target {
            inode: f.inode.clone().ok_or(Errno::EBADF)?,
            path: f.path.clone(),
        })
    }

    /// Apply `a` and tell inotify watchers (`modified`: the data changed).
    fn set(&self, a: &SetAttr, modified: bool) -> KResult<u64> {
        self.inode.setattr(a)?;
        if let Some(p) = &self.path {
            if modified {
                inotify::fsnotify_modify(p);
            } else {
                inotify::fsnotify_attrib(p);
            }
        }
        Ok(0)
    }
}

fn chmod(c: &Creds, t: &Target, mode: u32) -> KResult<u64> {
    t.set(&setattr::chmod(c, &t.inode.stat(), mode)?, false)
}

/// chmod, fchmodat
pub fn sys_fchmodat(t: &Arc<Task>, dirfd: i32, path: u64, mode: u32, flags: u32) -> KResult<u64> {
    let c = t.creds();
    let p = lookup_flags_as(t, &c, dirfd, path, flags)?;
    chmod(&c, &Target::path(p)?, mode)
}

/// fchmod
pub fn sys_fchmod(t: &Arc<Task>, fd: i32, mode: u32) -> KResult<u64> {
    chmod(&t.creds(), &Target::fd(t, fd)?, mode)
}

/// chown to `uid`/`gid` ((u32)-1: unchanged).
fn chown(c: &Creds, t: &Target, uid: u32, gid: u32) -> KResult<u64> {
    let id = |v: u32| (v != u32::MAX).then_some(v);
    t.set(
        &setattr::chown(c, &t.inode.stat(), id(uid), id(gid))?,
        false,
    )
}

/// chown, lchown, fchownat
pub fn sys_fchownat(
    t: &Arc<Task>,
    dirfd: i32,
    path: u64,
    uid: u32,
    gid: u32,
    flags: u32,
) -> KResult<u64> {
    let c = t.creds();
    let p = lookup_flags_as(t, &c, dirfd, path, flags)?;
    chown(&c, &Target::path(p)?, uid, gid)
}

/// fchown
pub fn sys_fchown(t: &Arc<Task>, fd: i32, uid: u32, gid: u32) -> KResult<u64> {
    chown(&t.creds(), &Target::fd(t, fd)?, uid, gid)
}

/// Set the times in `a` on `inode` as `c`. `explicit`: given times, not
/// both "now" (which write permission also allows).
fn set_times(c: &Creds, t: &Target, a: &SetAttr, explicit: bool) -> KResult<u64> {
    setattr::may_set_times(c, &*t.inode, &t.inode.stat(), explicit)?;
    t.set(a, false)
}

fn both_now() -> SetAttr {
    let now = Timespec::now();
    SetAttr {
        atime: Some(now),
        mtime: Some(now),
        ..Default::default()
    }
}

/// utimensat (and utime when `legacy`)
pub fn sys_utimensat(
    t: &Arc<Task>,
    dirfd: i32,
    path: u64,
    times: u64,
    flags: u32,
    legacy: bool,
    utimbuf: u64,
) -> KResult<u64> {
    let (a, explicit) = if legacy && utimbuf != 0 {
        let u: abi::time::Utimbuf = abi::read_val(&t.mm(), utimbuf)?;
        let a = SetAttr {
            atime: Some(Timespec {
                sec: u.actime,
                nsec: 0,
            }),
            mtime: Some(Timespec {
                sec: u.modtime,
                nsec: 0,
            }),
            ..Default::default()
        };
        (a, true)
    } else if legacy || times == 0 {
        (both_now(), false)
    } else {
        let ts: [abi::time::Timespec; 2] = abi::read_val(&t.mm(), times)?;
        let nsecs = (ts[0].tv_nsec, ts[1].tv_nsec);
        if nsecs == (UTIME_OMIT, UTIME_OMIT) {
            // Nothing to do: Linux does not even look at the path.
            return Ok(0);
        }
        let now = Timespec::now();
        let mut a = SetAttr::default();
        for (v, slot) in [(ts[0], &mut a.atime), (ts[1], &mut a.mtime)] {
            let (s, ns) = (v.tv_sec, v.tv_nsec);
            *slot = match ns {
                UTIME_NOW => Some(now),
                UTIME_OMIT => None,
                n if !(0..1_000_000_000).contains(&n) => return Err(Errno::EINVAL),
                n => Some(Timespec { sec: s, nsec: n }),
            };
        }
        (a, nsecs != (UTIME_NOW, UTIME_NOW))
    };
    let c = t.creds();
    let target = if path == 0 {
        Target::fd(t, dirfd)?
    } else {
        Target::path(lookup_flags_as(t, &c, dirfd, path, flags)?)?
    };
    set_times(&c, &target, &a, explicit)
}

/// utimes
pub fn sys_utimes(t: &Arc<Task>, path: u64, tv: u64) -> KResult<u64> {
    sys_futimesat(t, AT_FDCWD, path, tv)
}

/// futimesat
pub fn sys_futimesat(t: &Arc<Task>, dirfd: i32, path: u64, tv: u64) -> KResult<u64> {
    let (a, explicit) = if tv == 0 {
        (both_now(), false)
    } else {
        let tv: [abi::time::Timeval; 2] = abi::read_val(&t.mm(), tv)?;
        let a = SetAttr {
            atime: Some(Timespec {
                sec: tv[0].tv_sec,
                nsec: tv[0].tv_usec * 1000,
            }),
            mtime: Some(Timespec {
                sec: tv[1].tv_sec,
                nsec: tv[1].tv_usec * 1000,
            }),
            ..Default::default()
        };
        (a, true)
    };
    let c = t.creds();
    let p = lookup_flags_as(t, &c, dirfd, path, 0)?;
    set_times(&c, &Target::path(p)?, &a, explicit)
}

/// access, faccessat, faccessat2: with the real uid and gid unless
/// AT_EACCESS (the walk too). W_OK on a read-only filesystem is EROFS.
pub fn sys_faccessat(t: &Arc<Task>, dirfd: i32, path: u64, mode: u32, flags: u32) -> KResult<u64> {
    if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let c = t.creds();
    let c = if flags & AT_EACCESS != 0 {
        c
    } else {
        c.for_access(super::caps::root_uid(t))
    };
    let p = lookup_flags_as(t, &c, dirfd, path, flags)?;
    const W_OK: u32 = 2;
    if mode & W_OK != 0 {
        let st = p.inode.stat();
        if st.is_reg() || st.is_dir() || st.is_symlink() {
            want_write(&p)?;
        }
    }
    // R_OK, W_OK and X_OK are MAY_READ, MAY_WRITE and MAY_EXEC.
    permission::inode_permission(&c, &*p.inode, &p.inode.stat(), mode)?;
    Ok(0)
}

/// Truncate `inode` to `len`; a non-root caller takes the setuid and
/// setgid bits off as with a write.
fn truncate(c: &Creds, t: &Target, st: &Stat, len: i64) -> KResult<u64> {
    super::rlimits::fsize_grow(st.size, len as u64)?;
    let mut a = setattr::remove_privs(c, st).unwrap_or_default();
    a.size = Some(len as u64);
    t.set(&a, true)
}

/// truncate: needs write permission on the file.
pub fn sys_truncate(t: &Arc<Task>, path: u64, len: i64) -> KResult<u64> {
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(t, path)?;
    let c = t.creds();
    let p = lookup_as(t, &c, AT_FDCWD, &path, true)?;
    let target = Target::path(p)?;
    let st = target.inode.stat();
    if st.is_dir() {
        return Err(Errno::EISDIR);
    }
    if !st.is_reg() {
        return Err(Errno::EINVAL);
    }
    permission::inode_permission(&c, &*target.inode, &st, MAY_WRITE)?;
    // As Linux's vfs_truncate: leases held on the file are broken as for
    // an open for writing (ftruncate needs none: its file is open for
    // writing, which no other file's lease survives).
    crate::fs::leases::break_lease(t, &target.inode, crate::fs::file::O_WRONLY)?;
    truncate(&c, &target, &st, len)
}

/// ftruncate: the file must be open for writing.
pub fn sys_ftruncate(t: &Arc<Task>, fd: i32, len: i64) -> KResult<u64> {
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let f = fd_file(t, fd)?;
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    let target = Target {
        inode: f.inode.clone().ok_or(Errno::EINVAL)?,
        path: f.path.clone(),
    };
    let st = target.inode.stat();
    if !st.is_reg() {
        return Err(Errno::EINVAL);
    }
    truncate(&t.creds(), &target, &st, len)
}
