//! Locked pages of an address space (mlock, mlockall): which pages are
//! locked, for RLIMIT_MEMLOCK and VmLck, and whether new mappings lock
//! themselves (MCL_FUTURE). Nothing is ever swapped here, so locking only
//! counts; it is not inherited by fork (as Linux clears VM_LOCKED in the
//! child) and exec starts a new address space without it.

use super::{MmInner, PAGE_SIZE};
use crate::kernel::errno::{Errno, KResult};
use std::collections::BTreeSet;

/// The locked pages (by page number) and the MCL_FUTURE flag.
#[derive(Default)]
pub struct Locked {
    pages: BTreeSet<u64>,
    pub future: bool,
}

impl MmInner {
    /// Pages locked in all (Linux's locked_vm).
    pub fn locked_pages(&self) -> u64 {
        self.locked.pages.len() as u64
    }

    /// Pages locked in `[start, end)`.
    pub fn locked_in(&self, start: u64, end: u64) -> u64 {
        self.locked
            .pages
            .range(start / PAGE_SIZE..end / PAGE_SIZE)
            .count() as u64
    }

    /// Whether all of `[start, end)` is mapped.
    fn fully_mapped(&self, start: u64, end: u64) -> bool {
        let mut a = start;
        while a < end {
            match self.find_vma(a) {
                Some(v) => a = v.end,
                None => return false,
            }
        }
        true
    }

    /// Lock (`on`) or unlock the pages of `[start, end)`, which must all be
    /// mapped (ENOMEM otherwise, as Linux's apply_vma_lock_flags).
    pub fn set_locked(&mut self, start: u64, end: u64, on: bool) -> KResult<()> {
        if !self.fully_mapped(start, end) {
            return Err(Errno::ENOMEM);
        }
        self.mark_locked(start, end, on);
        Ok(())
    }

    /// Lock or unlock `[start, end)` whatever is mapped there.
    pub fn mark_locked(&mut self, start: u64, end: u64, on: bool) {
        let range = start / PAGE_SIZE..end / PAGE_SIZE;
        if on {
            self.locked.pages.extend(range);
        } else {
            let gone: Vec<u64> = self.locked.pages.range(range).copied().collect();
            for p in gone {
                self.locked.pages.remove(&p);
            }
        }
    }

    /// Whether new mappings are locked (MCL_FUTURE).
    pub fn lock_future(&self) -> bool {
        self.locked.future
    }

    pub fn set_lock_future(&mut self, on: bool) {
        self.locked.future = on;
    }

    /// Lock every mapped page (mlockall's MCL_CURRENT).
    pub fn lock_all(&mut self) {
        let ranges: Vec<(u64, u64)> = self.vmas().map(|v| (v.start, v.end)).collect();
        for (s, e) in ranges {
            self.mark_locked(s, e, true);
        }
    }

    /// Unlock everything and stop locking new mappings (munlockall).
    pub fn unlock_all(&mut self) {
        self.locked = Locked::default();
    }

    /// `[old, old + len)` moved to `new` (mremap): its locked pages go
    /// along.
    pub(super) fn move_locked(&mut self, old: u64, len: u64, new: u64) {
        let pages: Vec<u64> = self
            .locked
            .pages
            .range(old / PAGE_SIZE..(old + len) / PAGE_SIZE)
            .copied()
            .collect();
        for p in &pages {
            self.locked.pages.remove(p);
        }
        for p in pages {
            self.locked
                .pages
                .insert(p - old / PAGE_SIZE + new / PAGE_SIZE);
        }
    }
}
