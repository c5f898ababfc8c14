//! Typed user memory: a guest virtual address that knows what is stored
//! there. Reads and writes go through the address space's checked copy
//! routines (`Mm::read`/`Mm::write`), so a bad pointer is EFAULT, never a
//! host fault; the struct's bytes are reinterpreted by bytemuck, which is
//! sound for `Pod` types.

use crate::kernel::errno::{Errno, KResult};
use crate::mm::Mm;
use bytemuck::Pod;
use core::marker::PhantomData;
use core::mem::size_of;

/// A guest pointer to one `T`.
pub struct UserPtr<T> {
    addr: u64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for UserPtr<T> {}

impl<T: Pod> UserPtr<T> {
    pub const fn new(addr: u64) -> Self {
        UserPtr {
            addr,
            _t: PhantomData,
        }
    }
    pub fn addr(self) -> u64 {
        self.addr
    }
    pub fn is_null(self) -> bool {
        self.addr == 0
    }
    /// The `n`th `T` after this one (array indexing in guest memory).
    pub fn add(self, n: usize) -> Self {
        Self::new(self.addr.wrapping_add((n * size_of::<T>()) as u64))
    }
    pub fn read(self, mm: &Mm) -> KResult<T> {
        let mut v = T::zeroed();
        mm.read(self.addr, bytemuck::bytes_of_mut(&mut v))?;
        Ok(v)
    }
    pub fn write(self, mm: &Mm, v: &T) -> KResult<()> {
        mm.write(self.addr, bytemuck::bytes_of(v))
    }
    /// Read, or `None` for a NULL pointer (the many "optional out/in
    /// argument" parameters).
    pub fn read_opt(self, mm: &Mm) -> KResult<Option<T>> {
        if self.is_null() {
            return Ok(None);
        }
        self.read(mm).map(Some)
    }
    /// Write unless the pointer is NULL.
    pub fn write_opt(self, mm: &Mm, v: &T) -> KResult<()> {
        if self.is_null() {
            return Ok(());
        }
        self.write(mm, v)
    }
}

/// Read a `T` at guest address `addr`.
pub fn read_val<T: Pod>(mm: &Mm, addr: u64) -> KResult<T> {
    UserPtr::<T>::new(addr).read(mm)
}

/// Write a `T` at guest address `addr`.
pub fn write_val<T: Pod>(mm: &Mm, addr: u64, v: &T) -> KResult<()> {
    UserPtr::<T>::new(addr).write(mm, v)
}

/// A guest array of `len` `T`s.
pub struct UserSlice<T> {
    addr: u64,
    len: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for UserSlice<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for UserSlice<T> {}

impl<T: Pod> UserSlice<T> {
    pub const fn new(addr: u64, len: usize) -> Self {
        UserSlice {
            addr,
            len,
            _t: PhantomData,
        }
    }
    pub fn len(self) -> usize {
        self.len
    }
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
    /// The whole array, copied in at once.
    pub fn read(self, mm: &Mm) -> KResult<Vec<T>> {
        let bytes = self.len.checked_mul(size_of::<T>()).ok_or(Errno::EINVAL)?;
        let raw = mm.read_vec(self.addr, bytes)?;
        Ok(raw
            .chunks_exact(size_of::<T>())
            .map(bytemuck::pod_read_unaligned)
            .collect())
    }
    /// Copy `v` out to the front of the array (at most `len` elements).
    pub fn write(self, mm: &Mm, v: &[T]) -> KResult<()> {
        let n = v.len().min(self.len);
        mm.write(self.addr, bytemuck::cast_slice(&v[..n]))
    }
}

/// The (base, len) pairs of a guest iovec array of `cnt` entries; EINVAL
/// for a count outside 0..=UIO_MAXIOV, as readv/writev check.
pub fn read_iovecs(mm: &Mm, addr: u64, cnt: i32) -> KResult<Vec<(u64, usize)>> {
    const UIO_MAXIOV: i32 = 1024;
    if !(0..=UIO_MAXIOV).contains(&cnt) {
        return Err(Errno::EINVAL);
    }
    let v = UserSlice::<super::uio::IoVec>::new(addr, cnt as usize).read(mm)?;
    Ok(v.iter().map(|i| (i.iov_base, i.iov_len as usize)).collect())
}
