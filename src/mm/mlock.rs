//! Locked pages of an address space (mlock, mlockall): which pages are
//! locked, for RLIMIT_MEMLOCK and VmLck, and whether new mappings lock
//! themselves (MCL_FUTURE). Nothing is ever swapped here, so locking only
//! counts; it is not inherited by fork (as Linux clears VM_LOCKED in the
//! child) and exec starts a new address space without it.

use super::{MmInner, PAGE_SIZE};
use crate::kernel::errno::{Errno, KResult};
use std::collections::BTreeMap;

/// The locked pages, as disjoint, non-adjacent ranges of page numbers
/// (start -> end, exclusive): a guest may lock terabytes of address space
/// (root has no RLIMIT_MEMLOCK), so a set of single pages would grow
/// without bound in vmlinux. And the MCL_FUTURE flag.
#[derive(Default)]
pub struct Locked {
    ranges: BTreeMap<u64, u64>,
    total: u64,
    pub future: bool,
}

impl Locked {
    /// The whole ranges that overlap `[a, b)` (page numbers).
    fn overlapping(&self, a: u64, b: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let first = self.ranges.range(..=a).next_back().map_or(a, |(&s, _)| s);
        self.ranges
            .range(first..b)
            .filter(move |&(_, &e)| e > a)
            .map(|(&s, &e)| (s, e))
    }

    /// Pages of `[a, b)` (page numbers) that are locked.
    fn count_in(&self, a: u64, b: u64) -> u64 {
        self.ranges_in(a, b).iter().map(|(s, e)| e - s).sum()
    }

    /// Unlock `[a, b)` (page numbers).
    fn remove(&mut self, a: u64, b: u64) {
        let hit: Vec<(u64, u64)> = self.overlapping(a, b).collect();
        for (s, e) in hit {
            self.ranges.remove(&s);
            self.total -= e - s;
            if s < a {
                self.ranges.insert(s, a);
                self.total += a - s;
            }
            if e > b {
                self.ranges.insert(b, e);
                self.total += e - b;
            }
        }
    }

    /// Lock `[a, b)` (page numbers), merging with touching ranges.
    fn insert(&mut self, mut a: u64, mut b: u64) {
        if a >= b {
            return;
        }
        // Absorb every range that overlaps or touches [a, b).
        let first = self.ranges.range(..=a).next_back().map_or(a, |(&s, _)| s);
        let hit: Vec<(u64, u64)> = self
            .ranges
            .range(first..=b)
            .filter(|&(_, &e)| e >= a)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in hit {
            self.ranges.remove(&s);
            self.total -= e - s;
            a = a.min(s);
            b = b.max(e);
        }
        self.ranges.insert(a, b);
        self.total += b - a;
    }

    /// The locked ranges of `[a, b)` (page numbers), clipped to it.
    fn ranges_in(&self, a: u64, b: u64) -> Vec<(u64, u64)> {
        self.overlapping(a, b)
            .map(|(s, e)| (s.max(a), e.min(b)))
            .collect()
    }
}

impl MmInner {
    /// Pages locked in all (Linux's locked_vm).
    pub fn locked_pages(&self) -> u64 {
        self.locked.total
    }

    /// Pages locked in `[start, end)`.
    pub fn locked_in(&self, start: u64, end: u64) -> u64 {
        self.locked.count_in(start / PAGE_SIZE, end / PAGE_SIZE)
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
        let (a, b) = (start / PAGE_SIZE, end / PAGE_SIZE);
        if on {
            self.locked.insert(a, b);
        } else {
            self.locked.remove(a, b);
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
        let (a, b) = (old / PAGE_SIZE, (old + len) / PAGE_SIZE);
        let moved = self.locked.ranges_in(a, b);
        self.locked.remove(a, b);
        for (s, e) in moved {
            let to = s - a + new / PAGE_SIZE;
            self.locked.insert(to, to + (e - s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Locked;

    #[test]
    fn ranges_merge_split_and_count() {
        let mut l = Locked::default();
        l.insert(10, 20);
        l.insert(20, 30); // touching: one range
        l.insert(5, 8);
        assert_eq!(l.ranges.len(), 2);
        assert_eq!(l.total, 23);
        assert_eq!(l.count_in(0, 100), 23);
        assert_eq!(l.count_in(15, 25), 10);
        l.remove(12, 14);
        assert_eq!(l.total, 21);
        assert_eq!(l.count_in(10, 30), 18);
        assert_eq!(l.ranges_in(11, 16), vec![(11, 12), (14, 16)]);
        l.insert(0, 100);
        assert_eq!((l.ranges.len(), l.total), (1, 100));
        // A huge range costs one entry.
        l.insert(1 << 40, 1 << 45);
        assert_eq!(l.ranges.len(), 2);
        l.remove(0, u64::MAX);
        assert_eq!((l.ranges.len(), l.total), (0, 0));
    }
}
