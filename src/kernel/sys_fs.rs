//! File syscalls: open/close, read/write and their vectored and positional
//! forms, seek, stat, directories, links, attributes, fcntl, ioctl, pipes,
//! mount.

use super::errno::{Errno, KResult};
use super::pipe_rw;
use super::rw_full::{self, UserBuf};
use super::sched;
use super::signal::{self, SigInfo, SIGPIPE};
use super::task::{lock, Creds, Task};
use crate::abi::{self, stat::Dirent64Head};
use crate::fs::file::*;
use crate::fs::inotify;
use crate::fs::pipe::{Pipe, PipeEnd};
use crate::fs::vfs::{self, Owner, Path, Stat, Timespec, S_IFDIR, S_IFMT, S_IFREG};
use crate::fs::{permission, setattr};
use std::sync::Arc;

pub use crate::abi::stat::{
    AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW,
};

/// Largest single transfer on files that may return short counts (pipes,
/// sockets, ttys); regular files and block devices go through `rw_full`.
const MAX_IO: usize = 1 << 20;

pub fn read_path(t: &Task, addr: u64) -> KResult<String> {
    if addr == 0 {
        return Err(Errno::EFAULT);
    }
    let s = t.mm().read_cstr(addr, 4096)?;
    Ok(s)
}

/// The directory relative paths start from for `dirfd`.
fn start_dir(t: &Task, dirfd: i32, path: &str) -> KResult<(Path, Path)> {
    let fs = t.fs();
    if path.starts_with('/') || dirfd == AT_FDCWD {
        return Ok((fs.root.clone(), fs.cwd.clone()));
    }
    let f = lock(&t.files()).get(dirfd)?;
    let p = f.path.clone().ok_or(Errno::ENOTDIR)?;
    if !p.inode.stat().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok((fs.root.clone(), p))
}

/// Resolve `path` relative to `dirfd` as `t`.
pub fn lookup_at(t: &Task, dirfd: i32, path: &str, follow: bool) -> KResult<Path> {
    lookup_as(t, &t.creds(), dirfd, path, follow)
}

/// Resolve `path` relative to `dirfd` with credentials `c` (search
/// permission is checked with them).
pub fn lookup_as(t: &Task, c: &Creds, dirfd: i32, path: &str, follow: bool) -> KResult<Path> {
    let (root, start) = start_dir(t, dirfd, path)?;
    vfs::walk(&root, &start, path, follow, c)
}

/// The parent directory of `path` and the last name, walked as `c`.
pub fn lookup_parent(t: &Task, c: &Creds, dirfd: i32, path: &str) -> KResult<(Path, String)> {
    let (root, start) = start_dir(t, dirfd, path)?;
    vfs::walk_parent(&root, &start, path, c)
}

/// Is the last component of `path` written with a trailing slash ("a/",
/// not "/")? Linux then takes it to name a directory.
fn trailing_slash(path: &str) -> bool {
    path.ends_with('/') && !path.trim_end_matches('/').is_empty()
}

/// A call making a non-directory (mknod, symlink, link) at `name/`:
/// Linux's filename_create gives EEXIST if something is there and ENOENT
/// if not ("you asked for a non-existent directory").
fn create_slash_check(path: &str, parent: &Path, name: &str) -> KResult<()> {
    if trailing_slash(path) {
        return Err(match parent.inode.lookup(name) {
            Ok(_) => Errno::EEXIST,
            Err(_) => Errno::ENOENT,
        });
    }
    Ok(())
}

/// EEXIST when `name` is already in `parent` (and the caller may search
/// it): Linux's filename_create looks the name up before it asks for
/// write access to the mount, so mkdir -p on a read-only root or in
/// sysfs ("/sys/fs/cgroup") finds the directory instead of EROFS/EPERM.
fn exists_first(c: &Creds, parent: &Path, name: &str) -> KResult<()> {
    let st = parent.inode.stat();
    if permission::may_lookup(c, &*parent.inode, &st).is_ok() && parent.inode.lookup(name).is_ok() {
        return Err(Errno::EEXIST);
    }
    Ok(())
}

/// Path or, with AT_EMPTY_PATH and "", the fd's own object.
fn lookup_flags(t: &Task, dirfd: i32, addr: u64, flags: u32) -> KResult<Path> {
    lookup_flags_as(t, &t.creds(), dirfd, addr, flags)
}

/// `lookup_flags` with credentials `c`.
pub fn lookup_flags_as(t: &Task, c: &Creds, dirfd: i32, addr: u64, flags: u32) -> KResult<Path> {
    let path = read_path(t, addr)?;
    if path.is_empty() {
        if flags & AT_EMPTY_PATH != 0 {
            let f = fd_file(t, dirfd)?;
            return f.path.clone().ok_or(Errno::EBADF);
        }
        return Err(Errno::ENOENT);
    }
    lookup_as(t, c, dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0)
}

pub fn fd_file(t: &Task, fd: i32) -> KResult<Arc<File>> {
    if fd == AT_FDCWD {
        let cwd = t.fs().cwd;
        return Ok(File::new(
            Arc::new(InodeFile {
                inode: cwd.inode.clone(),
            }),
            Some(cwd.inode.clone()),
            Some(cwd),
            O_PATH,
        ));
    }
    lock(&t.files()).get(fd)
}

/// Create `name` of `mode` in `parent` as `c`: write and search
/// permission on the directory; the owner and final mode from
/// `Owner::for_new` (fsuid/fsgid, setgid directories).
pub fn create_in(
    c: &Creds,
    parent: &Path,
    name: &str,
    mode: u32,
    rdev: u64,
) -> KResult<Arc<dyn vfs::Inode>> {
    permission::may_create(c, &parent.inode, name)?;
    let (owner, m) = Owner::for_new(c, &parent.inode.stat(), mode);
    let inode = parent.inode.create(name, m, rdev, owner)?;
    inotify::fsnotify_create(parent, name, m & S_IFMT == S_IFDIR);
    Ok(inode)
}

/// EROFS if the mount `p` lies in is read-only.
pub(crate) fn want_write(p: &Path) -> KResult<()> {
    crate::fs::mount::want_write(p)
}

/// EROFS if the open file `f` lies in a read-only mount.
pub(crate) fn want_write_file(f: &File) -> KResult<()> {
    match &f.path {
        Some(p) => want_write(p),
        None => Ok(()),
    }
}

