//! One mounted ext2/3/4 filesystem: its superblock, group descriptors,
//! buffer cache and cached inodes, and the operations on them (block
//! mapping, directories, file data through the page cache, allocation,
//! truncation, writeback). Everything sits behind one lock (`Ext4Fs::inner`).

use super::alloc::Alloc;
use super::bcache::BufCache;
use super::blockmap::Map;
use super::dir;
use super::extents::{self, Mapping, Tree};
use super::group::{desc_location, Group};
use super::inode::*;
use super::reserve::Reserve;
use super::superblock::{Super, SUPER_OFFSET};
use super::{corrupt, le32, put32};
use crate::drivers::block::BlockDevice;
use crate::fs::vfs::{Timespec, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::frame::{self, Pfn, PAGE_SIZE};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub struct Page {
    pub pfn: Pfn,
    pub dirty: bool,
    /// Handed out for mmap: may have been written through a shared mapping.
    pub mapped: bool,
}

pub struct InodeData {
    pub di: DiskInode,
    pub dirty: bool,
    pub pages: BTreeMap<u64, Page>,
    /// The page a sequential reader would miss next (read-ahead).
    pub ra_next: u64,
    /// Changed whenever the file's data or block map may have changed
    /// beneath pages not in the cache (writes, truncation, fallocate,
    /// pages dropped): a read done without the lock (`ReadPlan`) fills
    /// the cache only if it is still the same.
    pub gen: u64,
}

/// Pages to read into the cache without holding the filesystem lock:
/// the blocks were looked up under it, the task sleeps while the device
/// reads them, and `fill` puts them in if the file did not change
/// meanwhile.
pub struct ReadPlan {
    ino: u32,
    idx: u64,
    n: u64,
    /// (offset in the buffer, physical block, blocks) runs.
    runs: Vec<(usize, u64, u64)>,
    size: u64,
    gen: u64,
    bs: u64,
}

impl ReadPlan {
    /// Read the planned blocks, task `t` sleeping until each device read
    /// completes. No lock is held.
    pub fn fetch(&self, dev: &dyn BlockDevice, t: &crate::kernel::task::Task) -> KResult<Vec<u8>> {
        let mut data = vec![0u8; (self.n * PAGE_SIZE) as usize];
        for &(o, p, cnt) in &self.runs {
            let len = (cnt * self.bs) as usize;
            dev.read_sleeping(p * self.bs, &mut data[o..o + len], t)?;
        }
        Ok(data)
    }
}

/// What `read_or_plan` did: copied bytes from the cache, up to a page
/// that is not there if it met one.
pub enum ReadStep {
    Done(usize),
    Miss(usize, ReadPlan),
}

/// Which page-cache pages a writeback compares with the disk because a
/// shared mapping may have changed them (there is no dirty bit for them).
#[derive(Clone, Copy, PartialEq)]
pub enum Mapped {
    None,
    Inode(u32),
    All,
}

/// Pages read at once when a file is read sequentially (128 KiB, Linux's
/// default read_ahead_kb).
const READAHEAD_PAGES: u64 = 32;

pub struct FsInner {
    pub sb: Super,
    pub groups: Vec<Group>,
    pub gdirty: BTreeSet<u32>,
    pub free_blocks: u64,
    pub free_inodes: u32,
    pub bc: BufCache,
    pub dev: Arc<dyn BlockDevice>,
    pub name: String,
    pub ro: bool,
    pub icache: HashMap<u32, InodeData>,
    pub npages: usize,
    page_limit: usize,
    /// Blocks used by the filesystem itself (for statfs).
    pub overhead: u64,
    /// Something changed since the last writeback.
    pub sb_dirty: bool,
    /// The journal, when the filesystem has one we can write.
    pub journal: Option<super::journal::Journal>,
    /// Blocks freed since the last commit: with a journal they stay
    /// allocated until the transaction that frees them commits, so the
    /// old, committed metadata never points at reused blocks.
    pending_free: Vec<(u64, u64)>,
    /// The flush ticket that covers the last commit.
    durable_ticket: u64,
    /// File data was written since the last commit (not covered by
    /// `durable_ticket`).
    data_written: bool,
    /// The reserved blocks (from the superblock).
    reserve: Reserve,
    /// The kernel itself is allocating (writeback), not a syscall's
    /// caller: the reserve does not apply.
    kernel_alloc: bool,
    /// Source of `InodeData::gen` values.
    gen_counter: u64,
}

fn now() -> Timespec {
    Timespec::now()
}

macro_rules! alloc {
    ($s:expr) => {
        Alloc {
            reserve: $s.alloc_reserve(),
            sb: &$s.sb,
            groups: &mut $s.groups,
            dirty: &mut $s.gdirty,
            free_blocks: &mut $s.free_blocks,
            free_inodes: &mut $s.free_inodes,
            dev: &$s.name,
        }
    };
}

impl FsInner {
    /// The extent tree of inode `ino` (checksum seed `seed`).
    fn tree(&mut self, ino: u32, seed: u32) -> Tree<'_> {
        Tree {
            sb: &self.sb,
            bc: &mut self.bc,
            dev: &self.name,
            ino,
            seed,
        }
    }

    pub fn open(dev: Arc<dyn BlockDevice>, sb: Super, ro: bool) -> KResult<FsInner> {
        let name = dev.name().to_string();
        let mut bc = BufCache::new(dev.clone(), sb.block_size as usize);
        let mut groups = Vec::with_capacity(sb.group_count as usize);
        let itb =
            (sb.inodes_per_group as u64 * sb.inode_size as u64).div_ceil(sb.block_size as u64);
        let mut free_blocks = 0u64;
        let mut free_inodes = 0u64;
        let mut overhead = 0u64;
        for g in 0..sb.group_count {
            let (blk, off) = desc_location(&sb, g);
            if blk >= sb.blocks_count {
                corrupt(
                    &name,
                    &format!("group descriptor {g} beyond end of filesystem"),
                );
                return Err(Errno::EUCLEAN);
            }
            let b = bc.read(blk)?;
            let gd = Group::new(&b[off..off + sb.desc_size as usize], &sb);
            if (sb.metadata_csum() || sb.gdt_csum()) && gd.checksum(&sb, g) != gd.stored_checksum()
            {
                corrupt(
                    &name,
                    &format!("ext4_check_descriptors: Checksum for group {g} failed"),
                );
                return Err(Errno::EUCLEAN);
            }
            let ok = |b: u64, n: u64| b > sb.first_data_block as u64 && b + n <= sb.blocks_count;
            if !ok(gd.block_bitmap(), 1) || !ok(gd.inode_bitmap(), 1) || !ok(gd.inode_table(), itb)
            {
                corrupt(
                    &name,
                    &format!("ext4_check_descriptors: metadata of group {g} not in filesystem"),
                );
                return Err(Errno::EUCLEAN);
            }
            if gd.free_inodes() > sb.inodes_per_group || gd.free_blocks() > sb.blocks_per_group {
                corrupt(&name, &format!("group {g}: free counts out of range"));
                return Err(Errno::EUCLEAN);
            }
            free_blocks += gd.free_blocks() as u64;
            free_inodes += gd.free_inodes() as u64;
            overhead += 2 + itb;
            if sb.group_has_super(g) {
                overhead += 1 + super::group::gdt_blocks(&sb) + sb.reserved_gdt_blocks() as u64;
            }
            groups.push(gd);
        }
        let (total, _) = frame::stats();
        let mut fs = FsInner {
            free_blocks,
            free_inodes: free_inodes as u32,
            sb,
            groups,
            gdirty: BTreeSet::new(),
            bc,
            dev,
            name,
            ro,
            icache: HashMap::new(),
            npages: 0,
            page_limit: (total as usize / 2).max(256),
            overhead,
            sb_dirty: false,
            journal: None,
            pending_free: Vec::new(),
            durable_ticket: 0,
            data_written: false,
            reserve: Reserve::NONE,
            kernel_alloc: false,
            gen_counter: 0,
        };
        fs.reserve = Reserve::from_super(&fs.sb);
        let j = fs.sb.journal_inum();
        if j != 0 {
            if let Ok(d) = fs.iget(j) {
                fs.overhead += d.di.size() / fs.sb.block_size as u64;
            }
        }
        Ok(fs)
    }

    pub fn bs(&self) -> u64 {
        self.sb.block_size as u64
    }

    /// Who besides root may use the reserved blocks (resuid=, resgid=;
    /// None: the superblock's defaults).
    pub fn set_reserve_ids(&mut self, uid: Option<u32>, gid: Option<u32>) {
        self.reserve.resuid = uid.unwrap_or(self.sb.def_resuid());
        self.reserve.resgid = gid.unwrap_or(self.sb.def_resgid());
    }

    /// The reserve an allocation made now must leave alone.
    fn alloc_reserve(&self) -> Reserve {
        if self.kernel_alloc {
            Reserve::NONE
        } else {
            self.reserve
        }
    }

    fn check_rw(&self) -> KResult<()> {
        if self.ro {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    // ---- inodes ----

    fn inode_loc(&self, ino: u32) -> KResult<(u64, usize)> {
        if ino == 0 || ino > self.sb.inodes_count {
            corrupt(&self.name, &format!("inode #{ino} out of range"));
            return Err(Errno::EUCLEAN);
        }
        let ipg = self.sb.inodes_per_group;
        let g = (ino - 1) / ipg;
        let idx = ((ino - 1) % ipg) as u64;
        let byte = idx * self.sb.inode_size as u64;
        let blk = self.groups[g as usize].inode_table() + byte / self.bs();
        Ok((blk, (byte % self.bs()) as usize))
    }

    /// The cached inode `ino`, read and verified on first use.
    pub fn iget(&mut self, ino: u32) -> KResult<&mut InodeData> {
        if !self.icache.contains_key(&ino) {
            let (blk, off) = self.inode_loc(ino)?;
            let b = self.bc.read(blk)?;
            let di = DiskInode::new(&b[off..off + self.sb.inode_size as usize]);
            if di.raw.len() > 128 && 128 + di.extra_isize() > di.raw.len() {
                corrupt(
                    &self.name,
                    &format!("inode #{ino}: bad extra_isize {}", di.extra_isize()),
                );
                return Err(Errno::EUCLEAN);
            }
            if !di.verify(&self.sb, ino) {
                corrupt(
                    &self.name,
                    &format!("ext4_iget: inode #{ino}: checksum invalid"),
                );
                return Err(Errno::EUCLEAN);
            }
            if di.flags() & (EXT4_INLINE_DATA_FL | EXT4_EA_INODE_FL) != 0 {
                log::warn!(
                    "EXT4-fs ({}): inode #{ino}: inline data / EA inodes are not supported",
                    self.name
                );
                return Err(Errno::EOPNOTSUPP);
            }
            let gen = self.new_gen();
            self.icache.insert(
                ino,
                InodeData {
                    di,
                    dirty: false,
                    pages: BTreeMap::new(),
                    ra_next: 0,
                    gen,
                },
            );
        }
        Ok(self.icache.get_mut(&ino).expect("just inserted"))
    }

    pub fn di(&mut self, ino: u32) -> KResult<&DiskInode> {
        Ok(&self.iget(ino)?.di)
    }

    /// Change inode `ino` in memory; written back at sync.
    pub fn modify(&mut self, ino: u32, f: impl FnOnce(&mut DiskInode)) -> KResult<()> {
        self.check_rw()?;
        let d = self.iget(ino)?;
        f(&mut d.di);
        d.dirty = true;
        self.sb_dirty = true;
        Ok(())
    }

    fn write_inode(&mut self, ino: u32) -> KResult<()> {
        let (blk, off) = self.inode_loc(ino)?;
        let sb = self.sb.clone();
        let Some(d) = self.icache.get_mut(&ino) else {
            return Ok(());
        };
        if !d.dirty {
            return Ok(());
        }
        d.di.seal(&sb, ino);
        let raw = d.di.raw.clone();
        d.dirty = false;
        self.bc.write_part(blk, off, &raw)
    }

    fn seed(&mut self, ino: u32) -> KResult<u32> {
        let fs_seed = self.sb.csum_seed;
        Ok(self.iget(ino)?.di.csum_seed(fs_seed, ino))
    }

    // ---- block mapping ----

    /// Map logical block `lblk` of inode `ino`.
    pub fn bmap(&mut self, ino: u32, lblk: u64) -> KResult<Mapping> {
        let fs_seed = self.sb.csum_seed;
        let d = self.iget(ino)?;
        let flags = d.di.flags();
        let iblock = d.di.i_block().to_vec();
        let seed = d.di.csum_seed(fs_seed, ino);
        if flags & EXT4_EXTENTS_FL != 0 {
            if lblk > u32::MAX as u64 {
                return Ok(Mapping {
                    pblk: None,
                    uninit: false,
                    len: 1,
                });
            }
            self.tree(ino, seed).lookup(&iblock, lblk as u32)
        } else {
            let mut m = Map {
                sb: &self.sb,
                bc: &mut self.bc,
                dev: &self.name,
                ino,
            };
            Ok(Mapping {
                pblk: m.lookup(&iblock, lblk)?,
                uninit: false,
                len: 1,
            })
        }
    }

    /// Make logical blocks [lblk, lblk+count) of `ino` mapped and written
    /// (allocating holes, converting unwritten extents). All or nothing:
    /// when it fails (ENOSPC when the disk fills midway), every block it
    /// allocated is given back and the inode is left as it was, as Linux
    /// frees what it allocated for a failed write.
    pub fn ensure_mapped(&mut self, ino: u32, lblk: u64, count: u64) -> KResult<()> {
        self.check_rw()?;
        let end = lblk.checked_add(count).ok_or(Errno::EFBIG)?;
        if self.iget(ino)?.di.flags() & EXT4_EXTENTS_FL != 0 {
            self.map_extents(ino, lblk, end)
        } else {
            self.map_indirect(ino, lblk, end)
        }
    }

    /// [`Self::ensure_mapped`] for an extent-mapped file.
    fn map_extents(&mut self, ino: u32, lblk: u64, end: u64) -> KResult<()> {
        if end > u32::MAX as u64 {
            return Err(Errno::EFBIG);
        }
        let spb = self.bs() / 512;
        let fs_seed = self.sb.csum_seed;
        let d = self.iget(ino)?;
        let mut iblock = d.di.i_block().to_vec();
        let seed = d.di.csum_seed(fs_seed, ino);
        let (mut list, nodes) = self.tree(ino, seed).collect(&iblock)?;
        // Every block the new list and tree need is allocated before the
        // tree is touched, so a failure here only has to give them back.
        let mut fresh = Vec::new();
        let pool = match self.extent_blocks(ino, &mut list, nodes, lblk, end, &mut fresh) {
            Ok(pool) => pool,
            Err(e) => {
                self.give_back(&fresh);
                return Err(e);
            }
        };
        let mut added: i64 = fresh.iter().map(|&(_, n)| n as i64).sum();
        let (_, spare) = self
            .tree(ino, seed)
            .rebuild(&mut iblock, &list, pool, &mut |_| Err(Errno::ENOSPC))?;
        for b in spare {
            self.free_blocks(b, 1)?;
            added -= 1;
        }
        self.modify(ino, |di| di.i_block_mut().copy_from_slice(&iblock))?;
        self.add_sectors(ino, added * spb as i64)
    }

    /// Map [lblk, end) in `list` (allocating holes, marking unwritten
    /// extents written) and return the node blocks the tree of the new
    /// list needs: `nodes` first, then new ones. Each new run is recorded
    /// in `fresh`.
    fn extent_blocks(
        &mut self,
        ino: u32,
        list: &mut Vec<extents::Extent>,
        nodes: Vec<u64>,
        lblk: u64,
        end: u64,
        fresh: &mut Vec<(u64, u32)>,
    ) -> KResult<Vec<u64>> {
        let mut l = lblk;
        let mut goal = list.last().map(|e| e.pblk + e.len as u64).unwrap_or(0);
        if goal == 0 {
            goal = self.groups[((ino - 1) / self.sb.inodes_per_group) as usize].inode_table();
        }
        while l < end {
            let cur = list
                .iter()
                .find(|e| e.lblk as u64 <= l && l < e.end())
                .copied();
            match cur {
                Some(e) if !e.uninit => l = e.end(),
                Some(e) => {
                    // Written now: mark these blocks initialised.
                    let stop = e.end().min(end);
                    for x in l..stop {
                        extents::insert(list, x as u32, e.pblk + (x - e.lblk as u64));
                    }
                    l = stop;
                }
                None => {
                    let next = list
                        .iter()
                        .filter(|e| e.lblk as u64 > l)
                        .map(|e| e.lblk as u64)
                        .min();
                    let hole_end = next.unwrap_or(u64::MAX).min(end);
                    let want = (hole_end - l).min(extents::MAX_LEN as u64) as u32;
                    let (b, n) = alloc!(self).blocks(&mut self.bc, goal, want)?;
                    fresh.push((b, n));
                    for k in 0..n as u64 {
                        extents::insert(list, (l + k) as u32, b + k);
                    }
                    goal = b + n as u64;
                    l += n as u64;
                }
            }
        }
        // The tree may need a new index or leaf block exactly when the disk
        // is full: that is an ENOSPC like the data's.
        let need = tree_nodes(list.len(), self.bs() as usize);
        let mut pool = nodes;
        while pool.len() < need {
            let b = alloc!(self).block(&mut self.bc, goal)?;
            fresh.push((b, 1));
            pool.push(b);
        }
        Ok(pool)
    }

    /// [`Self::ensure_mapped`] for a block-mapped (ext2/ext3) file.
    fn map_indirect(&mut self, ino: u32, lblk: u64, end: u64) -> KResult<()> {
        let spb = self.bs() / 512;
        let mut iblock = self.iget(ino)?.di.i_block().to_vec();
        let goal0 = self.groups[((ino - 1) / self.sb.inodes_per_group) as usize].inode_table();
        // New blocks, and the old contents of the indirect blocks that
        // got pointers to them: what a failure puts back.
        let mut fresh: Vec<(u64, u32)> = Vec::new();
        let mut saved: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let mut res = Ok(());
        let reserve = self.alloc_reserve();
        for l in lblk..end {
            let mut m = Map {
                sb: &self.sb,
                bc: &mut self.bc,
                dev: &self.name,
                ino,
            };
            match m.lookup(&iblock, l) {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => {
                    res = Err(e);
                    break;
                }
            }
            let Self {
                sb,
                groups,
                gdirty,
                free_blocks,
                free_inodes,
                bc,
                name,
                ..
            } = self;
            let (sb, name): (&Super, &str) = (sb, name.as_str());
            let mut a = Alloc {
                sb,
                groups,
                dirty: gdirty,
                free_blocks,
                free_inodes,
                dev: name,
                reserve,
            };
            let mut m = Map {
                sb,
                bc,
                dev: name,
                ino,
            };
            let r = m.map_alloc(&mut iblock, l, &mut saved, &mut |bc| {
                let b = a.block(bc, goal0)?;
                fresh.push((b, 1));
                Ok(b)
            });
            if let Err(e) = r {
                res = Err(e);
                break;
            }
        }
        if let Err(e) = res {
            let new: BTreeSet<u64> = fresh.iter().map(|&(b, _)| b).collect();
            for (b, old) in saved {
                if !new.contains(&b) {
                    if let Err(e) = self.bc.write(b, &old) {
                        log::error!("EXT4-fs ({}): restoring indirect block {b}: {e}", self.name);
                    }
                }
            }
            self.give_back(&fresh);
            return Err(e);
        }
        let added: i64 = fresh.len() as i64;
        self.modify(ino, |di| di.i_block_mut().copy_from_slice(&iblock))?;
        self.add_sectors(ino, added * spb as i64)
    }

    /// Free blocks a failed allocation took and never recorded anywhere:
    /// at once, even with a journal, since no committed metadata can
    /// point at them.
    fn give_back(&mut self, fresh: &[(u64, u32)]) {
        for &(b, n) in fresh.iter().rev() {
            if let Err(e) = alloc!(self).free_blocks_run(&mut self.bc, b, n as u64) {
                log::error!("EXT4-fs ({}): giving back blocks {b}+{n}: {e}", self.name);
            }
        }
    }

    /// One block for metadata (an xattr block) near `goal`.
    pub(super) fn alloc_block(&mut self, goal: u64) -> KResult<u64> {
        self.check_rw()?;
        alloc!(self).block(&mut self.bc, goal)
    }

    /// Free blocks (at the next commit when journaling).
    fn free_blocks(&mut self, b: u64, n: u64) -> KResult<()> {
        if self.journal.is_some() {
            for x in b..b + n {
                self.bc.forget(x);
            }
            self.pending_free.push((b, n));
            return Ok(());
        }
        alloc!(self).free_blocks_run(&mut self.bc, b, n)
    }

    /// Map every block of the journal inode and open the journal.
    pub fn load_journal(&mut self) -> Result<super::journal::Journal, String> {
        let ino = self.sb.journal_inum();
        let size = self
            .iget(ino)
            .map_err(|e| format!("cannot read journal inode: {e}"))?
            .di
            .size();
        let n = size / self.bs();
        if !(16..=(1 << 24)).contains(&n) {
            return Err(format!("journal inode size {size} invalid"));
        }
        let mut map = Vec::with_capacity(n as usize);
        let mut l = 0u64;
        while l < n {
            let m = self
                .bmap(ino, l)
                .map_err(|e| format!("cannot map journal: {e}"))?;
            let Some(p) = m.pblk else {
                return Err(format!("journal has a hole at block {l}"));
            };
            let run = (m.len as u64).clamp(1, n - l);
            map.extend((0..run).map(|k| p + k));
            l += run;
        }
        super::journal::Journal::open(self.dev.clone(), &self.name, map, self.bs() as usize)
    }

    pub(super) fn add_sectors(&mut self, ino: u32, delta: i64) -> KResult<()> {
        if delta == 0 {
            return Ok(());
        }
        let sb = self.sb.clone();
        self.modify(ino, |di| {
            let s = di.sectors(&sb) as i64 + delta;
            di.set_sectors(s.max(0) as u64);
        })
    }

    /// Free every block of `ino` at logical block `from` and past.
    fn free_from(&mut self, ino: u32, from: u64) -> KResult<()> {
        let spb = (self.bs() / 512) as i64;
        let fs_seed = self.sb.csum_seed;
        let d = self.iget(ino)?;
        let flags = d.di.flags();
        let mut iblock = d.di.i_block().to_vec();
        let seed = d.di.csum_seed(fs_seed, ino);
        let mut freed = 0i64;
        if flags & EXT4_EXTENTS_FL != 0 {
            let from = from.min(u32::MAX as u64) as u32;
            let (mut list, nodes) = self.tree(ino, seed).collect(&iblock)?;
            let runs = extents::truncate(&mut list, from);
            if runs.is_empty() {
                return Ok(());
            }
            for (b, n) in runs {
                self.free_blocks(b, n as u64)?;
                freed += n as i64;
            }
            let (_, spare) =
                self.tree(ino, seed)
                    .rebuild(&mut iblock, &list, nodes, &mut |_| Err(Errno::ENOSPC))?;
            for b in spare {
                self.free_blocks(b, 1)?;
                freed += 1;
            }
        } else {
            let mut blocks = Vec::new();
            {
                let mut m = Map {
                    sb: &self.sb,
                    bc: &mut self.bc,
                    dev: &self.name,
                    ino,
                };
                m.truncate(&mut iblock, from, &mut |b| blocks.push(b))?;
            }
            for b in blocks {
                self.free_blocks(b, 1)?;
                freed += 1;
            }
        }
        self.modify(ino, |di| di.i_block_mut().copy_from_slice(&iblock))?;
        self.add_sectors(ino, -freed * spb)
    }

    // ---- directories ----

    fn dir_block(&mut self, ino: u32, idx: u64) -> KResult<Option<(u64, Vec<u8>)>> {
        let m = self.bmap(ino, idx)?;
        let Some(p) = m.pblk else {
            return Ok(None);
        };
        if m.uninit {
            return Ok(None);
        }
        let b = self.bc.read(p)?;
        if self.sb.metadata_csum() && dir::has_tail(&b) {
            let seed = self.seed(ino)?;
            if !dir::verify_tail(&b, seed) {
                corrupt(
                    &self.name,
                    &format!("inode #{ino}: directory block {idx} checksum invalid"),
                );
                return Err(Errno::EUCLEAN);
            }
        }
        Ok(Some((p, b)))
    }

    fn dir_nblocks(&mut self, ino: u32) -> KResult<u64> {
        let d = self.iget(ino)?;
        if d.di.mode() & S_IFMT != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let n = d.di.size() / self.sb.block_size as u64;
        if n > 1 << 22 {
            corrupt(&self.name, &format!("inode #{ino}: directory too large"));
            return Err(Errno::EUCLEAN);
        }
        Ok(n)
    }

    fn parse_dir(&self, ino: u32, b: &[u8]) -> KResult<Vec<dir::Entry>> {
        dir::parse(b, self.sb.filetype(), self.sb.inodes_count).map_err(|m| {
            corrupt(&self.name, &format!("inode #{ino}: {m}"));
            Errno::EUCLEAN
        })
    }

    /// Every entry but "." and ".." as (name, inode, file type).
    pub fn readdir(&mut self, ino: u32) -> KResult<Vec<(Vec<u8>, u32, u8)>> {
        let n = self.dir_nblocks(ino)?;
        let mut out = Vec::new();
        for i in 0..n {
            let Some((_, b)) = self.dir_block(ino, i)? else {
                continue;
            };
            for e in self.parse_dir(ino, &b)? {
                if e.ino != 0 && e.name != b"." && e.name != b".." {
                    out.push((e.name, e.ino, e.ftype));
                }
            }
        }
        Ok(out)
    }

    pub fn lookup(&mut self, ino: u32, name: &[u8]) -> KResult<Option<u32>> {
        let n = self.dir_nblocks(ino)?;
        for i in 0..n {
            let Some((_, b)) = self.dir_block(ino, i)? else {
                continue;
            };
            for e in self.parse_dir(ino, &b)? {
                if e.ino != 0 && e.name == name {
                    return Ok(Some(e.ino));
                }
            }
        }
        Ok(None)
    }

    /// Make an htree directory linear before changing it.
    fn unindex(&mut self, ino: u32) -> KResult<()> {
        if self.iget(ino)?.di.flags() & EXT4_INDEX_FL == 0 {
            return Ok(());
        }
        let csum = self.sb.metadata_csum();
        let seed = self.seed(ino)?;
        let n = self.dir_nblocks(ino)?;
        for i in 0..n {
            let m = self.bmap(ino, i)?;
            let Some(p) = m.pblk else { continue };
            let mut b = self.bc.read(p)?;
            if dir::unindex_block(&mut b, i == 0, csum) {
                dir::seal(&mut b, seed);
                self.bc.write(p, &b)?;
            }
        }
        self.modify(ino, |di| di.set_flags(di.flags() & !EXT4_INDEX_FL))
    }

    fn touch_dir(&mut self, ino: u32) -> KResult<()> {
        let t = now();
        self.modify(ino, |di| {
            di.set_mtime(t);
            di.set_ctime(t);
        })
    }

    pub fn dir_add(&mut self, dino: u32, name: &[u8], ino: u32, ftype: u8) -> KResult<()> {
        self.check_rw()?;
        self.unindex(dino)?;
        let ft = self.sb.filetype();
        let seed = self.seed(dino)?;
        let n = self.dir_nblocks(dino)?;
        for i in 0..n {
            let Some((p, mut b)) = self.dir_block(dino, i)? else {
                continue;
            };
            let es = self.parse_dir(dino, &b)?;
            if dir::insert(&mut b, &es, name, ino, ftype, ft) {
                dir::seal(&mut b, seed);
                self.bc.write(p, &b)?;
                return self.touch_dir(dino);
            }
        }
        // A new block at the end.
        self.ensure_mapped(dino, n, 1)?;
        let p = self.bmap(dino, n)?.pblk.ok_or(Errno::EIO)?;
        let mut b = dir::empty_block(self.bs() as usize, self.sb.metadata_csum());
        let es = self.parse_dir(dino, &b)?;
        if !dir::insert(&mut b, &es, name, ino, ftype, ft) {
            return Err(Errno::ENAMETOOLONG);
        }
        dir::seal(&mut b, seed);
        self.bc.write(p, &b)?;
        let bs = self.bs();
        self.modify(dino, |di| di.set_size((n + 1) * bs))?;
        self.touch_dir(dino)
    }

    pub fn dir_remove(&mut self, dino: u32, name: &[u8]) -> KResult<()> {
        self.check_rw()?;
        self.unindex(dino)?;
        let seed = self.seed(dino)?;
        let n = self.dir_nblocks(dino)?;
        for i in 0..n {
            let Some((p, mut b)) = self.dir_block(dino, i)? else {
                continue;
            };
            let es = self.parse_dir(dino, &b)?;
            if dir::remove(&mut b, &es, name) {
                dir::seal(&mut b, seed);
                self.bc.write(p, &b)?;
                return self.touch_dir(dino);
            }
        }
        Err(Errno::ENOENT)
    }

    pub fn dir_retarget(&mut self, dino: u32, name: &[u8], ino: u32, ftype: u8) -> KResult<()> {
        self.check_rw()?;
        self.unindex(dino)?;
        let ft = self.sb.filetype();
        let seed = self.seed(dino)?;
        let n = self.dir_nblocks(dino)?;
        for i in 0..n {
            let Some((p, mut b)) = self.dir_block(dino, i)? else {
                continue;
            };
            let es = self.parse_dir(dino, &b)?;
            if dir::retarget(&mut b, &es, name, ino, ftype, ft) {
                dir::seal(&mut b, seed);
                self.bc.write(p, &b)?;
                return self.touch_dir(dino);
            }
        }
        Err(Errno::ENOENT)
    }

    pub fn dir_is_empty(&mut self, ino: u32) -> KResult<bool> {
        Ok(self.readdir(ino)?.is_empty())
    }

    // ---- inode life cycle ----

    /// A new inode of `mode` (with type bits) for directory `parent`.
    pub fn new_inode(&mut self, parent: u32, mode: u32, uid: u32, gid: u32) -> KResult<u32> {
        self.check_rw()?;
        let is_dir = mode & S_IFMT == S_IFDIR;
        let goal = (parent - 1) / self.sb.inodes_per_group;
        let ino = alloc!(self).inode(&mut self.bc, goal, is_dir)?;
        let mut di = DiskInode::new(&vec![0u8; self.sb.inode_size as usize]);
        if di.raw.len() > 128 {
            let extra = 32.min(di.raw.len() - 128) as u16;
            super::put16(&mut di.raw, 0x80, extra);
        }
        di.set_mode(mode);
        di.set_uid(uid);
        di.set_gid(gid);
        di.set_links(if is_dir { 2 } else { 1 });
        let t = now();
        di.set_atime(t);
        di.set_ctime(t);
        di.set_mtime(t);
        di.set_crtime(t);
        di.set_generation(crate::kernel::time::realtime_ns() as u32 ^ ino.rotate_left(16));
        let kind = mode & S_IFMT;
        if self.sb.extents() && (kind == S_IFREG || kind == S_IFDIR || kind == S_IFLNK) {
            di.set_flags(EXT4_EXTENTS_FL);
            extents::empty_root(di.i_block_mut());
        }
        let gen = self.new_gen();
        self.icache.insert(
            ino,
            InodeData {
                di,
                dirty: true,
                pages: BTreeMap::new(),
                ra_next: 0,
                gen,
            },
        );
        self.sb_dirty = true;
        Ok(ino)
    }

    /// Set the device number of a device node (old encoding when it fits).
    pub fn set_rdev(&mut self, ino: u32, rdev: u64) -> KResult<()> {
        let (maj, min) = (crate::drivers::major(rdev), crate::drivers::minor(rdev));
        self.modify(ino, |di| {
            let ib = di.i_block_mut();
            ib.fill(0);
            if maj < 256 && min < 256 {
                put32(ib, 0, (maj << 8) | min);
            } else {
                put32(ib, 4, (min & 0xff) | (maj << 8) | ((min & !0xff) << 12));
            }
        })
    }

    pub fn rdev(&mut self, ino: u32) -> KResult<u64> {
        let di = self.di(ino)?;
        let ib = di.i_block();
        let old = le32(ib, 0);
        Ok(if old != 0 {
            crate::drivers::mkdev((old >> 8) & 0xff, old & 0xff)
        } else {
            let n = le32(ib, 4);
            crate::drivers::mkdev((n & 0xfff00) >> 8, (n & 0xff) | ((n >> 12) & 0xfff00))
        })
    }

    /// Give back an inode nobody links to or holds (blocks, xattr block,
    /// bitmap bit).
    pub fn release(&mut self, ino: u32) -> KResult<()> {
        if self.ro {
            return Ok(());
        }
        let d = self.iget(ino)?;
        if d.di.links() != 0 {
            return Ok(());
        }
        let mode = d.di.mode();
        let is_dir = mode & S_IFMT == S_IFDIR;
        // Released already (at shutdown, while still open)?
        if !alloc!(self).inode_in_use(&mut self.bc, ino)? {
            return Ok(());
        }
        self.orphan_del(ino)?;
        self.drop_pages(ino, 0);
        let fast_link = mode & S_IFMT == S_IFLNK && self.is_fast_symlink(ino)?;
        let has_blocks = matches!(mode & S_IFMT, S_IFREG | S_IFDIR | S_IFLNK) && !fast_link;
        if has_blocks {
            self.free_from(ino, 0)?;
        }
        let acl = self.di(ino)?.file_acl();
        if acl != 0 {
            self.release_xattr_block(acl)?;
        }
        let t = now().sec as u32;
        self.modify(ino, |di| {
            di.set_dtime(t);
            di.set_size(0);
            di.set_file_acl(0);
            di.set_sectors(0);
        })?;
        self.write_inode(ino)?;
        self.icache.remove(&ino);
        alloc!(self).free_inode(&mut self.bc, ino, is_dir)
    }

    fn last_orphan(&self) -> u32 {
        le32(&self.sb.raw, 0xE8)
    }
    fn set_last_orphan(&mut self, ino: u32) {
        put32(&mut self.sb.raw, 0xE8, ino);
        self.sb_dirty = true;
    }

    /// Put an inode whose last link is gone on the orphan list (chained
    /// through i_dtime), in the same transaction as the unlink: if the
    /// system dies while it is still open, e2fsck or the next mount frees
    /// it.
    pub fn orphan_add(&mut self, ino: u32) -> KResult<()> {
        let head = self.last_orphan();
        if head == ino {
            return Ok(());
        }
        self.modify(ino, |di| di.set_dtime(head))?;
        self.set_last_orphan(ino);
        Ok(())
    }

    /// Take `ino` off the orphan list if it is there.
    fn orphan_del(&mut self, ino: u32) -> KResult<()> {
        let next = self.di(ino)?.dtime();
        let mut cur = self.last_orphan();
        if cur == ino {
            self.set_last_orphan(next);
            return Ok(());
        }
        for _ in 0..65536 {
            if cur == 0 || cur > self.sb.inodes_count {
                return Ok(());
            }
            let n = self.di(cur)?.dtime();
            if n == ino {
                return self.modify(cur, |di| di.set_dtime(next));
            }
            cur = n;
        }
        Ok(())
    }

    /// Free the inodes left on the orphan list by a crash (rw mount).
    pub fn orphan_cleanup(&mut self) -> KResult<()> {
        let mut n = 0;
        for _ in 0..65536 {
            let ino = self.last_orphan();
            if ino == 0 {
                break;
            }
            if ino > self.sb.inodes_count || self.di(ino)?.links() != 0 {
                corrupt(
                    &self.name,
                    &format!("bad orphan inode #{ino}; orphan list dropped"),
                );
                self.set_last_orphan(0);
                break;
            }
            self.release(ino)?;
            n += 1;
        }
        if n > 0 {
            log::info!("EXT4-fs ({}): {n} orphan inodes deleted", self.name);
        }
        Ok(())
    }

    /// Drop one reference to xattr block `b` (freeing it with the last).
    pub(super) fn release_xattr_block(&mut self, b: u64) -> KResult<()> {
        if b >= self.sb.blocks_count || b <= self.sb.first_data_block as u64 {
            return Ok(());
        }
        let mut blk = self.bc.read(b)?;
        if le32(&blk, 0) != 0xEA02_0000 {
            return Ok(());
        }
        let refs = le32(&blk, 4);
        if refs <= 1 {
            self.free_blocks(b, 1)
        } else {
            put32(&mut blk, 4, refs - 1);
            if self.sb.metadata_csum() {
                let c = super::xattr::block_csum(self.sb.csum_seed, b, &blk);
                put32(&mut blk, 0x10, c);
            }
            self.bc.write(b, &blk)
        }
    }

    pub fn is_fast_symlink(&mut self, ino: u32) -> KResult<bool> {
        let sb = self.sb.clone();
        let di = self.di(ino)?;
        let ea = if di.file_acl() != 0 {
            sb.block_size as u64 / 512
        } else {
            0
        };
        Ok(di.sectors(&sb).saturating_sub(ea) == 0 && di.size() < 60)
    }

    pub fn readlink(&mut self, ino: u32) -> KResult<Vec<u8>> {
        let size = self.di(ino)?.size();
        if size == 0 || size >= self.bs() {
            corrupt(
                &self.name,
                &format!("inode #{ino}: bad symlink size {size}"),
            );
            return Err(Errno::EUCLEAN);
        }
        if self.is_fast_symlink(ino)? {
            return Ok(self.di(ino)?.i_block()[..size as usize].to_vec());
        }
        let p = self.bmap(ino, 0)?.pblk.ok_or(Errno::EUCLEAN)?;
        let b = self.bc.read(p)?;
        Ok(b[..size as usize].to_vec())
    }

    pub fn write_symlink(&mut self, ino: u32, target: &[u8]) -> KResult<()> {
        if target.len() < 60 {
            self.modify(ino, |di| {
                di.set_flags(di.flags() & !EXT4_EXTENTS_FL);
                let ib = di.i_block_mut();
                ib.fill(0);
                ib[..target.len()].copy_from_slice(target);
                di.set_size(target.len() as u64);
            })
        } else {
            self.ensure_mapped(ino, 0, 1)?;
            let p = self.bmap(ino, 0)?.pblk.ok_or(Errno::EIO)?;
            let mut b = vec![0u8; self.bs() as usize];
            b[..target.len()].copy_from_slice(target);
            self.bc.write(p, &b)?;
            self.modify(ino, |di| di.set_size(target.len() as u64))
        }
    }

    // ---- file data (page cache) ----

    fn new_gen(&mut self) -> u64 {
        self.gen_counter += 1;
        self.gen_counter
    }

    /// The data or block map of `ino` changes: reads in flight without
    /// the lock must not fill the cache with what they got.
    pub(super) fn data_changed(&mut self, ino: u32) {
        let g = self.new_gen();
        if let Some(d) = self.icache.get_mut(&ino) {
            d.gen = g;
        }
    }

    fn page_limit_check(&mut self) {
        if self.npages < self.page_limit {
            return;
        }
        // Over budget: write everything back, then drop clean pages nobody
        // maps.
        if !self.ro {
            let _ = self.writeback_all_pages(Mapped::All);
        }
        self.drop_clean_pages();
    }

    /// Give back the frames of clean pages nobody maps; how many.
    pub fn drop_clean_pages(&mut self) -> usize {
        let mut dropped = 0;
        for d in self.icache.values_mut() {
            let before = dropped;
            d.pages.retain(|_, p| {
                if !p.dirty && frame::refcount(p.pfn) == 1 {
                    frame::put(p.pfn);
                    dropped += 1;
                    false
                } else {
                    true
                }
            });
            if dropped != before {
                self.gen_counter += 1;
                d.gen = self.gen_counter;
            }
        }
        self.npages -= dropped;
        dropped
    }

    /// The page-cache frame of page `idx` (no extra reference). A miss
    /// that continues a sequential run also reads the pages after it, in
    /// as few host reads as the blocks allow (read-ahead).
    pub fn get_page(&mut self, ino: u32, idx: u64) -> KResult<Pfn> {
        let d = self.iget(ino)?;
        if let Some(p) = d.pages.get(&idx) {
            return Ok(p.pfn);
        }
        let n = self.readahead_count(ino, idx)?;
        self.page_limit_check();
        self.read_pages(ino, idx, n)?;
        match self.iget(ino)?.pages.get(&idx) {
            Some(p) => Ok(p.pfn),
            None => Err(Errno::EIO),
        }
    }

    /// Read pages [idx, idx+n) of `ino` (none of them cached) into the
    /// page cache: runs of physically contiguous blocks are one device
    /// read each.
    fn read_pages(&mut self, ino: u32, idx: u64, n: u64) -> KResult<()> {
        let plan = self.plan_pages(ino, idx, n)?;
        let mut data = vec![0u8; (n * PAGE_SIZE) as usize];
        for &(o, p, cnt) in &plan.runs {
            let len = (cnt * plan.bs) as usize;
            self.dev.read_at(p * plan.bs, &mut data[o..o + len])?;
        }
        self.insert_pages(&plan, data)
    }

    /// The device reads that bring pages [idx, idx+n) of `ino` in.
    fn plan_pages(&mut self, ino: u32, idx: u64, n: u64) -> KResult<ReadPlan> {
        let bs = self.bs();
        let per = PAGE_SIZE / bs;
        let d = self.iget(ino)?;
        let (size, gen) = (d.di.size(), d.gen);
        let mut runs: Vec<(usize, u64, u64)> = Vec::new();
        let first = idx * per;
        let mut lblk = first;
        let end = ((idx + n) * per).min(size.div_ceil(bs));
        while lblk < end {
            let m = self.bmap(ino, lblk)?;
            if let (Some(p), false) = (m.pblk, m.uninit) {
                let o = ((lblk - first) * bs) as usize;
                match runs.last_mut() {
                    Some((ro, rp, rn)) if *rp + *rn == p && *ro + (*rn * bs) as usize == o => {
                        *rn += 1
                    }
                    _ => runs.push((o, p, 1)),
                }
            }
            lblk += 1;
        }
        Ok(ReadPlan {
            ino,
            idx,
            n,
            runs,
            size,
            gen,
            bs,
        })
    }

    /// Put the pages `plan` read into the cache (those not there yet).
    fn insert_pages(&mut self, plan: &ReadPlan, mut data: Vec<u8>) -> KResult<()> {
        // Whatever the disk holds past the end of the file reads as zeros
        // (and stays zero if the file grows over it).
        let (idx, n, size) = (plan.idx, plan.n, plan.size);
        let start = idx * PAGE_SIZE;
        if size < start + n * PAGE_SIZE {
            let keep = size.saturating_sub(start) as usize;
            data[keep..].fill(0);
        }
        for k in 0..n {
            if self.iget(plan.ino)?.pages.contains_key(&(idx + k)) {
                continue;
            }
            let pfn = frame::alloc_raw()?;
            let o = (k * PAGE_SIZE) as usize;
            frame::write(pfn, 0, &data[o..o + PAGE_SIZE as usize]);
            self.iget(plan.ino)?.pages.insert(
                idx + k,
                Page {
                    pfn,
                    dirty: false,
                    mapped: false,
                },
            );
            self.npages += 1;
        }
        Ok(())
    }

    /// Read from the cache as `read` does, but stop at the first page not
    /// there and say which device reads would bring it in (with the
    /// read-ahead `get_page` does), for the caller to do them without
    /// the lock.
    pub fn read_or_plan(&mut self, ino: u32, off: u64, buf: &mut [u8]) -> KResult<ReadStep> {
        let size = self.di(ino)?.size();
        if off >= size {
            return Ok(ReadStep::Done(0));
        }
        let n = buf.len().min((size - off) as usize);
        let mut done = 0;
        while done < n {
            let pos = off + done as u64;
            let idx = pos / PAGE_SIZE;
            let po = (pos % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - po).min(n - done);
            let d = self.iget(ino)?;
            let Some(p) = d.pages.get(&idx) else {
                return Ok(ReadStep::Miss(done, self.plan_miss(ino, idx)?));
            };
            frame::read(p.pfn, po, &mut buf[done..done + chunk]);
            done += chunk;
        }
        Ok(ReadStep::Done(n))
    }

    /// The device reads for page `idx`, which the cache misses, and its
    /// read-ahead (what `get_page` would read under the lock).
    fn plan_miss(&mut self, ino: u32, idx: u64) -> KResult<ReadPlan> {
        let count = self.readahead_count(ino, idx)?;
        self.page_limit_check();
        self.plan_pages(ino, idx, count)
    }

    /// Is page `idx` of `ino` inside the file and missing from the cache
    /// (`get_page` would read the disk)?
    pub fn page_missing(&mut self, ino: u32, idx: u64) -> KResult<bool> {
        let d = self.iget(ino)?;
        Ok(idx.saturating_mul(PAGE_SIZE) < d.di.size() && !d.pages.contains_key(&idx))
    }

    /// For a page fault that may sleep: the reads that bring page `idx`
    /// in, None if it is cached or past the end of the file.
    pub fn plan_page(&mut self, ino: u32, idx: u64) -> KResult<Option<ReadPlan>> {
        if !self.page_missing(ino, idx)? {
            return Ok(None);
        }
        self.plan_miss(ino, idx).map(Some)
    }

    /// Fill the cache with what `plan` read without the lock, unless the
    /// file changed meanwhile (then false: plan again).
    pub fn fill(&mut self, plan: &ReadPlan, data: Vec<u8>) -> KResult<bool> {
        if self.iget(plan.ino)?.gen != plan.gen {
            return Ok(false);
        }
        self.insert_pages(plan, data)?;
        Ok(true)
    }

    /// How many pages from `idx` (a miss) to read: the read-ahead window
    /// if the reader goes on sequentially, up to the next cached page.
    fn readahead_count(&mut self, ino: u32, idx: u64) -> KResult<u64> {
        let d = self.iget(ino)?;
        let sequential = idx == 0 || d.ra_next == idx || d.pages.contains_key(&(idx - 1));
        let size = d.di.size();
        let last = size.div_ceil(PAGE_SIZE).max(idx + 1);
        let mut n = if sequential { READAHEAD_PAGES } else { 1 };
        n = n.min(last - idx).max(1);
        if let Some((&next, _)) = d.pages.range(idx..).next() {
            n = n.min(next - idx);
        }
        d.ra_next = idx + n;
        Ok(n)
    }

    pub fn read(&mut self, ino: u32, off: u64, buf: &mut [u8]) -> KResult<usize> {
        let size = self.di(ino)?.size();
        if off >= size {
            return Ok(0);
        }
        let n = buf.len().min((size - off) as usize);
        let mut done = 0;
        while done < n {
            let pos = off + done as u64;
            let idx = pos / PAGE_SIZE;
            let po = (pos % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - po).min(n - done);
            let pfn = self.get_page(ino, idx)?;
            frame::read(pfn, po, &mut buf[done..done + chunk]);
            done += chunk;
        }
        Ok(n)
    }

    pub fn write(&mut self, ino: u32, off: u64, buf: &[u8]) -> KResult<usize> {
        self.check_rw()?;
        if buf.is_empty() {
            return Ok(0);
        }
        self.data_changed(ino);
        let end = off.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        let extents = self.iget(ino)?.di.flags() & EXT4_EXTENTS_FL != 0;
        let maxsize = self.max_file_bytes(extents);
        if end > maxsize {
            return Err(Errno::EFBIG);
        }
        let bs = self.bs();
        // Blocks freed since the last commit are not reusable until it is
        // made; if they are needed, commit now, before this write changes
        // anything. (The reserved blocks count as used here: most writers
        // may not have them.)
        let need = end.div_ceil(bs) - off / bs + self.reserve.blocks;
        if need + 64 > self.free_blocks && !self.pending_free.is_empty() {
            self.sync_start(Mapped::None)?;
        }
        // Load the pages first: holes and unwritten extents read as zeros
        // now, while the blocks about to back them still hold old data on
        // disk. Dirty pages stay in the cache until written back.
        for idx in off / PAGE_SIZE..end.div_ceil(PAGE_SIZE) {
            self.get_page(ino, idx)?;
            if let Some(p) = self.iget(ino)?.pages.get_mut(&idx) {
                p.dirty = true;
            }
        }
        // Allocate first, so ENOSPC is reported here and not lost at sync.
        let len = self.map_for_write(ino, off, buf.len())?;
        let buf = &buf[..len];
        let end = off + len as u64;
        let mut done = 0;
        while done < buf.len() {
            let pos = off + done as u64;
            let idx = pos / PAGE_SIZE;
            let po = (pos % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - po).min(buf.len() - done);
            let pfn = self.get_page(ino, idx)?;
            frame::write(pfn, po, &buf[done..done + chunk]);
            if let Some(p) = self.iget(ino)?.pages.get_mut(&idx) {
                p.dirty = true;
            }
            done += chunk;
        }
        let t = now();
        self.modify(ino, |di| {
            if end > di.size() {
                di.set_size(end);
            }
            di.set_mtime(t);
            di.set_ctime(t);
        })?;
        Ok(done)
    }

    /// Map the blocks under a write of `len` bytes at `off`; how many
    /// bytes from `off` are mapped. A disk that fills midway gets what
    /// fits, a short write as with Linux; ENOSPC only when nothing does.
    fn map_for_write(&mut self, ino: u32, off: u64, len: usize) -> KResult<usize> {
        let bs = self.bs();
        let first = off / bs;
        let n = (off + len as u64).div_ceil(bs) - first;
        match self.ensure_mapped(ino, first, n) {
            Err(Errno::ENOSPC) if n > 1 => {}
            r => return r.map(|_| len),
        }
        // (Each call is all or nothing; this runs once per full disk.)
        let mut k = 0;
        while k < n && self.ensure_mapped(ino, first + k, 1).is_ok() {
            k += 1;
        }
        match ((first + k) * bs).saturating_sub(off) {
            0 => Err(Errno::ENOSPC),
            fit => Ok((fit as usize).min(len)),
        }
    }

    /// A page for mmap, with a reference for the caller.
    pub fn map_page(&mut self, ino: u32, idx: u64) -> KResult<Pfn> {
        let pfn = self.get_page(ino, idx)?;
        if let Some(p) = self.iget(ino)?.pages.get_mut(&idx) {
            p.mapped = true;
        }
        frame::get(pfn);
        Ok(pfn)
    }

    fn drop_pages(&mut self, ino: u32, from_idx: u64) {
        self.data_changed(ino);
        if let Some(d) = self.icache.get_mut(&ino) {
            let gone = d.pages.split_off(&from_idx);
            self.npages -= gone.len();
            for (_, p) in gone {
                frame::put(p.pfn);
            }
        }
    }

    pub fn truncate(&mut self, ino: u32, size: u64) -> KResult<()> {
        self.check_rw()?;
        self.data_changed(ino);
        let old = self.di(ino)?.size();
        let bs = self.bs();
        if size < old {
            // Zero the tail of the last partial page so a later extension
            // reads zeros.
            if size % PAGE_SIZE != 0 {
                let idx = size / PAGE_SIZE;
                let pfn = self.get_page(ino, idx)?;
                let po = (size % PAGE_SIZE) as usize;
                frame::zero(pfn, po, PAGE_SIZE as usize - po);
                if let Some(p) = self.iget(ino)?.pages.get_mut(&idx) {
                    p.dirty = true;
                }
            }
            self.drop_pages(ino, size.div_ceil(PAGE_SIZE));
            self.free_from(ino, size.div_ceil(bs))?;
        }
        let t = now();
        self.modify(ino, |di| {
            di.set_size(size);
            di.set_mtime(t);
            di.set_ctime(t);
        })
    }

    /// Write the dirty pages of `ino` (and, if `check_mapped`, the pages
    /// a shared mapping may have changed).
    fn writeback_pages(&mut self, ino: u32, check_mapped: bool) -> KResult<()> {
        let bs = self.bs();
        let per = PAGE_SIZE / bs;
        let Some(d) = self.icache.get(&ino) else {
            return Ok(());
        };
        let size = d.di.size();
        let todo: Vec<(u64, Pfn, bool)> = d
            .pages
            .iter()
            .filter(|(_, p)| p.dirty || (check_mapped && p.mapped))
            .map(|(i, p)| (*i, p.pfn, p.dirty))
            .collect();
        // Contiguous blocks go to the device as one write.
        const MAX_RUN: usize = 1 << 20;
        let mut run: Option<(u64, Vec<u8>)> = None;
        for (idx, pfn, dirty) in todo {
            let mut data = vec![0u8; PAGE_SIZE as usize];
            frame::read(pfn, 0, &mut data);
            for k in 0..per {
                let lblk = idx * per + k;
                if lblk * bs >= size {
                    break;
                }
                let o = (k * bs) as usize;
                let blk = &data[o..o + bs as usize];
                let mut m = self.bmap(ino, lblk)?;
                if m.pblk.is_none() || m.uninit {
                    // A hole (or unwritten extent) written through a shared
                    // mapping: it needs a block now.
                    if blk.iter().all(|&b| b == 0) {
                        continue;
                    }
                    // Its data was accepted when it was written: the
                    // reserve is no reason to lose it now.
                    self.kernel_alloc = true;
                    let r = self.ensure_mapped(ino, lblk, 1);
                    self.kernel_alloc = false;
                    r?;
                    m = self.bmap(ino, lblk)?;
                }
                let Some(p) = m.pblk else { continue };
                if !dirty && !m.uninit {
                    // Mapped only: write if a shared mapping changed it.
                    let mut cur = vec![0u8; bs as usize];
                    self.dev.read_at(p * bs, &mut cur)?;
                    if cur == blk {
                        continue;
                    }
                }
                self.data_written = true;
                // Extend the run if this block follows it on disk.
                match run.as_mut() {
                    Some((rp, rd)) if *rp + (rd.len() as u64) / bs == p && rd.len() < MAX_RUN => {
                        rd.extend_from_slice(blk)
                    }
                    _ => {
                        if let Some((rp, rd)) = run.replace((p, blk.to_vec())) {
                            self.dev.write_at(rp * bs, &rd)?;
                        }
                    }
                }
            }
            if let Some(pg) = self
                .icache
                .get_mut(&ino)
                .and_then(|d| d.pages.get_mut(&idx))
            {
                pg.dirty = false;
            }
        }
        if let Some((rp, rd)) = run {
            self.dev.write_at(rp * bs, &rd)?;
        }
        Ok(())
    }

    fn writeback_all_pages(&mut self, mapped: Mapped) -> KResult<()> {
        let inos: Vec<u32> = self.icache.keys().copied().collect();
        for ino in inos {
            let check = match mapped {
                Mapped::All => true,
                Mapped::Inode(i) => i == ino,
                Mapped::None => false,
            };
            self.writeback_pages(ino, check)?;
        }
        Ok(())
    }

    /// Nothing waits to be written (mapped pages may still have changed
    /// through a shared mapping, so they count as possibly dirty).
    fn is_clean(&self, mapped: Mapped) -> bool {
        !self.data_written
            && !self.bc.has_dirty()
            && !self.sb_dirty
            && self.gdirty.is_empty()
            && self.pending_free.is_empty()
            && self.icache.iter().all(|(&ino, d)| {
                let check = match mapped {
                    Mapped::All => true,
                    Mapped::Inode(i) => i == ino,
                    Mapped::None => false,
                };
                !d.dirty && d.pages.values().all(|p| !p.dirty && !(check && p.mapped))
            })
    }

    /// Write everything back: file data first (ordered), then inodes,
    /// descriptors, superblock and the rest of the metadata. Nothing waits
    /// for the host: the writes and flushes are queued in order, and the
    /// ticket returned tells when all of it is durable.
    ///
    /// Data of every file goes first (ordered mode: the transaction may
    /// allocate blocks for any of them); pages that shared mappings may
    /// have changed are compared with the disk only for `mapped`.
    pub fn sync_start(&mut self, mapped: Mapped) -> KResult<u64> {
        if self.ro {
            return Ok(0);
        }
        if self.is_clean(mapped) {
            return Ok(self.durable_ticket);
        }
        self.writeback_all_pages(mapped)?;
        let inos: Vec<u32> = self
            .icache
            .iter()
            .filter(|(_, d)| d.dirty)
            .map(|(k, _)| *k)
            .collect();
        for ino in inos {
            self.write_inode(ino)?;
        }
        for (b, n) in std::mem::take(&mut self.pending_free) {
            alloc!(self).free_blocks_run(&mut self.bc, b, n)?;
        }
        if self.sb_dirty || !self.gdirty.is_empty() {
            self.write_super()?;
        }
        let ticket = self.commit_metadata()?;
        self.durable_ticket = ticket;
        self.data_written = false;
        // Drop clean inodes nobody has pages of, to bound the cache.
        self.icache.retain(|_, d| d.dirty || !d.pages.is_empty());
        Ok(ticket)
    }

    /// Write everything back and wait until it is durable.
    pub fn sync(&mut self) -> KResult<()> {
        self.sync_start(Mapped::All)?;
        self.dev.flush()
    }

    /// Put the dirty metadata on disk: through the journal as one
    /// transaction, then in place; without a journal, in place directly.
    /// Returns the ticket of the flush that makes the transaction durable
    /// (the one after the commit block: checkpointing goes on behind it).
    pub fn commit_metadata(&mut self) -> KResult<u64> {
        if !self.bc.has_dirty() {
            return self.dev.flush_start();
        }
        if let Some(j) = self.journal.as_mut() {
            let blocks = self.bc.dirty_blocks();
            match j.commit(&blocks) {
                Ok(ticket) => {
                    self.bc.writeback()?;
                    // The in-place copies are durable before the log is
                    // emptied.
                    self.dev.flush_start()?;
                    j.checkpointed()?;
                    return Ok(ticket);
                }
                Err(e) => log::warn!(
                    "EXT4-fs ({}): transaction of {} blocks not journaled ({e}); writing in place",
                    self.name,
                    blocks.len()
                ),
            }
        }
        self.bc.writeback()?;
        self.dev.flush_start()
    }

    /// Should the next operation start with a commit (the transaction is
    /// getting big for the journal or the cache)?
    pub fn wants_commit(&self) -> bool {
        let n = self.bc.dirty_count();
        let cap = self
            .journal
            .as_ref()
            .map(|j| j.capacity() / 4)
            .unwrap_or(usize::MAX);
        // Freed blocks come back at the next commit: do not keep many waiting.
        let freed: u64 = self.pending_free.iter().map(|(_, n)| n).sum();
        !self.ro && (n > cap || n > self.bc.limit() / 2 || freed > self.sb.blocks_count / 16)
    }

    pub fn write_super(&mut self) -> KResult<()> {
        let gd: Vec<u32> = std::mem::take(&mut self.gdirty).into_iter().collect();
        for g in gd {
            let (blk, off) = desc_location(&self.sb, g);
            let sb = self.sb.clone();
            let raw = self.groups[g as usize].to_disk(&sb, g).to_vec();
            self.bc.write_part(blk, off, &raw)?;
        }
        self.sb.set_free_blocks(self.free_blocks);
        self.sb.set_free_inodes(self.free_inodes);
        let t = now().sec as u32;
        put32(&mut self.sb.raw, 0x30, t); // s_wtime
        let raw = self.sb.to_disk();
        let bs = self.bs();
        self.bc
            .write_part(SUPER_OFFSET / bs, (SUPER_OFFSET % bs) as usize, &raw)?;
        self.sb_dirty = false;
        Ok(())
    }
}

/// umount (or a journal replay reopening the filesystem): the page cache
/// gives its frames back; a page still mapped keeps the mapping's own
/// reference. Without this every mount/umount cycle leaked them.
impl Drop for FsInner {
    fn drop(&mut self) {
        for d in self.icache.values() {
            for p in d.pages.values() {
                frame::put(p.pfn);
            }
        }
    }
}

mod falloc;

/// How many node blocks a tree of `n` extents needs.
pub fn tree_nodes(n: usize, bs: usize) -> usize {
    let per = (bs - 12) / 12;
    let mut level = n;
    let mut total = 0;
    while level > 4 {
        level = level.div_ceil(per);
        total += level;
    }
    total
}
