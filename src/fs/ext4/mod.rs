//! ext2, ext3 and ext4 on a block device: mounting (with feature checks),
//! the registry of mounted instances, and sync/umount. The on-disk
//! structures each have their own file; `fs` holds one mounted filesystem
//! and `vnode` is its face to the VFS.

pub mod alloc;
pub mod bcache;
pub mod blockmap;
pub mod crc;
pub mod dir;
pub mod extents;
pub mod fs;
pub mod group;
pub mod inode;
pub mod journal;
pub mod options;
pub mod ranges;
pub mod reserve;
pub mod superblock;
pub mod vnode;
pub mod xattr;

use crate::drivers::block::BlockDevice;
use crate::fs::vfs::Inode;
use crate::kernel::errno::{Errno, KResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use superblock::*;
pub use vnode::Ext4Inode;

pub const EXT4_SUPER_MAGIC: u64 = 0xEF53;
const STATE_VALID: u16 = 1;
const STATE_ERROR: u16 = 2;

pub fn le16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
pub fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
pub fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes())
}
pub fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes())
}

/// Report filesystem corruption (the caller returns EUCLEAN or EIO).
/// The filesystem on `dev` acts on it (errors=) at its next operation.
pub fn corrupt(dev: &str, msg: &str) {
    log::error!("EXT4-fs error (device {dev}): {msg}");
    let mut e = ERRORS.lock().unwrap_or_else(|e| e.into_inner());
    if !e.iter().any(|d| d == dev) {
        e.push(dev.to_string());
    }
}

/// Devices on which corruption was found since their filesystem last
/// looked.
static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn take_error(dev: &str) -> bool {
    let mut e = ERRORS.lock().unwrap_or_else(|e| e.into_inner());
    let had = e.iter().any(|d| d == dev);
    e.retain(|d| d != dev);
    had
}

/// A mounted ext2/3/4 filesystem.
pub struct Ext4Fs {
    pub inner: Mutex<fs::FsInner>,
    handles: Mutex<HashMap<u32, Weak<Ext4Inode>>>,
    /// Inodes whose last handle went away while the lock was held; they
    /// are released at the next operation.
    pending: Mutex<Vec<u32>>,
    pub rdev: u64,
    pub fstype: String,
    /// The pipes of named fifos, by inode: they outlive any one handle
    /// (an open that blocks is run again with a fresh lookup).
    fifos: Mutex<HashMap<u32, FifoSlot>>,
    /// The journal could not be loaded (why): mounted read-only without it.
    journal_error: Option<String>,
    /// Mount options (errors=, commit=, resuid=, resgid=).
    opts: Mutex<options::Ext4Options>,
    /// What errors= means when not given: the superblock's s_errors.
    errors_default: options::OnError,
    /// Monotonic time of the first operation since the last periodic
    /// commit (0: none): the commit is due `commit=` seconds later.
    dirty_since: AtomicI64,
    /// commit= in ns, read on every scheduler pass (no lock).
    commit_ns: AtomicI64,
    this: Weak<Ext4Fs>,
}

type FifoSlot = Arc<Mutex<Option<Arc<crate::fs::pipe::Pipe>>>>;

static MOUNTED: Mutex<Vec<Arc<Ext4Fs>>> = Mutex::new(Vec::new());

fn mounted() -> MutexGuard<'static, Vec<Arc<Ext4Fs>>> {
    MOUNTED.lock().unwrap_or_else(|e| e.into_inner())
}

/// "ext2", "ext3" or "ext4": the oldest type the features fit.
fn natural_type(sb: &Super) -> &'static str {
    let ext2_incompat = INCOMPAT_FILETYPE | INCOMPAT_META_BG;
    let ext2_ro = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | 0x4;
    if sb.incompat & !(ext2_incompat | INCOMPAT_RECOVER) != 0 || sb.ro_compat & !ext2_ro != 0 {
        "ext4"
    } else if sb.compat & COMPAT_HAS_JOURNAL != 0 {
        "ext3"
    } else {
        "ext2"
    }
}

