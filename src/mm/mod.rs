//! Memory management: guest address spaces (VMAs and page tables kept by
//! the kernel), page faults, copy-on-write, and safe access to guest
//! memory. The host process of each address space only caches what the page
//! table says; every change is queued to it through the platform's
//! `arch::AddressSpace`.

mod fault_retry;
pub mod frame;
pub mod host_slot;
pub mod mlock;
pub mod special;
pub mod stats;

use crate::arch::{self, AddressSpace};
use crate::fs::vfs::Inode;
use crate::kernel::errno::{Errno, KResult};
use frame::{Pfn, PAGE_SIZE};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// End of guest user space: the stub lives above.
pub const TASK_SIZE: u64 = arch::stub::STUB_CODE;
/// Top of the initial stack.
pub const STACK_TOP: u64 = TASK_SIZE - 0x10_0000;
/// Size reserved for the main stack.
pub const STACK_SIZE: u64 = 8 << 20;
/// Where mmap searches down from.
pub const MMAP_BASE: u64 = STACK_TOP - STACK_SIZE - (64 << 20);

pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;

/// Pages populated per fault when anonymous memory is touched in order.
const ANON_FAULT_AROUND: u64 = 32;

pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;

/// The one gate between guest addresses and host mappings: every path
/// that creates, grows or moves a guest mapping (mmap with or without
/// MAP_FIXED, mremap, brk, the ELF loader, the stack) asks here, through
/// `MmInner::insert_vma` and the in-place growth paths, before anything is
/// changed. A range that is empty, unaligned, wraps around or reaches past
/// TASK_SIZE (where the stub lives) is refused with ENOMEM, so no guest
/// mapping can ever cover, replace or unmap the stub.
pub fn check_user_range(start: u64, end: u64) -> KResult<()> {
    if start % PAGE_SIZE != 0 || end % PAGE_SIZE != 0 || start >= end || end > TASK_SIZE {
        log::debug!("mm: refused guest range {start:#x}..{end:#x}");
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

pub fn page_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}
/// Round up to a page; saturates instead of wrapping, so a huge length
/// from the guest stays huge (and is then refused) rather than becoming 0.
pub fn page_up(a: u64) -> u64 {
    a.checked_add(PAGE_SIZE - 1).unwrap_or(u64::MAX) & !(PAGE_SIZE - 1)
}

/// What a mapping is backed by.
#[derive(Clone)]
pub enum Backing {
    Anon,
    /// `offset` is the file offset that `vma.start` maps.
    File {
        inode: Arc<dyn Inode>,
        offset: u64,
        path: String,
    },
}

/// One virtual memory area.
#[derive(Clone)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: u32,
    pub shared: bool,
    pub backing: Backing,
    /// "[heap]", "[stack]", "[vvar]", "[vdso]" or empty.
    pub label: &'static str,
}

impl Vma {
    /// The vDSO's time data page: the kernel's, never writable or
    /// executable in any guest (Linux's vvar has no VM_MAYWRITE/MAYEXEC).
    pub fn is_vvar(&self) -> bool {
        self.label == special::VVAR
    }
    fn file_page(&self, addr: u64) -> u64 {
        match &self.backing {
            Backing::File { offset, .. } => (offset + (addr - self.start)) / PAGE_SIZE,
            Backing::Anon => 0,
        }
    }
    /// Split at `at`, returning the upper part.
    fn split_off(&mut self, at: u64) -> Vma {
        let mut hi = self.clone();
        hi.start = at;
        if let Backing::File { offset, .. } = &mut hi.backing {
            *offset += at - self.start;
        }
        self.end = at;
        hi
    }
}

#[derive(Clone, Copy)]
struct Pte {
    pfn: Pfn,
    /// Protection of the host mapping; 0 = not mapped in the host yet.
    host_prot: u32,
}

/// Why a fault could not be resolved: the guest gets a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    Segv(i32),
    Bus,
    Oom,
}

/// A guest address space.
pub struct Mm {
    inner: Mutex<MmInner>,
}

