//! Block and inode allocation: the per-group bitmaps (initialised on first
//! use for BLOCK_UNINIT/INODE_UNINIT groups), the free counts in group
//! descriptors and superblock, and the bitmap checksums.

use super::bcache::BufCache;
use super::corrupt;
use super::crc::crc32c;
use super::group::{group_blocks, group_first_block, Group, BG_BLOCK_UNINIT, BG_INODE_UNINIT};
use super::reserve::Reserve;
use super::superblock::{Super, INCOMPAT_META_BG};
use crate::kernel::errno::{Errno, KResult};
use std::collections::BTreeSet;

/// The mutable allocation state of a filesystem.
pub struct Alloc<'a> {
    pub sb: &'a Super,
    pub groups: &'a mut Vec<Group>,
    pub dirty: &'a mut BTreeSet<u32>,
    pub free_blocks: &'a mut u64,
    pub free_inodes: &'a mut u32,
    pub dev: &'a str,
    /// The reserved blocks this allocation must leave alone.
    pub reserve: Reserve,
}

fn bit(b: &[u8], i: usize) -> bool {
    b[i / 8] & (1 << (i % 8)) != 0
}
fn set_bit(b: &mut [u8], i: usize, v: bool) {
    if v {
        b[i / 8] |= 1 << (i % 8);
    } else {
        b[i / 8] &= !(1 << (i % 8));
    }
}

