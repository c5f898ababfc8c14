//! What /proc and getrusage say about an address space: mapped sizes by
//! kind (Linux's total_vm, data_vm, stack_vm, exec_vm), resident pages by
//! kind, page-table size, high-water marks, and where exec put the code,
//! data and stack.

use super::{Backing, MmInner, PAGE_SIZE, PROT_EXEC, PROT_WRITE};

/// Where exec placed the program (the fields of /proc/PID/stat and
/// statm that describe it).
#[derive(Clone, Copy, Default, Debug)]
pub struct Layout {
    pub start_code: u64,
    pub end_code: u64,
    pub start_data: u64,
    pub end_data: u64,
    pub start_stack: u64,
}

/// Peaks of the mapped size and the resident set, in pages. They are
/// brought up to date before anything shrinks (as Linux does), so the
/// peak is the larger of the mark and the current value.
#[derive(Clone, Copy, Default, Debug)]
pub struct HiWater {
    vm: u64,
    rss: u64,
}

/// Sizes in pages, as Linux's mm counters.
#[derive(Clone, Copy, Default, Debug)]
pub struct MemStats {
    /// Everything mapped (VmSize).
    pub total: u64,
    /// Private writable, not stack (VmData).
    pub data: u64,
    /// The stack (VmStk).
    pub stack: u64,
    /// Executable and not writable (VmExe + VmLib).
    pub exec: u64,
    pub rss_anon: u64,
    pub rss_file: u64,
    /// Shared anonymous pages.
    pub rss_shmem: u64,
    pub peak_total: u64,
    pub peak_rss: u64,
    /// Bytes of page tables a Linux would need for the resident pages.
    pub pte_bytes: u64,
    /// mlock'ed pages (VmLck).
    pub locked: u64,
}

impl MemStats {
    pub fn rss(&self) -> u64 {
        self.rss_anon + self.rss_file + self.rss_shmem
    }
}

impl MmInner {
    /// The frames resident in `[start, end)`, in address order
    /// (/proc/PID/smaps counts them per VMA).
    pub fn resident_frames(&self, start: u64, end: u64) -> Vec<super::frame::Pfn> {
        self.ptes
            .range(start / PAGE_SIZE..end.div_ceil(PAGE_SIZE))
            .map(|(_, p)| p.pfn)
            .collect()
    }

    fn total_pages(&self) -> u64 {
        self.vmas
            .values()
            .map(|v| (v.end - v.start) / PAGE_SIZE)
            .sum()
    }

    /// Record the current sizes in the high-water marks (before unmapping
    /// or dropping pages).
    pub(super) fn update_hiwater(&mut self) {
        let total = self.total_pages();
        self.hiwater.vm = self.hiwater.vm.max(total);
        self.hiwater.rss = self.hiwater.rss.max(self.ptes.len() as u64);
    }

    /// Forget the marks (exec starts a new image).
    pub(super) fn reset_hiwater(&mut self) {
        self.hiwater = HiWater::default();
    }

    /// Peak resident set in kB (ru_maxrss, VmHWM).
    pub fn peak_rss_kb(&self) -> u64 {
        self.hiwater.rss.max(self.ptes.len() as u64) * (PAGE_SIZE / 1024)
    }

    /// Pages mapped in all and pages private, writable and not stack
    /// (Linux's total_vm and data_vm, what RLIMIT_AS and RLIMIT_DATA
    /// bound), over `[start, end)` only when given.
    pub fn vm_pages(&self, range: Option<(u64, u64)>) -> (u64, u64) {
        let (lo, hi) = range.unwrap_or((0, u64::MAX));
        let mut total = 0;
        let mut data = 0;
        for v in self.vmas.values() {
            let (s, e) = (v.start.max(lo), v.end.min(hi));
            if s >= e {
                continue;
            }
            let pages = (e - s) / PAGE_SIZE;
            total += pages;
            if v.label != "[stack]" && v.prot & PROT_WRITE != 0 && !v.shared {
                data += pages;
            }
        }
        (total, data)
    }

    /// Pages resident in this address space (what a memory cgroup
    /// charges for it).
    pub fn resident_pages(&self) -> u64 {
        self.ptes.len() as u64
    }

    /// Everything /proc/PID/status, statm and stat show about memory.
    pub fn mem_stats(&self) -> MemStats {
        let mut s = MemStats::default();
        for v in self.vmas.values() {
            let pages = (v.end - v.start) / PAGE_SIZE;
            let stack = v.label == "[stack]";
            s.total += pages;
            if stack {
                s.stack += pages;
            } else if v.prot & PROT_WRITE != 0 && !v.shared {
                s.data += pages;
            } else if v.prot & PROT_EXEC != 0 && v.prot & PROT_WRITE == 0 {
                s.exec += pages;
            }
            // Pages copied on write in a private file mapping are anonymous
            // in Linux; here they count with their mapping's kind.
            let resident = self
                .ptes
                .range(v.start / PAGE_SIZE..v.end / PAGE_SIZE)
                .count() as u64;
            match (&v.backing, v.shared) {
                (Backing::File { .. }, _) => s.rss_file += resident,
                (Backing::Anon, true) => s.rss_shmem += resident,
                (Backing::Anon, false) => s.rss_anon += resident,
            }
        }
        s.peak_total = self.hiwater.vm.max(s.total);
        s.peak_rss = self.hiwater.rss.max(s.rss());
        s.pte_bytes = self.page_table_bytes();
        s.locked = self.locked_pages();
        s
    }

    /// One 4 KiB table per 2 MiB (PTEs), 1 GiB (PMDs) and 512 GiB (PUDs)
    /// region that has resident pages, as x86_64's four-level tables.
    fn page_table_bytes(&self) -> u64 {
        // Keys are sorted: a region starts wherever vpn >> shift changes.
        let mut last = [u64::MAX; 3];
        let mut tables = 0;
        for vpn in self.ptes.keys() {
            for (l, shift) in last.iter_mut().zip([9u32, 18, 27]) {
                if *l != vpn >> shift {
                    *l = vpn >> shift;
                    tables += 1;
                }
            }
        }
        tables * PAGE_SIZE
    }
}
