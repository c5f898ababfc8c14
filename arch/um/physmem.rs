//! Guest physical memory: one memfd of `mem=` bytes, mapped whole into the
//! kernel. Every guest page, page-cache page and pipe buffer is a frame of it.
//!
//! The kernel never hands out references into this mapping: guest host
//! processes map the same file and may change it while the kernel looks, so
//! all access is by copy (`read`, `write`, `fill`, `copy`).

use std::io;

pub const PAGE_SIZE: usize = 4096;

/// The memfd and its mapping in the kernel process.
pub struct PhysMem {
    fd: i32,
    base: *mut u8,
    size: usize,
}

// SAFETY: the mapping is shared memory accessed only through copying
// methods with bounds checks; concurrent access is no worse than between
// processes sharing the file.
unsafe impl Send for PhysMem {}
// SAFETY: see above; no method hands out references into the mapping.
unsafe impl Sync for PhysMem {}

impl PhysMem {
    /// Create the memfd (or, where memfd_create is missing, an unlinked file
    /// in $TMPDIR) of `size` bytes and map it.
    pub fn new(size: usize) -> io::Result<PhysMem> {
        let name = b"ruml-physmem\0";
        // SAFETY: name is NUL-terminated; flags are valid.
        let mut fd = unsafe { libc::memfd_create(name.as_ptr().cast(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            let dir = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into());
            let path = std::ffi::CString::new(dir).map_err(|_| io::ErrorKind::InvalidInput)?;
            // SAFETY: path is a valid C string.
            fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
                    0o600,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: fd is ours.
        if unsafe { libc::ftruncate(fd, size as libc::off_t) } < 0 {
            let e = io::Error::last_os_error();
            // SAFETY: fd is ours.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        // SAFETY: a fresh shared mapping of our own file; no address hint.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                fd,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            // SAFETY: fd is ours.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        Ok(PhysMem {
            fd,
            base: base.cast(),
            size,
        })
    }

    pub fn fd(&self) -> i32 {
        self.fd
    }

    fn check(&self, addr: u64, len: usize) -> usize {
        let a = addr as usize;
        assert!(
            a <= self.size && len <= self.size - a,
            "physmem access out of range: {addr:#x}+{len:#x}"
        );
        a
    }

    /// Copy `buf.len()` bytes at physical address `addr` into `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        let a = self.check(addr, buf.len());
        // SAFETY: bounds checked above; the mapping lives as long as self.
        unsafe { std::ptr::copy_nonoverlapping(self.base.add(a), buf.as_mut_ptr(), buf.len()) }
    }

    /// Copy `buf` to physical address `addr`.
    pub fn write(&self, addr: u64, buf: &[u8]) {
        let a = self.check(addr, buf.len());
        // SAFETY: bounds checked above; the mapping lives as long as self.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), self.base.add(a), buf.len()) }
    }

    /// Set `len` bytes at `addr` to `byte`.
    pub fn fill(&self, addr: u64, len: usize, byte: u8) {
        let a = self.check(addr, len);
        // SAFETY: bounds checked above.
        unsafe { std::ptr::write_bytes(self.base.add(a), byte, len) }
    }

    /// Copy `len` bytes from `src` to `dst` (physical addresses; may overlap).
    pub fn copy(&self, dst: u64, src: u64, len: usize) {
        let d = self.check(dst, len);
        let s = self.check(src, len);
        // SAFETY: both ranges bounds checked above.
        unsafe { std::ptr::copy(self.base.add(s), self.base.add(d), len) }
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

impl Drop for PhysMem {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; closing our own fd.
        unsafe {
            libc::munmap(self.base.cast(), self.size);
            libc::close(self.fd);
        }
    }
}
