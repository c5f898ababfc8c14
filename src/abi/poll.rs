//! Readiness: the POLL* bits, pollfd, epoll_event and pselect6's sigset
//! argument.

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

pub const POLLIN: u32 = 1;
pub const POLLPRI: u32 = 2;
pub const POLLOUT: u32 = 4;
pub const POLLERR: u32 = 8;
pub const POLLHUP: u32 = 16;
pub const POLLNVAL: u32 = 32;
pub const POLLRDNORM: u32 = 0x40;
pub const POLLWRNORM: u32 = 0x100;