/// The state of an address space, behind `Mm`'s lock.
pub struct MmInner {
    vmas: BTreeMap<u64, Vma>,
    ptes: BTreeMap<u64, Pte>,
    pub host: Box<dyn AddressSpace>,
    pub brk_start: u64,
    pub brk: u64,
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_start: u64,
    pub env_end: u64,
    pub exe: String,
    /// The auxiliary vector exec gave the program, (type, value) words up
    /// to and including AT_NULL (Linux's saved_auxv, /proc/PID/auxv).
    pub saved_auxv: Vec<u64>,
    /// Where exec put code, data and the stack (for /proc).
    pub layout: stats::Layout,
    hiwater: stats::HiWater,
    /// mlock'ed pages and MCL_FUTURE.
    locked: mlock::Locked,
}

impl Mm {
    pub fn new() -> KResult<Arc<Mm>> {
        Ok(Arc::new(Mm {
            inner: Mutex::new(MmInner::new()?),
        }))
    }

    pub fn lock(&self) -> MutexGuard<'_, MmInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Identity for private futex keys.
    pub fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    /// A copy-on-write duplicate (fork). `here`: the child runs on this
    /// vCPU, so its host side is made now; otherwise the vCPU that runs
    /// it makes it (`materialize`).
    pub fn fork(&self, here: bool) -> KResult<Arc<Mm>> {
        let child = self.lock().fork(here)?;
        Ok(Arc::new(Mm {
            inner: Mutex::new(child),
        }))
    }

    pub fn read(&self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        self.lock().read(addr, buf)
    }
    pub fn write(&self, addr: u64, buf: &[u8]) -> KResult<()> {
        self.lock().write(addr, buf)
    }
    pub fn read_u32(&self, addr: u64) -> KResult<u32> {
        crate::abi::read_val(self, addr)
    }
    pub fn read_u64(&self, addr: u64) -> KResult<u64> {
        crate::abi::read_val(self, addr)
    }
    pub fn write_u32(&self, addr: u64, v: u32) -> KResult<()> {
        crate::abi::write_val(self, addr, &v)
    }
    pub fn write_u64(&self, addr: u64, v: u64) -> KResult<()> {
        crate::abi::write_val(self, addr, &v)
    }
    /// Read a plain-old-data struct from guest memory.
    pub fn read_vec(&self, addr: u64, len: usize) -> KResult<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }
    /// A NUL-terminated string of at most `max` bytes.
    pub fn read_cstr(&self, addr: u64, max: usize) -> KResult<String> {
        // Names are bytes: any of them maps losslessly to a String.
        let bytes = self.lock().read_cstr(addr, max)?;
        Ok(crate::fs::name::from_bytes(&bytes))
    }
    pub fn read_cstr_bytes(&self, addr: u64, max: usize) -> KResult<Vec<u8>> {
        self.lock().read_cstr(addr, max)
    }
}

fn host_prot(vma: &Vma, pfn: Pfn) -> u32 {
    let mut p = vma.prot & 7;
    if vma.is_vvar() {
        return p & PROT_READ;
    }
    if p & PROT_WRITE != 0 {
        p |= PROT_READ;
    }
    if !vma.shared && p & PROT_WRITE != 0 && frame::refcount(pfn) > 1 {
        p &= !PROT_WRITE;
    }
    p
}

impl MmInner {
    fn new() -> KResult<MmInner> {
        Self::with_host(new_host()?)
    }

