//! seccomp(2) and classic BPF as the guest sees them: `struct sock_filter`
//! and `struct sock_fprog` (the program a filter is installed from),
//! `struct seccomp_data` (what a filter reads), the notification sizes,
//! and the operation, flag, mode and action numbers of
//! <linux/seccomp.h> and <linux/filter.h>.

use bytemuck::{Pod, Zeroable};

use super::abi_size;

/// The classic BPF program and instruction structs, shared with
/// SO_ATTACH_FILTER.
pub use super::net::{SockFilter, SockFprog};

/// What a seccomp filter runs over (struct seccomp_data).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SeccompData {
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}
abi_size!(SeccompData, 64);

impl SeccompData {
    /// The structure as the 32-bit words a filter's loads address
    /// (byte offset k is word k / 4; the host and guest are both
    /// little-endian x86_64, as Linux loads them in native order).
    pub fn words(&self) -> [u32; 16] {
        bytemuck::cast(*self)
    }
}

/// SECCOMP_GET_NOTIF_SIZES' answer (struct seccomp_notif_sizes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SeccompNotifSizes {
    pub seccomp_notif: u16,
    pub seccomp_notif_resp: u16,
    pub seccomp_data: u16,
}
abi_size!(SeccompNotifSizes, 6);

/// sizeof(struct seccomp_notif) and sizeof(struct seccomp_notif_resp).
pub const SIZEOF_SECCOMP_NOTIF: u16 = core::mem::size_of::<SeccompNotif>() as u16;
pub const SIZEOF_SECCOMP_NOTIF_RESP: u16 = core::mem::size_of::<SeccompNotifResp>() as u16;

/// One trapped syscall as SECCOMP_IOCTL_NOTIF_RECV hands it to the
/// supervisor (struct seccomp_notif).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SeccompNotif {
    pub id: u64,
    pub pid: u32,
    pub flags: u32,
    pub data: SeccompData,
}
abi_size!(SeccompNotif, 80);

/// The supervisor's answer (struct seccomp_notif_resp).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SeccompNotifResp {
    pub id: u64,
    pub val: i64,
    pub error: i32,
    pub flags: u32,
}
abi_size!(SeccompNotifResp, 24);

/// SECCOMP_IOCTL_NOTIF_ADDFD's argument (struct seccomp_notif_addfd).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SeccompNotifAddfd {
    pub id: u64,
    pub flags: u32,
    pub srcfd: u32,
    pub newfd: u32,
    pub newfd_flags: u32,
}
abi_size!(SeccompNotifAddfd, 24);

// The listener's ioctls: _IOWR/_IOW('!', nr, type).
pub const SECCOMP_IOCTL_NOTIF_RECV: u32 = 0xc050_2100;
pub const SECCOMP_IOCTL_NOTIF_SEND: u32 = 0xc018_2101;
pub const SECCOMP_IOCTL_NOTIF_ID_VALID: u32 = 0x4008_2102;
/// The first, wrongly-directed number of ID_VALID, still accepted.
pub const SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR: u32 = 0x8008_2102;
/// ADDFD is extensible: its size field may grow, so it is matched
/// without the direction and size bits.
pub const SECCOMP_IOCTL_NOTIF_ADDFD: u32 = 0x4018_2103;
pub const SECCOMP_IOCTL_NOTIF_SET_FLAGS: u32 = 0x4008_2104;
/// The size ADDFD's first version had.
pub const SECCOMP_NOTIFY_ADDFD_SIZE_VER0: usize = 24;

/// seccomp_notif_resp.flags: run the syscall after all.
pub const SECCOMP_USER_NOTIF_FLAG_CONTINUE: u32 = 1;
/// seccomp_notif_addfd.flags.
pub const SECCOMP_ADDFD_FLAG_SETFD: u32 = 1;
pub const SECCOMP_ADDFD_FLAG_SEND: u32 = 2;
/// SET_FLAGS: wake the supervisor and the target on the same CPU.
pub const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;

/// AUDIT_ARCH_X86_64: EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

// seccomp(2) operations.
pub const SECCOMP_SET_MODE_STRICT: u32 = 0;
pub const SECCOMP_SET_MODE_FILTER: u32 = 1;
pub const SECCOMP_GET_ACTION_AVAIL: u32 = 2;
pub const SECCOMP_GET_NOTIF_SIZES: u32 = 3;

// Modes (prctl PR_GET_SECCOMP, /proc/PID/status "Seccomp:").
pub const SECCOMP_MODE_DISABLED: u8 = 0;
pub const SECCOMP_MODE_STRICT: u8 = 1;
pub const SECCOMP_MODE_FILTER: u8 = 2;

// SECCOMP_SET_MODE_FILTER flags.
pub const SECCOMP_FILTER_FLAG_TSYNC: u32 = 1;
pub const SECCOMP_FILTER_FLAG_LOG: u32 = 2;
pub const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 4;
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 8;
pub const SECCOMP_FILTER_FLAG_TSYNC_ESRCH: u32 = 16;
pub const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: u32 = 32;
pub const SECCOMP_FILTER_FLAG_MASK: u32 = 0x3f;

// Filter return values: the action in the top 16 bits (SECCOMP_RET_KILL_PROCESS
// uses the sign bit), data below.
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const SECCOMP_RET_KILL_THREAD: u32 = 0;
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
pub const SECCOMP_RET_LOG: u32 = 0x7ffc_0000;
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
pub const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;

/// si_code of a SECCOMP_RET_TRAP SIGSYS.
pub const SYS_SECCOMP: i32 = 1;

// Classic BPF opcode fields (<linux/bpf_common.h>).
pub const BPF_LD: u16 = 0x00;
pub const BPF_LDX: u16 = 0x01;
pub const BPF_ST: u16 = 0x02;
pub const BPF_STX: u16 = 0x03;
pub const BPF_ALU: u16 = 0x04;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_MISC: u16 = 0x07;
pub const BPF_W: u16 = 0x00;
pub const BPF_H: u16 = 0x08;
pub const BPF_B: u16 = 0x10;
pub const BPF_IMM: u16 = 0x00;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_IND: u16 = 0x40;
pub const BPF_MEM: u16 = 0x60;
pub const BPF_LEN: u16 = 0x80;
pub const BPF_MSH: u16 = 0xa0;
pub const BPF_ADD: u16 = 0x00;
pub const BPF_SUB: u16 = 0x10;
pub const BPF_MUL: u16 = 0x20;
pub const BPF_DIV: u16 = 0x30;
pub const BPF_OR: u16 = 0x40;
pub const BPF_AND: u16 = 0x50;
pub const BPF_LSH: u16 = 0x60;
pub const BPF_RSH: u16 = 0x70;
pub const BPF_NEG: u16 = 0x80;
pub const BPF_MOD: u16 = 0x90;
pub const BPF_XOR: u16 = 0xa0;
pub const BPF_JA: u16 = 0x00;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_JGT: u16 = 0x20;
pub const BPF_JGE: u16 = 0x30;
pub const BPF_JSET: u16 = 0x40;
pub const BPF_K: u16 = 0x00;
pub const BPF_X: u16 = 0x08;
pub const BPF_A: u16 = 0x10;
pub const BPF_TAX: u16 = 0x00;
pub const BPF_TXA: u16 = 0x80;
/// Instructions in one program (BPF_MAXINSNS).
pub const BPF_MAXINSNS: usize = 4096;
/// Scratch memory words (BPF_MEMWORDS).
pub const BPF_MEMWORDS: u32 = 16;
/// Where the ancillary loads start (SKF_AD_OFF).
pub const SKF_AD_OFF: u32 = 0xffff_f000;
