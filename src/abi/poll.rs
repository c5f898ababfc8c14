//! Readiness structs: pollfd, epoll_event and the select fd_set helpers'
//! sigset argument of pselect6.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct pollfd.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}
abi_size!(PollFd, 8);

/// struct epoll_event: packed on x86_64 (Linux's EPOLL_PACKED), so the
/// 64-bit data sits at offset 4 and the struct is 12 bytes.
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}
abi_size!(EpollEvent, 12);

/// pselect6's sixth argument: the signal mask pointer and its size.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigsetArg {
    pub ss: u64,
    pub ss_len: u64,
}
abi_size!(SigsetArg, 16);
