//! CPU affinity masks (sched_setaffinity, sched_getaffinity): an array of
//! longs in user memory, bit N for CPU N. This kernel's mask is one long
//! (at most 64 vCPUs).

use super::uaccess::{read_val, write_val};
use crate::kernel::errno::KResult;
use crate::mm::Mm;

/// The kernel's mask size in bytes (Linux's `cpumask_size()`).
pub const CPU_MASK_BYTES: usize = 8;

/// Read a user mask of `len` bytes as Linux does: a shorter one is
/// zero-extended, a longer one cut to the kernel's size.
pub fn read_cpu_mask(mm: &Mm, addr: u64, len: usize) -> KResult<u64> {
    if len >= CPU_MASK_BYTES {
        return read_val::<u64>(mm, addr);
    }
    let mut mask = 0u64;
    for i in 0..len {
        let b: u8 = read_val(mm, addr + i as u64)?;
        mask |= (b as u64) << (8 * i);
    }
    Ok(mask)
}

/// Write the kernel's mask.
pub fn write_cpu_mask(mm: &Mm, addr: u64, mask: u64) -> KResult<()> {
    write_val(mm, addr, &mask)
}

/// struct clone_args (clone3): VER0 is 64 bytes, VER1 adds set_tid and
/// set_tid_size (80), VER2 adds cgroup (88).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}
super::abi_size!(CloneArgs, 88);

pub const CLONE_ARGS_SIZE_VER0: usize = 64;
pub const CLONE_ARGS_SIZE_VER1: usize = 80;
pub const CLONE_ARGS_SIZE_VER2: usize = 88;

/// Read an extensible struct of `usize` user bytes as Linux's
/// copy_struct_from_user: a shorter one reads as zero-extended, a longer
/// one only if the bytes this kernel does not know are zero (E2BIG).
pub fn read_ext_struct<T: bytemuck::Pod>(mm: &Mm, addr: u64, usize: usize) -> KResult<T> {
    let b = mm.read_vec(addr, usize)?;
    let known = core::mem::size_of::<T>();
    if b.len() > known && b[known..].iter().any(|&x| x != 0) {
        return Err(crate::kernel::errno::Errno::E2BIG);
    }
    Ok(super::read_at(&b, 0))
}
