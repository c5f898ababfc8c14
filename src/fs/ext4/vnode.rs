//! The VFS face of an ext2/3/4 inode: `Ext4Inode` implements `Inode` by
//! taking the filesystem lock and calling into `fs::FsInner`.

use super::dir::ftype_of;
use super::fs::ReadStep;
use super::Ext4Fs;
use crate::abi::fcntl::{FidIno32Gen, FILEID_INO32_GEN};
use crate::fs::file::{FileOps, O_ACCMODE, O_RDONLY};
use crate::fs::vfs::*;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::frame::{self, Pfn, PAGE_SIZE};
use std::any::Any;
use std::sync::Arc;

pub struct Ext4Inode {
    pub fs: Arc<Ext4Fs>,
    pub ino: u32,
}

const MAX_LINKS: u32 = 65000;
/// Reads done without the lock that found the file changed before a read
/// gives up and reads under the lock.
const MAX_STALE_READS: u32 = 4;

impl Ext4Inode {
    pub fn new(fs: Arc<Ext4Fs>, ino: u32) -> Ext4Inode {
        Ext4Inode { fs, ino }
    }

    fn same_fs<'a>(&self, other: &'a Arc<dyn Inode>) -> KResult<&'a Ext4Inode> {
        let o = other
            .as_any()
            .downcast_ref::<Ext4Inode>()
            .ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&o.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        Ok(o)
    }
}

impl Drop for Ext4Inode {
    fn drop(&mut self) {
        self.fs.handle_dropped(self.ino);
    }
}

fn dtype_of_ft(ft: u8) -> u8 {
    match ft {
        1 => 8,
        2 => 4,
        3 => 2,
        4 => 6,
        5 => 1,
        6 => 12,
        7 => 10,
        _ => 0,
    }
}

fn check_name(name: &str) -> KResult<std::borrow::Cow<'_, [u8]>> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(Errno::EEXIST);
    }
    let b = name_bytes(name);
    if b.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(b)
}

/// The on-disk bytes of a VFS name (see `fs::name`).
fn name_bytes(name: &str) -> std::borrow::Cow<'_, [u8]> {
    crate::fs::name::to_bytes(name)
}

