//! Linux AIO structs: the iocb a program submits, the io_event it gets
//! back, and the header of the completion ring mapped in its memory
//! (which libaio reads to skip a syscall when the ring is empty).

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct iocb (little-endian field order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Iocb {
    pub aio_data: u64,
    pub aio_key: u32,
    pub aio_rw_flags: i32,
    pub aio_lio_opcode: u16,
    pub aio_reqprio: i16,
    pub aio_fildes: u32,
    pub aio_buf: u64,
    pub aio_nbytes: u64,
    pub aio_offset: i64,
    pub aio_reserved2: u64,
    pub aio_flags: u32,
    pub aio_resfd: u32,
}
abi_size!(Iocb, 64);

/// struct io_event.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct IoEvent {
    pub data: u64,
    pub obj: u64,
    pub res: i64,
    pub res2: i64,
}
abi_size!(IoEvent, 32);

/// struct aio_ring: the header before the events.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct AioRing {
    pub id: u32,
    pub nr: u32,
    pub head: u32,
    pub tail: u32,
    pub magic: u32,
    pub compat_features: u32,
    pub incompat_features: u32,
    pub header_length: u32,
}
abi_size!(AioRing, 32);

pub const AIO_RING_MAGIC: u32 = 0xa10a_10a1;
/// Byte offsets of `head` and `tail` in the header.
pub const RING_HEAD: u64 = 8;
pub const RING_TAIL: u64 = 12;

pub const IOCB_CMD_PREAD: u16 = 0;
pub const IOCB_CMD_PWRITE: u16 = 1;
pub const IOCB_CMD_FSYNC: u16 = 2;
pub const IOCB_CMD_FDSYNC: u16 = 3;
pub const IOCB_CMD_POLL: u16 = 5;
pub const IOCB_CMD_NOOP: u16 = 6;
pub const IOCB_CMD_PREADV: u16 = 7;
pub const IOCB_CMD_PWRITEV: u16 = 8;
pub const IOCB_FLAG_RESFD: u32 = 1;
pub const IOCB_FLAG_IOPRIO: u32 = 2;

/// struct __aio_sigset (io_pgetevents' last argument).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct AioSigset {
    pub sigmask: u64,
    pub sigsetsize: u64,
}
abi_size!(AioSigset, 16);