/// Mount the filesystem on `dev` as `fstype` ("ext2", "ext3", "ext4" or
/// None for whichever fits). A device mounted already gives the same
/// instance, as in Linux.
pub fn mount(dev: Arc<dyn BlockDevice>, fstype: Option<&str>, ro: bool) -> KResult<Arc<Ext4Fs>> {
    if let Some(f) = mounted().iter().find(|f| f.rdev == dev.rdev()) {
        return Ok(f.clone());
    }
    let name = dev.name().to_string();
    let mut raw = vec![0u8; 1024];
    if dev.size() < SUPER_OFFSET + 1024 {
        return Err(Errno::EINVAL);
    }
    dev.read_at(SUPER_OFFSET, &mut raw)?;
    let sb = Super::parse(&raw, dev.size()).map_err(|m| {
        log::error!("EXT4-fs ({name}): {m}");
        Errno::EINVAL
    })?;
    let natural = natural_type(&sb);
    let fstype = match fstype {
        None => natural,
        Some("ext4") => "ext4",
        Some(t @ ("ext2" | "ext3")) => {
            let rank = |t: &str| ["ext2", "ext3", "ext4"].iter().position(|x| *x == t);
            if rank(natural) > rank(t) {
                log::error!(
                    "EXT4-fs ({name}): couldn't mount as {t} due to feature incompatibilities"
                );
                return Err(Errno::EINVAL);
            }
            if t == "ext3" && sb.compat & COMPAT_HAS_JOURNAL == 0 {
                log::error!(
                    "EXT4-fs ({name}): couldn't mount as ext3 due to feature incompatibilities"
                );
                return Err(Errno::EINVAL);
            }
            t
        }
        Some(_) => return Err(Errno::ENODEV),
    };
    if !ro {
        if dev.read_only() {
            return Err(Errno::EACCES);
        }
        if let Some(f) = sb.ro_only_features() {
            log::error!(
                "EXT4-fs ({name}): couldn't mount RDWR because of unsupported optional features ({f})"
            );
            return Err(Errno::EROFS);
        }
    }
    if sb.state() & STATE_VALID == 0 {
        log::warn!(
            "EXT4-fs ({name}): warning: mounting unchecked fs, running e2fsck is recommended"
        );
    } else if sb.state() & STATE_ERROR != 0 {
        log::warn!(
            "EXT4-fs ({name}): warning: mounting fs with errors, running e2fsck is recommended"
        );
    }
    let mut inner = fs::FsInner::open(dev.clone(), sb, ro)?;
    // Why a filesystem with a journal was mounted without it (read-only,
    // as Linux's `noload`); such a mount cannot become read-write.
    let mut journal_error = None;
    if inner.sb.compat & COMPAT_HAS_JOURNAL != 0 {
        let loaded = if inner.sb.journal_inum() == 0 {
            Err("no journal inode (external journal devices are not supported)".to_string())
        } else {
            inner.load_journal()
        };
        match loaded {
            Ok(mut j) => {
                if j.start() != 0 || inner.sb.has_incompat(INCOMPAT_RECOVER) {
                    if dev.read_only() {
                        log::error!("EXT4-fs ({name}): write access unavailable, cannot proceed (journal needs recovery)");
                        return Err(Errno::EROFS);
                    }
                    log::info!("EXT4-fs ({name}): recovery required on readonly filesystem or after a crash; replaying journal");
                    j.replay(inner.sb.blocks_count)?;
                    // Everything may have changed: read it all again.
                    drop(inner);
                    dev.read_at(SUPER_OFFSET, &mut raw)?;
                    let mut sb = Super::parse(&raw, dev.size()).map_err(|m| {
                        log::error!("EXT4-fs ({name}): after journal replay: {m}");
                        Errno::EUCLEAN
                    })?;
                    let inc = sb.incompat & !INCOMPAT_RECOVER;
                    sb.incompat = inc;
                    put32(&mut sb.raw, 0x60, inc);
                    inner = fs::FsInner::open(dev.clone(), sb, ro)?;
                    inner.write_super()?;
                    inner.bc.writeback()?;
                    inner.dev.flush()?;
                    log::info!("EXT4-fs ({name}): recovery complete");
                    j = inner.load_journal().map_err(|m| {
                        log::error!("EXT4-fs ({name}): {m}");
                        Errno::EUCLEAN
                    })?;
                }
                inner.journal = Some(j);
            }
            Err(m) => {
                if inner.sb.has_incompat(INCOMPAT_RECOVER) {
                    log::error!(
                        "EXT4-fs ({name}): needs journal recovery but the journal is unusable: {m}"
                    );
                    return Err(Errno::EUCLEAN);
                }
                if !ro {
                    log::error!("EXT4-fs ({name}): Could not load journal: {m}");
                    return Err(Errno::EINVAL);
                }
                log::warn!(
                    "EXT4-fs ({name}): Could not load journal: {m}; mounting read-only without it (noload)"
                );
                journal_error = Some(m);
            }
        }
    }
    // The root must be a directory.
    match inner.iget(2) {
        Ok(d) if d.di.mode() & 0o170000 == 0o040000 => {}
        Ok(_) => {
            corrupt(&name, "root inode is not a directory");
            return Err(Errno::EUCLEAN);
        }
        Err(e) => return Err(e),
    }
    if !ro {
        mark_mounted(&mut inner)?;
        inner.orphan_cleanup()?;
        inner.sync()?;
    }
    let label = inner.sb.volume_name();
    let errors_default = options::OnError::from_super(le16(&inner.sb.raw, 0x3C));
    let f = Arc::new_cyclic(|w| Ext4Fs {
        inner: Mutex::new(inner),
        handles: Mutex::new(HashMap::new()),
        pending: Mutex::new(Vec::new()),
        rdev: dev.rdev(),
        fstype: fstype.to_string(),
        fifos: Mutex::new(HashMap::new()),
        journal_error,
        opts: Mutex::new(options::Ext4Options::default()),
        errors_default,
        dirty_since: AtomicI64::new(0),
        commit_ns: AtomicI64::new(options::DEFAULT_COMMIT_SECS as i64 * 1_000_000_000),
        this: w.clone(),
    });
    let journaled = f.lock().journal.is_some();
    log::info!(
        "EXT4-fs ({name}): mounted filesystem{} {} as {fstype} with {}",
        if label.is_empty() {
            String::new()
        } else {
            format!(" \"{label}\"")
        },
        if ro { "read-only" } else { "r/w" },
        if journaled {
            "ordered data mode"
        } else {
            "no journal"
        }
    );
    mounted().push(f.clone());
    crate::mm::frame::register_shrinker(shrink_caches);
    Ok(f)
}

