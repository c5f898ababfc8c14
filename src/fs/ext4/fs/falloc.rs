//! fallocate(2) on one ext4 file, mode by mode as Linux's ext4 does it:
//! preallocation as unwritten extents (mode 0, KEEP_SIZE), PUNCH_HOLE
//! (whole blocks freed, partial ones zeroed), ZERO_RANGE (whole blocks
//! made unwritten, holes preallocated, partial ones zeroed),
//! COLLAPSE_RANGE and INSERT_RANGE (block-aligned shifts of everything
//! after). Only PUNCH_HOLE works on block-mapped (ext2/ext3) files.
//! The page cache is kept in step: pages wholly in a cleared range go,
//! partial ones are zeroed and dirtied, shifted pages are written back
//! and dropped first.

use super::super::alloc::Alloc;
use super::super::extents::Extent;
use super::super::inode::EXT4_EXTENTS_FL;
use super::super::ranges;
use super::{now, tree_nodes, FsInner};
use crate::fs::vfs::falloc::*;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::frame::{self, PAGE_SIZE};

/// One past the last logical block an extent can map.
const EXT_MAX_BLOCKS: u64 = u32::MAX as u64;

impl FsInner {
    /// fallocate on inode `ino` (a regular file); `mode` has passed the
    /// VFS's checks.
    pub fn fallocate(&mut self, ino: u32, mode: u32, off: u64, len: u64) -> KResult<()> {
        if mode & !(KEEP_SIZE | PUNCH_HOLE | COLLAPSE_RANGE | ZERO_RANGE | INSERT_RANGE) != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        self.check_rw()?;
        self.data_changed(ino);
        let extents = self.iget(ino)?.di.flags() & EXT4_EXTENTS_FL != 0;
        let keep = mode & KEEP_SIZE != 0;
        match mode & MODE_MASK {
            PUNCH_HOLE => return self.punch_hole(ino, off, len, extents),
            _ if !extents => return Err(Errno::EOPNOTSUPP),
            COLLAPSE_RANGE => return self.collapse_range(ino, off, len),
            INSERT_RANGE => return self.insert_range(ino, off, len),
            _ => {}
        }
        let end = off + len;
        let bs = self.bs();
        let size = self.di(ino)?.size();
        let new_size = (!keep && end > size).then_some(end);
        // Every block the range touches gets unwritten blocks where it
        // has none (ZERO_RANGE too: its partial edges included).
        self.preallocate(ino, off / bs, end.div_ceil(bs))?;
        if mode & ZERO_RANGE != 0 {
            let (first, last) = (off.div_ceil(bs), end / bs);
            if first < last {
                self.edit_extents(ino, |list| {
                    ranges::mark_unwritten(list, first, last);
                    Ok(Vec::new())
                })?;
            }
            self.clear_cached(ino, off, end)?;
        }
        let t = now();
        self.modify(ino, |di| {
            di.set_ctime(t);
            if let Some(s) = new_size {
                di.set_size(s);
                di.set_mtime(t);
            }
            if mode & ZERO_RANGE != 0 {
                di.set_mtime(t);
            }
        })
    }

    /// Give the holes among logical blocks [first, last) unwritten
    /// blocks: all or nothing (ENOSPC gives back what it took).
    fn preallocate(&mut self, ino: u32, first: u64, last: u64) -> KResult<()> {
        if last > EXT_MAX_BLOCKS {
            return Err(Errno::EFBIG);
        }
        let mut fresh: Vec<(u64, u32)> = Vec::new();
        let r = self.edit_extents_with(ino, &mut fresh, |s, list, fresh| {
            for (mut at, mut n) in ranges::holes(list, first, last) {
                while n > 0 {
                    let goal = ranges::goal_before(list, at).unwrap_or_else(|| {
                        s.groups[((ino - 1) / s.sb.inodes_per_group) as usize].inode_table()
                    });
                    let want = n.min(ranges::MAX_UNWRITTEN as u64) as u32;
                    let (b, got) = alloc!(s).blocks(&mut s.bc, goal, want)?;
                    fresh.push((b, got));
                    ranges::add(
                        list,
                        Extent {
                            lblk: at as u32,
                            len: got,
                            pblk: b,
                            uninit: true,
                        },
                    );
                    at += got as u64;
                    n -= got as u64;
                }
            }
            Ok(Vec::new())
        });
        if r.is_err() {
            self.give_back(&fresh);
        }
        r
    }