impl Alloc<'_> {
    fn itable_blocks(&self) -> u64 {
        (self.sb.inodes_per_group as u64 * self.sb.inode_size as u64)
            .div_ceil(self.sb.block_size as u64)
    }

    /// Blocks of group `g` used by the filesystem's own structures there
    /// (superblock and descriptor backups, the group's bitmaps and table).
    fn own_metadata(&self, g: u32) -> Vec<u64> {
        let sb = self.sb;
        let first = group_first_block(sb, g);
        let mut v = Vec::new();
        if sb.group_has_super(g) {
            v.push(first);
            if sb.has_incompat(INCOMPAT_META_BG) {
                let per = sb.block_size / sb.desc_size;
                let m = g % per;
                if m == 0 || m == 1 || m == per - 1 {
                    v.push(first + 1);
                }
            } else {
                let n = super::group::gdt_blocks(sb) + sb.reserved_gdt_blocks() as u64;
                v.extend((1..=n).map(|i| first + i));
            }
        }
        let gd = &self.groups[g as usize];
        v.push(gd.block_bitmap());
        v.push(gd.inode_bitmap());
        let t = gd.inode_table();
        v.extend((0..self.itable_blocks()).map(|i| t + i));
        let end = first + sb.blocks_per_group as u64;
        v.retain(|&b| b >= first && b < end);
        v
    }

    fn block_bitmap(&mut self, bc: &mut BufCache, g: u32) -> KResult<Vec<u8>> {
        let gd = &self.groups[g as usize];
        let b = gd.block_bitmap();
        if gd.flags() & BG_BLOCK_UNINIT != 0 {
            let bs = self.sb.block_size as usize;
            let mut map = vec![0u8; bs];
            let first = group_first_block(self.sb, g);
            for m in self.own_metadata(g) {
                set_bit(&mut map, (m - first) as usize, true);
            }
            for i in group_blocks(self.sb, g) as usize..bs * 8 {
                set_bit(&mut map, i, true);
            }
            let gd = &mut self.groups[g as usize];
            gd.set_flags(gd.flags() & !BG_BLOCK_UNINIT);
            self.put_block_bitmap(bc, g, &map)?;
            return Ok(map);
        }
        let map = bc.read(b)?;
        if self.sb.metadata_csum() {
            let n = self.sb.blocks_per_group as usize / 8;
            if crc32c(self.sb.csum_seed, &map[..n]) & self.csum_mask() != gd.block_bitmap_csum() {
                corrupt(
                    self.dev,
                    &format!("block bitmap for group {g} checksum invalid"),
                );
                return Err(Errno::EUCLEAN);
            }
        }
        Ok(map)
    }

    /// Bitmap checksums keep 32 bits with 64-byte descriptors, else 16.
    fn csum_mask(&self) -> u32 {
        if self.sb.desc_size >= 64 {
            u32::MAX
        } else {
            0xFFFF
        }
    }

    fn put_block_bitmap(&mut self, bc: &mut BufCache, g: u32, map: &[u8]) -> KResult<()> {
        let gd = &mut self.groups[g as usize];
        bc.write(gd.block_bitmap(), map)?;
        if self.sb.metadata_csum() {
            let n = self.sb.blocks_per_group as usize / 8;
            gd.set_block_bitmap_csum(crc32c(self.sb.csum_seed, &map[..n]));
        }
        self.dirty.insert(g);
        Ok(())
    }

    fn inode_bitmap(&mut self, bc: &mut BufCache, g: u32) -> KResult<Vec<u8>> {
        let gd = &self.groups[g as usize];
        let b = gd.inode_bitmap();
        if gd.flags() & BG_INODE_UNINIT != 0 {
            let bs = self.sb.block_size as usize;
            let mut map = vec![0u8; bs];
            for i in self.sb.inodes_per_group as usize..bs * 8 {
                set_bit(&mut map, i, true);
            }
            let gd = &mut self.groups[g as usize];
            gd.set_flags(gd.flags() & !BG_INODE_UNINIT);
            self.put_inode_bitmap(bc, g, &map)?;
            return Ok(map);
        }
        let map = bc.read(b)?;
        if self.sb.metadata_csum() {
            let n = self.sb.inodes_per_group as usize / 8;
            if crc32c(self.sb.csum_seed, &map[..n]) & self.csum_mask() != gd.inode_bitmap_csum() {
                corrupt(
                    self.dev,
                    &format!("inode bitmap for group {g} checksum invalid"),
                );
                return Err(Errno::EUCLEAN);
            }
        }
        Ok(map)
    }

    fn put_inode_bitmap(&mut self, bc: &mut BufCache, g: u32, map: &[u8]) -> KResult<()> {
        let gd = &mut self.groups[g as usize];
        bc.write(gd.inode_bitmap(), map)?;
        if self.sb.metadata_csum() {
            let n = self.sb.inodes_per_group as usize / 8;
            gd.set_inode_bitmap_csum(crc32c(self.sb.csum_seed, &map[..n]));
        }
        self.dirty.insert(g);
        Ok(())
    }

    /// Allocate up to `max` contiguous blocks, near `goal` if possible;
    /// ENOSPC when none are free, or only reserved ones the caller may
    /// not have.
    pub fn blocks(&mut self, bc: &mut BufCache, goal: u64, max: u32) -> KResult<(u64, u32)> {
        let max = self.reserve.allowance(*self.free_blocks, max as u64) as u32;
        if max == 0 {
            return Err(Errno::ENOSPC);
        }
        let sb = self.sb;
        let gc = sb.group_count;
        let goal = goal.clamp(sb.first_data_block as u64, sb.blocks_count - 1);
        let g0 = ((goal - sb.first_data_block as u64) / sb.blocks_per_group as u64) as u32;
        for i in 0..=gc {
            let g = (g0 + i) % gc;
            if self.groups[g as usize].free_blocks() == 0 {
                continue;
            }
            let mut map = self.block_bitmap(bc, g)?;
            let n = group_blocks(sb, g) as usize;
            let first = group_first_block(sb, g);
            let start = if i == 0 { (goal - first) as usize } else { 0 };
            let found = (start..n).chain(0..start).find(|&k| !bit(&map, k));
            let Some(mut k) = found else {
                corrupt(
                    self.dev,
                    &format!("group {g}: free block count says free, bitmap says full"),
                );
                continue;
            };
            // Not continuing at the goal and the first free run is short:
            // a run long enough further on keeps the file in one piece
            // (as Linux's allocator looks for one).
            let at_goal = i == 0 && k == start;
            if !at_goal && run_len(&map, n, k, max as usize) < max as usize {
                if let Some(r) = find_run(&map, k, n, max as usize)
                    .or_else(|| find_run(&map, 0, k, max as usize))
                {
                    k = r;
                }
            }
            let mut count = 0usize;
            while k + count < n && count < max as usize && !bit(&map, k + count) {
                set_bit(&mut map, k + count, true);
                count += 1;
            }
            self.put_block_bitmap(bc, g, &map)?;
            let gd = &mut self.groups[g as usize];
            gd.set_free_blocks(gd.free_blocks().saturating_sub(count as u32));
            *self.free_blocks = self.free_blocks.saturating_sub(count as u64);
            let b = first + k as u64;
            for x in 0..count as u64 {
                bc.forget(b + x);
            }
            return Ok((b, count as u32));
        }
        Err(Errno::ENOSPC)
    }

    /// One block near `goal`.
    pub fn block(&mut self, bc: &mut BufCache, goal: u64) -> KResult<u64> {
        Ok(self.blocks(bc, goal, 1)?.0)
    }

    /// Free `count` blocks from `start`.
    pub fn free_blocks_run(&mut self, bc: &mut BufCache, start: u64, count: u64) -> KResult<()> {
        let sb = self.sb;
        let mut b = start;
        let end = start + count;
        if start < sb.first_data_block as u64 || end > sb.blocks_count {
            corrupt(
                self.dev,
                &format!("freeing blocks {start}+{count} not in filesystem"),
            );
            return Err(Errno::EUCLEAN);
        }
        while b < end {
            let g = ((b - sb.first_data_block as u64) / sb.blocks_per_group as u64) as u32;
            let first = group_first_block(sb, g);
            let gend = (first + sb.blocks_per_group as u64).min(end);
            let mut map = self.block_bitmap(bc, g)?;
            let mut n = 0;
            for x in b..gend {
                let k = (x - first) as usize;
                if bit(&map, k) {
                    set_bit(&mut map, k, false);
                    n += 1;
                } else {
                    corrupt(self.dev, &format!("bit already cleared for block {x}"));
                }
                bc.forget(x);
            }
            self.put_block_bitmap(bc, g, &map)?;
            let gd = &mut self.groups[g as usize];
            gd.set_free_blocks(gd.free_blocks() + n);
            *self.free_blocks += n as u64;
            b = gend;
        }
        Ok(())
    }

    /// Allocate an inode, preferring group `goal_group`.
    pub fn inode(&mut self, bc: &mut BufCache, goal_group: u32, dir: bool) -> KResult<u32> {
        let sb = self.sb;
        let gc = sb.group_count;
        let ipg = sb.inodes_per_group;
        let csum = sb.metadata_csum() || sb.gdt_csum();
        for i in 0..gc {
            let g = (goal_group + i) % gc;
            if self.groups[g as usize].free_inodes() == 0 {
                continue;
            }
            let mut map = self.inode_bitmap(bc, g)?;
            let min = if g == 0 { sb.first_ino - 1 } else { 0 };
            let Some(k) = (min..ipg).find(|&k| !bit(&map, k as usize)) else {
                continue;
            };
            set_bit(&mut map, k as usize, true);
            self.put_inode_bitmap(bc, g, &map)?;
            let gd = &mut self.groups[g as usize];
            gd.set_free_inodes(gd.free_inodes().saturating_sub(1));
            if dir {
                gd.set_used_dirs(gd.used_dirs() + 1);
            }
            if csum {
                let unused = gd.itable_unused();
                if k + 1 > ipg - unused {
                    gd.set_itable_unused(ipg - (k + 1));
                }
            }
            *self.free_inodes = self.free_inodes.saturating_sub(1);
            return Ok(g * ipg + k + 1);
        }
        Err(Errno::ENOSPC)
    }

    /// Is inode `ino` marked in use in its bitmap?
    pub fn inode_in_use(&mut self, bc: &mut BufCache, ino: u32) -> KResult<bool> {
        let ipg = self.sb.inodes_per_group;
        let g = (ino - 1) / ipg;
        let map = self.inode_bitmap(bc, g)?;
        Ok(bit(&map, ((ino - 1) % ipg) as usize))
    }

    pub fn free_inode(&mut self, bc: &mut BufCache, ino: u32, dir: bool) -> KResult<()> {
        let ipg = self.sb.inodes_per_group;
        let g = (ino - 1) / ipg;
        let k = ((ino - 1) % ipg) as usize;
        let mut map = self.inode_bitmap(bc, g)?;
        if !bit(&map, k) {
            corrupt(self.dev, &format!("bit already cleared for inode {ino}"));
            return Ok(());
        }
        set_bit(&mut map, k, false);
        self.put_inode_bitmap(bc, g, &map)?;
        let gd = &mut self.groups[g as usize];
        gd.set_free_inodes(gd.free_inodes() + 1);
        if dir {
            gd.set_used_dirs(gd.used_dirs().saturating_sub(1));
        }
        *self.free_inodes += 1;
        Ok(())
    }
}

/// Free blocks from `k` on (at most `want`), among the group's `n`.
fn run_len(map: &[u8], n: usize, k: usize, want: usize) -> usize {
    (k..n.min(k + want)).take_while(|&x| !bit(map, x)).count()
}

/// The first run of `want` free blocks that starts in [from, to) and
/// ends before `to`.
fn find_run(map: &[u8], from: usize, to: usize, want: usize) -> Option<usize> {
    let mut run = 0;
    for x in from..to {
        if bit(map, x) {
            run = 0;
        } else {
            run += 1;
            if run == want {
                return Some(x + 1 - want);
            }
        }
    }
    None
}
