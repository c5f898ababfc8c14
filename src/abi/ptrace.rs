//! ptrace's guest structs: `user_regs_struct` as GETREGS/SETREGS and the
//! NT_PRSTATUS regset copy it, the layout of `struct user` that
//! PEEKUSER/POKEUSER index, and `struct ptrace_syscall_info`
//! (PTRACE_GET_SYSCALL_INFO), with the request, option and event numbers.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

pub const PTRACE_TRACEME: i64 = 0;
pub const PTRACE_PEEKTEXT: i64 = 1;
pub const PTRACE_PEEKDATA: i64 = 2;
pub const PTRACE_PEEKUSR: i64 = 3;
pub const PTRACE_POKETEXT: i64 = 4;
pub const PTRACE_POKEDATA: i64 = 5;
pub const PTRACE_POKEUSR: i64 = 6;
pub const PTRACE_CONT: i64 = 7;
pub const PTRACE_KILL: i64 = 8;
pub const PTRACE_SINGLESTEP: i64 = 9;
pub const PTRACE_GETREGS: i64 = 12;
pub const PTRACE_SETREGS: i64 = 13;
pub const PTRACE_GETFPREGS: i64 = 14;
pub const PTRACE_SETFPREGS: i64 = 15;
pub const PTRACE_ATTACH: i64 = 16;
pub const PTRACE_DETACH: i64 = 17;
pub const PTRACE_SYSCALL: i64 = 24;
pub const PTRACE_SYSEMU: i64 = 31;
pub const PTRACE_SYSEMU_SINGLESTEP: i64 = 32;
pub const PTRACE_SETOPTIONS: i64 = 0x4200;
pub const PTRACE_GETEVENTMSG: i64 = 0x4201;
pub const PTRACE_GETSIGINFO: i64 = 0x4202;
pub const PTRACE_SETSIGINFO: i64 = 0x4203;
pub const PTRACE_GETREGSET: i64 = 0x4204;
pub const PTRACE_SETREGSET: i64 = 0x4205;
pub const PTRACE_SEIZE: i64 = 0x4206;
pub const PTRACE_INTERRUPT: i64 = 0x4207;
pub const PTRACE_LISTEN: i64 = 0x4208;
pub const PTRACE_GETSIGMASK: i64 = 0x420a;
pub const PTRACE_SETSIGMASK: i64 = 0x420b;
pub const PTRACE_GET_SYSCALL_INFO: i64 = 0x420e;

pub const PTRACE_O_TRACESYSGOOD: u32 = 1;
pub const PTRACE_O_TRACEFORK: u32 = 2;
pub const PTRACE_O_TRACEVFORK: u32 = 4;
pub const PTRACE_O_TRACECLONE: u32 = 8;
pub const PTRACE_O_TRACEEXEC: u32 = 0x10;
pub const PTRACE_O_TRACEVFORKDONE: u32 = 0x20;
pub const PTRACE_O_TRACEEXIT: u32 = 0x40;
pub const PTRACE_O_TRACESECCOMP: u32 = 0x80;
pub const PTRACE_O_EXITKILL: u32 = 0x10_0000;
pub const PTRACE_O_SUSPEND_SECCOMP: u32 = 0x20_0000;
/// Every option bit Linux knows (PTRACE_O_MASK).
pub const PTRACE_O_MASK: u32 = 0xff | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP;

pub const PTRACE_EVENT_FORK: i32 = 1;
pub const PTRACE_EVENT_VFORK: i32 = 2;
pub const PTRACE_EVENT_CLONE: i32 = 3;
pub const PTRACE_EVENT_EXEC: i32 = 4;
pub const PTRACE_EVENT_VFORK_DONE: i32 = 5;
pub const PTRACE_EVENT_EXIT: i32 = 6;
pub const PTRACE_EVENT_SECCOMP: i32 = 7;
pub const PTRACE_EVENT_STOP: i32 = 128;

/// ptrace_message at syscall stops (PTRACE_EVENTMSG_SYSCALL_*).
pub const PTRACE_EVENTMSG_SYSCALL_ENTRY: u64 = 1;
pub const PTRACE_EVENTMSG_SYSCALL_EXIT: u64 = 2;

/// Regset notes (GETREGSET/SETREGSET).
pub const NT_PRSTATUS: u64 = 1;
pub const NT_PRFPREG: u64 = 2;
pub const NT_X86_XSTATE: u64 = 0x202;

/// struct user_regs_struct: the registers a guest thread's context holds
/// are kept in exactly this layout (`arch::regs::Regs`), one definition.
pub type UserRegs = crate::arch::regs::Regs;
abi_size!(UserRegs, 216);

/// The size of user_fpregs_struct (the FXSAVE area).
pub const USER_FPREGS_SIZE: usize = 512;

/// Offsets in the kernel's struct user (PEEKUSER/POKEUSER): the
/// registers, then u_debugreg[8] at 848, then error_code and
/// fault_address; the whole struct 928 bytes (glibc's copy stops at 912).
pub const USER_DEBUGREG: u64 = 848;
pub const USER_SIZE: u64 = 928;

/// struct ptrace_syscall_info, with the union's largest arm (seccomp).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct PtraceSyscallInfo {
    pub op: u8,
    pub pad: [u8; 3],
    pub arch: u32,
    pub instruction_pointer: u64,
    pub stack_pointer: u64,
    /// entry: nr, args[6]; exit: rval, is_error (as u64 0/1 in its low byte).
    pub data: [u64; 7],
    pub ret_data: u32,
    pub pad2: u32,
}
abi_size!(PtraceSyscallInfo, 88);

pub const PTRACE_SYSCALL_INFO_NONE: u8 = 0;
pub const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;
pub const PTRACE_SYSCALL_INFO_EXIT: u8 = 2;
/// The header (op .. stack_pointer).
pub const SYSCALL_INFO_HEADER: usize = 24;
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