/// Renames and links stay inside one mount (EXDEV), as in Linux, even
/// between two mounts of one filesystem.
fn same_mount(a: &Path, b: &Path) -> KResult<()> {
    use crate::fs::mount::mount_of;
    match (mount_of(a), mount_of(b)) {
        (Some(x), Some(y)) if x.id != y.id => Err(Errno::EXDEV),
        _ => Ok(()),
    }
}

/// What the mount of `p` forbids: device nodes on nodev (EACCES), writing
/// regular files on a read-only mount (EROFS).
fn check_mount_allows_open(p: &Path, st: &Stat, flags: u32) -> KResult<()> {
    use crate::fs::mount::{self, MntFlags};
    let kind = st.mode & S_IFMT;
    if kind == vfs::S_IFCHR || kind == vfs::S_IFBLK {
        if mount::flags_of(p).contains(MntFlags::NODEV) {
            return Err(Errno::EACCES);
        }
    } else if kind == S_IFREG && (flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0) {
        want_write(p)?;
    }
    Ok(())
}

/// Open `path` as a new file description.
pub fn open_path(t: &Task, dirfd: i32, path: &str, flags: u32, mode: u32) -> KResult<Arc<File>> {
    let c = t.creds();
    let follow = flags & O_NOFOLLOW == 0;
    let mut created = false;
    let p = if flags & O_CREAT != 0 {
        let (parent, name) = lookup_parent(t, &c, dirfd, path)?;
        // "name/" can only be a directory, which open does not create.
        if name.is_empty() || name == "." || name == ".." || trailing_slash(path) {
            return Err(Errno::EISDIR);
        }
        match parent.inode.lookup(&name) {
            Ok(_) if flags & O_EXCL != 0 => return Err(Errno::EEXIST),
            Ok(_) => {
                let (root, _) = start_dir(t, dirfd, path)?;
                let p = vfs::walk(&root, &parent, &name, follow, &c)?;
                permission::may_create_in_sticky(&c, &parent.inode.stat(), &p.inode.stat())?;
                p
            }
            Err(Errno::ENOENT) => {
                want_write(&parent)?;
                let umask = t.fs().umask;
                let m = S_IFREG | (mode & 0o7777 & !umask);
                let inode = create_in(&c, &parent, &name, m, 0)?;
                created = true;
                Arc::new(vfs::Dentry {
                    name,
                    parent: Some(parent),
                    inode,
                })
            }
            Err(e) => return Err(e),
        }
    } else {
        lookup_as(t, &c, dirfd, path, follow)?
    };
    open_resolved(t, &c, p, flags, created)
}

/// Open the object `p` was resolved to (by a walk or from a file handle)
/// as a new file description: the type, mount, permission, fanotify and
/// lease checks of open(2). `created`: this open made it.
pub fn open_resolved(
    t: &Task,
    c: &Creds,
    p: Path,
    flags: u32,
    created: bool,
) -> KResult<Arc<File>> {
    let st = p.inode.stat();
    if st.is_symlink() && flags & O_PATH == 0 {
        return Err(Errno::ELOOP);
    }
    if flags & O_DIRECTORY != 0 && !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let writes = permission::open_mask(flags) & permission::MAY_WRITE != 0;
    if st.is_dir() && (writes || flags & O_CREAT != 0) && flags & O_PATH == 0 {
        return Err(Errno::EISDIR);
    }
    if flags & O_PATH == 0 {
        check_mount_allows_open(&p, &st, flags)?;
    }
    // A file this open created may be written whatever its mode says.
    if !created {
        permission::may_open(c, &*p.inode, &st, flags)?;
    }
    // fanotify's permission groups decide first, then leases held on the
    // file are broken before the open goes on (and before O_TRUNC
    // truncates), as Linux's do_dentry_open.
    if flags & O_PATH == 0 {
        crate::fs::fanotify::permission(t, &p, crate::abi::fanotify::FAN_OPEN_PERM)?;
    }
    if flags & O_PATH == 0 && st.is_reg() {
        crate::fs::leases::break_lease(t, &p.inode, flags)?;
    }
    if flags & O_PATH != 0 {
        let ops = Arc::new(InodeFile {
            inode: p.inode.clone(),
        });
        return Ok(File::new(ops, Some(p.inode.clone()), Some(p), flags));
    }
    let ops: Arc<dyn FileOps> = match p.inode.open(flags)? {
        Some(ops) => ops,
        None => {
            // As Linux, O_TRUNC truncates even with O_RDONLY.
            if flags & O_TRUNC != 0 && !created && st.is_reg() {
                let mut a = setattr::remove_privs(c, &st).unwrap_or_default();
                a.size = Some(0);
                p.inode.setattr(&a)?;
            }
            Arc::new(InodeFile {
                inode: p.inode.clone(),
            })
        }
    };
    inotify::fsnotify_open(&p);
    Ok(File::new(ops, Some(p.inode.clone()), Some(p), flags))
}

/// open, creat, openat
pub fn sys_openat(t: &Arc<Task>, dirfd: i32, path: u64, flags: u32, mode: u32) -> KResult<u64> {
    let path = read_path(t, path)?;
    let mut f = open_path(t, dirfd, &path, flags, mode)?;
    if let Some(ops) = f.ops.opened(&f, t)? {
        f = File::new(ops, f.inode.clone(), f.path.clone(), flags);
    }
    let nofile = t.nofile();
    let fd = lock(&t.files()).install(f, flags & O_CLOEXEC != 0, nofile)?;
    Ok(fd as u64)
}

/// close
pub fn sys_close(t: &Arc<Task>, fd: i32) -> KResult<u64> {
    let e = lock(&t.files()).remove(fd)?;
    crate::fs::locks::posix_close(t, &e.file);
    drop(e);
    Ok(0)
}

/// close_range
pub fn sys_close_range(t: &Arc<Task>, lo: u32, hi: u32, flags: u32) -> KResult<u64> {
    if lo > hi {
        return Err(Errno::EINVAL);
    }
    const CLOSE_RANGE_CLOEXEC: u32 = 4;
    let cloexec = flags & CLOSE_RANGE_CLOEXEC != 0;
    let files = t.files();
    let mut g = lock(&files);
    // Closing drops the process's record locks on each file (POSIX).
    let closed: Vec<Arc<File>> = if cloexec || !crate::fs::locks::any() {
        Vec::new()
    } else {
        g.iter()
            .filter(|(fd, _)| (lo as u64..=hi as u64).contains(&(*fd as u64)))
            .map(|(_, e)| e.file.clone())
            .collect()
    };
    g.close_range(lo, hi, cloexec);
    drop(g);
    for f in &closed {
        crate::fs::locks::posix_close(t, f);
    }
    Ok(0)
}

