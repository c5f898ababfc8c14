//! The vvar page: the time data the kernel publishes to the guest vDSO.
//! arch/um/vdso/vdso.c reads the same layout (`struct vvar`).

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// The start of the vvar page. `seq` is a sequence count (odd while the
/// kernel rewrites the rest); at TSC reading `tsc_base` the guest's
/// CLOCK_MONOTONIC read `mono_ns` and CLOCK_REALTIME `real_ns`, and a TSC
/// delta `d` is `(d * mult) >> shift` nanoseconds. `use_syscall` != 0
/// sends every call to the kernel (no usable TSC).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct VvarData {
    pub seq: u32,
    pub use_syscall: u32,
    pub tsc_base: u64,
    pub mult: u64,
    pub shift: u32,
    /// vCPUs: with more than one, `getcpu` asks the kernel (which vCPU a
    /// task runs on is not in this shared page).
    pub ncpus: u32,
    pub mono_ns: i64,
    pub real_ns: i64,
}
abi_size!(VvarData, 48);