    fn with_host(host: Box<dyn AddressSpace>) -> KResult<MmInner> {
        Ok(MmInner {
            vmas: BTreeMap::new(),
            ptes: BTreeMap::new(),
            host,
            brk_start: 0,
            brk: 0,
            arg_start: 0,
            arg_end: 0,
            env_start: 0,
            env_end: 0,
            exe: String::new(),
            saved_auxv: Vec::new(),
            layout: Default::default(),
            hiwater: Default::default(),
            locked: Default::default(),
        })
    }

    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    pub fn find_vma(&self, addr: u64) -> Option<&Vma> {
        self.vmas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    /// Drop every mapping (execve reusing this address space).
    pub fn clear(&mut self) {
        self.reset_hiwater();
        for (_, pte) in std::mem::take(&mut self.ptes) {
            frame::put(pte.pfn);
        }
        self.vmas.clear();
        self.host.munmap(0, TASK_SIZE);
        self.brk = 0;
        self.brk_start = 0;
    }

    fn is_free(&self, start: u64, end: u64) -> bool {
        if end > TASK_SIZE || start >= end {
            return false;
        }
        if let Some(v) = self.find_vma(start) {
            let _ = v;
            return false;
        }
        match self.vmas.range(start..).next() {
            Some((&s, _)) => s >= end,
            None => true,
        }
    }

    /// Find room for `len` bytes, near `hint` if free, else top-down.
    pub fn unmapped_area(&self, hint: u64, len: u64) -> KResult<u64> {
        let len = page_up(len);
        if len == 0 || len > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        if hint != 0 {
            let h = page_down(hint);
            if h >= PAGE_SIZE * 16 && self.is_free(h, h.saturating_add(len)) {
                return Ok(h);
            }
        }
        let mut top = MMAP_BASE;
        for (_, v) in self.vmas.range(..MMAP_BASE).rev() {
            if v.end <= top && top - v.end >= len {
                return Ok(top - len);
            }
            top = top.min(v.start);
        }
        if top >= len + (1 << 20) {
            return Ok(top - len);
        }
        Err(Errno::ENOMEM)
    }

    /// Split VMAs so that `addr` is a boundary.
    fn split_at(&mut self, addr: u64) {
        let key = match self.vmas.range(..addr).next_back() {
            Some((&k, v)) if v.end > addr => k,
            _ => return,
        };
        let v = self.vmas.get_mut(&key).unwrap();
        let hi = v.split_off(addr);
        self.vmas.insert(addr, hi);
    }

    /// Remove mappings in [start, end).
    pub fn unmap(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        self.update_hiwater();
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(&k, _)| k).collect();
        for k in keys {
            self.vmas.remove(&k);
        }
        self.drop_pages(start, end);
        self.mark_locked(start, end, false);
    }

    fn drop_pages(&mut self, start: u64, end: u64) {
        let vpns: Vec<u64> = self
            .ptes
            .range(start / PAGE_SIZE..end / PAGE_SIZE)
            .map(|(&k, _)| k)
            .collect();
        let mut mapped = false;
        for vpn in vpns {
            let pte = self.ptes.remove(&vpn).unwrap();
            mapped |= pte.host_prot != 0;
            frame::put(pte.pfn);
        }
        if mapped {
            self.host.munmap(start, end - start);
        }
    }

    /// Insert a new VMA (the range must be free). Refused unless the range
    /// passes `check_user_range`.
    pub fn insert_vma(&mut self, vma: Vma) -> KResult<()> {
        check_user_range(vma.start, vma.end)?;
        debug_assert!(self.is_free(vma.start, vma.end));
        self.vmas.insert(vma.start, vma);
        Ok(())
    }