/// How a blocking read or write of a file that found nothing to move
/// waits for it: on the file's wait queue, for at most the file's I/O
/// timeout (SO_RCVTIMEO/SO_SNDTIMEO), counted from the first wait.
///
/// Made before the first attempt, it remembers how many wakes the file's
/// queue had seen: an attempt that failed may itself have made the file
/// ready and woken its (then empty) queue (a socket's operation polls the
/// network stack, which takes frames that arrived meanwhile), so a wait
/// that finds the count moved goes round again instead of sleeping
/// through the only wake-up it would get.
pub struct IoWait {
    write: bool,
    /// Set by the first wait: when the timeout runs out (None: never).
    deadline: Option<Option<i64>>,
    /// The queue's wake count before the last attempt.
    seen: Option<u64>,
}

impl IoWait {
    /// For reads of `f`: make it before the first attempt.
    pub fn read(f: &File) -> IoWait {
        IoWait::new(f, false)
    }

    /// For writes to `f`: make it before the first attempt.
    pub fn write(f: &File) -> IoWait {
        IoWait::new(f, true)
    }

    fn new(f: &File, write: bool) -> IoWait {
        IoWait {
            write,
            deadline: None,
            seen: f.ops.wait_queue().map(|q| q.wakes()),
        }
    }

    /// `f` had nothing to move: sleep until it may have. EAGAIN at once
    /// for a non-blocking file or one nothing can wake, and once the
    /// timeout has run out; ERESTARTSYS when a signal arrives. The caller
    /// tries again after `Ok`.
    pub fn wait(&mut self, t: &Task, f: &File) -> KResult<()> {
        if f.nonblocking() {
            return Err(Errno::EAGAIN);
        }
        let write = self.write;
        let now = super::time::monotonic_ns();
        let deadline = *self
            .deadline
            .get_or_insert_with(|| f.ops.io_timeout(write).map(|to| now.saturating_add(to)));
        let wq = f.ops.wait_queue();
        match (deadline, &wq) {
            (None, None) => return Err(Errno::EAGAIN),
            (Some(d), _) if now >= d => return Err(Errno::EAGAIN),
            _ => {}
        }
        if let Some(wq) = &wq {
            wq.add(t.tid);
            let wakes = wq.wakes();
            if self.seen.replace(wakes) != Some(wakes) {
                // Woken since the attempt began: try again first.
                return Ok(());
            }
        }
        let r = sched::wait(t, deadline);
        if let Some(wq) = &wq {
            self.seen = Some(wq.wakes());
        }
        r
    }
}

/// Read up to `len` bytes of `f` for `t`, sleeping while there is
/// nothing to read (unless non-blocking).
pub fn read_into(t: &Arc<Task>, f: &File, len: usize) -> KResult<Vec<u8>> {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let mut buf = vec![0u8; len.min(MAX_IO)];
    let n = read_task(t, f, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// One read(2) of `f` into `buf`, sleeping while there is nothing to read.
fn read_task(t: &Arc<Task>, f: &File, buf: &mut [u8]) -> KResult<usize> {
    let mut w = IoWait::read(f);
    loop {
        match f.ops.read_task(f, t, buf) {
            Err(Errno::EAGAIN) => w.wait(t, f)?,
            r => return r,
        }
    }
}

/// A write by `t` to `f` is about to happen: a non-root writer takes the
/// setuid and setgid bits off (Linux's file_remove_privs).
pub fn remove_privs(t: &Task, f: &File) -> KResult<()> {
    match &f.inode {
        Some(i) => setattr::kill_privs(&t.creds(), &**i),
        None => Ok(()),
    }
}

pub fn write_from(t: &Arc<Task>, f: &File, data: &[u8]) -> KResult<u64> {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    remove_privs(t, f)?;
    let mut w = IoWait::write(f);
    loop {
        return match f.ops.write_task(f, t, data) {
            Ok(n) => Ok(n as u64),
            Err(Errno::EAGAIN) => {
                w.wait(t, f)?;
                continue;
            }
            Err(Errno::EPIPE) => {
                signal::send_to_thread(t, SigInfo::user(SIGPIPE, t.tgid(), signal::SI_USER));
                Err(Errno::EPIPE)
            }
            Err(e) => Err(e),
        };
    }
}

/// read
pub fn sys_read(t: &Arc<Task>, fd: i32, buf: u64, count: usize) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    if f.readable() {
        crate::fs::fanotify::read_permission(t, &f)?;
    }
    super::direct_io::check(&f, buf, None, count, false)?;
    if rw_full::applies(&f) && f.readable() {
        return rw_full::read(t, UserBuf::Flat(buf), count, |b, _| {
            f.ops.read_task(&f, t, b)
        });
    }
    let data = read_into(t, &f, count)?;
    t.mm().write(buf, &data)?;
    Ok(data.len() as u64)
}

/// write
pub fn sys_write(t: &Arc<Task>, fd: i32, buf: u64, count: usize) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    super::direct_io::check(&f, buf, None, count, true)?;
    if rw_full::applies(&f) {
        return rw_full::write(t, UserBuf::Flat(buf), count, |b, _| {
            write_from(t, &f, b).map(|n| n as usize)
        });
    }
    if pipe_rw::applies(&f) || super::sys_net::stream_socket(&f) {
        return pipe_rw::write(t, &f, UserBuf::Flat(buf), count);
    }
    let data = t.mm().read_vec(buf, count.min(MAX_IO))?;
    write_from(t, &f, &data)
}

pub fn read_iovec(t: &Task, iov: u64, cnt: i32) -> KResult<Vec<(u64, usize)>> {
    abi::uaccess::read_iovecs(&t.mm(), iov, cnt)
}

pub fn scatter(t: &Task, iov: &[(u64, usize)], data: &[u8]) -> KResult<()> {
    let mm = t.mm();
    let mut off = 0;
    for &(base, len) in iov {
        if off >= data.len() {
            break;
        }
        let n = len.min(data.len() - off);
        mm.write(base, &data[off..off + n])?;
        off += n;
    }
    Ok(())
}

