//! hostfs inodes: the VFS `Inode` over a held host node. Attributes are
//! the host's, read at every stat; data goes to the host at every read and
//! write; frames exist only for mmap (`pagecache`).

use super::pagecache::PageCache;
use super::{errno, HostSb};
use crate::drivers::fs::hostfs_host::{HostFile, HostNode, HostStat, HOSTFS_SUPER_MAGIC};
use crate::fs::file::{FileOps, O_ACCMODE, O_RDONLY, O_TRUNC, O_WRONLY};
use crate::fs::vfs::*;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::frame::Pfn;
use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Host files opened for I/O, opened when first needed and kept while
/// the inode lives.
#[derive(Default)]
struct Io {
    read: Option<Arc<HostFile>>,
    write: Option<Arc<HostFile>>,
}

pub struct HostInode {
    sb: Arc<HostSb>,
    node: HostNode,
    key: (u64, u64),
    /// The last attributes the host gave, for when it cannot answer.
    last: Mutex<Stat>,
    io: Mutex<Io>,
    cache: Mutex<PageCache>,
    /// The guest pipe behind a host fifo (never the host's fifo).
    fifo: Mutex<Option<Arc<crate::fs::pipe::Pipe>>>,
    this: Weak<HostInode>,
}

/// Guest names are one component; the VFS never passes "." or "..".
fn check_name(name: &str) -> KResult<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Errno::EINVAL);
    }
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

fn to_ts((sec, nsec): (i64, i64)) -> Timespec {
    Timespec { sec, nsec }
}

impl HostInode {
    /// The guest inode for host `node`: the live one for the same host
    /// file if there is one, else a new one.
    pub fn get(sb: &Arc<HostSb>, node: HostNode) -> KResult<Arc<HostInode>> {
        let hs = node.stat().map_err(errno)?;
        let key = (hs.dev, hs.ino);
        let mut map = lock(&sb.inodes);
        if let Some(i) = map.get(&key).and_then(Weak::upgrade) {
            return Ok(i);
        }
        map.retain(|_, w| w.strong_count() > 0);
        let st = Self::stat_of(sb, &hs);
        let i = Arc::new_cyclic(|w| HostInode {
            sb: sb.clone(),
            node,
            key,
            last: Mutex::new(st),
            io: Mutex::new(Io::default()),
            cache: Mutex::new(PageCache::default()),
            fifo: Mutex::new(None),
            this: w.clone(),
        });
        map.insert(key, Arc::downgrade(&i));
        Ok(i)
    }

    fn stat_of(sb: &HostSb, h: &HostStat) -> Stat {
        Stat {
            dev: sb.dev,
            ino: h.ino,
            mode: h.mode,
            nlink: h.nlink,
            uid: h.uid,
            gid: h.gid,
            rdev: h.rdev,
            size: h.size,
            blksize: h.blksize,
            blocks: h.blocks,
            atime: to_ts(h.atime),
            mtime: to_ts(h.mtime),
            ctime: to_ts(h.ctime),
        }
    }

    /// Host version of the data, for the page cache.
    fn stamp(st: &Stat) -> (u64, i64, i64) {
        (st.size, st.mtime.sec, st.mtime.nsec)
    }

    fn host_stat(&self) -> KResult<Stat> {
        let h = self.node.stat().map_err(errno)?;
        let st = Self::stat_of(&self.sb, &h);
        *lock(&self.last) = st.clone();
        Ok(st)
    }

    /// The file type, which never changes for a held host inode.
    fn kind(&self) -> u32 {
        lock(&self.last).mode & S_IFMT
    }

    /// The host file opened for reading (`write`: for writing), opened on
    /// first use. Reads keep their own file: a writer may be write-only.
    fn file(&self, write: bool) -> KResult<Arc<HostFile>> {
        let mut io = lock(&self.io);
        let slot = if write { &mut io.write } else { &mut io.read };
        if let Some(f) = slot {
            return Ok(f.clone());
        }
        match self.kind() {
            S_IFREG => {}
            S_IFDIR => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        let f = Arc::new(self.node.open_file(write).map_err(errno)?);
        *slot = Some(f.clone());
        Ok(f)
    }

    /// After our own change: keep a live page cache valid.
    fn restamp(&self, c: &mut PageCache) -> KResult<()> {
        if c.active() {
            c.restamp(Self::stamp(&self.host_stat()?));
        }
        Ok(())
    }

    /// Write shared-mapping changes back to the host, unless the host
    /// changed the file since the pages were read (then the host's wins).
    fn writeback(&self) -> KResult<()> {
        let mut c = lock(&self.cache);
        if !c.active() || self.kind() != S_IFREG {
            return Ok(());
        }
        let st = self.host_stat()?;
        if !c.is_of(Self::stamp(&st)) {
            return Ok(());
        }
        // Never opened for writing: no shared writable mapping either.
        let Some(w) = lock(&self.io).write.clone() else {
            return Ok(());
        };
        let r = self.file(false)?;
        c.writeback(
            st.size,
            |off, buf| r.read_at(off, buf).map_err(errno),
            |off, data| w.write_at(off, data).map_err(errno),
        )?;
        self.restamp(&mut c)
    }

    fn me(&self) -> KResult<Arc<HostInode>> {
        self.this.upgrade().ok_or(Errno::ENOENT)
    }

    fn same_fs(&self, other: &Arc<dyn Inode>) -> KResult<Arc<HostInode>> {
        let _ = self.me()?;
        let o = other
            .as_any()
            .downcast_ref::<HostInode>()
            .ok_or(Errno::EXDEV)?;
        o.me()
    }
}

impl Inode for HostInode {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        match self.host_stat() {
            Ok(st) => st,
            Err(_) => lock(&self.last).clone(),
        }
    }