/// A read-write mount: with a journal the filesystem "needs recovery"
/// until unmounted (a crash leaves at most a committed transaction to
/// replay); without one it is "not clean", so a crash makes e2fsck check it.
fn mark_mounted(inner: &mut fs::FsInner) -> KResult<()> {
    if inner.journal.is_some() {
        let inc = inner.sb.incompat | INCOMPAT_RECOVER;
        inner.sb.incompat = inc;
        put32(&mut inner.sb.raw, 0x60, inc);
    } else {
        let st = inner.sb.state();
        inner.sb.set_state(st & !STATE_VALID);
    }
    let mc = le16(&inner.sb.raw, 0x34);
    put16(&mut inner.sb.raw, 0x34, mc.wrapping_add(1));
    put32(
        &mut inner.sb.raw,
        0x2C,
        crate::fs::vfs::Timespec::now().sec as u32,
    );
    inner.write_super()?;
    inner.bc.writeback()?;
    inner.dev.flush()
}

impl Ext4Fs {
    /// Take the filesystem lock. Every operation starts here, so this is
    /// also where a big transaction is committed: between operations.
    pub fn lock(&self) -> MutexGuard<'_, fs::FsInner> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if take_error(&g.name) {
            self.handle_error(&mut g);
        }
        if !g.ro && self.dirty_since.load(Ordering::Relaxed) == 0 {
            let now = crate::kernel::time::monotonic_ns().max(1);
            self.dirty_since.store(now, Ordering::Relaxed);
        }
        if g.wants_commit() {
            if let Err(e) = g.sync_start(fs::Mapped::None) {
                log::error!("EXT4-fs ({}): commit failed: {e}", g.name);
            }
        }
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        for ino in pending {
            self.release_if_unused(&mut g, ino);
        }
        g
    }

    /// Corruption was found: errors=continue goes on, remount-ro stops
    /// all writing (what is not committed is dropped, as a journal abort
    /// does), panic stops the kernel.
    fn handle_error(&self, g: &mut fs::FsInner) {
        match self.on_error() {
            options::OnError::Continue => {}
            options::OnError::RemountRo => {
                if !g.ro {
                    log::error!("EXT4-fs ({}): Remounting filesystem read-only", g.name);
                    g.ro = true;
                }
            }
            options::OnError::Panic => crate::kernel::panic::panic(&format!(
                "EXT4-fs (device {}): panic forced after error",
                g.name
            )),
        }
    }

    fn on_error(&self) -> options::OnError {
        let o = self.opts.lock().unwrap_or_else(|e| e.into_inner());
        o.errors.unwrap_or(self.errors_default)
    }

    /// Apply mount options (mount, remount): the words for the
    /// filesystem, on top of the current ones. Returns what /proc/mounts
    /// shows.
    pub fn set_options(&self, words: &[String]) -> KResult<String> {
        let name = self.lock().name.clone();
        let (ids, shown) = {
            let mut o = self.opts.lock().unwrap_or_else(|e| e.into_inner());
            *o = o.parse(&name, words)?;
            self.commit_ns
                .store(o.commit_secs as i64 * 1_000_000_000, Ordering::Relaxed);
            ((o.resuid, o.resgid), o.show())
        };
        self.lock().set_reserve_ids(ids.0, ids.1);
        Ok(shown)
    }

    /// When the periodic commit of this filesystem is due (monotonic ns).
    fn commit_due(&self) -> Option<i64> {
        let since = self.dirty_since.load(Ordering::Relaxed);
        if since == 0 {
            return None;
        }
        Some(since + self.commit_ns.load(Ordering::Relaxed))
    }

    /// The periodic commit: what changed since the last one goes to the
    /// journal and the disk (not waited for), so a crash loses at most
    /// `commit=` seconds of work, as with Linux's jbd2 and flusher.
    fn periodic_commit(&self) {
        self.dirty_since.store(0, Ordering::Relaxed);
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = g.sync_start(fs::Mapped::All) {
            log::error!("EXT4-fs ({}): periodic commit failed: {e}", g.name);
        }
    }

    fn release_if_unused(&self, g: &mut fs::FsInner, ino: u32) {
        let held = self
            .handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ino)
            .is_some_and(|w| w.strong_count() > 0);
        if held {
            return;
        }
        if let Ok(d) = g.iget(ino) {
            if d.di.links() == 0 {
                if let Err(e) = g.release(ino) {
                    log::warn!("EXT4-fs ({}): releasing inode #{ino}: {e}", g.name);
                }
            }
        }
    }

    /// The VFS handle for inode `ino` (one per live inode, so mount points
    /// compare equal).
    pub fn handle(&self, ino: u32) -> Arc<Ext4Inode> {
        let mut h = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = h.get(&ino).and_then(|w| w.upgrade()) {
            return i;
        }
        let fs = self.this.upgrade().expect("filesystem alive");
        let i = Arc::new(Ext4Inode::new(fs, ino));
        h.insert(ino, Arc::downgrade(&i));
        if h.len() > 4096 {
            h.retain(|_, w| w.strong_count() > 0);
        }
        i
    }

    /// Is any inode in use (open, a working directory, a mount point)?
    /// The root may have `root_refs` references (its mount's, the caller's).
    pub fn busy(&self, root_refs: usize) -> bool {
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(&ino, w)| w.strong_count() > if ino == 2 { root_refs } else { 0 })
    }

    /// The last handle of `ino` is gone.
    pub fn handle_dropped(&self, ino: u32) {
        match self.inner.try_lock() {
            Ok(mut g) => self.release_if_unused(&mut g, ino),
            Err(_) => self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(ino),
        }
    }

    /// Where the pipe of fifo `ino` lives.
    pub fn fifo(&self, ino: u32) -> FifoSlot {
        self.fifos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(ino)
            .or_default()
            .clone()
    }

    pub fn root(&self) -> Arc<dyn Inode> {
        self.handle(2)
    }

    pub fn sync(&self) -> KResult<()> {
        self.lock().sync()
    }

    /// fsync/syncfs for task `t`: queue everything for the disk and sleep
    /// until the host has made it durable.
    /// `mapped`: which files' shared-mapped pages to compare with the
    /// disk (fsync: the file's own; syncfs: all).
    pub fn sync_for(&self, t: &crate::kernel::task::Task, mapped: fs::Mapped) -> KResult<()> {
        let (dev, ticket) = self.sync_start(mapped)?;
        crate::drivers::block::wait_flush(&*dev, ticket, t)
    }

    /// Queue everything for the disk: the device and the flush ticket to
    /// wait for.
    fn sync_start(&self, mapped: fs::Mapped) -> KResult<(Arc<dyn BlockDevice>, u64)> {
        let mut g = self.lock();
        let ticket = g.sync_start(mapped)?;
        Ok((g.dev.clone(), ticket))
    }

    pub fn read_only(&self) -> bool {
        self.lock().ro
    }

    /// Write everything back and mark the filesystem clean (umount,
    /// poweroff, remount read-only). At power off (`final_`) unlinked
    /// inodes still open are released: nothing will use them again; a
    /// read-only remount keeps them on the orphan list for the next mount.
    fn shutdown(&self, final_: bool) -> KResult<()> {
        let mut g = self.lock();
        if g.ro {
            return Ok(());
        }
        if final_ {
            g.orphan_cleanup()?;
        }
        g.sync()?;
        // The log is empty now: mark the filesystem clean in place.
        let st = g.sb.state();
        g.sb.set_state(st | STATE_VALID);
        let inc = g.sb.incompat & !INCOMPAT_RECOVER;
        g.sb.incompat = inc;
        put32(&mut g.sb.raw, 0x60, inc);
        g.write_super()?;
        g.bc.writeback()?;
        g.dev.flush()
    }

    pub fn remount(&self, ro: bool) -> KResult<()> {
        let was_ro = self.read_only();
        if ro == was_ro {
            return self.sync();
        }
        if ro {
            self.shutdown(false)?;
            self.lock().ro = true;
            log::info!("EXT4-fs ({}): re-mounted read-only", self.lock().name);
            return Ok(());
        }
        let mut g = self.lock();
        if g.dev.read_only() {
            return Err(Errno::EACCES);
        }
        if let Some(m) = &self.journal_error {
            log::error!(
                "EXT4-fs ({}): couldn't remount RDWR: Could not load journal: {m}",
                g.name
            );
            return Err(Errno::EINVAL);
        }
        if let Some(f) = g.sb.ro_only_features() {
            log::error!("EXT4-fs ({}): couldn't remount RDWR because of unsupported optional features ({f})", g.name);
            return Err(Errno::EROFS);
        }
        g.ro = false;
        mark_mounted(&mut g)?;
        g.orphan_cleanup()?;
        g.sync()?;
        log::info!("EXT4-fs ({}): re-mounted r/w", g.name);
        Ok(())
    }

    /// umount: write back, mark clean, forget the instance.
    pub fn unmount(&self) -> KResult<()> {
        self.shutdown(true)?;
        mounted().retain(|f| f.rdev != self.rdev);
        log::info!("EXT4-fs ({}): unmounting filesystem", self.lock().name);
        Ok(())
    }

    pub fn statfs(&self) -> crate::fs::vfs::StatFs {
        let g = self.lock();
        let sb = &g.sb;
        let uuid = &sb.raw[0x68..0x78];
        let fsid = (le32(uuid, 0) ^ le32(uuid, 8)) as u64
            | ((le32(uuid, 4) ^ le32(uuid, 12)) as u64) << 32;
        crate::fs::vfs::StatFs {
            magic: EXT4_SUPER_MAGIC,
            bsize: sb.block_size as u64,
            blocks: sb.blocks_count.saturating_sub(g.overhead),
            bfree: g.free_blocks,
            bavail: g.free_blocks.saturating_sub(sb.reserved_blocks()),
            files: sb.inodes_count as u64,
            ffree: g.free_inodes as u64,
            fsid,
            namelen: 255,
        }
    }
}