pub fn gather(t: &Task, iov: &[(u64, usize)]) -> KResult<Vec<u8>> {
    let mm = t.mm();
    let mut v = Vec::new();
    for &(base, len) in iov {
        let len = len.min(MAX_IO.saturating_sub(v.len()));
        let start = v.len();
        v.resize(start + len, 0);
        mm.read(base, &mut v[start..])?;
    }
    Ok(v)
}

/// readv (and preadv with an offset)
pub fn sys_readv(t: &Arc<Task>, fd: i32, iov: u64, cnt: i32, off: Option<i64>) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    if f.readable() {
        crate::fs::fanotify::read_permission(t, &f)?;
    }
    let iov = read_iovec(t, iov, cnt)?;
    let total: usize = iov.iter().map(|x| x.1).sum();
    let align = super::direct_io::iov_align(&iov);
    super::direct_io::check(&f, align, off.map(|o| o as u64), total, false)?;
    if rw_full::applies(&f) && f.readable() {
        let dst = UserBuf::Iov(&iov);
        return match off {
            None => rw_full::read(t, dst, total, |b, _| f.ops.read_task(&f, t, b)),
            Some(o) => rw_full::read(t, dst, total, |b, done| {
                f.ops.pread(&f, b, o as u64 + done as u64)
            }),
        };
    }
    let data = match off {
        None => read_into(t, &f, total)?,
        Some(o) => {
            if !f.readable() {
                return Err(Errno::EBADF);
            }
            let mut b = vec![0u8; total.min(MAX_IO)];
            let n = f.ops.pread(&f, &mut b, o as u64)?;
            b.truncate(n);
            b
        }
    };
    scatter(t, &iov, &data)?;
    Ok(data.len() as u64)
}

/// writev (and pwritev with an offset)
pub fn sys_writev(t: &Arc<Task>, fd: i32, iov: u64, cnt: i32, off: Option<i64>) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let iov = read_iovec(t, iov, cnt)?;
    let total: usize = iov.iter().map(|x| x.1).sum();
    let align = super::direct_io::iov_align(&iov);
    super::direct_io::check(&f, align, off.map(|o| o as u64), total, true)?;
    if rw_full::applies(&f) {
        let src = UserBuf::Iov(&iov);
        return match off {
            None => rw_full::write(t, src, total, |b, _| {
                write_from(t, &f, b).map(|n| n as usize)
            }),
            Some(o) => {
                remove_privs(t, &f)?;
                rw_full::write(t, src, total, |b, done| {
                    f.ops.pwrite(&f, b, o as u64 + done as u64)
                })
            }
        };
    }
    if off.is_none() && (pipe_rw::applies(&f) || super::sys_net::stream_socket(&f)) {
        let total: usize = iov.iter().map(|x| x.1).sum();
        return pipe_rw::write(t, &f, UserBuf::Iov(&iov), total);
    }
    let data = gather(t, &iov)?;
    match off {
        None => write_from(t, &f, &data),
        Some(o) => {
            remove_privs(t, &f)?;
            Ok(f.ops.pwrite(&f, &data, o as u64)? as u64)
        }
    }
}

/// preadv
pub fn sys_preadv(t: &Arc<Task>, fd: i32, iov: u64, cnt: i32, off: i64) -> KResult<u64> {
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    sys_readv(t, fd, iov, cnt, Some(off))
}

/// pwritev
pub fn sys_pwritev(t: &Arc<Task>, fd: i32, iov: u64, cnt: i32, off: i64) -> KResult<u64> {
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    sys_writev(t, fd, iov, cnt, Some(off))
}

/// pread64
pub fn sys_pread64(t: &Arc<Task>, fd: i32, buf: u64, count: usize, off: i64) -> KResult<u64> {
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    let f = fd_file(t, fd)?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    crate::fs::fanotify::read_permission(t, &f)?;
    super::direct_io::check(&f, buf, Some(off as u64), count, false)?;
    if rw_full::applies(&f) {
        return rw_full::read(t, UserBuf::Flat(buf), count, |b, done| {
            f.ops.pread(&f, b, off as u64 + done as u64)
        });
    }
    let mut b = vec![0u8; count.min(MAX_IO)];
    let n = f.ops.pread(&f, &mut b, off as u64)?;
    t.mm().write(buf, &b[..n])?;
    Ok(n as u64)
}

/// pwrite64
pub fn sys_pwrite64(t: &Arc<Task>, fd: i32, buf: u64, count: usize, off: i64) -> KResult<u64> {
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    let f = fd_file(t, fd)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    super::direct_io::check(&f, buf, Some(off as u64), count, true)?;
    if rw_full::applies(&f) {
        remove_privs(t, &f)?;
        return rw_full::write(t, UserBuf::Flat(buf), count, |b, done| {
            f.ops.pwrite(&f, b, off as u64 + done as u64)
        });
    }
    let data = t.mm().read_vec(buf, count.min(MAX_IO))?;
    remove_privs(t, &f)?;
    Ok(f.ops.pwrite(&f, &data, off as u64)? as u64)
}

/// lseek
pub fn sys_lseek(t: &Arc<Task>, fd: i32, off: i64, whence: u32) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    f.ops.seek(&f, off, whence)
}

/// The guest's struct stat for `st`.
fn stat_abi(st: &Stat) -> abi::stat::Stat {
    abi::stat::Stat {
        st_dev: st.dev,
        st_ino: st.ino,
        st_nlink: st.nlink as u64,
        st_mode: st.mode,
        st_uid: st.uid,
        st_gid: st.gid,
        st_rdev: st.rdev,
        st_size: st.size as i64,
        st_blksize: st.blksize as i64,
        st_blocks: st.blocks as i64,
        st_atime: st.atime.sec,
        st_atime_nsec: st.atime.nsec,
        st_mtime: st.mtime.sec,
        st_mtime_nsec: st.mtime.nsec,
        st_ctime: st.ctime.sec,
        st_ctime_nsec: st.ctime.nsec,
        ..Default::default()
    }
}

/// fstat
pub fn sys_fstat(t: &Arc<Task>, fd: i32, buf: u64) -> KResult<u64> {
    let st = fd_file(t, fd)?.stat()?;
    abi::write_val(&t.mm(), buf, &stat_abi(&st))?;
    Ok(0)
}

/// stat, lstat, newfstatat
pub fn sys_newfstatat(t: &Arc<Task>, dirfd: i32, path: u64, buf: u64, flags: u32) -> KResult<u64> {
    let p = read_path(t, path)?;
    let st = if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        fd_file(t, dirfd)?.stat()?
    } else {
        lookup_flags(t, dirfd, path, flags)?.inode.stat()
    };
    abi::write_val(&t.mm(), buf, &stat_abi(&st))?;
    Ok(0)
}