    /// mprotect: change protection of [start, end); ENOMEM if not all mapped.
    pub fn protect(&mut self, start: u64, end: u64, prot: u32) -> KResult<()> {
        // Whole range must be mapped, and the vvar page may only stay
        // readable (Linux: EACCES for a right the mapping may never have).
        let mut a = start;
        while a < end {
            match self.find_vma(a) {
                Some(v) if v.is_vvar() && prot & (PROT_WRITE | PROT_EXEC) != 0 => {
                    return Err(Errno::EACCES)
                }
                Some(v) => a = v.end,
                None => return Err(Errno::ENOMEM),
            }
        }
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(&k, _)| k).collect();
        for k in keys {
            self.vmas.get_mut(&k).unwrap().prot = prot;
        }
        let vpns: Vec<u64> = self
            .ptes
            .range(start / PAGE_SIZE..end / PAGE_SIZE)
            .map(|(&k, _)| k)
            .collect();
        for vpn in vpns {
            let addr = vpn * PAGE_SIZE;
            let vma = self.find_vma(addr).unwrap().clone();
            let pte = self.ptes.get_mut(&vpn).unwrap();
            if pte.host_prot == 0 {
                continue;
            }
            let p = host_prot(&vma, pte.pfn);
            if p == 0 {
                self.host.munmap(addr, PAGE_SIZE);
                pte.host_prot = 0;
            } else if p != pte.host_prot {
                self.host.mprotect(addr, PAGE_SIZE, p);
                pte.host_prot = p;
            }
        }
        Ok(())
    }

    /// madvise(MADV_DONTNEED): private pages read back as zero (or file data).
    pub fn discard(&mut self, start: u64, end: u64) {
        self.update_hiwater();
        self.drop_pages(start, end);
    }

    /// Move or resize the mapping at `old` (mremap).
    pub fn remap(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        may_move: bool,
        fixed: Option<u64>,
    ) -> KResult<u64> {
        let vma = self.find_vma(old).ok_or(Errno::EFAULT)?.clone();
        if old + old_len > vma.end {
            return Err(Errno::EFAULT);
        }
        // The vDSO and vvar may move but never grow (Linux's special
        // mappings are VM_DONTEXPAND).
        if new_len > old_len && matches!(vma.label, special::VVAR | special::VDSO) {
            return Err(Errno::EFAULT);
        }
        if let Some(a) = fixed {
            // Checked before anything is unmapped: the destination is the
            // guest's, and may not overlap the source (Linux: EINVAL).
            let end = a.checked_add(new_len).ok_or(Errno::EINVAL)?;
            check_user_range(a, end).map_err(|_| Errno::EINVAL)?;
            if a < old + old_len && old < end {
                return Err(Errno::EINVAL);
            }
        }
        self.update_hiwater();
        if fixed.is_none() {
            if new_len <= old_len {
                self.unmap(old + new_len, old + old_len);
                return Ok(old);
            }
            // Grow in place if the VMA ends here and the space after is free.
            if vma.end == old + old_len
                && check_user_range(vma.start, old + new_len).is_ok()
                && self.is_free(old + old_len, old + new_len)
            {
                self.vmas.get_mut(&vma.start).unwrap().end = old + new_len;
                if self.locked_in(old, old + old_len) > 0 {
                    self.mark_locked(old + old_len, old + new_len, true);
                }
                return Ok(old);
            }
            if !may_move {
                return Err(Errno::ENOMEM);
            }
        }
        let new = match fixed {
            Some(a) => {
                self.unmap(a, a + new_len);
                a
            }
            None => self.unmapped_area(0, new_len)?,
        };
        // Carve the old range out as its own VMA and move it.
        self.split_at(old);
        self.split_at(old + old_len);
        let mut moved = self.vmas.remove(&old).ok_or(Errno::EFAULT)?;
        moved.start = new;
        moved.end = new + new_len;
        let vpns: Vec<(u64, Pte)> = self
            .ptes
            .range(old / PAGE_SIZE..(old + old_len) / PAGE_SIZE)
            .map(|(&k, &p)| (k, p))
            .collect();
        for (vpn, _) in &vpns {
            self.ptes.remove(vpn);
        }
        self.host.munmap(old, old_len);
        let shrink_end = new + new_len.min(old_len);
        for (vpn, pte) in vpns {
            let addr = new + (vpn * PAGE_SIZE - old);
            if addr >= shrink_end {
                frame::put(pte.pfn);
                continue;
            }
            if pte.host_prot != 0 {
                self.host
                    .mmap(addr, PAGE_SIZE, pte.host_prot, frame::phys(pte.pfn));
            }
            self.ptes.insert(addr / PAGE_SIZE, pte);
        }
        // Locked pages move along; a locked mapping stays locked as it
        // grows.
        let was_locked = self.locked_in(old, old + old_len) > 0;
        self.mark_locked(old + new_len.min(old_len), old + old_len, false);
        self.move_locked(old, new_len.min(old_len), new);
        if was_locked && new_len > old_len {
            self.mark_locked(new + old_len, new + new_len, true);
        }
        self.insert_vma(moved)?;
        Ok(new)
    }

    /// Set the program break.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start || new >= TASK_SIZE {
            return self.brk;
        }
        let old_end = page_up(self.brk);
        let new_end = page_up(new);
        if new_end > old_end {
            if check_user_range(old_end, new_end).is_err() || !self.is_free(old_end, new_end) {
                return self.brk;
            }
            // Extend the heap VMA, or create it.
            match self.vmas.range_mut(..old_end).next_back() {
                Some((_, v)) if v.end == old_end && v.label == "[heap]" => v.end = new_end,
                _ => {
                    if self
                        .insert_vma(Vma {
                            start: old_end,
                            end: new_end,
                            prot: PROT_READ | PROT_WRITE,
                            shared: false,
                            backing: Backing::Anon,
                            label: "[heap]",
                        })
                        .is_err()
                    {
                        return self.brk;
                    }
                }
            }
        } else if new_end < old_end {
            self.unmap(new_end, old_end);
        }
        self.brk = new;
        new
    }

    /// A physical frame next to the neighbours of page `vpn`, if any.
    fn neighbour_hint(&self, vpn: u64) -> Option<Pfn> {
        if let Some(p) = self.ptes.get(&vpn.wrapping_sub(1)) {
            return Some(p.pfn + 1);
        }
        self.ptes.get(&(vpn + 1)).and_then(|p| p.pfn.checked_sub(1))
    }

    /// Make the page at `addr` present; with `write`, private and writable.
    /// Queues the host mapping. Returns the frame.
    fn populate(&mut self, addr: u64, write: bool) -> Result<Pfn, FaultError> {
        let vpn = addr / PAGE_SIZE;
        let page = vpn * PAGE_SIZE;
        let vma = match self.find_vma(addr) {
            Some(v) => v.clone(),
            None => return Err(FaultError::Segv(SEGV_MAPERR)),
        };
        // No write reaches the vvar page by any path (a guest store, a
        // kernel copy for /proc/PID/mem or process_vm_writev), whatever
        // its VMA says: it is the kernel's page, shared by every guest.
        if vma.prot & 7 == 0 || (write && (vma.prot & PROT_WRITE == 0 || vma.is_vvar())) {
            return Err(FaultError::Segv(SEGV_ACCERR));
        }
        if let Some(pte) = self.ptes.get(&vpn).copied() {
            let mut pfn = pte.pfn;
            if write && !vma.shared && frame::refcount(pfn) > 1 {
                // Copy on write.
                let new = frame::alloc_copy(pfn).map_err(|_| FaultError::Oom)?;
                frame::put(pfn);
                pfn = new;
            }
            let p = host_prot(&vma, pfn);
            if p != pte.host_prot || pfn != pte.pfn {
                self.host.mmap(page, PAGE_SIZE, p, frame::phys(pfn));
            }
            self.ptes.insert(vpn, Pte { pfn, host_prot: p });
            return Ok(pfn);
        }
        let pfn = match &vma.backing {
            Backing::Anon => {
                frame::alloc_near(self.neighbour_hint(vpn)).map_err(|_| FaultError::Oom)?
            }
            Backing::File { inode, .. } => {
                let idx = vma.file_page(page);
                if idx.saturating_mul(PAGE_SIZE) >= inode.stat().size {
                    // A page wholly past the end of the file has nothing to
                    // map: Linux raises SIGBUS (BUS_ADRERR) rather than
                    // growing the file or handing out zeros.
                    return Err(FaultError::Bus);
                }
                let cached = inode.page(idx).map_err(|e| {
                    if e == Errno::ENOMEM {
                        FaultError::Oom
                    } else {
                        FaultError::Bus
                    }
                })?;
                if write && !vma.shared {
                    let n = frame::alloc_copy(cached).map_err(|_| FaultError::Oom)?;
                    frame::put(cached);
                    n
                } else {
                    cached
                }
            }
        };
        let p = host_prot(&vma, pfn);
        self.host
            .mmap_populate(page, PAGE_SIZE, p, frame::phys(pfn));
        self.ptes.insert(vpn, Pte { pfn, host_prot: p });
        if matches!(vma.backing, Backing::Anon)
            && !vma.shared
            && self.ptes.contains_key(&(vpn.wrapping_sub(1)))
        {
            // Sequential first touches of anonymous memory: populate the
            // next pages too, with following frames, in one host mapping
            // (a lightweight version of transparent huge pages).
            let mut a = page + PAGE_SIZE;
            let mut prev = pfn;
            while a < vma.end
                && a < page + ANON_FAULT_AROUND * PAGE_SIZE
                && !self.ptes.contains_key(&(a / PAGE_SIZE))
            {
                let Ok(pf) = frame::alloc_near(Some(prev + 1)) else {
                    break;
                };
                // A fresh frame of the same private VMA maps like the
                // faulting page (no refcount lookup per page), and the host
                // fills its page tables now instead of faulting each page.
                self.host.mmap_populate(a, PAGE_SIZE, p, frame::phys(pf));
                self.ptes.insert(
                    a / PAGE_SIZE,
                    Pte {
                        pfn: pf,
                        host_prot: p,
                    },
                );
                prev = pf;
                a += PAGE_SIZE;
            }
        }
        if let Backing::File { inode, .. } = &vma.backing {
            // Fault-around: map following pages already in the page cache in
            // the same host round trip.
            let mut a = page + PAGE_SIZE;
            while a < vma.end
                && a < page + 16 * PAGE_SIZE
                && !self.ptes.contains_key(&(a / PAGE_SIZE))
            {
                let Some(pf) = inode.cached_page(vma.file_page(a)) else {
                    break;
                };
                let p = host_prot(&vma, pf);
                self.host.mmap(a, PAGE_SIZE, p, frame::phys(pf));
                self.ptes.insert(
                    a / PAGE_SIZE,
                    Pte {
                        pfn: pf,
                        host_prot: p,
                    },
                );
                a += PAGE_SIZE;
            }
        }
        Ok(pfn)
    }

    /// Resolve a fault the host reported at `addr` (`code` is the host's
    /// si_code: SEGV_MAPERR = not mapped, SEGV_ACCERR = protection).
    pub fn handle_fault(&mut self, addr: u64, code: i32) -> Result<(), FaultError> {
        let vpn = addr / PAGE_SIZE;
        if let Some(pte) = self.ptes.get(&vpn).copied() {
            if pte.host_prot == 0 {
                let vma = self
                    .find_vma(addr)
                    .ok_or(FaultError::Segv(SEGV_MAPERR))?
                    .clone();
                let p = host_prot(&vma, pte.pfn);
                if p == 0 {
                    return Err(FaultError::Segv(SEGV_ACCERR));
                }
                self.host
                    .mmap(vpn * PAGE_SIZE, PAGE_SIZE, p, frame::phys(pte.pfn));
                self.ptes.get_mut(&vpn).unwrap().host_prot = p;
                return Ok(());
            }
            if code == SEGV_ACCERR && pte.host_prot & PROT_WRITE == 0 {
                // A write to a page mapped read-only: copy on write, or a
                // real violation (populate checks the VMA).
                self.populate(addr, true)?;
                return Ok(());
            }
            return Err(FaultError::Segv(SEGV_ACCERR));
        }
        self.populate(addr, false).map(|_| ())
    }

    /// Would the fault `handle_fault(addr, _)` resolves read a file page
    /// from a disk? Then the file and the page index, for the caller to
    /// read it without this lock first (`Mm::fault`). A present page
    /// (copy on write, a host mapping to redo) or a fault that ends in a
    /// signal needs no read.
    pub fn fault_needs_read(&self, addr: u64) -> Option<(Arc<dyn Inode>, u64)> {
        if self.ptes.contains_key(&(addr / PAGE_SIZE)) {
            return None;
        }
        let vma = self.find_vma(addr)?;
        if vma.prot & 7 == 0 {
            return None;
        }
        let Backing::File { inode, .. } = &vma.backing else {
            return None;
        };
        let idx = vma.file_page(page_down(addr));
        inode.page_needs_read(idx).then(|| (inode.clone(), idx))
    }

    /// The frame behind `addr` for kernel access.
    fn frame_for(&mut self, addr: u64, write: bool) -> KResult<Pfn> {
        if addr >= TASK_SIZE {
            return Err(Errno::EFAULT);
        }
        let vpn = addr / PAGE_SIZE;
        if let Some(pte) = self.ptes.get(&vpn) {
            if !write || pte.host_prot & PROT_WRITE != 0 {
                return Ok(pte.pfn);
            }
        }
        self.populate(addr, write).map_err(|_| Errno::EFAULT)
    }

    pub fn read(&mut self, mut addr: u64, buf: &mut [u8]) -> KResult<()> {
        let mut done = 0;
        while done < buf.len() {
            let off = (addr % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            let pfn = self.frame_for(addr, false)?;
            frame::read(pfn, off, &mut buf[done..done + n]);
            done += n;
            addr += n as u64;
        }
        Ok(())
    }

    pub fn write(&mut self, mut addr: u64, buf: &[u8]) -> KResult<()> {
        let mut done = 0;
        while done < buf.len() {
            let off = (addr % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            let pfn = self.frame_for(addr, true)?;
            frame::write(pfn, off, &buf[done..done + n]);
            done += n;
            addr += n as u64;
        }
        Ok(())
    }

    /// A debugger's write (Linux's FOLL_FORCE: ptrace POKETEXT,
    /// /proc/PID/mem): like `write`, but a private mapping without write
    /// permission (program text, for breakpoints) is written too, in a
    /// private copy of the page that stays read-only for the process.
    /// Shared read-only mappings are refused, as in Linux.
    pub fn write_force(&mut self, mut addr: u64, buf: &[u8]) -> KResult<()> {
        let mut done = 0;
        while done < buf.len() {
            let off = (addr % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - off).min(buf.len() - done);
            let vma = self.find_vma(addr).ok_or(Errno::EFAULT)?.clone();
            if vma.is_vvar() {
                // The kernel's clock page: never written for a process,
                // not even a private copy (Linux: EIO, a VM_PFNMAP page).
                return Err(Errno::EIO);
            }
            let pfn = if vma.prot & PROT_WRITE != 0 {
                self.frame_for(addr, true)?
            } else if vma.shared {
                return Err(Errno::EFAULT);
            } else {
                self.force_cow(addr, &vma)?
            };
            frame::write(pfn, off, &buf[done..done + n]);
            done += n;
            addr += n as u64;
        }
        Ok(())
    }

    /// The page at `addr` of private, non-writable `vma`, made this mm's
    /// own (copied if shared with the page cache or another mm).
    fn force_cow(&mut self, addr: u64, vma: &Vma) -> KResult<Pfn> {
        let vpn = addr / PAGE_SIZE;
        let old = self.frame_for(addr, false)?;
        if frame::refcount(old) <= 1 {
            return Ok(old);
        }
        let new = frame::alloc_copy(old).map_err(|_| Errno::ENOMEM)?;
        frame::put(old);
        let p = host_prot(vma, new);
        self.host
            .mmap(vpn * PAGE_SIZE, PAGE_SIZE, p, frame::phys(new));
        self.ptes.insert(
            vpn,
            Pte {
                pfn: new,
                host_prot: p,
            },
        );
        Ok(new)
    }

    pub fn read_cstr(&mut self, mut addr: u64, max: usize) -> KResult<Vec<u8>> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            let room = (PAGE_SIZE - addr % PAGE_SIZE) as usize;
            let n = room.min(chunk.len());
            self.read(addr, &mut chunk[..n])?;
            if let Some(z) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk[..n]);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            addr += n as u64;
        }
    }

    /// Copy-on-write duplicate of this address space in a new host process.
    fn fork(&mut self, here: bool) -> KResult<MmInner> {
        let mut child = if here {
            MmInner::new()?
        } else {
            MmInner::with_host(Box::new(host_slot::Unborn::default()))?
        };
        child.vmas = self.vmas.clone();
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        child.arg_start = self.arg_start;
        child.arg_end = self.arg_end;
        child.env_start = self.env_start;
        child.env_end = self.env_end;
        child.exe = self.exe.clone();
        child.saved_auxv = self.saved_auxv.clone();
        child.layout = self.layout;
        let vmas: Vec<Vma> = self.vmas.values().cloned().collect();
        for vma in &vmas {
            let range = vma.start / PAGE_SIZE..vma.end / PAGE_SIZE;
            let cow = !vma.shared && vma.prot & PROT_WRITE != 0;
            for (&vpn, pte) in self.ptes.range_mut(range) {
                frame::get(pte.pfn);
                let addr = vpn * PAGE_SIZE;
                if cow && pte.host_prot & PROT_WRITE != 0 {
                    pte.host_prot &= !PROT_WRITE;
                    self.host.mprotect(addr, PAGE_SIZE, pte.host_prot);
                }
                let p = host_prot(vma, pte.pfn);
                if p != 0 {
                    child.host.mmap(addr, PAGE_SIZE, p, frame::phys(pte.pfn));
                }
                child.ptes.insert(
                    vpn,
                    Pte {
                        pfn: pte.pfn,
                        host_prot: p,
                    },
                );
            }
        }
        Ok(child)
    }
}

