//! The buffer cache: filesystem metadata blocks (bitmaps, inode tables,
//! directory, extent and indirect blocks) kept in guest frames, so `mem=`
//! bounds them. Blocks are read once and written back on `flush`; clean
//! blocks are dropped when the cache grows past its share of memory, and
//! when memory runs out (the filesystem's shrinker).

use crate::drivers::block::BlockDevice;
use crate::kernel::errno::KResult;
use crate::mm::frame::{self, Pfn};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

struct Buf {
    pfn: Pfn,
    dirty: bool,
}

pub struct BufCache {
    dev: Arc<dyn BlockDevice>,
    bs: usize,
    bufs: HashMap<u64, Buf>,
    /// Most frames the cache keeps before dropping clean blocks.
    limit: usize,
    ndirty: usize,
}

impl BufCache {
    pub fn new(dev: Arc<dyn BlockDevice>, bs: usize) -> BufCache {
        let (total, _) = frame::stats();
        BufCache {
            dev,
            bs,
            bufs: HashMap::new(),
            limit: (total as usize / 8).max(64),
            ndirty: 0,
        }
    }

    /// Drop clean blocks when over the limit.
    fn shrink(&mut self) {
        if self.bufs.len() < self.limit {
            return;
        }
        let target = self.limit * 3 / 4;
        let clean: Vec<u64> = self
            .bufs
            .iter()
            .filter(|(_, b)| !b.dirty)
            .map(|(k, _)| *k)
            .take(self.bufs.len().saturating_sub(target))
            .collect();
        for k in clean {
            if let Some(b) = self.bufs.remove(&k) {
                frame::put(b.pfn);
            }
        }
    }

    fn alloc_frame(&mut self) -> KResult<Pfn> {
        match frame::alloc_raw() {
            Ok(p) => Ok(p),
            Err(_) => {
                // Out of memory: give back every clean block and retry.
                self.drop_clean();
                frame::alloc_raw()
            }
        }
    }

    /// Give back the frames of every clean block; how many.
    pub fn drop_clean(&mut self) -> usize {
        let clean: Vec<u64> = self
            .bufs
            .iter()
            .filter(|(_, b)| !b.dirty)
            .map(|(k, _)| *k)
            .collect();
        for k in &clean {
            if let Some(b) = self.bufs.remove(k) {
                frame::put(b.pfn);
            }
        }
        clean.len()
    }

    fn load(&mut self, blk: u64) -> KResult<Pfn> {
        if let Some(b) = self.bufs.get(&blk) {
            return Ok(b.pfn);
        }
        self.shrink();
        let mut data = vec![0u8; self.bs];
        self.dev.read_at(blk * self.bs as u64, &mut data)?;
        let pfn = self.alloc_frame()?;
        frame::write(pfn, 0, &data);
        self.bufs.insert(blk, Buf { pfn, dirty: false });
        Ok(pfn)
    }

    /// A copy of block `blk`.
    pub fn read(&mut self, blk: u64) -> KResult<Vec<u8>> {
        let pfn = self.load(blk)?;
        let mut data = vec![0u8; self.bs];
        frame::read(pfn, 0, &mut data);
        Ok(data)
    }

    /// Replace block `blk` (no read needed) and mark it dirty.
    pub fn write(&mut self, blk: u64, data: &[u8]) -> KResult<()> {
        debug_assert_eq!(data.len(), self.bs);
        let pfn = match self.bufs.get(&blk) {
            Some(b) => b.pfn,
            None => {
                self.shrink();
                let p = self.alloc_frame()?;
                self.bufs.insert(
                    blk,
                    Buf {
                        pfn: p,
                        dirty: false,
                    },
                );
                p
            }
        };
        frame::write(pfn, 0, data);
        self.mark_dirty(blk);
        Ok(())
    }

    fn mark_dirty(&mut self, blk: u64) {
        if let Some(b) = self.bufs.get_mut(&blk) {
            if !b.dirty {
                b.dirty = true;
                self.ndirty += 1;
            }
        }
    }

    /// How many blocks (frames) the cache holds.
    pub fn len(&self) -> usize {
        self.bufs.len()
    }

    /// How many blocks wait for writeback.
    pub fn dirty_count(&self) -> usize {
        self.ndirty
    }

    /// The cache's size limit in blocks.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Change part of block `blk`.
    pub fn write_part(&mut self, blk: u64, off: usize, data: &[u8]) -> KResult<()> {
        let pfn = self.load(blk)?;
        frame::write(pfn, off, data);
        self.mark_dirty(blk);
        Ok(())
    }

    /// Forget block `blk` (it was freed; its contents no longer matter).
    pub fn forget(&mut self, blk: u64) {
        if let Some(b) = self.bufs.remove(&blk) {
            if b.dirty {
                self.ndirty -= 1;
            }
            frame::put(b.pfn);
        }
    }

    /// Dirty blocks with their contents, in block order (for the journal).
    pub fn dirty_blocks(&self) -> BTreeMap<u64, Vec<u8>> {
        let mut out = BTreeMap::new();
        for (&k, b) in &self.bufs {
            if b.dirty {
                let mut data = vec![0u8; self.bs];
                frame::read(b.pfn, 0, &mut data);
                out.insert(k, data);
            }
        }
        out
    }

    pub fn has_dirty(&self) -> bool {
        self.ndirty > 0
    }

    /// Write every dirty block to the device, in block order.
    pub fn writeback(&mut self) -> KResult<()> {
        let dirty = self.dirty_blocks();
        for (k, data) in dirty {
            self.dev.write_at(k * self.bs as u64, &data)?;
            if let Some(b) = self.bufs.get_mut(&k) {
                if b.dirty {
                    b.dirty = false;
                    self.ndirty -= 1;
                }
            }
        }
        Ok(())
    }

    /// Give every frame back (umount).
    pub fn clear(&mut self) {
        self.ndirty = 0;
        for (_, b) in self.bufs.drain() {
            frame::put(b.pfn);
        }
    }
}

impl Drop for BufCache {
    fn drop(&mut self) {
        self.clear();
    }
}
