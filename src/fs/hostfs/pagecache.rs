//! hostfs page cache: guest frames filled from a host file for mmap.
//!
//! Reads and writes go straight to the host; only `Inode::page` (page
//! faults of mappings, exec) uses frames. Our own writes update cached
//! frames in place, so mappings see them as on Linux; a change made on the
//! host behind our back (a different size or mtime than we last saw) drops
//! the cache before the next page is handed out.

use crate::kernel::errno::KResult;
use crate::mm::frame::{self, Pfn, PAGE_SIZE};
use std::collections::BTreeMap;

/// Cached pages of one file and the host version they were read from.
#[derive(Default)]
pub struct PageCache {
    pages: BTreeMap<u64, Pfn>,
    /// (size, mtime sec, mtime nsec) when the cache was last known valid.
    stamp: Option<(u64, i64, i64)>,
}

impl PageCache {
    /// Drop every page (mappings keep their own references).
    pub fn clear(&mut self) {
        for (_, p) in std::mem::take(&mut self.pages) {
            frame::put(p);
        }
    }

    /// Make sure the cache belongs to host version `stamp`; drop it if the
    /// file changed on the host.
    pub fn validate(&mut self, stamp: (u64, i64, i64)) {
        if self.stamp != Some(stamp) {
            if self.stamp.is_some() {
                self.clear();
            }
            self.stamp = Some(stamp);
        }
    }

    /// Has a page been handed out since the cache was (re)validated?
    pub fn active(&self) -> bool {
        self.stamp.is_some()
    }

    /// Our own change produced host version `stamp`: the cache stays.
    pub fn restamp(&mut self, stamp: (u64, i64, i64)) {
        if self.stamp.is_some() {
            self.stamp = Some(stamp);
        }
    }

    /// Page `idx` with a reference for the caller, filled by `fill` (which
    /// reads the host file at a byte offset) on a miss.
    pub fn page(
        &mut self,
        idx: u64,
        fill: impl FnOnce(u64, &mut [u8]) -> KResult<usize>,
    ) -> KResult<Pfn> {
        if let Some(&p) = self.pages.get(&idx) {
            frame::get(p);
            return Ok(p);
        }
        let mut buf = vec![0u8; PAGE_SIZE as usize];
        let n = fill(idx * PAGE_SIZE, &mut buf)?;
        // Past the end of file the page is zeros, as Linux's.
        buf[n..].fill(0);
        let p = frame::alloc()?;
        frame::write(p, 0, &buf);
        self.pages.insert(idx, p);
        frame::get(p);
        Ok(p)
    }

    /// A cached page with a reference, if present.
    pub fn cached(&self, idx: u64) -> Option<Pfn> {
        let p = *self.pages.get(&idx)?;
        frame::get(p);
        Some(p)
    }

    /// Is the cache filled from host version `stamp`?
    pub fn is_of(&self, stamp: (u64, i64, i64)) -> bool {
        self.stamp == Some(stamp)
    }

    /// Write back what shared writable mappings changed: every cached page
    /// (within the file's `size`) that differs from the host's copy. Private
    /// mappings copy on write, so only shared ones change cached frames.
    pub fn writeback(
        &self,
        size: u64,
        mut read: impl FnMut(u64, &mut [u8]) -> KResult<usize>,
        mut write: impl FnMut(u64, &[u8]) -> KResult<usize>,
    ) -> KResult<()> {
        let mut mine = vec![0u8; PAGE_SIZE as usize];
        let mut theirs = vec![0u8; PAGE_SIZE as usize];
        for (&idx, &p) in &self.pages {
            let off = idx * PAGE_SIZE;
            if off >= size {
                break;
            }
            let len = (size - off).min(PAGE_SIZE) as usize;
            frame::read(p, 0, &mut mine[..len]);
            let n = read(off, &mut theirs[..len])?;
            if n != len || mine[..len] != theirs[..len] {
                write(off, &mine[..len])?;
            }
        }
        Ok(())
    }

    /// `data` was written to the host at `off`: copy it into cached pages.
    pub fn written(&mut self, off: u64, data: &[u8]) {
        if self.pages.is_empty() {
            return;
        }
        let mut done = 0;
        while done < data.len() {
            let pos = off + done as u64;
            let po = (pos % PAGE_SIZE) as usize;
            let chunk = (PAGE_SIZE as usize - po).min(data.len() - done);
            if let Some(&p) = self.pages.get(&(pos / PAGE_SIZE)) {
                frame::write(p, po, &data[done..done + chunk]);
            }
            done += chunk;
        }
    }

    /// The file was cut to `size`: drop pages past it, zero the tail.
    pub fn truncated(&mut self, size: u64) {
        for (_, p) in self.pages.split_off(&size.div_ceil(PAGE_SIZE)) {
            frame::put(p);
        }
        if size % PAGE_SIZE != 0 {
            if let Some(&p) = self.pages.get(&(size / PAGE_SIZE)) {
                let o = (size % PAGE_SIZE) as usize;
                frame::zero(p, o, PAGE_SIZE as usize - o);
            }
        }
    }
}

impl Drop for PageCache {
    fn drop(&mut self) {
        self.clear();
    }
}
