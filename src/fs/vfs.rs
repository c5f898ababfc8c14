//! The virtual filesystem: inodes, paths (dentries), mounts and path walk.
//!
//! A `Dentry` is a name in a walked path with a pointer to its parent, so
//! `..` and getcwd work across mount points; mounts (`super::mount`) are
//! looked up by the identity of the covered inode.

use super::permission;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Creds;
use crate::mm::frame::Pfn;
use std::any::Any;
use std::sync::Arc;

pub use crate::abi::stat::{
    S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
pub const S_ISUID: u32 = 0o4000;
pub const S_ISGID: u32 = 0o2000;
pub const S_ISVTX: u32 = 0o1000;
pub const S_IXGRP: u32 = 0o010;

pub const TMPFS_MAGIC: u64 = 0x0102_1994;
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
pub const SYSFS_MAGIC: u64 = 0x6265_6572;
pub const DEVPTS_SUPER_MAGIC: u64 = 0x1cd1;

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    pub fn now() -> Timespec {
        let ns = crate::kernel::time::realtime_ns();
        Timespec {
            sec: ns.div_euclid(1_000_000_000),
            nsec: ns.rem_euclid(1_000_000_000),
        }
    }
}

/// What stat(2) reports.
#[derive(Clone, Default, Debug)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u32,
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl Stat {
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }
    pub fn is_reg(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
}

/// Attribute changes (chmod, chown, truncate, utimes).
#[derive(Default, Clone)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<Timespec>,
    pub mtime: Option<Timespec>,
}

impl SetAttr {
    /// Make the mode, owner and time changes (not the size, which is the
    /// filesystem's) in `st`, the attributes of an inode kept in memory,
    /// and update its ctime.
    pub fn apply(&self, st: &mut Stat) {
        if let Some(mode) = self.mode {
            st.mode = (st.mode & S_IFMT) | (mode & 0o7777);
        }
        if let Some(u) = self.uid {
            st.uid = u;
        }
        if let Some(g) = self.gid {
            st.gid = g;
        }
        if let Some(t) = self.atime {
            st.atime = t;
        }
        if let Some(t) = self.mtime {
            st.mtime = t;
        }
        st.ctime = Timespec::now();
    }
}

/// The owner of a new inode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

impl Owner {
    /// What the kernel itself creates (devtmpfs nodes, mount points).
    pub const ROOT: Owner = Owner { uid: 0, gid: 0 };

    /// Linux's inode_init_owner and mode_strip_sgid: a new inode of `mode`
    /// in directory `dir` made by `c` belongs to its fsuid and to its fsgid
    /// or, when `dir` is setgid, to the directory's group (a directory
    /// then inherits the setgid bit; a group-executable file loses it
    /// unless its creator is in that group or privileged). Returns the
    /// owner and the mode.
    pub fn for_new(c: &Creds, dir: &Stat, mode: u32) -> (Owner, u32) {
        if dir.mode & S_ISGID == 0 {
            let o = Owner {
                uid: c.fsuid,
                gid: c.fsgid,
            };
            return (o, mode);
        }
        let o = Owner {
            uid: c.fsuid,
            gid: dir.gid,
        };
        let mut mode = mode;
        if mode & S_IFMT == S_IFDIR {
            mode |= S_ISGID;
        } else if mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP
            && !c.capable(crate::kernel::caps::CAP_FSETID)
            && !c.in_group(dir.gid)
        {
            mode &= !S_ISGID;
        }
        (o, mode)
    }
}

/// What statfs(2) reports for a filesystem with real capacity.
#[derive(Clone, Default, Debug)]
pub struct StatFs {
    pub magic: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub fsid: u64,
    pub namelen: u64,
}

pub struct DirEntry {
    pub name: String,
    pub ino: u64,
    /// DT_* type.
    pub dtype: u8,
}

/// DT_* value for an S_IFMT mode.
pub fn dtype_of(mode: u32) -> u8 {
    ((mode & S_IFMT) >> 12) as u8
}