/// statx
pub fn sys_statx(
    t: &Arc<Task>,
    dirfd: i32,
    path: u64,
    flags: u32,
    _mask: u32,
    buf: u64,
) -> KResult<u64> {
    let p = read_path(t, path)?;
    let st = if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        fd_file(t, dirfd)?.stat()?
    } else {
        lookup_flags(t, dirfd, path, flags)?.inode.stat()
    };
    let ts = |t: Timespec| abi::stat::StatxTimestamp {
        tv_sec: t.sec,
        tv_nsec: t.nsec as u32,
        _reserved: 0,
    };
    let maj = crate::drivers::major;
    let min = crate::drivers::minor;
    let stx = abi::stat::Statx {
        stx_mask: abi::stat::STATX_BASIC_STATS,
        stx_blksize: st.blksize,
        stx_nlink: st.nlink,
        stx_uid: st.uid,
        stx_gid: st.gid,
        stx_mode: st.mode as u16,
        stx_ino: st.ino,
        stx_size: st.size,
        stx_blocks: st.blocks,
        stx_atime: ts(st.atime),
        stx_ctime: ts(st.ctime),
        stx_mtime: ts(st.mtime),
        stx_rdev_major: maj(st.rdev),
        stx_rdev_minor: min(st.rdev),
        stx_dev_major: maj(st.dev),
        stx_dev_minor: min(st.dev),
        ..Default::default()
    };
    abi::write_val(&t.mm(), buf, &stx)?;
    Ok(0)
}

/// getdents64
pub fn sys_getdents64(t: &Arc<Task>, fd: i32, buf: u64, count: usize) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    let inode = f.inode.clone().ok_or(Errno::ENOTDIR)?;
    if !inode.stat().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mut pos = f.lock_pos();
    if let Some(r) = inode.readdir_from((*pos).max(2)) {
        let mut entries = Vec::new();
        if *pos == 0 {
            entries.push((0, dot_entry(".", inode.stat().ino)));
        }
        if *pos <= 1 {
            entries.push((1, dot_entry("..", 1)));
        }
        entries.extend(r?);
        let (out, next) = dirents(&entries, count, *pos)?;
        *pos = next;
        drop(pos);
        t.mm().write(buf, &out)?;
        return Ok(out.len() as u64);
    }
    // Positions index the listing taken at position 0 (opendir, rewinddir),
    // not a fresh one: unlinking entries already read must not make the
    // next call skip the ones after them. (POSIX leaves it open whether
    // entries removed or added since the rewind are returned.)
    let mut cached = f.dir_entries.lock().unwrap_or_else(|e| e.into_inner());
    let entries = match cached.as_ref() {
        Some(v) if *pos != 0 => v.clone(),
        _ => {
            let mut v = vec![
                vfs::DirEntry {
                    name: ".".into(),
                    ino: inode.stat().ino,
                    dtype: 4,
                },
                vfs::DirEntry {
                    name: "..".into(),
                    ino: 1,
                    dtype: 4,
                },
            ];
            v.extend(f.ops.readdir(&f)?);
            let v = Arc::new(v);
            *cached = Some(v.clone());
            v
        }
    };
    drop(cached);
    let mut out = Vec::new();
    let mut i = *pos as usize;
    while i < entries.len() {
        let e = &entries[i];
        let name = crate::fs::name::to_bytes(&e.name);
        if out.len() + Dirent64Head::reclen(name.len()) > count {
            break;
        }
        out.extend(Dirent64Head::record(e.ino, (i + 1) as u64, e.dtype, &name));
        i += 1;
    }
    if out.is_empty() && i < entries.len() {
        return Err(Errno::EINVAL);
    }
    *pos = i as u64;
    drop(pos);
    t.mm().write(buf, &out)?;
    Ok(out.len() as u64)
}

fn dot_entry(name: &str, ino: u64) -> vfs::DirEntry {
    vfs::DirEntry {
        name: name.into(),
        ino,
        dtype: 4,
    }
}

/// linux_dirent64 records for `entries` (position, entry) that fit in
/// `count` bytes, and the position to go on from (`pos` if none were
/// left); EINVAL if the first does not fit.
fn dirents(entries: &[(u64, vfs::DirEntry)], count: usize, pos: u64) -> KResult<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut next = pos;
    for (at, e) in entries {
        let name = crate::fs::name::to_bytes(&e.name);
        if out.len() + Dirent64Head::reclen(name.len()) > count {
            if out.is_empty() {
                return Err(Errno::EINVAL);
            }
            break;
        }
        out.extend(Dirent64Head::record(e.ino, at + 1, e.dtype, &name));
        next = at + 1;
    }
    Ok((out, next))
}

/// mkdir, mkdirat
pub fn sys_mkdirat(t: &Arc<Task>, dirfd: i32, path: u64, mode: u32) -> KResult<u64> {
    let path = read_path(t, path)?;
    let c = t.creds();
    let (parent, name) = lookup_parent(t, &c, dirfd, &path)?;
    if name.is_empty() || name == "." || name == ".." {
        return Err(Errno::EEXIST);
    }
    exists_first(&c, &parent, &name)?;
    want_write(&parent)?;
    let umask = t.fs().umask;
    create_in(&c, &parent, &name, S_IFDIR | (mode & 0o1777 & !umask), 0)?;
    Ok(0)
}

/// mknod, mknodat
pub fn sys_mknodat(t: &Arc<Task>, dirfd: i32, path: u64, mode: u32, dev: u64) -> KResult<u64> {
    let path = read_path(t, path)?;
    let c = t.creds();
    let (parent, name) = lookup_parent(t, &c, dirfd, &path)?;
    if name.is_empty() || name == "." || name == ".." {
        return Err(Errno::EEXIST);
    }
    create_slash_check(&path, &parent, &name)?;
    want_write(&parent)?;
    let umask = t.fs().umask;
    let mut m = mode & !umask & 0o7777 | (mode & S_IFMT);
    if mode & S_IFMT == 0 {
        m |= S_IFREG;
    }
    // Device nodes need CAP_MKNOD, checked after the directory (vfs_mknod).
    if matches!(m & S_IFMT, vfs::S_IFCHR | vfs::S_IFBLK) && !c.capable(super::caps::CAP_MKNOD) {
        permission::may_create(&c, &parent.inode, &name)?;
        let exists = parent.inode.lookup(&name).is_ok();
        return Err(if exists { Errno::EEXIST } else { Errno::EPERM });
    }
    create_in(&c, &parent, &name, m, dev)?;
    Ok(0)
}

