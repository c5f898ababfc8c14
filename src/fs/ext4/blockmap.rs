//! ext2/ext3 block maps: 12 direct block pointers in i_block, then single,
//! double and triple indirect blocks of 32-bit pointers.

use super::bcache::BufCache;
use super::superblock::Super;
use super::{corrupt, le32, put32};
use crate::kernel::errno::{Errno, KResult};
use std::collections::BTreeMap;

const NDIR: u64 = 12;

/// Path from i_block to logical block `lblk`: the slot in i_block, then the
/// slot in each indirect block.
fn path(per: u64, lblk: u64) -> Option<(usize, Vec<usize>)> {
    let mut l = lblk;
    if l < NDIR {
        return Some((l as usize, vec![]));
    }
    l -= NDIR;
    if l < per {
        return Some((12, vec![l as usize]));
    }
    l -= per;
    if l < per * per {
        return Some((13, vec![(l / per) as usize, (l % per) as usize]));
    }
    l -= per * per;
    if l < per * per * per {
        return Some((
            14,
            vec![
                (l / (per * per)) as usize,
                ((l / per) % per) as usize,
                (l % per) as usize,
            ],
        ));
    }
    None
}

pub struct Map<'a> {
    pub sb: &'a Super,
    pub bc: &'a mut BufCache,
    pub dev: &'a str,
    pub ino: u32,
}

impl Map<'_> {
    fn check(&self, b: u64) -> KResult<()> {
        if b < self.sb.first_data_block as u64 || b >= self.sb.blocks_count {
            corrupt(
                self.dev,
                &format!("inode #{}: block {b} out of range", self.ino),
            );
            return Err(Errno::EUCLEAN);
        }
        Ok(())
    }

    /// Physical block of `lblk`, None for a hole.
    pub fn lookup(&mut self, i_block: &[u8], lblk: u64) -> KResult<Option<u64>> {
        let per = self.sb.block_size as u64 / 4;
        let Some((slot, rest)) = path(per, lblk) else {
            return Ok(None);
        };
        let mut b = le32(i_block, slot * 4) as u64;
        for idx in rest {
            if b == 0 {
                return Ok(None);
            }
            self.check(b)?;
            let blk = self.bc.read(b)?;
            b = le32(&blk, idx * 4) as u64;
        }
        if b == 0 {
            return Ok(None);
        }
        self.check(b)?;
        Ok(Some(b))
    }

    /// Map `lblk`, allocating it (and missing indirect blocks) with
    /// `alloc`. Returns the data block and how many blocks were allocated.
    /// Each indirect block it changes has its contents from before the
    /// first change kept in `saved`, for the caller to undo a failure.
    pub fn map_alloc(
        &mut self,
        i_block: &mut [u8],
        lblk: u64,
        saved: &mut BTreeMap<u64, Vec<u8>>,
        alloc: &mut dyn FnMut(&mut BufCache) -> KResult<u64>,
    ) -> KResult<(u64, u32)> {
        let per = self.sb.block_size as u64 / 4;
        let (slot, rest) = path(per, lblk).ok_or(Errno::EFBIG)?;
        let mut count = 0;
        let mut b = le32(i_block, slot * 4) as u64;
        if b == 0 {
            b = alloc(self.bc)?;
            count += 1;
            if !rest.is_empty() {
                self.bc.write(b, &vec![0u8; self.sb.block_size as usize])?;
            }
            put32(i_block, slot * 4, b as u32);
        }
        for (depth, idx) in rest.iter().enumerate() {
            self.check(b)?;
            let mut blk = self.bc.read(b)?;
            let mut next = le32(&blk, idx * 4) as u64;
            if next == 0 {
                next = alloc(self.bc)?;
                count += 1;
                if depth + 1 < rest.len() {
                    self.bc
                        .write(next, &vec![0u8; self.sb.block_size as usize])?;
                }
                saved.entry(b).or_insert_with(|| blk.clone());
                put32(&mut blk, idx * 4, next as u32);
                self.bc.write(b, &blk)?;
            }
            b = next;
        }
        Ok((b, count))
    }

    /// Free every block mapping logical blocks >= `from`, and indirect
    /// blocks left empty. `free` gets each freed block.
    pub fn truncate(
        &mut self,
        i_block: &mut [u8],
        from: u64,
        free: &mut dyn FnMut(u64),
    ) -> KResult<()> {
        self.remove(i_block, from, u64::MAX, free)
    }

    /// Free every block mapping logical blocks in [from, to), and the
    /// indirect blocks whose whole span lies inside (a hole punched in
    /// the middle keeps the indirect blocks it only partly covers).
    pub fn remove(
        &mut self,
        i_block: &mut [u8],
        from: u64,
        to: u64,
        free: &mut dyn FnMut(u64),
    ) -> KResult<()> {
        let per = self.sb.block_size as u64 / 4;
        for slot in 0..12usize {
            if (from..to).contains(&(slot as u64)) {
                let b = le32(i_block, slot * 4) as u64;
                if b != 0 {
                    free(b);
                    put32(i_block, slot * 4, 0);
                }
            }
        }
        let mut base = NDIR;
        let mut span = per;
        for (slot, level) in [(12usize, 1u32), (13, 2), (14, 3)] {
            let b = le32(i_block, slot * 4) as u64;
            if b != 0 && self.free_tree(b, level, base, from, to, free)? {
                put32(i_block, slot * 4, 0);
            }
            base += span;
            span *= per;
        }
        Ok(())
    }

    /// Free the part of the subtree at `b` (covering logical blocks from
    /// `base`) in [from, to); true if `b` itself was freed.
    fn free_tree(
        &mut self,
        b: u64,
        level: u32,
        base: u64,
        from: u64,
        to: u64,
        free: &mut dyn FnMut(u64),
    ) -> KResult<bool> {
        let per = self.sb.block_size as u64 / 4;
        let child_span = per.pow(level - 1);
        let span_end = base + per * child_span;
        if span_end <= from || base >= to {
            return Ok(false);
        }
        self.check(b)?;
        let mut blk = self.bc.read(b)?;
        let mut changed = false;
        for i in 0..per as usize {
            let c = le32(&blk, i * 4) as u64;
            if c == 0 {
                continue;
            }
            let cbase = base + i as u64 * child_span;
            let gone = if level == 1 {
                if (from..to).contains(&cbase) {
                    free(c);
                    true
                } else {
                    false
                }
            } else {
                self.free_tree(c, level - 1, cbase, from, to, free)?
            };
            if gone {
                put32(&mut blk, i * 4, 0);
                changed = true;
            }
        }
        if base >= from && span_end <= to {
            free(b);
            self.bc.forget(b);
            return Ok(true);
        }
        if changed {
            self.bc.write(b, &blk)?;
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::path;

    #[test]
    fn paths() {
        assert_eq!(path(256, 0), Some((0, vec![])));
        assert_eq!(path(256, 12), Some((12, vec![0])));
        assert_eq!(path(256, 12 + 256), Some((13, vec![0, 0])));
        assert_eq!(path(256, 12 + 256 + 65536 + 5), Some((14, vec![0, 0, 5])));
    }
}