/// When the next periodic commit of any mounted filesystem is due.
/// (On every scheduler pass: atomics only, no allocation.)
pub fn next_commit() -> Option<i64> {
    mounted().iter().filter_map(|f| f.commit_due()).min()
}

/// Run the periodic commits due at `now`.
pub fn run_commits(now: i64) {
    let due: Vec<Arc<Ext4Fs>> = mounted()
        .iter()
        .filter(|f| f.commit_due().is_some_and(|d| d <= now))
        .cloned()
        .collect();
    // Outside the registry's lock: a commit takes the filesystem's.
    for f in due {
        f.periodic_commit();
    }
}

/// The mounted instance `inode` belongs to, if it is ext2/3/4.
pub fn fs_of(inode: &Arc<dyn Inode>) -> Option<Arc<Ext4Fs>> {
    inode
        .as_any()
        .downcast_ref::<Ext4Inode>()
        .map(|i| i.fs.clone())
}

/// The shrinker of the page and buffer caches: when memory is full, give
/// back clean file pages nobody maps and clean metadata blocks of every
/// filesystem not busy right now (the allocation may come from inside one,
/// holding its lock: that one is skipped).
fn shrink_caches() -> usize {
    let all = match MOUNTED.try_lock() {
        Ok(m) => m.clone(),
        Err(_) => return 0,
    };
    let mut n = 0;
    for f in all {
        if let Ok(mut g) = f.inner.try_lock() {
            n += g.drop_clean_pages() + g.bc.drop_clean();
        }
    }
    n
}