    /// Change the extent list of `ino` with `f` (which returns the data
    /// runs it removed) and write the tree back: node blocks it needs are
    /// allocated first, so a failure leaves the tree as it was; removed
    /// runs and spare nodes are freed afterwards. st_blocks follows.
    fn edit_extents(
        &mut self,
        ino: u32,
        f: impl FnOnce(&mut Vec<Extent>) -> KResult<Vec<(u64, u32)>>,
    ) -> KResult<()> {
        let mut fresh = Vec::new();
        let r = self.edit_extents_with(ino, &mut fresh, |_, list, _| f(list));
        if r.is_err() {
            self.give_back(&fresh);
        }
        r
    }

    fn edit_extents_with(
        &mut self,
        ino: u32,
        fresh: &mut Vec<(u64, u32)>,
        f: impl FnOnce(&mut FsInner, &mut Vec<Extent>, &mut Vec<(u64, u32)>) -> KResult<Vec<(u64, u32)>>,
    ) -> KResult<()> {
        let spb = (self.bs() / 512) as i64;
        let seed = self.seed(ino)?;
        let mut iblock = self.iget(ino)?.di.i_block().to_vec();
        let (mut list, nodes) = self.tree(ino, seed).collect(&iblock)?;
        let removed = f(self, &mut list, fresh)?;
        let mut added: i64 = fresh.iter().map(|&(_, n)| n as i64).sum();
        let need = tree_nodes(list.len(), self.bs() as usize);
        let mut pool = nodes;
        let goal = list.first().map(|e| e.pblk).unwrap_or(0);
        while pool.len() < need {
            let b = alloc!(self).block(&mut self.bc, goal)?;
            fresh.push((b, 1));
            pool.push(b);
            added += 1;
        }
        let (_, spare) = self
            .tree(ino, seed)
            .rebuild(&mut iblock, &list, pool, &mut |_| Err(Errno::ENOSPC))?;
        self.modify(ino, |di| di.i_block_mut().copy_from_slice(&iblock))?;
        for b in spare {
            self.free_blocks(b, 1)?;
            added -= 1;
        }
        for (b, n) in removed {
            self.free_blocks(b, n as u64)?;
            added -= n as i64;
        }
        self.add_sectors(ino, added * spb)
    }

    /// Bytes [start, end) of the cached pages read as zeros: pages wholly
    /// inside leave the cache, partial ones are zeroed and dirtied (read
    /// in first, so that the rest of them is kept).
    fn clear_cached(&mut self, ino: u32, start: u64, end: u64) -> KResult<()> {
        let (first_whole, last_whole) = (start.div_ceil(PAGE_SIZE), end / PAGE_SIZE);
        if first_whole < last_whole {
            self.drop_page_range(ino, first_whole, last_whole);
        }
        let mut partial = vec![start / PAGE_SIZE];
        if end % PAGE_SIZE != 0 && end / PAGE_SIZE != start / PAGE_SIZE {
            partial.push(end / PAGE_SIZE);
        }
        for idx in partial {
            let (ps, pe) = (idx * PAGE_SIZE, (idx + 1) * PAGE_SIZE);
            let (a, b) = (start.max(ps), end.min(pe));
            if a >= b || (a == ps && b == pe) {
                continue;
            }
            let pfn = self.get_page(ino, idx)?;
            frame::zero(pfn, (a - ps) as usize, (b - a) as usize);
            if let Some(p) = self.iget(ino)?.pages.get_mut(&idx) {
                p.dirty = true;
            }
        }
        Ok(())
    }

    /// Drop pages [from, to) of `ino` from the cache.
    fn drop_page_range(&mut self, ino: u32, from: u64, to: u64) {
        if let Some(d) = self.icache.get_mut(&ino) {
            let gone: Vec<u64> = d.pages.range(from..to).map(|(&k, _)| k).collect();
            for k in &gone {
                if let Some(p) = d.pages.remove(k) {
                    frame::put(p.pfn);
                }
            }
            self.npages -= gone.len();
        }
    }