/// unlink, rmdir, unlinkat
pub fn sys_unlinkat(t: &Arc<Task>, dirfd: i32, path: u64, flags: u32) -> KResult<u64> {
    let path = read_path(t, path)?;
    let c = t.creds();
    let (parent, name) = lookup_parent(t, &c, dirfd, &path)?;
    let dir = flags & AT_REMOVEDIR != 0;
    if name.is_empty() {
        return Err(Errno::EBUSY);
    }
    if name == "." {
        return Err(Errno::EINVAL);
    }
    if name == ".." {
        return Err(Errno::ENOTEMPTY);
    }
    // unlink of "name/": only a directory could be meant (do_unlinkat).
    if !dir && trailing_slash(&path) {
        return Err(match parent.inode.lookup(&name) {
            Ok(i) if i.stat().is_dir() => Errno::EISDIR,
            Ok(_) => Errno::ENOTDIR,
            Err(e) => e,
        });
    }
    want_write(&parent)?;
    permission::may_delete(&c, &parent.inode, &name)?;
    let victim = inotify::active()
        .then(|| parent.inode.lookup(&name).ok())
        .flatten();
    parent.inode.unlink(&name, dir)?;
    inotify::fsnotify_delete(&parent, &name, victim.as_ref());
    Ok(0)
}

/// rename, renameat, renameat2
pub fn sys_renameat2(
    t: &Arc<Task>,
    olddir: i32,
    old: u64,
    newdir: i32,
    new: u64,
    flags: u32,
) -> KResult<u64> {
    let old = read_path(t, old)?;
    let new = read_path(t, new)?;
    let c = t.creds();
    let (op, on) = lookup_parent(t, &c, olddir, &old)?;
    let (np, nn) = lookup_parent(t, &c, newdir, &new)?;
    if on.is_empty() || nn.is_empty() || on == "." || on == ".." || nn == "." || nn == ".." {
        return Err(Errno::EBUSY);
    }
    // A trailing slash on either name needs the source to be a directory.
    if trailing_slash(&old) || trailing_slash(&new) {
        if !op.inode.lookup(&on)?.stat().is_dir() {
            return Err(Errno::ENOTDIR);
        }
    }
    same_mount(&op, &np)?;
    want_write(&op)?;
    may_rename(&c, &op, &on, &np, &nn, flags)?;
    let moved = inotify::active()
        .then(|| op.inode.lookup(&on).ok())
        .flatten();
    op.inode.rename(&on, &np.inode, &nn, flags)?;
    if let Some(i) = moved {
        inotify::fsnotify_move(&op, &on, &np, &nn, &i);
    }
    Ok(0)
}

/// Linux's checks in vfs_rename: the source leaves its directory and the
/// target name is added to or replaced in its directory (sticky rules
/// included); a directory moving to another parent has its ".." rewritten,
/// which needs write permission on it (and, with RENAME_EXCHANGE, on a
/// directory it is exchanged with).
fn may_rename(c: &Creds, op: &Path, on: &str, np: &Path, nn: &str, flags: u32) -> KResult<()> {
    const RENAME_EXCHANGE: u32 = 2;
    permission::may_delete(c, &op.inode, on)?;
    let target = np.inode.lookup(nn).ok();
    match &target {
        Some(_) => permission::may_delete(c, &np.inode, nn)?,
        None => permission::may_create(c, &np.inode, nn)?,
    }
    if !vfs::same_inode(&op.inode, &np.inode) {
        let exchanged = target.filter(|_| flags & RENAME_EXCHANGE != 0);
        let moved = [op.inode.lookup(on).ok(), exchanged];
        for i in moved.iter().flatten() {
            let st = i.stat();
            if st.is_dir() {
                permission::inode_permission(c, &**i, &st, permission::MAY_WRITE)?;
            }
        }
    }
    Ok(())
}

/// link, linkat
pub fn sys_linkat(
    t: &Arc<Task>,
    olddir: i32,
    old: u64,
    newdir: i32,
    new: u64,
    flags: u32,
) -> KResult<u64> {
    let c = t.creds();
    let target = lookup_flags_as(
        t,
        &c,
        olddir,
        old,
        if flags & AT_SYMLINK_FOLLOW != 0 {
            flags & AT_EMPTY_PATH
        } else {
            AT_SYMLINK_NOFOLLOW | (flags & AT_EMPTY_PATH)
        },
    )?;
    let new = read_path(t, new)?;
    let (np, nn) = lookup_parent(t, &c, newdir, &new)?;
    if nn.is_empty() || np.inode.lookup(&nn).is_ok() {
        return Err(Errno::EEXIST);
    }
    create_slash_check(&new, &np, &nn)?;
    same_mount(&target, &np)?;
    want_write(&np)?;
    permission::may_link(&c, &*target.inode, &target.inode.stat())?;
    permission::may_create(&c, &np.inode, &nn)?;
    np.inode.link(&nn, &target.inode)?;
    inotify::fsnotify_link_count(&target.inode);
    inotify::fsnotify_create(&np, &nn, false);
    Ok(0)
}

/// symlink, symlinkat
pub fn sys_symlinkat(t: &Arc<Task>, target: u64, newdir: i32, new: u64) -> KResult<u64> {
    let target = read_path(t, target)?;
    let new = read_path(t, new)?;
    let c = t.creds();
    let (np, nn) = lookup_parent(t, &c, newdir, &new)?;
    if nn.is_empty() {
        return Err(Errno::EEXIST);
    }
    create_slash_check(&new, &np, &nn)?;
    want_write(&np)?;
    permission::may_create(&c, &np.inode, &nn)?;
    let (owner, _) = Owner::for_new(&c, &np.inode.stat(), vfs::S_IFLNK | 0o777);
    np.inode.symlink(&nn, &target, owner)?;
    inotify::fsnotify_create(&np, &nn, false);
    Ok(0)
}

