//! Process resource structs: rusage, rlimit, sysinfo, utsname, and the
//! scheduler's sched_param and sched_attr.

use super::abi_size;
use super::time::Timeval;
use bytemuck::{Pod, Zeroable};

/// struct rusage.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Rusage {
    pub ru_utime: Timeval,
    pub ru_stime: Timeval,
    pub ru_maxrss: i64,
    pub ru_ixrss: i64,
    pub ru_idrss: i64,
    pub ru_isrss: i64,
    pub ru_minflt: i64,
    pub ru_majflt: i64,
    pub ru_nswap: i64,
    pub ru_inblock: i64,
    pub ru_oublock: i64,
    pub ru_msgsnd: i64,
    pub ru_msgrcv: i64,
    pub ru_nsignals: i64,
    pub ru_nvcsw: i64,
    pub ru_nivcsw: i64,
}
abi_size!(Rusage, 144);

/// struct rlimit (and rlimit64: the same on x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Rlimit {
    pub rlim_cur: u64,
    pub rlim_max: u64,
}
abi_size!(Rlimit, 16);

/// struct sysinfo.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Sysinfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub _pad: [u16; 3],
    pub totalhigh: u64,
    pub freehigh: u64,
    pub mem_unit: u32,
    pub _f: [u8; 4],
}
abi_size!(Sysinfo, 112);

/// struct new_utsname: six 65-byte NUL-padded strings.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}
abi_size!(Utsname, 390);

/// struct sched_param.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SchedParam {
    pub sched_priority: i32,
}
abi_size!(SchedParam, 4);

/// struct sched_attr, SCHED_ATTR_SIZE_VER1 (with the utilization clamps).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SchedAttr {
    pub size: u32,
    pub sched_policy: u32,
    pub sched_flags: u64,
    pub sched_nice: i32,
    pub sched_priority: u32,
    pub sched_runtime: u64,
    pub sched_deadline: u64,
    pub sched_period: u64,
    pub sched_util_min: u32,
    pub sched_util_max: u32,
}
abi_size!(SchedAttr, 56);

/// capget/capset's header (struct __user_cap_header_struct).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct CapUserHeader {
    pub version: u32,
    pub pid: i32,
}
abi_size!(CapUserHeader, 8);

/// The header versions: one 32-bit word per set (1), two (2, 3).
pub const CAP_VERSION_1: u32 = 0x1998_0330;
pub const CAP_VERSION_2: u32 = 0x2007_1026;
pub const CAP_VERSION_3: u32 = 0x2008_0522;

/// struct __user_cap_data_struct (capget, capset); version 3 uses two.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct CapUserData {
    pub effective: u32,
    pub permitted: u32,
    pub inheritable: u32,
}
abi_size!(CapUserData, 12);

/// One 32-bit half of a file capability (struct vfs_ns_cap_data's data).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct VfsCapHalf {
    pub permitted: u32,
    pub inheritable: u32,
}
abi_size!(VfsCapHalf, 8);

/// The security.capability xattr at revision 3 (struct vfs_ns_cap_data);
/// revision 2 is the same without `rootid` (20 bytes), revision 1 has one
/// half (12 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct VfsNsCapData {
    pub magic_etc: u32,
    pub data: [VfsCapHalf; 2],
    pub rootid: u32,
}
abi_size!(VfsNsCapData, 24);

impl VfsNsCapData {
    /// The xattr's bytes, zero-extended to revision 3's size (None when
    /// longer).
    pub fn from_bytes(b: &[u8]) -> Option<VfsNsCapData> {
        let mut v = VfsNsCapData::default();
        bytemuck::bytes_of_mut(&mut v)
            .get_mut(..b.len())?
            .copy_from_slice(b);
        Some(v)
    }
}
