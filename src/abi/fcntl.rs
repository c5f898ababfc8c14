//! fcntl structs: struct flock (record locks) and f_owner_ex.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct flock (and flock64: identical on x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Flock {
    pub l_type: i16,
    pub l_whence: i16,
    pub _pad: i32,
    pub l_start: i64,
    pub l_len: i64,
    pub l_pid: i32,
    pub _pad2: i32,
}
abi_size!(Flock, 32);

/// struct f_owner_ex (F_GETOWN_EX, F_SETOWN_EX).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FOwnerEx {
    pub type_: i32,
    pub pid: i32,
}
abi_size!(FOwnerEx, 8);
