//! Open file descriptions, their operations, and per-process fd tables.

use super::mount::{self, MntFlags};
use super::vfs::{self, Inode, Path, Stat};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::kmutex::{KMutex, KMutexGuard};
use crate::kernel::task::Task;
use crate::kernel::wait::WaitQueue;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

// Open flags and poll bits are the guest ABI's (abi::fcntl, abi::poll).
pub use crate::abi::fcntl::{
    O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_DSYNC, O_EXCL, O_NOATIME,
    O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
};
pub use crate::abi::poll::{
    POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM,
};

/// What an open file does. Reads and writes return EAGAIN when they would
/// block; the syscall layer then sleeps on `wait_queue` unless O_NONBLOCK.
pub trait FileOps: Send + Sync {
    fn read(&self, _f: &File, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    fn write(&self, _f: &File, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    /// The object itself, for syscalls that work only on one kind of file
    /// (sockets): `Arc::downcast` it.
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        None
    }
    /// Process `t` closed one of its descriptors of `f` (Linux's ->flush,
    /// run at every close, not only the last).
    fn flush(&self, _f: &File, _t: &Task) {}
    /// read(2) by `t`, for files whose reads depend on the caller (ttys:
    /// job control, VMIN/VTIME timers). EAGAIN: nothing to read yet (the
    /// caller sleeps on `wait_queue` unless the file is non-blocking);
    /// files with waits of their own sleep inside.
    fn read_task(&self, f: &File, _t: &Arc<Task>, buf: &mut [u8]) -> KResult<usize> {
        self.read(f, buf)
    }
    /// write(2) by `t` (ttys: TOSTOP job control).
    fn write_task(&self, f: &File, _t: &Arc<Task>, buf: &[u8]) -> KResult<usize> {
        self.write(f, buf)
    }
    /// open(2) by `t` is done: ttys acquire a controlling terminal, /dev/tty
    /// resolves to the caller's. May return operations replacing these.
    fn opened(&self, _f: &File, _t: &Arc<Task>) -> KResult<Option<Arc<dyn FileOps>>> {
        Ok(None)
    }
    fn pread(&self, _f: &File, _buf: &mut [u8], _off: u64) -> KResult<usize> {
        Err(Errno::ESPIPE)
    }
    fn pwrite(&self, _f: &File, _buf: &[u8], _off: u64) -> KResult<usize> {
        Err(Errno::ESPIPE)
    }
    fn seek(&self, _f: &File, _off: i64, _whence: u32) -> KResult<u64> {
        Err(Errno::ESPIPE)
    }
    /// Whether a regular file or directory of this kind has a poll of
    /// its own (Linux's file_can_poll: /proc/PID/mountinfo does); epoll
    /// refuses the others with EPERM.
    fn has_poll(&self) -> bool {
        false
    }
    /// Ready events (POLLIN, POLLOUT, POLLHUP, ...).
    fn poll(&self, _f: &File) -> u32 {
        POLLIN | POLLOUT
    }
    /// Ready events as seen by `t` (poll, select, epoll_wait by `t`), for
    /// files whose readiness depends on the caller (signalfd).
    fn poll_task(&self, f: &File, _t: &Arc<Task>) -> u32 {
        self.poll(f)
    }
    /// Where to sleep until `poll` may change.
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        None
    }
    /// How long (ns) a blocking read, or write if `write`, may sleep before
    /// failing with EAGAIN: sockets' SO_RCVTIMEO/SO_SNDTIMEO.
    fn io_timeout(&self, _write: bool) -> Option<i64> {
        None
    }
    fn ioctl(&self, _f: &File, _t: &Arc<Task>, _cmd: u32, _arg: u64) -> KResult<u64> {
        Err(Errno::ENOTTY)
    }
    /// O_ASYNC turned on or off for `f` through `fd` (Linux's ->fasync):
    /// objects that send SIGIO keep `f` on a `fown::FasyncList`, by
    /// default the one `fasync_list` gives. false: the file has no O_ASYNC
    /// (F_SETFL drops the flag, FIOASYNC fails with ENOTTY).
    fn fasync(&self, f: &Arc<File>, fd: i32, on: bool, _t: &Arc<Task>) -> bool {
        let Some(l) = self.fasync_list() else {
            return false;
        };
        l.set(f, fd, on);
        true
    }
    /// The one list of O_ASYNC descriptions of an object that signals
    /// them all alike (None: no O_ASYNC, or `fasync` is its own).
    fn fasync_list(&self) -> Option<&super::fown::FasyncList> {
        None
    }
    /// Directory entries from index `pos` on (for getdents64).
    fn readdir(&self, _f: &File) -> KResult<Vec<vfs::DirEntry>> {
        Err(Errno::ENOTDIR)
    }
    /// stat for objects without an inode (pipes, sockets).
    fn stat(&self) -> Option<Stat> {
        None
    }
    fn is_tty(&self) -> bool {
        false
    }
    /// Name for /proc/PID/fd links of inode-less files ("pipe:[N]").
    fn name(&self) -> Option<String> {
        None
    }
    /// The inode an inode-less file reopens as through /proc/PID/fd/N
    /// (a pipe's: a new end of the same pipe); None: it cannot be
    /// reopened (sockets: ENXIO).
    fn anon_inode(&self) -> Option<Arc<dyn vfs::Inode>> {
        None
    }
}

