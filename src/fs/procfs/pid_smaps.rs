//! /proc/PID/smaps and smaps_rollup: per-VMA memory figures in Linux's
//! field list and layout (task_mmu.c), so tools that parse them (ps_mem,
//! smem, pmap -X) work. ruml keeps no dirty or referenced bits, so the
//! figures are what the page tables and frame reference counts tell:
//! anonymous and copied-on-write pages count as dirty, page-cache pages as
//! clean; swap, huge pages, KSM and locking are always 0.

use super::pid::{group_task, maps_line, maps_prefix};
use crate::kernel::errno::KResult;
use crate::kernel::task::Pid;
use crate::mm::frame::{self, PAGE_SIZE};
use crate::mm::{Backing, MmInner, Vma, PROT_EXEC, PROT_READ, PROT_WRITE};
use std::fmt::Write;

/// Linux's PSS_SHIFT: proportional sizes are summed in fixed point so
/// rounding happens once, at the end.
const PSS_SHIFT: u32 = 12;

/// Resident memory of one VMA (or all of them), in bytes; `pss*` in
/// bytes << PSS_SHIFT.
#[derive(Default)]
struct Usage {
    rss: u64,
    pss: u64,
    pss_dirty: u64,
    pss_anon: u64,
    pss_file: u64,
    pss_shmem: u64,
    shared_clean: u64,
    shared_dirty: u64,
    private_clean: u64,
    private_dirty: u64,
    anonymous: u64,
}

/// Shared anonymous memory and memfds are shmem, as in Linux.
fn is_shmem(v: &Vma) -> bool {
    match &v.backing {
        Backing::File { path, .. } => {
            v.shared && (path.starts_with("/dev/zero") || path.starts_with("/memfd:"))
        }
        Backing::Anon => false,
    }
}

impl Usage {
    fn add_vma(&mut self, m: &MmInner, v: &Vma) {
        let shmem = is_shmem(v);
        for pfn in m.resident_frames(v.start, v.end) {
            let refs = frame::refcount(pfn).max(1) as u64;
            // Who maps the frame: for a page-cache page one reference is
            // the cache's own. A private file mapping's frame with a
            // single reference is a copy made on write, i.e. anonymous.
            let (mappers, dirty, anon) = match &v.backing {
                Backing::Anon => (refs, true, true),
                Backing::File { .. } if !v.shared && refs == 1 => (1, true, true),
                Backing::File { .. } => ((refs - 1).max(1), false, false),
            };
            let pss = (PAGE_SIZE << PSS_SHIFT) / mappers;
            self.rss += PAGE_SIZE;
            self.pss += pss;
            match (mappers > 1, dirty) {
                (true, true) => self.shared_dirty += PAGE_SIZE,
                (true, false) => self.shared_clean += PAGE_SIZE,
                (false, true) => self.private_dirty += PAGE_SIZE,
                (false, false) => self.private_clean += PAGE_SIZE,
            }
            if dirty {
                self.pss_dirty += pss;
            }
            if anon {
                self.anonymous += PAGE_SIZE;
                self.pss_anon += pss;
            } else if shmem {
                self.pss_shmem += pss;
            } else {
                self.pss_file += pss;
            }
        }
    }

    /// The common fields; `rollup` adds the Pss_Anon/File/Shmem split.
    fn write(&self, out: &mut String, rollup: bool) {
        let kb = |out: &mut String, key: &str, bytes: u64| {
            let _ = writeln!(out, "{:<16}{:>8} kB", key, bytes >> 10);
        };
        kb(out, "Rss:", self.rss);
        kb(out, "Pss:", self.pss >> PSS_SHIFT);
        kb(out, "Pss_Dirty:", self.pss_dirty >> PSS_SHIFT);
        if rollup {
            kb(out, "Pss_Anon:", self.pss_anon >> PSS_SHIFT);
            kb(out, "Pss_File:", self.pss_file >> PSS_SHIFT);
            kb(out, "Pss_Shmem:", self.pss_shmem >> PSS_SHIFT);
        }
        kb(out, "Shared_Clean:", self.shared_clean);
        kb(out, "Shared_Dirty:", self.shared_dirty);
        kb(out, "Private_Clean:", self.private_clean);
        kb(out, "Private_Dirty:", self.private_dirty);
        // No accessed bits: every resident page counts as referenced.
        kb(out, "Referenced:", self.rss);
        kb(out, "Anonymous:", self.anonymous);
        for key in [
            "KSM:",
            "LazyFree:",
            "AnonHugePages:",
            "ShmemPmdMapped:",
            "FilePmdMapped:",
            "Shared_Hugetlb:",
            "Private_Hugetlb:",
            "Swap:",
            "SwapPss:",
            "Locked:",
        ] {
            kb(out, key, 0);
        }
    }
}

/// The VmFlags line's two-letter names, in Linux's order: VM_MAY* are set
/// on every mapping ruml makes (a shared mapping may write only if it can
/// now), the stack grows down, private writable memory is accounted.
fn vm_flags(v: &Vma) -> String {
    let w = v.prot & PROT_WRITE != 0;
    let flags = [
        ("rd", v.prot & PROT_READ != 0),
        ("wr", w),
        ("ex", v.prot & PROT_EXEC != 0),
        ("sh", v.shared),
        ("mr", true),
        ("mw", !v.shared || w),
        ("me", true),
        ("gd", v.label == "[stack]"),
        ("ac", !v.shared && w),
    ];
    let mut s = String::from("VmFlags:");
    for (name, on) in flags {
        if on {
            s.push(' ');
            s.push_str(name);
        }
    }
    // Linux prints a space after each name, so the line ends with one.
    s.push_str(" \n");
    s
}

pub(super) fn proc_smaps(pid: Pid) -> KResult<String> {
    let t = group_task(pid)?;
    let mm = t.mm();
    let m = mm.lock();
    let mut out = String::new();
    for v in m.vmas() {
        out.push_str(&maps_line(v));
        out.push('\n');
        let _ = writeln!(out, "{:<16}{:>8} kB", "Size:", (v.end - v.start) >> 10);
        let _ = writeln!(out, "{:<16}{:>8} kB", "KernelPageSize:", PAGE_SIZE >> 10);
        let _ = writeln!(out, "{:<16}{:>8} kB", "MMUPageSize:", PAGE_SIZE >> 10);
        let mut u = Usage::default();
        u.add_vma(&m, v);
        u.write(&mut out, false);
        let _ = writeln!(out, "{:<16}{:>8}", "THPeligible:", 0);
        out.push_str(&vm_flags(v));
    }
    Ok(out)
}

pub(super) fn proc_smaps_rollup(pid: Pid) -> KResult<String> {
    let t = group_task(pid)?;
    let mm = t.mm();
    let m = mm.lock();
    let mut u = Usage::default();
    let (mut start, mut end) = (None, 0);
    for v in m.vmas() {
        start.get_or_insert(v.start);
        end = v.end;
        u.add_vma(&m, v);
    }
    let mut out = maps_prefix(start.unwrap_or(0), end, "---p", 0, 0, 0, "[rollup]");
    out.push('\n');
    u.write(&mut out, true);
    Ok(out)
}