/// Frames in the page caches and in the buffer caches of every mounted
/// filesystem (for /proc/meminfo).
pub fn cache_frames() -> (u64, u64) {
    let all: Vec<Arc<Ext4Fs>> = mounted().clone();
    let mut pages = 0;
    let mut bufs = 0;
    for f in all {
        let g = f.inner.lock().unwrap_or_else(|e| e.into_inner());
        pages += g.npages as u64;
        bufs += g.bc.len() as u64;
    }
    (pages, bufs)
}

/// sync(2): write back every mounted ext filesystem; task `t` sleeps
/// until all of it is durable (the disks flush at the same time).
pub fn sync_all(t: &crate::kernel::task::Task) -> KResult<()> {
    let all: Vec<Arc<Ext4Fs>> = mounted().clone();
    let mut started = Vec::new();
    for f in all {
        match f.sync_start(fs::Mapped::All) {
            Ok(s) => started.push(s),
            Err(e) => log::error!("EXT4-fs: sync failed: {e}"),
        }
    }
    for (dev, ticket) in started {
        if let Err(e) = crate::drivers::block::wait_flush(&*dev, ticket, t) {
            log::error!("EXT4-fs: sync failed: {e}");
        }
    }
    Ok(())
}

/// poweroff/halt/reboot: write back and mark every filesystem clean.
pub fn shutdown_all() {
    let all: Vec<Arc<Ext4Fs>> = std::mem::take(&mut *mounted());
    for f in all {
        if let Err(e) = f.shutdown(true) {
            log::error!("EXT4-fs: writeback at shutdown failed: {e}");
        }
    }
}