/// readlink, readlinkat
pub fn sys_readlinkat(t: &Arc<Task>, dirfd: i32, path: u64, buf: u64, size: usize) -> KResult<u64> {
    if size == 0 {
        return Err(Errno::EINVAL);
    }
    let p = lookup_flags(t, dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    let s = p.inode.readlink()?;
    let b = crate::fs::name::to_bytes(&s);
    let n = b.len().min(size);
    t.mm().write(buf, &b[..n])?;
    Ok(n as u64)
}

/// getcwd
pub fn sys_getcwd(t: &Arc<Task>, buf: u64, size: usize) -> KResult<u64> {
    let fs = t.fs();
    let mut s = crate::fs::name::to_bytes(&fs.cwd.path_name(&fs.root)).into_owned();
    s.push(0);
    if s.len() > size {
        return Err(Errno::ERANGE);
    }
    t.mm().write(buf, &s)?;
    Ok(s.len() as u64)
}

/// A directory to change into (chdir, fchdir, chroot): ENOTDIR, or
/// EACCES without search permission on it.
fn may_chdir(c: &Creds, p: &Path) -> KResult<()> {
    let st = p.inode.stat();
    if !st.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    permission::may_lookup(c, &*p.inode, &st)
}

/// chdir
pub fn sys_chdir(t: &Arc<Task>, path: u64) -> KResult<u64> {
    let path = read_path(t, path)?;
    let c = t.creds();
    let p = lookup_as(t, &c, AT_FDCWD, &path, true)?;
    may_chdir(&c, &p)?;
    lock(&t.fs_shared()).cwd = p;
    Ok(0)
}

/// fchdir
pub fn sys_fchdir(t: &Arc<Task>, fd: i32) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    let p = f.path.clone().ok_or(Errno::ENOTDIR)?;
    may_chdir(&t.creds(), &p)?;
    lock(&t.fs_shared()).cwd = p;
    Ok(0)
}

/// chroot: CAP_SYS_CHROOT only.
pub fn sys_chroot(t: &Arc<Task>, path: u64) -> KResult<u64> {
    let path = read_path(t, path)?;
    let c = t.creds();
    let p = lookup_as(t, &c, AT_FDCWD, &path, true)?;
    may_chdir(&c, &p)?;
    if !c.capable(super::caps::CAP_SYS_CHROOT) {
        return Err(Errno::EPERM);
    }
    lock(&t.fs_shared()).root = p;
    Ok(0)
}

/// umask
pub fn sys_umask(t: &Arc<Task>, mask: u32) -> KResult<u64> {
    let fs = t.fs_shared();
    let mut g = lock(&fs);
    let old = g.umask;
    g.umask = mask & 0o777;
    Ok(old as u64)
}

/// dup
pub fn sys_dup(t: &Arc<Task>, fd: i32) -> KResult<u64> {
    let nofile = t.nofile();
    let files = t.files();
    let mut g = lock(&files);
    let f = g.get(fd)?;
    Ok(g.install(f, false, nofile)? as u64)
}

/// dup2
pub fn sys_dup2(t: &Arc<Task>, old: i32, new: i32) -> KResult<u64> {
    let nofile = t.nofile();
    let files = t.files();
    let mut g = lock(&files);
    let f = g.get(old)?;
    if old == new {
        return Ok(new as u64);
    }
    let prev = g.install_at(new, f, false, nofile)?;
    drop(g);
    if let Some(p) = &prev {
        crate::fs::locks::posix_close(t, &p.file);
    }
    drop(prev);
    Ok(new as u64)
}

/// dup3
pub fn sys_dup3(t: &Arc<Task>, old: i32, new: i32, flags: u32) -> KResult<u64> {
    if old == new || flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let nofile = t.nofile();
    let files = t.files();
    let mut g = lock(&files);
    let f = g.get(old)?;
    let prev = g.install_at(new, f, flags & O_CLOEXEC != 0, nofile)?;
    drop(g);
    if let Some(p) = &prev {
        crate::fs::locks::posix_close(t, &p.file);
    }
    drop(prev);
    Ok(new as u64)
}