impl Inode for Ext4Inode {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        let mut g = self.fs.lock();
        let sb = g.sb.clone();
        let rdev = g.rdev(self.ino).unwrap_or(0);
        let Ok(di) = g.di(self.ino) else {
            return Stat {
                dev: self.fs.rdev,
                ino: self.ino as u64,
                ..Default::default()
            };
        };
        let mode = di.mode();
        let special = matches!(mode & S_IFMT, S_IFCHR | S_IFBLK);
        Stat {
            dev: self.fs.rdev,
            ino: self.ino as u64,
            mode,
            nlink: di.links(),
            uid: di.uid(),
            gid: di.gid(),
            rdev: if special { rdev } else { 0 },
            size: di.size(),
            blksize: sb.block_size,
            blocks: di.sectors(&sb),
            atime: di.atime(),
            mtime: di.mtime(),
            ctime: di.ctime(),
        }
    }

    fn touch_atime(&self, now: Timespec) {
        let mut g = self.fs.lock();
        if g.ro {
            return;
        }
        if let Err(e) = g.modify(self.ino, |di| di.set_atime(now)) {
            log::debug!("EXT4-fs ({}): atime of #{}: {e:?}", g.name, self.ino);
        }
    }

    fn setattr(&self, a: &SetAttr) -> KResult<()> {
        let mut g = self.fs.lock();
        if let Some(size) = a.size {
            let mode = g.di(self.ino)?.mode();
            if mode & S_IFMT == S_IFDIR {
                return Err(Errno::EISDIR);
            }
            if mode & S_IFMT != S_IFREG {
                return Err(Errno::EINVAL);
            }
            g.truncate(self.ino, size)?;
        }
        let now = Timespec::now();
        g.modify(self.ino, |di| {
            if let Some(m) = a.mode {
                di.set_mode((di.mode() & S_IFMT) | (m & 0o7777));
            }
            if let Some(u) = a.uid {
                di.set_uid(u);
            }
            if let Some(x) = a.gid {
                di.set_gid(x);
            }
            if let Some(t) = a.atime {
                di.set_atime(t);
            }
            if let Some(t) = a.mtime {
                di.set_mtime(t);
            }
            di.set_ctime(now);
        })
    }

    fn lookup(&self, name: &str) -> KResult<Arc<dyn Inode>> {
        let child = {
            let mut g = self.fs.lock();
            let c = g
                .lookup(self.ino, &name_bytes(name))?
                .ok_or(Errno::ENOENT)?;
            // Validate it now: a corrupt entry fails the lookup, not later.
            if g.di(c)?.mode() == 0 {
                super::corrupt(
                    &g.name,
                    &format!(
                        "inode #{}: entry '{name}' points to deleted inode #{c}",
                        self.ino
                    ),
                );
                return Err(Errno::EUCLEAN);
            }
            c
        };
        Ok(self.fs.handle(child))
    }

    fn create(&self, name: &str, mode: u32, rdev: u64, owner: Owner) -> KResult<Arc<dyn Inode>> {
        let n = &*check_name(name)?;
        let ino = {
            let mut g = self.fs.lock();
            if g.ro {
                return Err(Errno::EROFS);
            }
            if g.lookup(self.ino, n)?.is_some() {
                return Err(Errno::EEXIST);
            }
            let is_dir = mode & S_IFMT == S_IFDIR;
            if is_dir && g.di(self.ino)?.links() >= MAX_LINKS {
                return Err(Errno::EMLINK);
            }
            let ino = g.new_inode(self.ino, mode, owner.uid, owner.gid)?;
            let r: KResult<()> = (|| {
                if is_dir {
                    g.ensure_mapped(ino, 0, 1)?;
                    let p = g.bmap(ino, 0)?.pblk.ok_or(Errno::EIO)?;
                    let bs = g.bs();
                    let csum = g.sb.metadata_csum();
                    let mut b = super::dir::new_dir_block(
                        bs as usize,
                        csum,
                        ino,
                        self.ino,
                        g.sb.filetype(),
                    );
                    let fs_seed = g.sb.csum_seed;
                    let seed = g.di(ino)?.csum_seed(fs_seed, ino);
                    super::dir::seal(&mut b, seed);
                    g.bc.write(p, &b)?;
                    g.modify(ino, |di| di.set_size(bs))?;
                } else if matches!(mode & S_IFMT, S_IFCHR | S_IFBLK) {
                    g.set_rdev(ino, rdev)?;
                }
                g.dir_add(self.ino, n, ino, ftype_of(mode))?;
                if is_dir {
                    g.modify(self.ino, |di| di.set_links(di.links() + 1))?;
                }
                Ok(())
            })();
            if let Err(e) = r {
                let _ = g.modify(ino, |di| di.set_links(0));
                let _ = g.release(ino);
                return Err(e);
            }
            ino
        };
        Ok(self.fs.handle(ino))
    }

    fn symlink(&self, name: &str, target: &str, owner: Owner) -> KResult<()> {
        let n = &*check_name(name)?;
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        let mut g = self.fs.lock();
        if g.ro {
            return Err(Errno::EROFS);
        }
        if target.len() >= g.bs() as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        if g.lookup(self.ino, n)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let ino = g.new_inode(self.ino, S_IFLNK | 0o777, owner.uid, owner.gid)?;
        let r = g
            .write_symlink(ino, &name_bytes(target))
            .and_then(|_| g.dir_add(self.ino, n, ino, 7));
        if let Err(e) = r {
            let _ = g.modify(ino, |di| di.set_links(0));
            let _ = g.release(ino);
            return Err(e);
        }
        Ok(())
    }

    fn link(&self, name: &str, target: &Arc<dyn Inode>) -> KResult<()> {
        let n = &*check_name(name)?;
        let t = self.same_fs(target)?;
        let mut g = self.fs.lock();
        let di = g.di(t.ino)?;
        if di.mode() & S_IFMT == S_IFDIR {
            return Err(Errno::EPERM);
        }
        if di.links() >= MAX_LINKS {
            return Err(Errno::EMLINK);
        }
        if di.links() == 0 {
            return Err(Errno::ENOENT);
        }
        let mode = di.mode();
        if g.lookup(self.ino, n)?.is_some() {
            return Err(Errno::EEXIST);
        }
        g.dir_add(self.ino, n, t.ino, ftype_of(mode))?;
        let now = Timespec::now();
        g.modify(t.ino, |di| {
            di.set_links(di.links() + 1);
            di.set_ctime(now);
        })
    }

    fn unlink(&self, name: &str, want_dir: bool) -> KResult<()> {
        let n = &*name_bytes(name);
        let child = {
            let mut g = self.fs.lock();
            g.lookup(self.ino, n)?.ok_or(Errno::ENOENT)?
        };
        let handle: Arc<dyn Inode> = self.fs.handle(child);
        if want_dir && crate::fs::mount::is_mount_root(&handle) {
            return Err(Errno::EBUSY);
        }
        {
            let mut g = self.fs.lock();
            if g.ro {
                return Err(Errno::EROFS);
            }
            let is_dir = g.di(child)?.mode() & S_IFMT == S_IFDIR;
            if want_dir {
                if !is_dir {
                    return Err(Errno::ENOTDIR);
                }
                if !g.dir_is_empty(child)? {
                    return Err(Errno::ENOTEMPTY);
                }
            } else if is_dir {
                return Err(Errno::EISDIR);
            }
            g.dir_remove(self.ino, n)?;
            let now = Timespec::now();
            g.modify(child, |di| {
                di.set_links(if is_dir {
                    0
                } else {
                    di.links().saturating_sub(1)
                });
                di.set_ctime(now);
            })?;
            if g.di(child)?.links() == 0 {
                g.orphan_add(child)?;
            }
            if is_dir {
                g.modify(self.ino, |di| {
                    di.set_links(di.links().saturating_sub(1).max(2))
                })?;
            }
        }
        // Dropping the last handle releases an inode with no links left.
        drop(handle);
        Ok(())
    }

    fn rename(&self, old: &str, new_dir: &Arc<dyn Inode>, new: &str, flags: u32) -> KResult<()> {
        const NOREPLACE: u32 = 1;
        const EXCHANGE: u32 = 2;
        let nd = self.same_fs(new_dir)?;
        let (o, nn) = (&*name_bytes(old), &*check_name(new)?);
        let mut replaced: Option<u32> = None;
        {
            let mut g = self.fs.lock();
            if g.ro {
                return Err(Errno::EROFS);
            }
            let src = g.lookup(self.ino, o)?.ok_or(Errno::ENOENT)?;
            let dst = g.lookup(nd.ino, nn)?;
            let src_mode = g.di(src)?.mode();
            let src_dir = src_mode & S_IFMT == S_IFDIR;
            if dst == Some(src) {
                return Ok(());
            }
            // A directory may not move below itself.
            if src_dir && nd.ino != self.ino {
                let mut cur = nd.ino;
                for _ in 0..4096 {
                    if cur == src {
                        return Err(Errno::EINVAL);
                    }
                    if cur == 2 {
                        break;
                    }
                    cur = match g.lookup(cur, b"..")? {
                        Some(p) if p != cur => p,
                        _ => break,
                    };
                }
            }
            if flags & EXCHANGE != 0 {
                let d = dst.ok_or(Errno::ENOENT)?;
                let d_mode = g.di(d)?.mode();
                g.dir_retarget(self.ino, o, d, ftype_of(d_mode))?;
                g.dir_retarget(nd.ino, nn, src, ftype_of(src_mode))?;
                if nd.ino != self.ino {
                    let d_dir = d_mode & S_IFMT == S_IFDIR;
                    if src_dir {
                        g.dir_retarget(src, b"..", nd.ino, 2)?;
                    }
                    if d_dir {
                        g.dir_retarget(d, b"..", self.ino, 2)?;
                    }
                    if src_dir != d_dir {
                        let (from, to) = if src_dir {
                            (self.ino, nd.ino)
                        } else {
                            (nd.ino, self.ino)
                        };
                        g.modify(from, |di| di.set_links(di.links().saturating_sub(1)))?;
                        g.modify(to, |di| di.set_links(di.links() + 1))?;
                    }
                }
                return Ok(());
            }
            if let Some(d) = dst {
                if flags & NOREPLACE != 0 {
                    return Err(Errno::EEXIST);
                }
                let d_dir = g.di(d)?.mode() & S_IFMT == S_IFDIR;
                if src_dir && !d_dir {
                    return Err(Errno::ENOTDIR);
                }
                if !src_dir && d_dir {
                    return Err(Errno::EISDIR);
                }
                if d_dir && !g.dir_is_empty(d)? {
                    return Err(Errno::ENOTEMPTY);
                }
                g.dir_retarget(nd.ino, nn, src, ftype_of(src_mode))?;
                let now = Timespec::now();
                g.modify(d, |di| {
                    di.set_links(if d_dir {
                        0
                    } else {
                        di.links().saturating_sub(1)
                    });
                    di.set_ctime(now);
                })?;
                if g.di(d)?.links() == 0 {
                    g.orphan_add(d)?;
                }
                if d_dir {
                    g.modify(nd.ino, |di| {
                        di.set_links(di.links().saturating_sub(1).max(2))
                    })?;
                }
                replaced = Some(d);
            } else {
                if src_dir && nd.ino != self.ino && g.di(nd.ino)?.links() >= MAX_LINKS {
                    return Err(Errno::EMLINK);
                }
                g.dir_add(nd.ino, nn, src, ftype_of(src_mode))?;
            }
            g.dir_remove(self.ino, o)?;
            if src_dir && nd.ino != self.ino {
                g.dir_retarget(src, b"..", nd.ino, 2)?;
                g.modify(self.ino, |di| {
                    di.set_links(di.links().saturating_sub(1).max(2))
                })?;
                g.modify(nd.ino, |di| di.set_links(di.links() + 1))?;
            }
            let now = Timespec::now();
            g.modify(src, |di| di.set_ctime(now))?;
        }
        // The replaced inode is released if nobody holds it.
        if let Some(ino) = replaced {
            drop(self.fs.handle(ino));
        }
        Ok(())
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        let entries = self.fs.lock().readdir(self.ino)?;
        Ok(entries
            .into_iter()
            .map(|(name, ino, ft)| DirEntry {
                name: crate::fs::name::from_bytes(&name),
                ino: ino as u64,
                dtype: dtype_of_ft(ft),
            })
            .collect())
    }

    fn readlink(&self) -> KResult<String> {
        let mut g = self.fs.lock();
        if g.di(self.ino)?.mode() & S_IFMT != S_IFLNK {
            return Err(Errno::EINVAL);
        }
        let t = g.readlink(self.ino)?;
        Ok(crate::fs::name::from_bytes(&t))
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let mut g = self.fs.lock();
        let mode = g.di(self.ino)?.mode();
        if mode & S_IFMT == S_IFDIR {
            return Err(Errno::EISDIR);
        }
        if mode & S_IFMT != S_IFREG {
            return Err(Errno::EINVAL);
        }
        // In a syscall the task sleeps while the disk reads (others run);
        // elsewhere (boot, the vCPU loop) the vCPU waits under the lock.
        let Some(t) = crate::kernel::current::tid().and_then(crate::kernel::task::task) else {
            return g.read(self.ino, off, buf);
        };
        let mut done = 0;
        let mut stale = 0;
        loop {
            let plan = match g.read_or_plan(self.ino, off + done as u64, &mut buf[done..])? {
                ReadStep::Done(n) => return Ok(done + n),
                ReadStep::Miss(n, plan) => {
                    done += n;
                    plan
                }
            };
            if stale >= MAX_STALE_READS {
                // The file keeps changing under the reads: read the rest
                // under the lock.
                return Ok(done + g.read(self.ino, off + done as u64, &mut buf[done..])?);
            }
            let dev = g.dev.clone();
            // The filesystem lock is a host lock: never held across the
            // sleep.
            drop(g);
            // An error after some bytes is a short read, as in Linux.
            let partial = |e| if done > 0 { Ok(done) } else { Err(e) };
            let data = match plan.fetch(&*dev, &t) {
                Ok(d) => d,
                Err(e) => return partial(e),
            };
            g = self.fs.lock();
            let filled = match g.fill(&plan, data) {
                Ok(f) => f,
                Err(e) => return partial(e),
            };
            if !filled {
                stale += 1;
            }
        }
    }

    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<usize> {
        let mut g = self.fs.lock();
        let mode = g.di(self.ino)?.mode();
        if mode & S_IFMT == S_IFDIR {
            return Err(Errno::EISDIR);
        }
        if mode & S_IFMT != S_IFREG {
            return Err(Errno::EINVAL);
        }
        g.write(self.ino, off, buf)
    }

    fn fallocate(&self, mode: u32, off: u64, len: u64) -> KResult<()> {
        let mut g = self.fs.lock();
        if g.di(self.ino)?.mode() & S_IFMT != S_IFREG {
            return Err(Errno::ENODEV);
        }
        g.fallocate(self.ino, mode, off, len)
    }

    /// Linux's s_maxbytes: an extent's reach when the filesystem has
    /// extents, the block map's otherwise.
    fn max_bytes(&self) -> u64 {
        let g = self.fs.lock();
        g.max_file_bytes(g.sb.extents())
    }

    fn page(&self, idx: u64) -> KResult<Pfn> {
        let mut g = self.fs.lock();
        if g.di(self.ino)?.mode() & S_IFMT != S_IFREG {
            return Err(Errno::ENODEV);
        }
        g.map_page(self.ino, idx)
    }

    fn page_needs_read(&self, idx: u64) -> bool {
        let mut g = self.fs.lock();
        g.page_missing(self.ino, idx).unwrap_or(false)
    }

    /// A page fault's read, done with neither the address space's lock
    /// nor the filesystem's held across the sleep. A file that changed
    /// meanwhile leaves the cache as it was: the fault looks again.
    fn read_page_sleeping(&self, idx: u64, t: &crate::kernel::task::Task) -> KResult<()> {
        let mut g = self.fs.lock();
        if g.di(self.ino)?.mode() & S_IFMT != S_IFREG {
            return Err(Errno::ENODEV);
        }
        let Some(plan) = g.plan_page(self.ino, idx)? else {
            return Ok(());
        };
        let dev = g.dev.clone();
        drop(g);
        let data = plan.fetch(&*dev, t)?;
        self.fs.lock().fill(&plan, data)?;
        Ok(())
    }

    fn cached_page(&self, idx: u64) -> Option<Pfn> {
        let mut g = self.fs.lock();
        let d = g.iget(self.ino).ok()?;
        if idx * PAGE_SIZE >= d.di.size() {
            return None;
        }
        let p = d.pages.get_mut(&idx)?;
        p.mapped = true;
        frame::get(p.pfn);
        Some(p.pfn)
    }

    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        let st = self.stat();
        match st.mode & S_IFMT {
            S_IFCHR | S_IFBLK => {
                crate::drivers::open_device(st.mode & S_IFMT, st.rdev, flags).map(Some)
            }
            S_IFIFO => {
                let slot = self.fs.fifo(self.ino);
                Ok(Some(crate::fs::pipe::open_fifo_in(&slot, flags)?))
            }
            S_IFREG if flags & O_ACCMODE != O_RDONLY && self.fs.read_only() => Err(Errno::EROFS),
            _ => Ok(None),
        }
    }

    fn fs_magic(&self) -> u64 {
        super::EXT4_SUPER_MAGIC
    }

    fn read_only(&self) -> bool {
        self.fs.read_only()
    }

    fn sync(&self) -> KResult<()> {
        self.fs.sync()
    }

    fn fsync(&self, t: &crate::kernel::task::Task) -> KResult<()> {
        self.fs.sync_for(t, super::fs::Mapped::Inode(self.ino))
    }

    fn statfs(&self) -> Option<StatFs> {
        Some(self.fs.statfs())
    }

    /// Linux's generic export handle for ext4: FILEID_INO32_GEN.
    fn file_handle(&self) -> Option<(i32, Vec<u8>)> {
        let generation = self.fs.lock().di(self.ino).ok()?.generation();
        let fh = FidIno32Gen {
            ino: self.ino,
            generation,
        };
        Some((FILEID_INO32_GEN, crate::abi::bytes(&fh).to_vec()))
    }

    /// Linux's ext4_nfs_get_inode: a reserved or out-of-range number, a
    /// freed inode or another generation is stale.
    fn from_handle(&self, ty: i32, fh: &[u8]) -> KResult<Arc<dyn Inode>> {
        let fh: FidIno32Gen = crate::abi::from_prefix(fh).ok_or(Errno::ESTALE)?;
        if ty != FILEID_INO32_GEN {
            return Err(Errno::ESTALE);
        }
        {
            let mut g = self.fs.lock();
            let sb = g.sb.clone();
            if fh.ino < sb.first_ino && fh.ino != 2 || fh.ino > sb.inodes_count || fh.ino == 0 {
                return Err(Errno::ESTALE);
            }
            let di = g.di(fh.ino)?;
            if di.links() == 0 || di.mode() == 0 || di.generation() != fh.generation {
                return Err(Errno::ESTALE);
            }
        }
        Ok(self.fs.handle(fh.ino))
    }

    fn getxattr(&self, name: &str) -> KResult<Vec<u8>> {
        let (index, n) = super::xattr::split_name(name).ok_or(Errno::EOPNOTSUPP)?;
        self.fs.lock().xattr_get(self.ino, index, n)
    }

    fn setxattr(&self, name: &str, value: &[u8], flags: u32) -> KResult<()> {
        let (index, n) = super::xattr::split_name(name).ok_or(Errno::EOPNOTSUPP)?;
        self.fs
            .lock()
            .xattr_set(self.ino, index, n, Some(value), flags)
    }

    fn listxattr(&self) -> KResult<Vec<String>> {
        let names = self.fs.lock().xattr_list(self.ino)?;
        Ok(names
            .iter()
            .filter_map(|(i, n)| super::xattr::full_name(*i, n))
            .collect())
    }

    fn removexattr(&self, name: &str) -> KResult<()> {
        let (index, n) = super::xattr::split_name(name).ok_or(Errno::EOPNOTSUPP)?;
        self.fs.lock().xattr_set(self.ino, index, n, None, 0)
    }
}
