//! Restartable sequences (linux/rseq.h): the per-thread `struct rseq` a
//! thread registers and the `struct rseq_cs` descriptor of a critical
//! section it publishes there.

use super::abi_size;

/// The size of the first `struct rseq` (what glibc and old programs pass).
pub const ORIG_RSEQ_SIZE: u32 = 32;
/// The struct's alignment (`__attribute__((aligned(32)))`), AT_RSEQ_ALIGN.
pub const RSEQ_ALIGN: u64 = 32;
/// The fields this kernel fills (`offsetof(struct rseq, end)`),
/// AT_RSEQ_FEATURE_SIZE.
pub const RSEQ_FEATURE_SIZE: u32 = 28;
/// auxv keys.
pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
pub const AT_RSEQ_ALIGN: u64 = 28;

pub const RSEQ_FLAG_UNREGISTER: u32 = 1;
/// cpu_id before registration and after unregistration.
pub const RSEQ_CPU_ID_UNINITIALIZED: u32 = u32::MAX;
/// The deprecated no-restart flags of `rseq.flags`/`rseq_cs.flags`: any of
/// them makes the critical section invalid.
pub const RSEQ_CS_NO_RESTART_FLAGS: u32 = 0x7;

/// Offsets of the fields the kernel reads and writes in `struct rseq`.
pub const OFF_CPU_ID_START: u64 = 0;
pub const OFF_RSEQ_CS: u64 = 8;
pub const OFF_FLAGS: u64 = 16;
pub const OFF_NODE_ID: u64 = 20;

/// `cpu_id_start` and `cpu_id`, the first two words of `struct rseq`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RseqCpu {
    pub cpu_id_start: u32,
    pub cpu_id: u32,
}
abi_size!(RseqCpu, 8);

/// `node_id` and `mm_cid` (offset 20).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RseqNode {
    pub node_id: u32,
    pub mm_cid: u32,
}
abi_size!(RseqNode, 8);

/// struct rseq_cs: a critical section [start_ip, start_ip +
/// post_commit_offset) and where to go when it is aborted.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RseqCs {
    pub version: u32,
    pub flags: u32,
    pub start_ip: u64,
    pub post_commit_offset: u64,
    pub abort_ip: u64,
}
abi_size!(RseqCs, 32);
