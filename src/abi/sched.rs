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
