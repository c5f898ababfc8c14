//! Physical frames: allocation and reference counts over guest memory.
//!
//! A frame is referenced by page tables, the page cache and pipe buffers;
//! it returns to the free pool when the last reference is dropped.
//! Allocation is next-fit over a bitmap and accepts a hint, so pages that
//! are neighbours in a guest address space tend to be neighbours in
//! physical memory: the host then merges their mappings into one (fewer
//! host VMAs, far below vm.max_map_count, and cheaper host faults).

use crate::arch;
use crate::kernel::errno::{Errno, KResult};
use std::sync::Mutex;

pub type Pfn = u32;
pub const PAGE_SIZE: u64 = 4096;

struct Frames {
    /// Bit set = free.
    free: Vec<u64>,
    /// Bit set = never handed out since boot: still zero in the memfd, so
    /// it needs no clearing (and clearing it would make the host allocate
    /// and zero the page once more, in vmlinux).
    clean: Vec<u64>,
    refs: Vec<u16>,
    nfree: u64,
    cursor: usize,
}

impl Frames {
    fn is_free(&self, pfn: Pfn) -> bool {
        let i = pfn as usize;
        i < self.refs.len() && self.free[i / 64] & (1 << (i % 64)) != 0
    }
    /// Take `pfn`; returns whether it was still clean (all zero).
    fn take(&mut self, pfn: Pfn) -> bool {
        let i = pfn as usize;
        let was_clean = self.clean[i / 64] & (1 << (i % 64)) != 0;
        self.clean[i / 64] &= !(1 << (i % 64));
        self.free[i / 64] &= !(1 << (i % 64));
        self.refs[i] = 1;
        self.nfree -= 1;
        was_clean
    }
    fn find(&mut self) -> Option<Pfn> {
        let words = self.free.len();
        for k in 0..words {
            let w = (self.cursor + k) % words;
            if self.free[w] != 0 {
                let b = self.free[w].trailing_zeros() as usize;
                self.cursor = w;
                return Some((w * 64 + b) as Pfn);
            }
        }
        None
    }
}

static FRAMES: Mutex<Option<Frames>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Frames) -> R) -> R {
    let mut g = FRAMES.lock().unwrap_or_else(|e| e.into_inner());
    f(g.as_mut().expect("frame allocator not initialised"))
}

/// Take over all of physical memory except the stub's reserved frames.
pub fn init(total: u32, reserved: u32) {
    let mut free = vec![0u64; (total as usize).div_ceil(64)];
    for i in reserved as usize..total as usize {
        free[i / 64] |= 1 << (i % 64);
    }
    let mut refs = vec![0u16; total as usize];
    for r in refs.iter_mut().take(reserved as usize) {
        *r = 1;
    }
    let clean = free.clone();
    let f = Frames {
        free,
        clean,
        refs,
        nfree: (total - reserved) as u64,
        cursor: reserved as usize / 64,
    };
    *FRAMES.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
}

/// Physical address of a frame.
pub fn phys(pfn: Pfn) -> u64 {
    (pfn as u64) << 12
}

/// A frame with unspecified contents, refcount 1; `hint` is preferred if
/// free.
pub fn alloc_raw_near(hint: Option<Pfn>) -> KResult<Pfn> {
    take_near(hint).map(|(p, _)| p)
}

/// Take a frame, preferring `hint`; also says whether it is still zero.
/// When memory is full, the caches are asked to give frames back first.
fn take_near(hint: Option<Pfn>) -> KResult<(Pfn, bool)> {
    let take = |f: &mut Frames| {
        let pfn = match hint {
            Some(h) if f.is_free(h) => h,
            _ => f.find().ok_or(Errno::ENOMEM)?,
        };
        let clean = f.take(pfn);
        Ok((pfn, clean))
    };
    match with(take) {
        Err(Errno::ENOMEM) if shrink() > 0 => with(take),
        r => r,
    }
}

/// A cache that can give frames back under memory pressure: it frees what
/// it can without waiting and says how many frames that was. It must not
/// block on a lock its own allocations may hold (try_lock instead).
pub type Shrinker = fn() -> usize;

static SHRINKERS: Mutex<Vec<Shrinker>> = Mutex::new(Vec::new());

/// Ask `f` for frames whenever an allocation finds memory full.
pub fn register_shrinker(f: Shrinker) {
    let mut s = SHRINKERS.lock().unwrap_or_else(|e| e.into_inner());
    if !s.iter().any(|&g| std::ptr::fn_addr_eq(g, f)) {
        s.push(f);
    }
}