/// An inode: a file, directory, symlink or device node of some filesystem.
/// Default methods answer as Linux does for an object that lacks the
/// operation.
pub trait Inode: Send + Sync {
    fn stat(&self) -> Stat;
    fn as_any(&self) -> &dyn Any;
    fn setattr(&self, _a: &SetAttr) -> KResult<()> {
        Err(Errno::EPERM)
    }
    fn lookup(&self, _name: &str) -> KResult<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }
    /// Create a regular file, directory, fifo, socket or device node
    /// belonging to `owner` (see `Owner::for_new`).
    fn create(
        &self,
        _name: &str,
        _mode: u32,
        _rdev: u64,
        _owner: Owner,
    ) -> KResult<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }
    fn symlink(&self, _name: &str, _target: &str, _owner: Owner) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    fn link(&self, _name: &str, _target: &Arc<dyn Inode>) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    /// unlink (or rmdir when `dir`).
    fn unlink(&self, _name: &str, _dir: bool) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    fn rename(
        &self,
        _old: &str,
        _new_dir: &Arc<dyn Inode>,
        _new: &str,
        _flags: u32,
    ) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Err(Errno::ENOTDIR)
    }
    /// For a directory whose entries have stable positions (/proc/PID/fd:
    /// an fd's number), the entries at position `pos` (2 and up; "." and
    /// ".." are 0 and 1) and after, each with its position, in order.
    /// getdents then lists afresh at every call, as Linux: entries removed
    /// meanwhile are not returned and none still there is skipped.
    fn readdir_from(&self, _pos: u64) -> Option<KResult<Vec<(u64, DirEntry)>>> {
        None
    }
    fn readlink(&self) -> KResult<String> {
        Err(Errno::EINVAL)
    }
    /// A /proc magic link (/proc/PID/fd/N): the object it stands for,
    /// which following it reaches directly instead of walking its text,
    /// so deleted files, memfds and pipes can be reopened as on Linux.
    fn magic_link(&self) -> Option<KResult<Path>> {
        None
    }
    fn read_at(&self, _off: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    fn write_at(&self, _off: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    /// The page-cache frame for page `idx`, with a reference for the caller.
    fn page(&self, _idx: u64) -> KResult<Pfn> {
        Err(Errno::ENODEV)
    }
    /// Like `page` but only if present without I/O or allocation.
    fn cached_page(&self, _idx: u64) -> Option<Pfn> {
        None
    }
    /// Would `page(idx)` wait for a disk? Asked by a page fault under the
    /// address space's lock: then it lets that lock go and calls
    /// `read_page_sleeping` first (Linux's VM_FAULT_RETRY). False for
    /// filesystems whose pages come without slow I/O.
    fn page_needs_read(&self, _idx: u64) -> bool {
        false
    }
    /// Bring page `idx` (and its read-ahead) into the page cache, task `t`
    /// sleeping while the disk reads; no lock is held across the sleep and
    /// the caller holds none. The page may be gone again by the time the
    /// caller looks (it retries a bounded number of times).
    fn read_page_sleeping(&self, _idx: u64, _t: &crate::kernel::task::Task) -> KResult<()> {
        Ok(())
    }
    /// Special files (devices, fifos, generated files) supply their own
    /// open-file operations.
    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn crate::fs::file::FileOps>>> {
        Ok(None)
    }
    fn fs_magic(&self) -> u64 {
        TMPFS_MAGIC
    }
    /// Set the access time to `now` for an access (read, directory
    /// listing), without changing ctime; the VFS decides when
    /// (`atime_due`).
    fn touch_atime(&self, _now: Timespec) {}
    /// Is the filesystem read-only (writes fail with EROFS)? Permission
    /// checks report it before access bits, as Linux's inode_permission.
    fn read_only(&self) -> bool {
        false
    }
    /// May `c` access this inode, whose stat is `st`, for `mask`
    /// (`permission::MAY_*`)? Linux's ->permission: the mode bits and
    /// root's overrides unless a filesystem knows better (procfs lets a
    /// process into its own fd directory whoever owns it).
    fn permission(&self, c: &Creds, st: &Stat, mask: u32) -> KResult<()> {
        super::permission::generic_permission(c, st, mask)
    }
    fn sync(&self) -> KResult<()> {
        Ok(())
    }
    /// fsync(2) by task `t`: like `sync`, but a filesystem on a device
    /// whose flushes complete by interrupt puts `t` to sleep instead of
    /// waiting on the vCPU.
    fn fsync(&self, _t: &crate::kernel::task::Task) -> KResult<()> {
        self.sync()
    }
    /// The largest file size the filesystem allows (Linux's s_maxbytes).
    fn max_bytes(&self) -> u64 {
        i64::MAX as u64
    }
    /// fallocate(2) on a regular file, `mode` already checked against
    /// Linux's combinations (see `falloc`). The default, for filesystems
    /// without their own: mode 0 extends the size without reserving
    /// blocks, KEEP_SIZE reserves nothing, other modes are EOPNOTSUPP.
    fn fallocate(&self, mode: u32, off: u64, len: u64) -> KResult<()> {
        match mode {
            0 => {
                let end = off + len;
                if end > self.stat().size {
                    self.setattr(&SetAttr {
                        size: Some(end),
                        ..Default::default()
                    })?;
                }
                Ok(())
            }
            falloc::KEEP_SIZE => Ok(()),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }
    /// The export handle of this inode (name_to_handle_at, fanotify's fid
    /// records): its type and bytes, as the filesystem's Linux encode_fh
    /// makes them; None when the filesystem has none (EOPNOTSUPP).
    fn file_handle(&self) -> Option<(i32, Vec<u8>)> {
        None
    }
    /// The inode a handle made by `file_handle` names, asked of any inode
    /// of the same filesystem (the mount's root): ESTALE when it is gone,
    /// malformed or the filesystem decodes none.
    fn from_handle(&self, _ty: i32, _fh: &[u8]) -> KResult<Arc<dyn Inode>> {
        Err(Errno::ESTALE)
    }
    /// statfs(2) numbers, for filesystems that have them (None: the
    /// memory-backed default).
    fn statfs(&self) -> Option<StatFs> {
        None
    }
    /// The value of extended attribute `name` (with its namespace prefix,
    /// "user.x"); ENODATA if there is none. Namespace and permission
    /// checks are the caller's (`kernel::sys_xattr`).
    fn getxattr(&self, _name: &str) -> KResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Set extended attribute `name` (`flags`: XATTR_CREATE fails with
    /// EEXIST if it exists, XATTR_REPLACE with ENODATA if it does not).
    fn setxattr(&self, _name: &str, _value: &[u8], _flags: u32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The names of all extended attributes, with their prefixes.
    fn listxattr(&self) -> KResult<Vec<String>> {
        Ok(Vec::new())
    }
    /// Remove extended attribute `name`; ENODATA if there is none.
    fn removexattr(&self, _name: &str) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
}

/// Linux's relatime rule: the access time moves only when it is not newer
/// than the last modification or change, or is a day old; otherwise
/// (strictatime) whenever it differs from `now`.
pub fn atime_due(st: &Stat, now: Timespec, relatime: bool) -> bool {
    if !relatime {
        return st.atime != now;
    }
    let key = |t: Timespec| (t.sec, t.nsec);
    key(st.atime) <= key(st.mtime)
        || key(st.atime) <= key(st.ctime)
        || now.sec - st.atime.sec >= 24 * 60 * 60
}

/// setxattr(2) flags.
pub const XATTR_CREATE: u32 = 1;
pub const XATTR_REPLACE: u32 = 2;

/// May an attribute that `exists` (or not) be set with `flags`?
pub fn xattr_flags_allow(exists: bool, flags: u32) -> KResult<()> {
    if exists && flags & XATTR_CREATE != 0 {
        return Err(Errno::EEXIST);
    }
    if !exists && flags & XATTR_REPLACE != 0 {
        return Err(Errno::ENODATA);
    }
    Ok(())
}

pub fn same_inode(a: &Arc<dyn Inode>, b: &Arc<dyn Inode>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// A walked path: a name, its parent and the inode it leads to.
pub struct Dentry {
    pub name: String,
    pub parent: Option<Arc<Dentry>>,
    pub inode: Arc<dyn Inode>,
}

pub type Path = Arc<Dentry>;

impl Dentry {
    pub fn root(inode: Arc<dyn Inode>) -> Path {
        Arc::new(Dentry {
            name: String::new(),
            parent: None,
            inode,
        })
    }

    /// The absolute path name up to `root`.
    pub fn path_name(self: &Arc<Self>, root: &Path) -> String {
        let mut parts = Vec::new();
        let mut cur = self.clone();
        loop {
            if same_inode(&cur.inode, &root.inode) {
                break;
            }
            match &cur.parent {
                Some(p) => {
                    parts.push(cur.name.clone());
                    cur = p.clone();
                }
                None => break,
            }
        }
        if parts.is_empty() {
            return "/".into();
        }
        parts.reverse();
        let mut s = String::new();
        for p in parts {
            s.push('/');
            s.push_str(&p);
        }
        s
    }
}

const MAX_SYMLINKS: u32 = 40;

/// Walk `path` from `start` (or `root` if absolute) as `c`, who needs
/// search permission on every directory passed through. With `follow`, a
/// symlink in the last component is followed.
pub fn walk(root: &Path, start: &Path, path: &str, follow: bool, c: &Creds) -> KResult<Path> {
    let mut depth = 0;
    walk_inner(root, start, path, follow, c, &mut depth)
}

fn walk_inner(
    root: &Path,
    start: &Path,
    path: &str,
    follow: bool,
    cred: &Creds,
    depth: &mut u32,
) -> KResult<Path> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if super::name::byte_len(path) >= 4096 {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut cur = if path.starts_with('/') {
        root.clone()
    } else {
        start.clone()
    };
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let trailing_slash = path.ends_with('/');
    for (i, c) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let st = cur.inode.stat();
        if !st.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        // Also for "." and "..", as Linux's link_path_walk.
        permission::may_lookup(cred, &*cur.inode, &st)?;
        if super::name::byte_len(c) > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        match *c {
            "." => continue,
            ".." => {
                if !same_inode(&cur.inode, &root.inode) {
                    if let Some(p) = &cur.parent {
                        cur = p.clone();
                    }
                }
                continue;
            }
            _ => {}
        }
        let child = super::mount::covered(&cur, cur.inode.lookup(c)?);
        if child.stat().is_symlink() && (!last || follow || trailing_slash) {
            *depth += 1;
            if *depth > MAX_SYMLINKS {
                return Err(Errno::ELOOP);
            }
            permission::may_follow_link(cred, &cur.inode.stat(), &child.stat())?;
            if let Some(p) = child.magic_link() {
                cur = p?;
                continue;
            }
            let target = child.readlink()?;
            cur = walk_inner(root, &cur, &target, true, cred, depth)?;
            continue;
        }
        cur = Arc::new(Dentry {
            name: c.to_string(),
            parent: Some(cur),
            inode: child,
        });
    }
    if trailing_slash && !cur.inode.stat().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(cur)
}

/// Walk all but the last component as `c`: (parent directory, last
/// name), with search permission on the parent checked too. The last name
/// is "" for "/" and may be "." or "..".
pub fn walk_parent(root: &Path, start: &Path, path: &str, c: &Creds) -> KResult<(Path, String)> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok((root.clone(), String::new()));
    }
    let (dir, name) = match trimmed.rfind('/') {
        Some(i) => (&trimmed[..i + 1], &trimmed[i + 1..]),
        None => ("", trimmed),
    };
    let parent = if dir.is_empty() {
        start.clone()
    } else {
        walk(root, start, dir, true, c)?
    };
    let st = parent.inode.stat();
    if !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    permission::may_lookup(c, &*parent.inode, &st)?;
    if super::name::byte_len(name) > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok((parent, name.to_string()))
}

/// fallocate(2) mode bits.
pub mod falloc {
    pub const KEEP_SIZE: u32 = 0x01;
    pub const PUNCH_HOLE: u32 = 0x02;
    pub const COLLAPSE_RANGE: u32 = 0x08;
    pub const ZERO_RANGE: u32 = 0x10;
    pub const INSERT_RANGE: u32 = 0x20;
    pub const UNSHARE_RANGE: u32 = 0x40;
    pub const WRITE_ZEROES: u32 = 0x80;
    /// The mutually exclusive modes (Linux's FALLOC_FL_MODE_MASK).
    pub const MODE_MASK: u32 =
        PUNCH_HOLE | COLLAPSE_RANGE | ZERO_RANGE | INSERT_RANGE | UNSHARE_RANGE | WRITE_ZEROES;
}