/// An open file description (shared by dup and fork).
pub struct File {
    pub ops: Arc<dyn FileOps>,
    pub inode: Option<Arc<dyn Inode>>,
    pub path: Option<Path>,
    pub flags: AtomicU32,
    /// The file position, under a sleeping lock (Linux's f_pos_lock): a
    /// read holds it while it waits for the disk.
    pub pos: KMutex<u64>,
    /// A directory's entries as getdents read them at position 0: later
    /// calls go on in this list, so entries removed meanwhile (rm -r
    /// unlinks as it reads) do not shift the rest past the position.
    pub dir_entries: Mutex<Option<Arc<Vec<vfs::DirEntry>>>>,
    /// The flags of the mount the file was opened through, with the mount
    /// table generation they were read at (0: not read yet).
    mnt_cache: AtomicU64,
    /// F_SETSIG: the signal dnotify and leases send (0: SIGIO).
    sig: AtomicU32,
    /// F_SETOWN/F_SETOWN_EX: who gets SIGIO for O_ASYNC events.
    pub owner: Mutex<super::fown::Owner>,
    /// Opened by fanotify for a listener (Linux's FMODE_NONOTIFY): its
    /// reads, writes and close make no inotify or fanotify events.
    quiet: AtomicBool,
}

impl File {
    pub fn new(
        ops: Arc<dyn FileOps>,
        inode: Option<Arc<dyn Inode>>,
        path: Option<Path>,
        flags: u32,
    ) -> Arc<File> {
        Arc::new(File {
            ops,
            inode,
            path,
            flags: AtomicU32::new(flags & !O_CLOEXEC),
            pos: KMutex::new(0),
            dir_entries: Mutex::new(None),
            mnt_cache: AtomicU64::new(0),
            sig: AtomicU32::new(0),
            owner: Mutex::new(Default::default()),
            quiet: AtomicBool::new(false),
        })
    }

    /// Open the file at `p` with `flags` for a fanotify listener: no
    /// permission checks (the listener holds CAP_SYS_ADMIN) and no events,
    /// neither now nor from the description later.
    pub fn open_quiet(p: &Path, flags: u32) -> KResult<Arc<File>> {
        let ops: Arc<dyn FileOps> = match p.inode.open(flags)? {
            Some(ops) => ops,
            None => Arc::new(InodeFile {
                inode: p.inode.clone(),
            }),
        };
        let f = File::new(ops, Some(p.inode.clone()), Some(p.clone()), flags);
        f.quiet.store(true, Ordering::Relaxed);
        Ok(f)
    }

