//! tmpfs: a filesystem in guest memory. File data lives in physical frames
//! (the page cache is the storage), so `mem=` bounds it and mmap maps the
//! very frames.

use super::tmpfs_options::TmpfsOptions;
use super::vfs::*;
use crate::abi::fcntl::ShmemFid;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::frame::{self, Pfn, PAGE_SIZE};
use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

static NEXT_INO: AtomicU64 = AtomicU64::new(2);
static NEXT_DEV: AtomicU64 = AtomicU64::new(1);

/// A new anonymous device number for a filesystem instance (major 0).
pub fn new_dev() -> u64 {
    NEXT_DEV.fetch_add(1, Ordering::Relaxed)
}

/// What an inode keeps of its `Stat`: mode, owner, nlink, rdev, times.
type Meta = Stat;

/// File data: page index → frame. Sparse, so a file with a huge hole
/// costs nothing (a guest can seek far and write a byte).
struct Data {
    pages: BTreeMap<u64, Pfn>,
    size: u64,
}

enum Kind {
    Dir(Mutex<BTreeMap<String, Arc<dyn Inode>>>),
    File(Mutex<Data>),
    Symlink(String),
    Special,
}

/// One tmpfs instance: its device number, magic, and what it holds
/// against its limits (size=, nr_inodes=; 0: only memory bounds it).
pub struct TmpSb {
    dev: u64,
    magic: u64,
    max_pages: AtomicU64,
    max_inodes: AtomicU64,
    pages: AtomicU64,
    inodes: AtomicU64,
    /// The options it was mounted with.
    opts: Mutex<TmpfsOptions>,
    /// statfs's f_fsid: Linux derives it from a random per-instance uuid.
    fsid: u64,
    /// Live inodes by number, for open_by_handle_at (Linux's ilookup).
    table: Mutex<HashMap<u64, Weak<TmpInode>>>,
}

