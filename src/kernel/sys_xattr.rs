//! Extended attribute syscalls: get/set/list/remove by path (following
//! symlinks or not) or by fd. The namespace and permission rules of Linux's
//! fs/xattr.c live here (on top of `fs::permission`); filesystems store
//! names and values (`Inode`'s xattr methods).

use super::errno::{Errno, KResult};
use super::task::{lock, Creds, Task};
use crate::fs::file::O_PATH;
use crate::fs::permission::{inode_permission, owner_or_capable, MAY_READ, MAY_WRITE};
use crate::fs::vfs::{Inode, Stat, S_ISVTX, XATTR_CREATE, XATTR_REPLACE};
use crate::kernel::caps::{CAP_SETFCAP, CAP_SYS_ADMIN};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Largest value (XATTR_SIZE_MAX) and name (XATTR_NAME_MAX).
const SIZE_MAX: usize = 65536;
const NAME_MAX: usize = 255;

/// What an xattr syscall acts on.
#[derive(Clone, Copy)]
pub enum XattrAt {
    /// A path; `follow`: the `l` variants do not follow a final symlink.
    Path {
        path: u64,
        follow: bool,
    },
    Fd(i32),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ns {
    User,
    Trusted,
    Security,
}

/// The inode an xattr call names, and the path it was reached by.
fn target(t: &Task, at: XattrAt) -> KResult<(Arc<dyn Inode>, Option<crate::fs::vfs::Path>)> {
    match at {
        XattrAt::Path { path, follow } => {
            let p = super::sys_fs::read_path(t, path)?;
            let p = super::sys_fs::lookup_at(t, super::sys_fs::AT_FDCWD, &p, follow)?;
            Ok((p.inode.clone(), Some(p)))
        }
        XattrAt::Fd(fd) => {
            let f = lock(&t.files()).get(fd)?;
            if f.flags.load(Ordering::Relaxed) & O_PATH != 0 {
                return Err(Errno::EBADF);
            }
            Ok((f.inode.clone().ok_or(Errno::EOPNOTSUPP)?, f.path.clone()))
        }
    }
}

/// The attribute name at `addr`: 1 to 255 bytes, else ERANGE.
fn read_name(t: &Task, addr: u64) -> KResult<String> {
    if addr == 0 {
        return Err(Errno::EFAULT);
    }
    let b = t.mm().read_cstr_bytes(addr, NAME_MAX).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::ERANGE
        } else {
            e
        }
    })?;
    if b.is_empty() {
        return Err(Errno::ERANGE);
    }
    String::from_utf8(b).map_err(|_| Errno::EOPNOTSUPP)
}

/// The namespace of `name`. "system." names are POSIX ACLs and the like,
/// which no filesystem here supports; an unknown prefix is EOPNOTSUPP and
/// a bare prefix EINVAL, as in Linux.
fn namespace(name: &str) -> KResult<Ns> {
    for (prefix, ns) in [
        ("user.", Some(Ns::User)),
        ("trusted.", Some(Ns::Trusted)),
        ("security.", Some(Ns::Security)),
        ("system.", None),
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            if rest.is_empty() {
                return Err(Errno::EINVAL);
            }
            return ns.ok_or(Errno::EOPNOTSUPP);
        }
    }
    Err(Errno::EOPNOTSUPP)
}

/// Linux's xattr_permission: trusted.* needs CAP_SYS_ADMIN; user.* exists
/// only on regular files and directories. Reads that are refused see no
/// attribute (ENODATA), writes get EPERM.
fn permission(t: &Task, st: &Stat, ns: Ns, write: bool) -> KResult<()> {
    let refused = match ns {
        Ns::Trusted => !t.creds().capable(CAP_SYS_ADMIN),
        Ns::User => !st.is_reg() && !st.is_dir(),
        Ns::Security => false,
    };
    if refused {
        return Err(if write { Errno::EPERM } else { Errno::ENODATA });
    }
    Ok(())
}

/// The rest of Linux's xattr_permission and cap_inode_setxattr for a
/// get/set/remove (listing shows names without these checks): changing
/// security.* needs CAP_SYS_ADMIN (security.capability CAP_SETFCAP); user.* follows the file's permission
/// bits (read to get, write to change), and on a sticky directory only
/// its owner may change them.
fn access(c: &Creds, inode: &dyn Inode, st: &Stat, name: &str, write: bool) -> KResult<()> {
    // security.capability (file capabilities) needs CAP_SETFCAP instead.
    let admin = if name == "security.capability" {
        CAP_SETFCAP
    } else {
        CAP_SYS_ADMIN
    };
    match namespace(name)? {
        Ns::Trusted => Ok(()),
        Ns::Security if write && !c.capable(admin) => Err(Errno::EPERM),
        Ns::Security => Ok(()),
        Ns::User => {
            if write && st.is_dir() && st.mode & S_ISVTX != 0 && !owner_or_capable(c, st) {
                return Err(Errno::EPERM);
            }
            inode_permission(c, inode, st, if write { MAY_WRITE } else { MAY_READ })
        }
    }
}