/// fcntl
pub fn sys_fcntl(t: &Arc<Task>, fd: i32, cmd: u32, arg: u64) -> KResult<u64> {
    let files = t.files();
    match cmd {
        0 | 1030 => {
            let nofile = t.nofile();
            let mut g = lock(&files);
            let f = g.get(fd)?;
            if arg >= nofile as u64 {
                return Err(Errno::EINVAL);
            }
            Ok(g.install_from(arg as usize, f, cmd == 1030, nofile)? as u64)
        }
        1 => Ok(lock(&files).entry(fd)?.cloexec as u64),
        2 => {
            lock(&files).set_cloexec(fd, arg & 1 != 0)?;
            Ok(0)
        }
        3 => {
            let f = lock(&files).get(fd)?;
            Ok(f.flags() as u64)
        }
        4 => {
            let f = lock(&files).get(fd)?;
            let changeable = O_APPEND | O_NONBLOCK | O_ASYNC | 0o40000 | 0o1000000;
            let mut arg = arg as u32;
            // Files without O_ASYNC drop the flag (Linux 6.x setfl).
            if (f.flags() ^ arg) & O_ASYNC != 0 && !f.ops.fasync(&f, fd, arg & O_ASYNC != 0, t) {
                arg &= !O_ASYNC;
            }
            let nf = (f.flags() & !changeable) | (arg & changeable);
            f.set_flags(nf);
            Ok(0)
        }
        // Record locks (POSIX and OFD).
        5..=7 | 36..=38 => super::sys_locks::fcntl_lock(t, fd, cmd, arg),
        // F_SETOWN, F_GETOWN, F_SETOWN_EX, F_GETOWN_EX.
        8 => crate::fs::fown::setown(t, &*fd_file(t, fd)?, arg),
        9 => Ok(crate::fs::fown::getown(t, &*fd_file(t, fd)?)),
        15 => crate::fs::fown::setown_ex(t, &*fd_file(t, fd)?, arg),
        16 => crate::fs::fown::getown_ex(t, &*fd_file(t, fd)?, arg),
        1031 => {
            let f = fd_file(t, fd)?;
            pipe_rw::set_size(t, &f, arg)
        }
        1032 => {
            let f = fd_file(t, fd)?;
            pipe_rw::get_size(&f)
        }
        // F_SETLEASE, F_GETLEASE.
        1024 => crate::fs::leases::set(t, fd, &fd_file(t, fd)?, arg),
        1025 => crate::fs::leases::get(&*fd_file(t, fd)?),
        // F_SETSIG, F_GETSIG, F_NOTIFY (not on O_PATH files, as Linux).
        10 | 11 | 1026 => {
            let f = fd_file(t, fd)?;
            if f.flags() & crate::fs::file::O_PATH != 0 {
                return Err(Errno::EBADF);
            }
            match cmd {
                10 if arg as u32 as u64 <= 64 => {
                    f.set_sig(arg as u32);
                    Ok(0)
                }
                10 => Err(Errno::EINVAL),
                11 => Ok(f.sig() as u64),
                _ => crate::fs::dnotify::fcntl_notify(t, fd, &f, arg),
            }
        }
        1033 => Ok(0),
        1034 => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// ioctl
pub fn sys_ioctl(t: &Arc<Task>, fd: i32, cmd: u32, arg: u64) -> KResult<u64> {
    use crate::abi::ioctl::{FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX};
    match cmd {
        FIOCLEX | FIONCLEX => {
            lock(&t.files()).set_cloexec(fd, cmd == FIOCLEX)?;
            return Ok(0);
        }
        _ => {}
    }
    let f = fd_file(t, fd)?;
    if cmd == FIONBIO && !f.ops.is_tty() {
        let on = t.mm().read_u32(arg)? != 0;
        let fl = f.flags();
        f.set_flags(if on {
            fl | O_NONBLOCK
        } else {
            fl & !O_NONBLOCK
        });
        return Ok(0);
    }
    if cmd == FIOASYNC {
        let on = t.mm().read_u32(arg)? != 0;
        if (f.flags() & O_ASYNC != 0) != on {
            if !f.ops.fasync(&f, fd, on, t) {
                return Err(Errno::ENOTTY);
            }
            let fl = f.flags();
            f.set_flags(if on { fl | O_ASYNC } else { fl & !O_ASYNC });
        }
        return Ok(0);
    }
    f.ops.ioctl(&f, t, cmd, arg)
}

/// pipe, pipe2
pub fn sys_pipe2(t: &Arc<Task>, fds: u64, flags: u32) -> KResult<u64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK | 0o40000) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = Pipe::new();
    let r = File::new(
        PipeEnd::new(&p, true, false),
        None,
        None,
        O_RDONLY | (flags & O_NONBLOCK),
    );
    let w = File::new(
        PipeEnd::new(&p, false, true),
        None,
        None,
        O_WRONLY | (flags & O_NONBLOCK),
    );
    let nofile = t.nofile();
    let files = t.files();
    let mut g = lock(&files);
    let cloexec = flags & O_CLOEXEC != 0;
    let rfd = g.install(r, cloexec, nofile)?;
    let wfd = match g.install(w, cloexec, nofile) {
        Ok(x) => x,
        Err(e) => {
            let _ = g.remove(rfd);
            return Err(e);
        }
    };
    drop(g);
    if let Err(e) = abi::write_val(&t.mm(), fds, &[rfd, wfd]) {
        let mut g = lock(&files);
        let _ = g.remove(rfd);
        let _ = g.remove(wfd);
        return Err(e);
    }
    Ok(0)
}

/// sync, syncfs
pub fn sys_sync(t: &Arc<Task>) -> KResult<u64> {
    crate::fs::ext4::sync_all(t)?;
    Ok(0)
}

/// fsync, fdatasync
pub fn sys_fsync(t: &Arc<Task>, fd: i32) -> KResult<u64> {
    let f = fd_file(t, fd)?;
    if let Some(i) = &f.inode {
        i.fsync(t)?;
    }
    Ok(0)
}

/// fallocate: the mode and file checks in Linux's order (vfs_fallocate),
/// then the filesystem's own (`Inode::fallocate`).
pub fn sys_fallocate(t: &Arc<Task>, fd: i32, mode: i32, off: i64, len: i64) -> KResult<u64> {
    use crate::fs::vfs::falloc::*;
    let f = fd_file(t, fd)?;
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    let mode = mode as u32;
    if mode & !(MODE_MASK | KEEP_SIZE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let keep = mode & KEEP_SIZE != 0;
    match mode & MODE_MASK {
        0 | UNSHARE_RANGE | ZERO_RANGE => {}
        PUNCH_HOLE if keep => {}
        COLLAPSE_RANGE | INSERT_RANGE | WRITE_ZEROES if !keep => {}
        _ => return Err(Errno::EOPNOTSUPP),
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let st = f.stat()?;
    match st.mode & vfs::S_IFMT {
        vfs::S_IFIFO => return Err(Errno::ESPIPE),
        vfs::S_IFDIR => return Err(Errno::EISDIR),
        vfs::S_IFREG | vfs::S_IFBLK => {}
        _ => return Err(Errno::ENODEV),
    }
    let end = off.checked_add(len).ok_or(Errno::EFBIG)? as u64;
    let i = f.inode.clone().ok_or(Errno::ENODEV)?;
    if end > i.max_bytes() {
        return Err(Errno::EFBIG);
    }
    // Growing the file counts against RLIMIT_FSIZE (inode_newsize_ok).
    if !keep && matches!(mode & MODE_MASK, 0 | ZERO_RANGE) && st.is_reg() {
        super::rlimits::fsize_grow(st.size, end)?;
    }
    remove_privs(t, &f)?;
    i.fallocate(mode, off as u64, len as u64)?;
    if let Some(p) = &f.path {
        crate::fs::inotify::fsnotify_modify(p);
    }
    Ok(0)
}

/// memfd_create: an unnamed tmpfs file.
pub fn sys_memfd_create(t: &Arc<Task>, name: u64, flags: u32) -> KResult<u64> {
    const MFD_CLOEXEC: u32 = 1;
    const MFD_ALLOW_SEALING: u32 = 2;
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | 4 | 8 | 16) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = t.mm().read_cstr(name, 249).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::EINVAL
        } else {
            e
        }
    })?;
    // Linux's memfd is S_IRWXUGO, owned by the caller's fsuid and fsgid.
    let c = t.creds();
    let owner = Owner {
        uid: c.fsuid,
        gid: c.fsgid,
    };
    let inode = crate::fs::tmpfs::anon_file_as(0o777, owner);
    let root = t.fs().root;
    let path = Arc::new(vfs::Dentry {
        name: format!("memfd:{name} (deleted)"),
        parent: Some(root),
        inode: inode.clone(),
    });
    let f = File::new(
        Arc::new(InodeFile {
            inode: inode.clone(),
        }),
        Some(inode),
        Some(path),
        O_RDWR,
    );
    let nofile = t.nofile();
    let fd = lock(&t.files()).install(f, flags & MFD_CLOEXEC != 0, nofile)?;
    Ok(fd as u64)
}