/// A pseudo-random number from `seed` and the clock (splitmix64), for
/// per-instance ids and inode generations.
fn mix(seed: u64) -> u64 {
    let mut z = seed ^ (crate::kernel::time::realtime_ns() as u64).rotate_left(17);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl TmpSb {
    fn new(magic: u64) -> Arc<TmpSb> {
        Arc::new(TmpSb {
            dev: new_dev(),
            magic,
            max_pages: AtomicU64::new(0),
            max_inodes: AtomicU64::new(0),
            pages: AtomicU64::new(0),
            inodes: AtomicU64::new(0),
            opts: Mutex::new(TmpfsOptions::default()),
            fsid: mix(0x746d_7066_7300) | 1,
            table: Mutex::new(HashMap::new()),
        })
    }

    /// Account one more data page; ENOSPC past size=.
    fn charge_page(&self) -> KResult<()> {
        let max = self.max_pages.load(Ordering::Relaxed);
        let n = self.pages.fetch_add(1, Ordering::Relaxed);
        if max != 0 && n >= max {
            self.pages.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        Ok(())
    }

    fn uncharge_pages(&self, n: u64) {
        self.pages.fetch_sub(n, Ordering::Relaxed);
    }

    /// May one more inode be made? ENOSPC past nr_inodes=.
    fn may_add_inode(&self) -> KResult<()> {
        let max = self.max_inodes.load(Ordering::Relaxed);
        if max != 0 && self.inodes.load(Ordering::Relaxed) >= max {
            return Err(Errno::ENOSPC);
        }
        Ok(())
    }

    /// Apply options (mount or remount); a limit below what is in use is
    /// EINVAL. Returns what /proc/mounts shows.
    fn apply(&self, o: TmpfsOptions) -> KResult<String> {
        let (def_pages, def_inodes) = default_limits();
        let pages = o.max_pages.unwrap_or(def_pages);
        let inodes = o.max_inodes.unwrap_or(def_inodes);
        if (pages != 0 && self.pages.load(Ordering::Relaxed) > pages)
            || (inodes != 0 && self.inodes.load(Ordering::Relaxed) > inodes)
        {
            return Err(Errno::EINVAL);
        }
        self.max_pages.store(pages, Ordering::Relaxed);
        self.max_inodes.store(inodes, Ordering::Relaxed);
        *lock(&self.opts) = o;
        Ok(o.show(def_pages, def_inodes))
    }
}

/// Linux's defaults for a mounted tmpfs: half of memory, and as many
/// inodes as half of memory has pages.
fn default_limits() -> (u64, u64) {
    let (total, _) = frame::stats();
    (total / 2, total / 2)
}

pub struct TmpInode {
    ino: u64,
    /// i_generation: random, so a handle to a file that is gone does not
    /// name a later one.
    generation: u32,
    sb: Arc<TmpSb>,
    meta: Mutex<Meta>,
    kind: Kind,
    /// The fifo behind a named pipe, created at first open.
    pub fifo: Mutex<Option<Arc<crate::fs::pipe::Pipe>>>,
    /// Extended attributes, by full name.
    xattrs: Mutex<BTreeMap<String, Vec<u8>>>,
    this: Weak<TmpInode>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A new, empty tmpfs; returns its root directory.
pub fn new_fs(mode: u32) -> Arc<dyn Inode> {
    new_fs_magic(mode, TMPFS_MAGIC)
}

pub fn new_fs_magic(mode: u32, magic: u64) -> Arc<dyn Inode> {
    TmpInode::new(
        &TmpSb::new(magic),
        S_IFDIR | (mode & 0o7777),
        0,
        None,
        Owner::ROOT,
    )
}

/// mount -t tmpfs: a new instance with the filesystem's option words.
/// Returns its root and the options /proc/mounts shows.
pub fn mount(words: &[String]) -> KResult<(Arc<dyn Inode>, String)> {
    let (total, _) = frame::stats();
    let o = TmpfsOptions::default().parse(words, total)?;
    let sb = TmpSb::new(TMPFS_MAGIC);
    let shown = sb.apply(o)?;
    let owner = Owner {
        uid: o.uid.unwrap_or(0),
        gid: o.gid.unwrap_or(0),
    };
    let root = TmpInode::new(&sb, S_IFDIR | o.mode.unwrap_or(0o1777), 0, None, owner);
    Ok((root, shown))
}

/// mount -o remount of the tmpfs whose root is `root`: new limits (mode,
/// uid and gid apply at mount only, as in Linux). Returns the options
/// /proc/mounts shows; None if `root` is not a tmpfs.
pub fn remount(root: &Arc<dyn Inode>, words: &[String]) -> Option<KResult<String>> {
    let t = root.as_any().downcast_ref::<TmpInode>()?;
    let (total, _) = frame::stats();
    let cur = *lock(&t.sb.opts);
    Some(cur.parse(words, total).and_then(|o| {
        t.sb.apply(TmpfsOptions {
            mode: cur.mode,
            uid: cur.uid,
            gid: cur.gid,
            ..o
        })
    }))
}

impl TmpInode {
    fn new(
        sb: &Arc<TmpSb>,
        mode: u32,
        rdev: u64,
        target: Option<String>,
        owner: Owner,
    ) -> Arc<TmpInode> {
        let now = Timespec::now();
        let kind = match mode & S_IFMT {
            S_IFDIR => Kind::Dir(Mutex::new(BTreeMap::new())),
            S_IFREG => Kind::File(Mutex::new(Data {
                pages: BTreeMap::new(),
                size: 0,
            })),
            S_IFLNK => Kind::Symlink(target.unwrap_or_default()),
            _ => Kind::Special,
        };
        sb.inodes.fetch_add(1, Ordering::Relaxed);
        let ino = NEXT_INO.fetch_add(1, Ordering::Relaxed);
        let i = Arc::new_cyclic(|w| TmpInode {
            ino,
            generation: mix(ino) as u32,
            sb: sb.clone(),
            meta: Mutex::new(Meta {
                mode,
                uid: owner.uid,
                gid: owner.gid,
                nlink: if mode & S_IFMT == S_IFDIR { 2 } else { 1 },
                rdev,
                atime: now,
                mtime: now,
                ctime: now,
                ..Default::default()
            }),
            kind,
            fifo: Mutex::new(None),
            xattrs: Mutex::new(BTreeMap::new()),
            this: w.clone(),
        });
        lock(&sb.table).insert(ino, Arc::downgrade(&i));
        i
    }

    fn dir(&self) -> KResult<MutexGuard<'_, BTreeMap<String, Arc<dyn Inode>>>> {
        match &self.kind {
            Kind::Dir(d) => Ok(lock(d)),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn touch_dir(&self) {
        let now = Timespec::now();
        let mut m = lock(&self.meta);
        m.mtime = now;
        m.ctime = now;
    }

    fn add_nlink(&self, d: i32) {
        let mut m = lock(&self.meta);
        m.nlink = (m.nlink as i32 + d).max(0) as u32;
        m.ctime = Timespec::now();
    }

    fn truncate(&self, size: u64) -> KResult<()> {
        let Kind::File(d) = &self.kind else {
            return Err(Errno::EISDIR);
        };
        let mut d = lock(d);
        let keep = size.div_ceil(PAGE_SIZE);
        let gone = d.pages.split_off(&keep);
        self.sb.uncharge_pages(gone.len() as u64);
        for (_, p) in gone {
            frame::put(p);
        }
        if size < d.size && size % PAGE_SIZE != 0 {
            if let Some(p) = d.pages.get(&(size / PAGE_SIZE)) {
                let off = (size % PAGE_SIZE) as usize;
                frame::zero(*p, off, PAGE_SIZE as usize - off);
            }
        }
        d.size = size;
        Ok(())
    }

    /// Give pages `first..last` frames (zeroed) where they have none:
    /// all or nothing, as shmem_fallocate undoes a partial allocation.
    fn allocate_pages(&self, d: &mut Data, first: u64, last: u64) -> KResult<()> {
        let mut added = Vec::new();
        for idx in first..last {
            if d.pages.contains_key(&idx) {
                continue;
            }
            let hint = d.pages.get(&idx.wrapping_sub(1)).map(|p| p + 1);
            match self
                .sb
                .charge_page()
                .and_then(|_| frame::alloc_near(hint).inspect_err(|_| self.sb.uncharge_pages(1)))
            {
                Ok(p) => {
                    d.pages.insert(idx, p);
                    added.push(idx);
                }
                Err(_) => {
                    self.sb.uncharge_pages(added.len() as u64);
                    for i in added {
                        if let Some(p) = d.pages.remove(&i) {
                            frame::put(p);
                        }
                    }
                    return Err(Errno::ENOSPC);
                }
            }
        }
        Ok(())
    }

    /// Zero `[start, end)`, freeing the pages wholly inside it
    /// (FALLOC_FL_PUNCH_HOLE).
    fn punch(&self, d: &mut Data, start: u64, end: u64) {
        let first_whole = start.div_ceil(PAGE_SIZE);
        let last_whole = end / PAGE_SIZE;
        if first_whole < last_whole {
            let gone: Vec<u64> = d
                .pages
                .range(first_whole..last_whole)
                .map(|(&k, _)| k)
                .collect();
            self.sb.uncharge_pages(gone.len() as u64);
            for k in gone {
                if let Some(p) = d.pages.remove(&k) {
                    frame::put(p);
                }
            }
        }
        // The partial pages at either edge keep their frames, zeroed in
        // the range.
        let mut pos = start;
        while pos < end {
            let idx = pos / PAGE_SIZE;
            let po = pos % PAGE_SIZE;
            let n = (PAGE_SIZE - po).min(end - pos);
            if n < PAGE_SIZE {
                if let Some(p) = d.pages.get(&idx) {
                    frame::zero(*p, po as usize, n as usize);
                }
            }
            pos += n;
        }
    }

    /// Set the owner/mode at creation time (initramfs unpacking).
    pub fn set_owner_mode(&self, uid: u32, gid: u32, mode: u32) {
        let mut m = lock(&self.meta);
        m.uid = uid;
        m.gid = gid;
        m.mode = (m.mode & S_IFMT) | (mode & 0o7777);
    }
}

impl Drop for TmpInode {
    fn drop(&mut self) {
        if let Kind::File(d) = &self.kind {
            let pages = std::mem::take(&mut lock(d).pages);
            self.sb.uncharge_pages(pages.len() as u64);
            for (_, p) in pages {
                frame::put(p);
            }
        }
        self.sb.inodes.fetch_sub(1, Ordering::Relaxed);
        let mut t = lock(&self.sb.table);
        if t.get(&self.ino).is_some_and(|w| w.strong_count() == 0) {
            t.remove(&self.ino);
        }
    }
}

impl Inode for TmpInode {
    fn as_any(&self) -> &dyn Any {
        self
    }

    /// Linux's shmem_encode_fh: type 1, the generation and the 64-bit
    /// inode number as three 32-bit words.
    fn file_handle(&self) -> Option<(i32, Vec<u8>)> {
        let fh = ShmemFid {
            generation: self.generation,
            ino_lo: self.ino as u32,
            ino_hi: (self.ino >> 32) as u32,
        };
        Some((1, crate::abi::bytes(&fh).to_vec()))
    }

    /// A live inode of this instance with that number and generation.
    fn from_handle(&self, _ty: i32, fh: &[u8]) -> KResult<Arc<dyn Inode>> {
        let fh: ShmemFid = crate::abi::from_prefix(fh).ok_or(Errno::ESTALE)?;
        let ino = (fh.ino_hi as u64) << 32 | fh.ino_lo as u64;
        let i = lock(&self.sb.table).get(&ino).and_then(Weak::upgrade);
        match i {
            Some(i) if i.generation == fh.generation && lock(&i.meta).nlink > 0 => Ok(i),
            _ => Err(Errno::ESTALE),
        }
    }

    fn stat(&self) -> Stat {
        let m = lock(&self.meta);
        let (size, blocks) = match &self.kind {
            Kind::File(d) => {
                let d = lock(d);
                (d.size, d.pages.len() as u64 * 8)
            }
            Kind::Symlink(t) => (t.len() as u64, 0),
            Kind::Dir(_) => (4096, 8),
            Kind::Special => (0, 0),
        };
        Stat {
            dev: self.sb.dev,
            ino: self.ino,
            mode: m.mode,
            nlink: m.nlink,
            uid: m.uid,
            gid: m.gid,
            rdev: m.rdev,
            size,
            blksize: 4096,
            blocks,
            atime: m.atime,
            mtime: m.mtime,
            ctime: m.ctime,
        }
    }

    fn touch_atime(&self, now: Timespec) {
        lock(&self.meta).atime = now;
    }

    fn setattr(&self, a: &SetAttr) -> KResult<()> {
        if let Some(size) = a.size {
            self.truncate(size)?;
            let mut m = lock(&self.meta);
            m.mtime = Timespec::now();
        }
        a.apply(&mut lock(&self.meta));
        Ok(())
    }

    fn lookup(&self, name: &str) -> KResult<Arc<dyn Inode>> {
        self.dir()?.get(name).cloned().ok_or(Errno::ENOENT)
    }

    fn create(&self, name: &str, mode: u32, rdev: u64, owner: Owner) -> KResult<Arc<dyn Inode>> {
        let mut d = self.dir()?;
        if d.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        self.sb.may_add_inode()?;
        let node = TmpInode::new(&self.sb, mode, rdev, None, owner);
        let is_dir = mode & S_IFMT == S_IFDIR;
        d.insert(name.to_string(), node.clone());
        drop(d);
        if is_dir {
            self.add_nlink(1);
        }
        self.touch_dir();
        Ok(node)
    }

    fn symlink(&self, name: &str, target: &str, owner: Owner) -> KResult<()> {
        let mut d = self.dir()?;
        if d.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        self.sb.may_add_inode()?;
        let node = TmpInode::new(&self.sb, S_IFLNK | 0o777, 0, Some(target.into()), owner);
        d.insert(name.to_string(), node);
        drop(d);
        self.touch_dir();
        Ok(())
    }

    fn link(&self, name: &str, target: &Arc<dyn Inode>) -> KResult<()> {
        let t = target
            .as_any()
            .downcast_ref::<TmpInode>()
            .ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&t.sb, &self.sb) {
            return Err(Errno::EXDEV);
        }
        if target.stat().is_dir() {
            return Err(Errno::EPERM);
        }
        let mut d = self.dir()?;
        if d.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        d.insert(name.to_string(), target.clone());
        drop(d);
        t.add_nlink(1);
        self.touch_dir();
        Ok(())
    }

    fn unlink(&self, name: &str, want_dir: bool) -> KResult<()> {
        let mut d = self.dir()?;
        let node = d.get(name).cloned().ok_or(Errno::ENOENT)?;
        let st = node.stat();
        if want_dir {
            if !st.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if !node.readdir()?.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            if crate::fs::mount::is_mount_root(&node) {
                return Err(Errno::EBUSY);
            }
        } else if st.is_dir() {
            return Err(Errno::EISDIR);
        }
        d.remove(name);
        drop(d);
        if let Some(t) = node.as_any().downcast_ref::<TmpInode>() {
            t.add_nlink(if want_dir { -2 } else { -1 });
        }
        if want_dir {
            self.add_nlink(-1);
        }
        self.touch_dir();
        Ok(())
    }

    fn rename(&self, old: &str, new_dir: &Arc<dyn Inode>, new: &str, flags: u32) -> KResult<()> {
        const NOREPLACE: u32 = 1;
        const EXCHANGE: u32 = 2;
        let nd = new_dir
            .as_any()
            .downcast_ref::<TmpInode>()
            .ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&nd.sb, &self.sb) {
            return Err(Errno::EXDEV);
        }
        let same = std::ptr::eq(nd, self);
        let node = self.dir()?.get(old).cloned().ok_or(Errno::ENOENT)?;
        let existing = nd.dir()?.get(new).cloned();
        if flags & EXCHANGE != 0 {
            let other = existing.ok_or(Errno::ENOENT)?;
            self.dir()?.insert(old.to_string(), other);
            nd.dir()?.insert(new.to_string(), node);
            return Ok(());
        }
        if let Some(ex) = &existing {
            if same_inode(ex, &node) {
                return Ok(());
            }
            if flags & NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            let (es, ns) = (ex.stat(), node.stat());
            if ns.is_dir() && !es.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if !ns.is_dir() && es.is_dir() {
                return Err(Errno::EISDIR);
            }
            if es.is_dir() && !ex.readdir()?.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
        }
        // A directory may not move into itself.
        if node.stat().is_dir() {
            if let Some(me) = node.as_any().downcast_ref::<TmpInode>() {
                if std::ptr::eq(me, nd) {
                    return Err(Errno::EINVAL);
                }
            }
        }
        self.dir()?.remove(old);
        if let Some(ex) = nd.dir()?.insert(new.to_string(), node.clone()) {
            if let Some(t) = ex.as_any().downcast_ref::<TmpInode>() {
                t.add_nlink(if ex.stat().is_dir() { -2 } else { -1 });
                if ex.stat().is_dir() {
                    nd.add_nlink(-1);
                }
            }
        }
        if node.stat().is_dir() && !same {
            self.add_nlink(-1);
            nd.add_nlink(1);
        }
        if let Some(t) = node.as_any().downcast_ref::<TmpInode>() {
            lock(&t.meta).ctime = Timespec::now();
        }
        self.touch_dir();
        nd.touch_dir();
        Ok(())
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Ok(self
            .dir()?
            .iter()
            .map(|(name, node)| {
                let st = node.stat();
                DirEntry {
                    name: name.clone(),
                    ino: st.ino,
                    dtype: dtype_of(st.mode),
                }
            })
            .collect())
    }

    fn readlink(&self) -> KResult<String> {
        match &self.kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Modes 0 and KEEP_SIZE reserve pages (ENOSPC all or nothing),
    /// PUNCH_HOLE frees them; shmem has no other mode (EOPNOTSUPP).
    fn fallocate(&self, mode: u32, off: u64, len: u64) -> KResult<()> {
        let Kind::File(d) = &self.kind else {
            return Err(Errno::ENODEV);
        };
        if mode & !(falloc::KEEP_SIZE | falloc::PUNCH_HOLE) != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let end = off + len;
        {
            let mut d = lock(d);
            if mode & falloc::PUNCH_HOLE != 0 {
                self.punch(&mut d, off, end);
            } else {
                self.allocate_pages(&mut d, off / PAGE_SIZE, end.div_ceil(PAGE_SIZE))?;
                if mode & falloc::KEEP_SIZE == 0 && end > d.size {
                    d.size = end;
                }
            }
        }
        let now = Timespec::now();
        let mut m = lock(&self.meta);
        m.mtime = now;
        m.ctime = now;
        Ok(())
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let Kind::File(d) = &self.kind else {
            return Err(Errno::EISDIR);
        };
        let d = lock(d);
        if off >= d.size {
            return Ok(0);
        }
        let n = buf.len().min((d.size - off) as usize);
        let mut done = 0;
        while done < n {
            let pos = off + done as u64;
            let idx = pos / PAGE_SIZE;
            let po = (pos % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - po).min(n - done);
            match d.pages.get(&idx).copied() {
                Some(p) => frame::read(p, po, &mut buf[done..done + chunk]),
                None => buf[done..done + chunk].fill(0),
            }
            done += chunk;
        }
        drop(d);
        Ok(n)
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<usize> {
        let Kind::File(d) = &self.kind else {
            return Err(Errno::EISDIR);
        };
        let end = off.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        if end > (1 << 40) {
            return Err(Errno::EFBIG);
        }
        let mut d = lock(d);
        let mut done = 0;
        while done < buf.len() {
            let pos = off + done as u64;
            let idx = pos / PAGE_SIZE;
            let po = (pos % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - po).min(buf.len() - done);
            let hint = d.pages.get(&idx.wrapping_sub(1)).map(|p| p + 1);
            let p = match d.pages.get(&idx).copied() {
                Some(p) => p,
                None => match self.sb.charge_page().and_then(|_| {
                    frame::alloc_near(hint).inspect_err(|_| self.sb.uncharge_pages(1))
                }) {
                    Ok(p) => {
                        d.pages.insert(idx, p);
                        p
                    }
                    Err(e) => {
                        if done == 0 {
                            return Err(if e == Errno::ENOMEM { Errno::ENOSPC } else { e });
                        }
                        break;
                    }
                },
            };
            frame::write(p, po, &buf[done..done + chunk]);
            done += chunk;
        }
        let e = off + done as u64;
        if e > d.size {
            d.size = e;
        }
        drop(d);
        let now = Timespec::now();
        let mut m = lock(&self.meta);
        m.mtime = now;
        m.ctime = now;
        Ok(done)
    }

    fn page(&self, idx: u64) -> KResult<Pfn> {
        let Kind::File(d) = &self.kind else {
            return Err(Errno::ENODEV);
        };
        let mut d = lock(d);
        let p = match d.pages.get(&idx).copied() {
            Some(p) => p,
            None => {
                self.sb.charge_page()?;
                let p = frame::alloc().inspect_err(|_| self.sb.uncharge_pages(1))?;
                d.pages.insert(idx, p);
                p
            }
        };
        frame::get(p);
        Ok(p)
    }

    fn cached_page(&self, idx: u64) -> Option<Pfn> {
        let Kind::File(d) = &self.kind else {
            return None;
        };
        let d = lock(d);
        if idx * PAGE_SIZE >= d.size {
            return None;
        }
        let p = d.pages.get(&idx).copied()?;
        frame::get(p);
        Some(p)
    }

    fn open(&self, _flags: u32) -> KResult<Option<Arc<dyn crate::fs::file::FileOps>>> {
        let st = self.stat();
        match st.mode & S_IFMT {
            S_IFCHR | S_IFBLK => {
                crate::drivers::open_device(st.mode & S_IFMT, st.rdev, _flags).map(Some)
            }
            S_IFIFO => {
                let me = self.this.upgrade().ok_or(Errno::ENOENT)?;
                Ok(Some(crate::fs::pipe::open_fifo(&me, _flags)?))
            }
            _ => Ok(None),
        }
    }

    fn fs_magic(&self) -> u64 {
        self.sb.magic
    }

    fn statfs(&self) -> Option<StatFs> {
        // Only tmpfs proper has capacity; sysfs built on it reports none.
        if self.sb.magic != TMPFS_MAGIC {
            return None;
        }
        let (total, free) = frame::stats();
        let max = self.sb.max_pages.load(Ordering::Relaxed);
        let used = self.sb.pages.load(Ordering::Relaxed);
        let (blocks, bfree) = if max == 0 {
            (total, free)
        } else {
            (max, max.saturating_sub(used).min(free))
        };
        let maxi = self.sb.max_inodes.load(Ordering::Relaxed);
        let files = if maxi == 0 { total / 2 } else { maxi };
        Some(StatFs {
            magic: TMPFS_MAGIC,
            bsize: PAGE_SIZE,
            blocks,
            bfree,
            bavail: bfree,
            files,
            ffree: files.saturating_sub(self.sb.inodes.load(Ordering::Relaxed)),
            fsid: self.sb.fsid,
            namelen: 255,
        })
    }

    fn getxattr(&self, name: &str) -> KResult<Vec<u8>> {
        lock(&self.xattrs).get(name).cloned().ok_or(Errno::ENODATA)
    }

    fn setxattr(&self, name: &str, value: &[u8], flags: u32) -> KResult<()> {
        let mut x = lock(&self.xattrs);
        xattr_flags_allow(x.contains_key(name), flags)?;
        x.insert(name.to_string(), value.to_vec());
        drop(x);
        lock(&self.meta).ctime = Timespec::now();
        Ok(())
    }

    fn listxattr(&self) -> KResult<Vec<String>> {
        Ok(lock(&self.xattrs).keys().cloned().collect())
    }

    fn removexattr(&self, name: &str) -> KResult<()> {
        lock(&self.xattrs).remove(name).ok_or(Errno::ENODATA)?;
        lock(&self.meta).ctime = Timespec::now();
        Ok(())
    }
}

/// An unnamed regular file (shared anonymous memory).
pub fn anon_file() -> Arc<dyn Inode> {
    anon_file_as(0o600, Owner::ROOT)
}

/// An unnamed regular file of permission bits `perm` owned by `owner`
/// (a memfd is 0777 and its creator's, so fexecve can run it).
pub fn anon_file_as(perm: u32, owner: Owner) -> Arc<dyn Inode> {
    TmpInode::new(&TmpSb::new(TMPFS_MAGIC), S_IFREG | perm, 0, None, owner)
}