/// The inode and attribute name a get/set/remove call is about, after the
/// name, namespace and permission checks (`write`: set or remove).
/// The inode, the attribute name and the path of an xattr call, checked.
type Named = (Arc<dyn Inode>, String, Option<crate::fs::vfs::Path>);

fn named(t: &Task, at: XattrAt, name: u64, write: bool) -> KResult<Named> {
    let name = read_name(t, name)?;
    let (inode, path) = target(t, at)?;
    // Changes go through the mount: EROFS when it is read-only.
    if let (true, Some(p)) = (write, &path) {
        super::sys_fs::want_write(p)?;
    }
    let st = inode.stat();
    let ns = namespace(&name)?;
    permission(t, &st, ns, write)?;
    access(&t.creds(), &*inode, &st, &name, write)?;
    Ok((inode, name, path))
}

/// Copy `data` out for a get/list call with a buffer of `size` bytes:
/// size 0 asks for the length, a smaller buffer is ERANGE.
fn copy_out(t: &Task, buf: u64, size: usize, data: &[u8]) -> KResult<u64> {
    if size == 0 {
        return Ok(data.len() as u64);
    }
    if data.len() > size {
        return Err(Errno::ERANGE);
    }
    t.mm().write(buf, data)?;
    Ok(data.len() as u64)
}

/// setxattr, lsetxattr, fsetxattr
pub fn sys_setxattr(
    t: &Arc<Task>,
    at: XattrAt,
    name: u64,
    value: u64,
    size: usize,
    flags: u32,
) -> KResult<u64> {
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    if size > SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let mut v = vec![0u8; size];
    if size > 0 {
        t.mm().read(value, &mut v)?;
    }
    let (inode, name, path) = named(t, at, name, true)?;
    // File capabilities must be well formed (Linux's cap_convert_nscap).
    if name == "security.capability" {
        crate::kernel::caps::parse_file_caps(&v)?;
    }
    inode.setxattr(&name, &v, flags)?;
    changed(path);
    Ok(0)
}

/// getxattr, lgetxattr, fgetxattr
pub fn sys_getxattr(
    t: &Arc<Task>,
    at: XattrAt,
    name: u64,
    value: u64,
    size: usize,
) -> KResult<u64> {
    let (inode, name, _) = named(t, at, name, false)?;
    let v = inode.getxattr(&name)?;
    copy_out(t, value, size.min(SIZE_MAX), &v)
}

/// listxattr, llistxattr, flistxattr
pub fn sys_listxattr(t: &Arc<Task>, at: XattrAt, list: u64, size: usize) -> KResult<u64> {
    let (inode, _) = target(t, at)?;
    let st = inode.stat();
    let mut out = Vec::new();
    for n in inode.listxattr()? {
        let visible = match namespace(&n) {
            Ok(ns) => permission(t, &st, ns, false).is_ok(),
            Err(_) => false,
        };
        if visible {
            out.extend_from_slice(n.as_bytes());
            out.push(0);
        }
    }
    copy_out(t, list, size, &out)
}

/// removexattr, lremovexattr, fremovexattr
pub fn sys_removexattr(t: &Arc<Task>, at: XattrAt, name: u64) -> KResult<u64> {
    let (inode, name, path) = named(t, at, name, true)?;
    inode.removexattr(&name)?;
    changed(path);
    Ok(0)
}

/// inotify watchers hear IN_ATTRIB for a changed attribute.
fn changed(path: Option<crate::fs::vfs::Path>) {
    if let Some(p) = path {
        crate::fs::inotify::fsnotify_attrib(&p);
    }
}

/// The syscall table's entry for numbers 188..=199 (set, get, list,
/// remove; each by path, by path without following, by fd).
pub fn dispatch(t: &Arc<Task>, nr: u64, a: &super::syscall::Args) -> KResult<u64> {
    let at = match (nr - 188) % 3 {
        0 => XattrAt::Path {
            path: a.u(0),
            follow: true,
        },
        1 => XattrAt::Path {
            path: a.u(0),
            follow: false,
        },
        _ => XattrAt::Fd(a.i(0)),
    };
    match nr {
        188..=190 => sys_setxattr(t, at, a.u(1), a.u(2), a.usize(3), a.u32(4)),
        191..=193 => sys_getxattr(t, at, a.u(1), a.u(2), a.usize(3)),
        194..=196 => sys_listxattr(t, at, a.u(1), a.usize(2)),
        _ => sys_removexattr(t, at, a.u(1)),
    }
}