    /// Does this description make no notification events?
    pub fn is_quiet(&self) -> bool {
        self.quiet.load(Ordering::Relaxed)
    }
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }
    pub fn set_flags(&self, f: u32) {
        self.flags.store(f, Ordering::Relaxed)
    }
    /// F_GETSIG.
    pub fn sig(&self) -> u32 {
        self.sig.load(Ordering::Relaxed)
    }
    /// F_SETSIG (the caller checked the number).
    pub fn set_sig(&self, s: u32) {
        self.sig.store(s, Ordering::Relaxed)
    }
    pub fn readable(&self) -> bool {
        self.flags() & O_PATH == 0 && self.flags() & O_ACCMODE != O_WRONLY
    }
    pub fn writable(&self) -> bool {
        self.flags() & O_PATH == 0 && self.flags() & O_ACCMODE != O_RDONLY
    }
    pub fn nonblocking(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }
    pub fn stat(&self) -> KResult<Stat> {
        if let Some(i) = &self.inode {
            return Ok(i.stat());
        }
        self.ops.stat().ok_or(Errno::EBADF)
    }
    /// Take the position (sleeping while another task's read or write
    /// on this open file holds it).
    pub fn lock_pos(&self) -> KMutexGuard<'_, u64> {
        self.pos.lock()
    }

    /// The flags of the mount this file lies in (RDONLY also when the
    /// filesystem is read-only), cached until the mount table changes.
    pub fn mount_flags(&self) -> MntFlags {
        let gen = mount::generation() as u64;
        let c = self.mnt_cache.load(Ordering::Relaxed);
        if c != 0 && c >> 32 == gen {
            return MntFlags::from_bits_truncate(c & 0x7fff_ffff);
        }
        let f = match self.path.as_ref().and_then(mount::mount_of) {
            Some(m) if m.read_only() => m.flags | MntFlags::RDONLY,
            Some(m) => m.flags,
            None => MntFlags::empty(),
        };
        let packed = gen << 32 | 0x8000_0000 | (f.bits() & 0x7fff_ffff);
        self.mnt_cache.store(packed, Ordering::Relaxed);
        f
    }

    /// The file's data changed through this description (inotify).
    pub fn modified(&self) {
        if self.is_quiet() {
            return;
        }
        if let Some(p) = &self.path {
            super::inotify::fsnotify_modify(p);
        }
    }

    /// A read or directory listing happened: tell inotify, and update the
    /// access time as the mount's atime policy says (Linux's touch_atime).
    /// `st` is the inode's stat from before the access: the policy needs
    /// its times, and the read path has taken it already.
    pub fn accessed(&self, inode: &Arc<dyn Inode>, st: &Stat) {
        if let (Some(p), false) = (&self.path, self.is_quiet()) {
            super::inotify::fsnotify_access(p);
        }
        if self.flags() & O_NOATIME != 0 {
            return;
        }
        let m = self.mount_flags();
        if m.intersects(MntFlags::NOATIME | MntFlags::RDONLY) {
            return;
        }
        if m.contains(MntFlags::NODIRATIME) && st.is_dir() {
            return;
        }
        let now = vfs::Timespec::now();
        if vfs::atime_due(st, now, m.contains(MntFlags::RELATIME)) {
            inode.touch_atime(now);
        }
    }
}

impl Drop for File {
    /// The last descriptor of an open file went away: inotify's close;
    /// its OFD and flock locks go.
    fn drop(&mut self) {
        super::locks::file_released(self);
        super::leases::file_released(self);
        super::dnotify::file_released(self);
        if let (Some(p), false) = (&self.path, self.is_quiet()) {
            let f = self.flags();
            if f & O_PATH == 0 {
                super::inotify::fsnotify_close(p, f & O_ACCMODE != O_RDONLY);
            }
        }
    }
}

/// Operations of regular files and directories: the inode's data and its
/// directory listing.
pub struct InodeFile {
    pub inode: Arc<dyn Inode>,
}

/// O_SYNC/O_DSYNC: the write is durable before it returns. The wait is
/// on the vCPU (a re-run of the syscall would write again).
fn sync_if_asked(f: &File, inode: &Arc<dyn Inode>) -> KResult<()> {
    if f.flags() & O_DSYNC != 0 {
        inode.sync()?;
    }
    Ok(())
}

impl InodeFile {
    /// How much of a `count`-byte write at `pos` RLIMIT_FSIZE lets into a
    /// regular file (EFBIG and SIGXFSZ when none).
    fn fsize_cut(&self, pos: u64, count: usize) -> KResult<usize> {
        crate::kernel::rlimits::fsize_write(pos, count, || self.inode.stat().is_reg())
    }
}

impl FileOps for InodeFile {
    fn read(&self, f: &File, buf: &mut [u8]) -> KResult<usize> {
        let st = self.inode.stat();
        if st.is_dir() {
            return Err(Errno::EISDIR);
        }
        let mut pos = f.lock_pos();
        let n = self.inode.read_at(*pos, buf)?;
        *pos += n as u64;
        drop(pos);
        f.accessed(&self.inode, &st);
        Ok(n)
    }
    fn write(&self, f: &File, buf: &[u8]) -> KResult<usize> {
        let mut pos = f.lock_pos();
        if f.flags() & O_APPEND != 0 {
            *pos = self.inode.stat().size;
        }
        let buf = &buf[..self.fsize_cut(*pos, buf.len())?];
        let n = self.inode.write_at(*pos, buf)?;
        *pos += n as u64;
        drop(pos);
        sync_if_asked(f, &self.inode)?;
        f.modified();
        Ok(n)
    }
    fn pread(&self, f: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        let st = self.inode.stat();
        if st.is_dir() {
            return Err(Errno::EISDIR);
        }
        let n = self.inode.read_at(off, buf)?;
        f.accessed(&self.inode, &st);
        Ok(n)
    }
    fn pwrite(&self, f: &File, buf: &[u8], off: u64) -> KResult<usize> {
        let buf = &buf[..self.fsize_cut(off, buf.len())?];
        let n = self.inode.write_at(off, buf)?;
        sync_if_asked(f, &self.inode)?;
        f.modified();
        Ok(n)
    }
    fn seek(&self, f: &File, off: i64, whence: u32) -> KResult<u64> {
        let mut pos = f.lock_pos();
        let st = self.inode.stat();
        let base: i64 = match whence {
            0 => 0,
            1 => *pos as i64,
            2 => st.size as i64,
            // SEEK_DATA / SEEK_HOLE: the whole file is data.
            3 => {
                if off as u64 >= st.size {
                    return Err(Errno::ENXIO);
                }
                0
            }
            4 => {
                if off as u64 >= st.size {
                    return Err(Errno::ENXIO);
                }
                *pos = st.size;
                return Ok(st.size);
            }
            _ => return Err(Errno::EINVAL),
        };
        let new = base.checked_add(off).ok_or(Errno::EOVERFLOW)?;
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(new as u64)
    }
    fn readdir(&self, f: &File) -> KResult<Vec<vfs::DirEntry>> {
        let st = self.inode.stat();
        let v = self.inode.readdir()?;
        f.accessed(&self.inode, &st);
        Ok(v)
    }
}