    /// FALLOC_FL_PUNCH_HOLE: nothing past the page holding the last byte
    /// is touched (Linux's rule, so blocks preallocated further out
    /// stay).
    fn punch_hole(&mut self, ino: u32, off: u64, len: u64, extents: bool) -> KResult<()> {
        let size = self.di(ino)?.size();
        if off >= size {
            return Ok(());
        }
        let bs = self.bs();
        let max = self.max_file_bytes(extents);
        let end = (off + len).min(size.next_multiple_of(PAGE_SIZE)).min(max);
        if end <= off {
            return Ok(());
        }
        self.clear_cached(ino, off, end)?;
        let (first, last) = (off.div_ceil(bs), end / bs);
        if first < last {
            if extents {
                self.edit_extents(ino, |list| Ok(ranges::cut(list, first, last)))?;
            } else {
                self.punch_indirect(ino, first, last)?;
            }
        }
        let t = now();
        self.modify(ino, |di| {
            di.set_mtime(t);
            di.set_ctime(t);
        })
    }

    /// FALLOC_FL_COLLAPSE_RANGE: blocks [off, off+len) go and everything
    /// after moves down over them; the file shrinks by `len`.
    fn collapse_range(&mut self, ino: u32, off: u64, len: u64) -> KResult<()> {
        let bs = self.bs();
        if (off | len) % bs != 0 {
            return Err(Errno::EINVAL);
        }
        let size = self.di(ino)?.size();
        if off + len >= size {
            return Err(Errno::EINVAL);
        }
        let (start, stop) = (off / bs, (off + len) / bs);
        self.flush_and_drop_from(ino, off)?;
        self.edit_extents(ino, |list| {
            let freed = ranges::cut(list, start, stop);
            ranges::shift(list, stop, -((stop - start) as i64));
            ranges::normalize(list);
            Ok(freed)
        })?;
        let t = now();
        self.modify(ino, |di| {
            di.set_size(size - len);
            di.set_mtime(t);
            di.set_ctime(t);
        })
    }

    /// FALLOC_FL_INSERT_RANGE: everything from `off` moves up by `len`,
    /// leaving a hole; the file grows by `len`.
    fn insert_range(&mut self, ino: u32, off: u64, len: u64) -> KResult<()> {
        let bs = self.bs();
        if (off | len) % bs != 0 {
            return Err(Errno::EINVAL);
        }
        let size = self.di(ino)?.size();
        if len > EXT_MAX_BLOCKS * bs - size.min(EXT_MAX_BLOCKS * bs) {
            return Err(Errno::EFBIG);
        }
        if off >= size {
            return Err(Errno::EINVAL);
        }
        let (start, n) = (off / bs, len / bs);
        self.flush_and_drop_from(ino, off)?;
        self.edit_extents(ino, |list| {
            if list.last().is_some_and(|e| e.end() + n > EXT_MAX_BLOCKS) {
                return Err(Errno::EINVAL);
            }
            ranges::split_at(list, start);
            ranges::shift(list, start, n as i64);
            ranges::normalize(list);
            Ok(Vec::new())
        })?;
        let t = now();
        self.modify(ino, |di| {
            di.set_size(size + len);
            di.set_mtime(t);
            di.set_ctime(t);
        })
    }

    /// Before blocks move: write the file's dirty pages back and drop the
    /// cached pages from the one holding `off` on.
    fn flush_and_drop_from(&mut self, ino: u32, off: u64) -> KResult<()> {
        self.writeback_pages(ino, true)?;
        self.drop_page_range(ino, off / PAGE_SIZE, u64::MAX);
        Ok(())
    }

    /// The largest size of a file, extent-mapped or block-mapped.
    pub fn max_file_bytes(&self, extents: bool) -> u64 {
        if extents {
            return EXT_MAX_BLOCKS * self.bs();
        }
        let per = self.bs() / 4;
        (12 + per + per * per + per * per * per).min(u32::MAX as u64) * self.bs()
    }

    /// PUNCH_HOLE's freeing for a block-mapped file.
    fn punch_indirect(&mut self, ino: u32, first: u64, last: u64) -> KResult<()> {
        let spb = (self.bs() / 512) as i64;
        let mut iblock = self.iget(ino)?.di.i_block().to_vec();
        let mut blocks = Vec::new();
        super::super::blockmap::Map {
            sb: &self.sb,
            bc: &mut self.bc,
            dev: &self.name,
            ino,
        }
        .remove(&mut iblock, first, last, &mut |b| blocks.push(b))?;
        self.modify(ino, |di| di.i_block_mut().copy_from_slice(&iblock))?;
        for &b in &blocks {
            self.free_blocks(b, 1)?;
        }
        self.add_sectors(ino, -(blocks.len() as i64) * spb)
    }
}