impl Drop for MmInner {
    fn drop(&mut self) {
        for (_, pte) in std::mem::take(&mut self.ptes) {
            frame::put(pte.pfn);
        }
    }
}

/// A new host address space on this vCPU.
fn new_host() -> KResult<Box<dyn AddressSpace>> {
    arch::platform().new_address_space().map_err(|e| {
        log::error!("mm: cannot create host address space: errno {e}");
        Errno::ENOMEM
    })
}

impl MmInner {
    /// Give an address space forked for this vCPU its host side, mapping
    /// every present page (what fork maps at once when the child stays on
    /// the parent's vCPU). Nothing to do when it has one.
    pub fn materialize(&mut self) -> KResult<()> {
        let Some(unborn) = self.host.as_any().downcast_ref::<host_slot::Unborn>() else {
            return Ok(());
        };
        let multithreaded = unborn.multithreaded;
        let mut host = new_host()?;
        if multithreaded {
            host.set_multithreaded();
        }
        for (&vpn, pte) in &self.ptes {
            if pte.host_prot != 0 {
                host.mmap(
                    vpn * PAGE_SIZE,
                    PAGE_SIZE,
                    pte.host_prot,
                    frame::phys(pte.pfn),
                );
            }
        }
        self.host = host;
        Ok(())
    }

