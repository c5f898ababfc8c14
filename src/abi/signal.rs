//! Signal structs: the kernel's sigaction, siginfo_t and its union arms,
//! stack_t, signalfd_siginfo and the x86_64 rt_sigframe a handler runs on.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct sigaction as the rt_sigaction syscall takes it (kernel layout:
/// the mask last, 64 signals).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct KSigaction {
    pub sa_handler: u64,
    pub sa_flags: u64,
    pub sa_restorer: u64,
    pub sa_mask: u64,
}
abi_size!(KSigaction, 32);

/// siginfo_t: three ints, then a union whose arm the signal and code
/// select (see `SigfieldsKill`, `SigfieldsChld`, `SigfieldsFault`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Siginfo {
    pub si_signo: i32,
    pub si_errno: i32,
    pub si_code: i32,
    pub _pad: i32,
    pub sifields: [u8; 112],
}
abi_size!(Siginfo, 128);

impl Siginfo {
    /// Store one union arm.
    pub fn set_fields<T: Pod>(&mut self, f: &T) {
        super::write_at(&mut self.sifields, 0, f);
    }
    /// Read the union as arm `T`.
    pub fn fields<T: Pod>(&self) -> T {
        super::read_at(&self.sifields, 0)
    }
}

/// The kill/rt/timer arm: sender and sigval.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigfieldsKill {
    pub si_pid: i32,
    pub si_uid: u32,
    pub si_value: u64,
}
abi_size!(SigfieldsKill, 16);

/// The SIGPOLL arm (si_code POLL_IN..POLL_HUP from the kernel: F_SETSIG
/// signals of dnotify, leases and async I/O).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigfieldsPoll {
    pub si_band: i64,
    pub si_fd: i32,
    pub _pad: i32,
}
abi_size!(SigfieldsPoll, 16);

/// The POSIX timer arm (si_code SI_TIMER).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigfieldsTimer {
    pub si_tid: i32,
    pub si_overrun: i32,
    pub si_value: u64,
}
abi_size!(SigfieldsTimer, 16);

/// struct sigevent (timer_create, mq_notify): the sigval, the signal,
/// how to notify, and for SIGEV_THREAD_ID the thread (the rest of the
/// union is unused by the kernel).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Sigevent {
    pub sigev_value: u64,
    pub sigev_signo: i32,
    pub sigev_notify: i32,
    pub sigev_notify_thread_id: i32,
    pub _pad: [i32; 11],
}
abi_size!(Sigevent, 64);

/// sigev_notify values.
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;
pub const SIGEV_THREAD_ID: i32 = 4;

/// The SIGSYS arm of a seccomp SECCOMP_RET_TRAP (si_code SYS_SECCOMP).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigfieldsSys {
    pub si_call_addr: u64,
    pub si_syscall: i32,
    pub si_arch: u32,
}
abi_size!(SigfieldsSys, 16);

/// The SIGCHLD arm.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigfieldsChld {
    pub si_pid: i32,
    pub si_uid: u32,
    pub si_status: i32,
    pub _pad: i32,
    pub si_utime: i64,
    pub si_stime: i64,
}
abi_size!(SigfieldsChld, 32);

/// The fault arm (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SigfieldsFault {
    pub si_addr: u64,
}
abi_size!(SigfieldsFault, 8);

/// stack_t (sigaltstack, uc_stack).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Stack {
    pub ss_sp: u64,
    pub ss_flags: i32,
    pub _pad: i32,
    pub ss_size: u64,
}
abi_size!(Stack, 24);

/// struct signalfd_siginfo.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SignalfdSiginfo {
    pub ssi_signo: u32,
    pub ssi_errno: i32,
    pub ssi_code: i32,
    pub ssi_pid: u32,
    pub ssi_uid: u32,
    pub ssi_fd: i32,
    pub ssi_tid: u32,
    pub ssi_band: u32,
    pub ssi_overrun: u32,
    pub ssi_trapno: u32,
    pub ssi_status: i32,
    pub ssi_int: i32,
    pub ssi_ptr: u64,
    pub ssi_utime: u64,
    pub ssi_stime: u64,
    pub ssi_addr: u64,
    pub ssi_addr_lsb: u16,
    pub _pad2: u16,
    pub ssi_syscall: i32,
    pub ssi_call_addr: u64,
    pub ssi_arch: u32,
    pub _pad: [u8; 28],
}
abi_size!(SignalfdSiginfo, 128);

/// struct sigcontext (x86_64): the general registers a handler may read
/// and sigreturn restores.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Sigcontext {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
    pub cs: u16,
    pub gs: u16,
    pub fs: u16,
    pub ss: u16,
    pub err: u64,
    pub trapno: u64,
    pub oldmask: u64,
    pub cr2: u64,
    pub fpstate: u64,
    pub reserved1: [u64; 8],
}
abi_size!(Sigcontext, 256);

/// struct ucontext (x86_64, 64-signal mask).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Ucontext {
    pub uc_flags: u64,
    pub uc_link: u64,
    pub uc_stack: Stack,
    pub uc_mcontext: Sigcontext,
    pub uc_sigmask: u64,
}
abi_size!(Ucontext, 304);

/// struct rt_sigframe (x86_64): the handler's return address, its
/// ucontext and its siginfo, in that order from the new stack pointer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct RtSigframe {
    pub pretcode: u64,
    pub uc: Ucontext,
    pub info: Siginfo,
}
abi_size!(RtSigframe, 8 + 304 + 128);

/// uc_flags bit: the frame carries an extended (xsave) FPU state.
pub const UC_FP_XSTATE: u64 = 1;
