//! Scatter/gather vectors (struct iovec) shared by readv/writev, sendmsg
//! and process_vm_*.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct iovec.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct IoVec {
    pub iov_base: u64,
    pub iov_len: u64,
}
abi_size!(IoVec, 16);
