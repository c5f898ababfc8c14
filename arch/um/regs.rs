//! A guest thread's general-purpose registers: the x86_64 Linux
//! `user_regs_struct` (the layout ptrace's GETREGS/SETREGS and core dumps
//! use), defined here so that kernel structs hold no host types.

/// General-purpose registers, in `user_regs_struct` order.
#[repr(C)]
/// Plain data (bytemuck), so that ptrace copies it to and from the
/// guest's user_regs_struct (`abi::ptrace::UserRegs`) by a checked cast.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Regs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

// The ptrace backend hands `Regs` to the host kernel as its
// user_regs_struct: the two must agree byte for byte.
const _: () = assert!(std::mem::size_of::<Regs>() == std::mem::size_of::<libc::user_regs_struct>());
const _: () = assert!(std::mem::size_of::<Regs>() == 27 * 8);