/// Run every shrinker; the number of frames they freed.
fn shrink() -> usize {
    let list = SHRINKERS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let n: usize = list.iter().map(|f| f()).sum();
    if n > 0 {
        log::debug!("mm: memory full, caches gave back {n} frames");
    }
    n
}

/// A frame with unspecified contents, refcount 1.
pub fn alloc_raw() -> KResult<Pfn> {
    alloc_raw_near(None)
}

/// A zero-filled frame, refcount 1.
pub fn alloc() -> KResult<Pfn> {
    alloc_near(None)
}

/// A zero-filled frame, preferring `hint`.
pub fn alloc_near(hint: Option<Pfn>) -> KResult<Pfn> {
    let (pfn, clean) = take_near(hint)?;
    if !clean {
        arch::physmem().fill(phys(pfn), PAGE_SIZE as usize, 0);
    }
    Ok(pfn)
}

/// A new frame holding a copy of `src`.
pub fn alloc_copy(src: Pfn) -> KResult<Pfn> {
    let pfn = alloc_raw()?;
    arch::physmem().copy(phys(pfn), phys(src), PAGE_SIZE as usize);
    Ok(pfn)
}

/// Take another reference.
pub fn get(pfn: Pfn) {
    with(|f| {
        let r = &mut f.refs[pfn as usize];
        *r = r.checked_add(1).expect("frame refcount overflow");
    })
}

/// Drop a reference; the frame is freed at zero.
pub fn put(pfn: Pfn) {
    with(|f| {
        let i = pfn as usize;
        let r = &mut f.refs[i];
        assert!(*r > 0, "frame {pfn} freed twice");
        *r -= 1;
        if *r == 0 {
            f.free[i / 64] |= 1 << (i % 64);
            f.nfree += 1;
        }
    })
}

/// Current reference count.
pub fn refcount(pfn: Pfn) -> u16 {
    with(|f| f.refs[pfn as usize])
}

/// (total frames, free frames), for /proc/meminfo and sysinfo.
pub fn stats() -> (u64, u64) {
    with(|f| (f.refs.len() as u64, f.nfree))
}

/// Copy bytes out of a frame.
pub fn read(pfn: Pfn, off: usize, buf: &mut [u8]) {
    debug_assert!(off + buf.len() <= PAGE_SIZE as usize);
    arch::physmem().read(phys(pfn) + off as u64, buf)
}

/// Copy bytes into a frame.
pub fn write(pfn: Pfn, off: usize, buf: &[u8]) {
    debug_assert!(off + buf.len() <= PAGE_SIZE as usize);
    arch::physmem().write(phys(pfn) + off as u64, buf)
}

/// Zero part of a frame.
pub fn zero(pfn: Pfn, off: usize, len: usize) {
    arch::physmem().fill(phys(pfn) + off as u64, len, 0)
}

#[cfg(test)]
mod tests {
    // The allocator needs physical memory for zeroing; the bitmap logic is
    // exercised through alloc_raw, which does not touch it.
    use super::*;

    #[test]
    fn hints_give_contiguous_frames_and_put_frees() {
        // Other tests share the allocator: swap a small one in, alone.
        let _alone = crate::kernel::testing::memory_exclusive();
        let saved = FRAMES.lock().unwrap_or_else(|e| e.into_inner()).take();
        init(1024, 16);
        let a = alloc_raw().unwrap();
        assert!(a >= 16);
        let b = alloc_raw_near(Some(a + 1)).unwrap();
        assert_eq!(b, a + 1);
        // A taken hint falls back to another free frame.
        let c = alloc_raw_near(Some(a)).unwrap();
        assert_ne!(c, a);
        let (_, free_before) = stats();
        put(b);
        assert_eq!(stats().1, free_before + 1);
        let d = alloc_raw_near(Some(b)).unwrap();
        assert_eq!(d, b);
        get(d);
        assert_eq!(refcount(d), 2);
        // Reserved frames are never handed out.
        for _ in 0..(1024 - 16 - 3) {
            assert!(alloc_raw().unwrap() >= 16);
        }
        assert_eq!(alloc_raw(), Err(Errno::ENOMEM));
        *FRAMES.lock().unwrap_or_else(|e| e.into_inner()) = saved;
    }
}
