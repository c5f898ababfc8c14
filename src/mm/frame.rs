//! Physical frames: allocation and reference counts over guest memory.
//!
//! A frame is referenced by page tables, the page cache and pipe buffers;
//! it returns to the free list when the last reference is dropped.

use crate::arch;
use crate::kernel::errno::{Errno, KResult};
use std::sync::Mutex;

pub type Pfn = u32;
pub const PAGE_SIZE: u64 = 4096;

struct Frames {
    free: Vec<Pfn>,
    refs: Vec<u16>,
}

static FRAMES: Mutex<Option<Frames>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Frames) -> R) -> R {
    let mut g = FRAMES.lock().unwrap_or_else(|e| e.into_inner());
    f(g.as_mut().expect("frame allocator not initialised"))
}

/// Take over all of physical memory except the stub's reserved frames.
pub fn init(total: u32, reserved: u32) {
    // Free list is a stack; push high frames first so allocation ascends
    // and consecutive allocations tend to be physically contiguous.
    let free: Vec<Pfn> = (reserved..total).rev().collect();
    let mut refs = vec![0u16; total as usize];
    for r in refs.iter_mut().take(reserved as usize) {
        *r = 1;
    }
    *FRAMES.lock().unwrap_or_else(|e| e.into_inner()) = Some(Frames { free, refs });
}

/// Physical address of a frame.
pub fn phys(pfn: Pfn) -> u64 {
    (pfn as u64) << 12
}

/// A frame with unspecified contents, refcount 1.
pub fn alloc_raw() -> KResult<Pfn> {
    with(|f| {
        let pfn = f.free.pop().ok_or(Errno::ENOMEM)?;
        f.refs[pfn as usize] = 1;
        Ok(pfn)
    })
}

/// A zero-filled frame, refcount 1.
pub fn alloc() -> KResult<Pfn> {
    let pfn = alloc_raw()?;
    arch::physmem().fill(phys(pfn), PAGE_SIZE as usize, 0);
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
        let r = &mut f.refs[pfn as usize];
        assert!(*r > 0, "frame {pfn} freed twice");
        *r -= 1;
        if *r == 0 {
            f.free.push(pfn);
        }
    })
}

/// Current reference count.
pub fn refcount(pfn: Pfn) -> u16 {
    with(|f| f.refs[pfn as usize])
}

/// (total frames, free frames), for /proc/meminfo and sysinfo.
pub fn stats() -> (u64, u64) {
    with(|f| (f.refs.len() as u64, f.free.len() as u64))
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