    fn setattr(&self, a: &SetAttr) -> KResult<()> {
        if let Some(size) = a.size {
            self.file(true)?.truncate(size).map_err(errno)?;
            let mut c = lock(&self.cache);
            c.truncated(size);
            self.restamp(&mut c)?;
        }
        if let Some(m) = a.mode {
            self.node.chmod(m & 0o7777).map_err(errno)?;
        }
        if a.uid.is_some() || a.gid.is_some() {
            self.node.chown(a.uid, a.gid).map_err(errno)?;
        }
        if a.atime.is_some() || a.mtime.is_some() {
            let t = |v: Option<Timespec>| v.map(|t| (t.sec, t.nsec));
            self.node.utimes(t(a.atime), t(a.mtime)).map_err(errno)?;
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> KResult<Arc<dyn Inode>> {
        check_name(name)?;
        let node = self.node.lookup(name).map_err(errno)?;
        Ok(HostInode::get(&self.sb, node)?)
    }

    fn create(&self, name: &str, mode: u32, rdev: u64, _owner: Owner) -> KResult<Arc<dyn Inode>> {
        // New host files belong to vmlinux's host user, as with UML's
        // hostfs; the guest's owner is not imposed on the host.
        check_name(name)?;
        let perm = mode & 0o7777;
        let node = match mode & S_IFMT {
            S_IFREG => self.node.create_file(name, perm),
            S_IFDIR => self.node.mkdir(name, perm),
            _ => self.node.mknod(name, mode, rdev),
        }
        .map_err(errno)?;
        Ok(HostInode::get(&self.sb, node)?)
    }

    fn symlink(&self, name: &str, target: &str, _owner: Owner) -> KResult<()> {
        check_name(name)?;
        self.node.symlink(name, target).map_err(errno)
    }

    fn link(&self, name: &str, target: &Arc<dyn Inode>) -> KResult<()> {
        check_name(name)?;
        let t = self.same_fs(target)?;
        self.node.link(name, &t.node).map_err(errno)
    }

    fn unlink(&self, name: &str, dir: bool) -> KResult<()> {
        check_name(name)?;
        if dir {
            if let Ok(child) = self.lookup(name) {
                if crate::fs::mount::is_mount_root(&child) {
                    return Err(Errno::EBUSY);
                }
            }
        }
        self.node.unlink(name, dir).map_err(errno)
    }

    fn rename(&self, old: &str, new_dir: &Arc<dyn Inode>, new: &str, flags: u32) -> KResult<()> {
        check_name(old)?;
        check_name(new)?;
        let nd = self.same_fs(new_dir)?;
        self.node.rename(old, &nd.node, new, flags).map_err(errno)
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Ok(self
            .node
            .read_dir()
            .map_err(errno)?
            .into_iter()
            .map(|e| DirEntry {
                name: e.name,
                ino: e.ino,
                dtype: e.dtype,
            })
            .collect())
    }

    fn readlink(&self) -> KResult<String> {
        self.node.readlink().map_err(errno)
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        self.file(false)?.read_at(off, buf).map_err(errno)
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<usize> {
        let n = self.file(true)?.write_at(off, buf).map_err(errno)?;
        let mut c = lock(&self.cache);
        c.written(off, &buf[..n]);
        self.restamp(&mut c)?;
        Ok(n)
    }

    fn page(&self, idx: u64) -> KResult<Pfn> {
        let st = self.host_stat()?;
        if !st.is_reg() {
            return Err(Errno::ENODEV);
        }
        let f = self.file(false)?;
        let mut c = lock(&self.cache);
        c.validate(Self::stamp(&st));
        c.page(idx, |off, buf| f.read_at(off, buf).map_err(errno))
    }

    fn cached_page(&self, idx: u64) -> Option<Pfn> {
        lock(&self.cache).cached(idx)
    }

    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        let st = self.stat();
        match st.mode & S_IFMT {
            // Device nodes on the host are the guest's devices of that
            // number, never the host's.
            S_IFCHR | S_IFBLK => {
                crate::drivers::open_device(st.mode & S_IFMT, st.rdev, flags).map(Some)
            }
            S_IFIFO => Ok(Some(crate::fs::pipe::open_fifo_in(&self.fifo, flags)?)),
            S_IFSOCK => Err(Errno::ENXIO),
            S_IFREG => {
                // Ask the host now, so a refusal is open's error (EACCES)
                // rather than the first read's or write's.
                if flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0 {
                    self.file(true)?;
                }
                if flags & O_ACCMODE != O_WRONLY {
                    self.file(false)?;
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    fn fs_magic(&self) -> u64 {
        HOSTFS_SUPER_MAGIC
    }

    fn sync(&self) -> KResult<()> {
        self.writeback()?;
        let io = lock(&self.io);
        if let Some(f) = io.write.as_ref().or(io.read.as_ref()) {
            f.fsync().map_err(errno)?;
        }
        Ok(())
    }

    fn statfs(&self) -> Option<StatFs> {
        let s = self.node.statfs().ok()?;
        Some(StatFs {
            magic: HOSTFS_SUPER_MAGIC,
            bsize: s.bsize,
            blocks: s.blocks,
            bfree: s.bfree,
            bavail: s.bavail,
            files: s.files,
            ffree: s.ffree,
            fsid: 0,
            namelen: s.namelen,
        })
    }
}

impl Drop for HostInode {
    fn drop(&mut self) {
        // The last mapping is gone with the last reference.
        if let Err(e) = self.writeback() {
            log::warn!("hostfs: writing back mapped pages failed: {e}");
        }
        let mut map = lock(&self.sb.inodes);
        if map.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
            map.remove(&self.key);
        }
    }
}