    /// Bring `ctx.fpu` up to date with the host process. Without one
    /// (not created yet, or out on a vCPU running a sibling thread, whose
    /// switches save every thread's FPU state), `ctx` holds it already.
    pub fn sync_fpu(&self, ctx: &mut arch::Context) {
        if self.host.as_any().is::<host_slot::Unborn>()
            || self.host.as_any().is::<host_slot::Away>()
        {
            return;
        }
        arch::platform().sync_fpu(&*self.host, ctx);
    }

    /// The kernel changed a task's saved FPU state (sigreturn, ptrace,
    /// exec): the host process must load it again. Kept for later while
    /// the host side is out on a vCPU; nothing to do before it exists.
    pub fn invalidate_fpu(&mut self) {
        if self.host.as_any().is::<host_slot::Unborn>() {
            return;
        }
        if let Some(away) = self.host.as_any_mut().downcast_mut::<host_slot::Away>() {
            away.ops.push(host_slot::Deferred::InvalidateFpu);
            return;
        }
        arch::platform().invalidate_fpu(&mut *self.host);
    }

    /// Drop the host side (its task moves to another vCPU, which will
    /// `materialize` a new one), first reading the FPU state it holds
    /// for `ctx` back into `ctx`.
    pub fn release_host(&mut self, ctx: &mut arch::Context) {
        if self.host.as_any().is::<host_slot::Unborn>() {
            return;
        }
        self.sync_fpu(ctx);
        self.host = Box::new(host_slot::Unborn::default());
    }

    /// Take the host side out for a guest run without this lock (several
    /// vCPUs): changes made meanwhile by other vCPUs wait in its place.
    pub fn take_host(&mut self) -> Box<dyn AddressSpace> {
        std::mem::replace(&mut self.host, Box::new(host_slot::Away::default()))
    }

    /// Put the host side back after a guest run, with what changed while
    /// it was out.
    pub fn put_host(&mut self, mut host: Box<dyn AddressSpace>) {
        let away = std::mem::replace(&mut self.host, Box::new(host_slot::Unborn::default()));
        if let Ok(away) = (away as Box<dyn std::any::Any>).downcast::<host_slot::Away>() {
            away.replay(&mut *host);
        }
        self.host = host;
    }
}

#[cfg(test)]
mod tests;
