//! Guest physical memory: one memfd of `mem=` bytes, mapped whole into the
//! kernel. Every guest page, page-cache page and pipe buffer is a frame of it.
//!
//! The kernel never hands out references into this mapping: guest host
//! processes map the same file and may change it while the kernel looks, so
//! all access is by copy (`read`, `write`, `fill`, `copy`).

use memmap2::{MmapOptions, MmapRaw};
use nix::fcntl::OFlag;
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::stat::Mode;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

pub const PAGE_SIZE: usize = 4096;

/// The memfd and its mapping in the kernel process. `MmapRaw` (not
/// `MmapMut`): it hands out no slices, since guest processes change the
/// memory behind the kernel's back; it unmaps on drop, and `File` closes.
pub struct PhysMem {
    file: File,
    map: MmapRaw,
    size: usize,
}

impl PhysMem {
    /// Create the memfd (or, where memfd_create is missing, an unlinked file
    /// in $TMPDIR) of `size` bytes and map it.
    pub fn new(size: usize) -> io::Result<PhysMem> {
        let fd = match memfd_create(c"ruml-physmem", MFdFlags::MFD_CLOEXEC) {
            Ok(fd) => fd,
            Err(_) => {
                let dir = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into());
                nix::fcntl::open(
                    dir.as_str(),
                    OFlag::O_TMPFILE | OFlag::O_RDWR | OFlag::O_CLOEXEC,
                    Mode::from_bits_truncate(0o600),
                )?
            }
        };
        let file = File::from(fd);
        file.set_len(size as u64)?;
        // A shared mapping of our own file, no address hint; NORESERVE as
        // before (memory is committed when the guest touches it).
        let map = MmapOptions::new()
            .len(size)
            .no_reserve_swap()
            .map_raw(&file)?;
        Ok(PhysMem { file, map, size })
    }

    pub fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    fn base(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    fn check(&self, addr: u64, len: usize) -> usize {
        let a = addr as usize;
        assert!(
            a <= self.size && len <= self.size - a,
            "physmem access out of range: {addr:#x}+{len:#x}"
        );
        a
    }

    /// The 32-bit word at `addr` as an atomic, for a futex shared with a
    /// guest host process (the seccomp platform's request word). The
    /// process may change it at any time: only atomic access, by value.
    pub fn atomic_u32(&self, addr: u64) -> &std::sync::atomic::AtomicU32 {
        assert_eq!(addr % 4, 0, "physmem: unaligned atomic word");
        let a = self.check(addr, 4);
        // SAFETY: in range and aligned (checked); the mapping lives as
        // long as `self`; all access to the word is atomic.
        unsafe { std::sync::atomic::AtomicU32::from_ptr(self.base().add(a).cast()) }
    }

    /// Copy `buf.len()` bytes at physical address `addr` into `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        let a = self.check(addr, buf.len());
        // SAFETY: bounds checked above; the mapping lives as long as self.
        unsafe { std::ptr::copy_nonoverlapping(self.base().add(a), buf.as_mut_ptr(), buf.len()) }
    }

    /// Copy `buf` to physical address `addr`.
    pub fn write(&self, addr: u64, buf: &[u8]) {
        let a = self.check(addr, buf.len());
        // SAFETY: bounds checked above; the mapping lives as long as self.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), self.base().add(a), buf.len()) }
    }

    /// Set `len` bytes at `addr` to `byte`.
    pub fn fill(&self, addr: u64, len: usize, byte: u8) {
        let a = self.check(addr, len);
        // SAFETY: bounds checked above.
        unsafe { std::ptr::write_bytes(self.base().add(a), byte, len) }
    }

    /// Copy `len` bytes from `src` to `dst` (physical addresses; may overlap).
    pub fn copy(&self, dst: u64, src: u64, len: usize) {
        let d = self.check(dst, len);
        let s = self.check(src, len);
        // SAFETY: both ranges bounds checked above.
        unsafe { std::ptr::copy(self.base().add(s), self.base().add(d), len) }
    }

    /// Read a little-endian u64 at `addr`.
    pub fn read_u64(&self, addr: u64) -> u64 {
        let mut b = [0u8; 8];
        self.read(addr, &mut b);
        u64::from_le_bytes(b)
    }

    /// Write a little-endian u64 at `addr`.
    pub fn write_u64(&self, addr: u64, v: u64) {
        self.write(addr, &v.to_le_bytes());
    }
}