/// One slot of an fd table.
#[derive(Clone)]
pub struct FdEntry {
    pub file: Arc<File>,
    pub cloexec: bool,
}

/// A process's file descriptors (shared with CLONE_FILES).
#[derive(Clone, Default)]
pub struct FdTable {
    fds: Vec<Option<FdEntry>>,
}

impl FdTable {
    pub fn get(&self, fd: i32) -> KResult<Arc<File>> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.fds
            .get(fd as usize)
            .and_then(|e| e.as_ref())
            .map(|e| e.file.clone())
            .ok_or(Errno::EBADF)
    }
    pub fn entry(&self, fd: i32) -> KResult<&FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.fds
            .get(fd as usize)
            .and_then(|e| e.as_ref())
            .ok_or(Errno::EBADF)
    }
    pub fn set_cloexec(&mut self, fd: i32, v: bool) -> KResult<()> {
        let e = self
            .fds
            .get_mut(fd as usize)
            .and_then(|e| e.as_mut())
            .ok_or(Errno::EBADF)?;
        e.cloexec = v;
        Ok(())
    }
    /// Install at the lowest free fd >= `min`, below `limit` (the
    /// caller's soft RLIMIT_NOFILE, `Task::nofile`).
    pub fn install_from(
        &mut self,
        min: usize,
        file: Arc<File>,
        cloexec: bool,
        limit: usize,
    ) -> KResult<i32> {
        let mut i = min;
        while i < self.fds.len() && self.fds[i].is_some() {
            i += 1;
        }
        if i >= limit {
            return Err(Errno::EMFILE);
        }
        if i >= self.fds.len() {
            self.fds.resize(i + 1, None);
        }
        self.fds[i] = Some(FdEntry { file, cloexec });
        Ok(i as i32)
    }
    /// Install at the lowest free fd below `limit`.
    pub fn install(&mut self, file: Arc<File>, cloexec: bool, limit: usize) -> KResult<i32> {
        self.install_from(0, file, cloexec, limit)
    }
    /// Put `file` at exactly `fd` (below `limit`), returning what was there.
    pub fn install_at(
        &mut self,
        fd: i32,
        file: Arc<File>,
        cloexec: bool,
        limit: usize,
    ) -> KResult<Option<FdEntry>> {
        if fd < 0 || fd as usize >= limit {
            return Err(Errno::EBADF);
        }
        let i = fd as usize;
        if i >= self.fds.len() {
            self.fds.resize(i + 1, None);
        }
        Ok(self.fds[i].replace(FdEntry { file, cloexec }))
    }
    pub fn remove(&mut self, fd: i32) -> KResult<FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.fds
            .get_mut(fd as usize)
            .and_then(|e| e.take())
            .ok_or(Errno::EBADF)
    }
    /// Close every close-on-exec descriptor (execve).
    pub fn close_on_exec(&mut self) {
        for e in self.fds.iter_mut() {
            if e.as_ref().is_some_and(|x| x.cloexec) {
                *e = None;
            }
        }
    }
    /// (fd, entry) pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &FdEntry)> {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i as i32, e)))
    }
    pub fn close_range(&mut self, lo: u32, hi: u32, cloexec_only: bool) {
        for (i, e) in self.fds.iter_mut().enumerate() {
            if (i as u64) >= lo as u64 && (i as u64) <= hi as u64 {
                if cloexec_only {
                    if let Some(x) = e {
                        x.cloexec = true;
                    }
                } else {
                    *e = None;
                }
            }
        }
    }
}
