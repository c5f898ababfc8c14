//! ELF64 headers as execve reads them from an x86-64 executable, and the
//! note records a core dump writes (Linux's elf_prstatus, elf_prpsinfo).

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// Elf64_Ehdr.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Elf64Ehdr {
    pub e_ident: [u8; 16],
    pub e_type: u16,
    pub e_machine: u16,
    pub e_version: u32,
    pub e_entry: u64,
    pub e_phoff: u64,
    pub e_shoff: u64,
    pub e_flags: u32,
    pub e_ehsize: u16,
    pub e_phentsize: u16,
    pub e_phnum: u16,
    pub e_shentsize: u16,
    pub e_shnum: u16,
    pub e_shstrndx: u16,
}
abi_size!(Elf64Ehdr, 64);

/// Elf64_Phdr.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Elf64Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_paddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}
abi_size!(Elf64Phdr, 56);

/// Elf64_Nhdr: a note's header; the name and then the descriptor follow,
/// each padded to 4 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Elf64Nhdr {
    pub n_namesz: u32,
    pub n_descsz: u32,
    pub n_type: u32,
}
abi_size!(Elf64Nhdr, 12);

pub const ET_CORE: u16 = 4;
pub const EM_X86_64: u16 = 62;
pub const PT_LOAD: u32 = 1;
pub const PT_NOTE: u32 = 4;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
pub const NT_PRSTATUS: u32 = 1;
pub const NT_FPREGSET: u32 = 2;
pub const NT_PRPSINFO: u32 = 3;
pub const NT_AUXV: u32 = 6;
pub const NT_SIGINFO: u32 = 0x5349_4749;
pub const NT_FILE: u32 = 0x4649_4c45;

/// struct elf_prstatus (x86-64): one thread's signal state, ids and
/// registers (pr_reg is user_regs_struct).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ElfPrstatus {
    /// elf_siginfo: si_signo, si_code, si_errno.
    pub pr_info: [i32; 3],
    pub pr_cursig: i16,
    pub _pad0: u16,
    pub pr_sigpend: u64,
    pub pr_sighold: u64,
    pub pr_pid: i32,
    pub pr_ppid: i32,
    pub pr_pgrp: i32,
    pub pr_sid: i32,
    /// utime, stime, cutime, cstime as (tv_sec, tv_usec) pairs.
    pub pr_times: [[i64; 2]; 4],
    pub pr_reg: [u64; 27],
    pub pr_fpvalid: i32,
    pub _pad1: u32,
}
abi_size!(ElfPrstatus, 336);

/// struct elf_prpsinfo (x86-64): the process's state, ids, name and
/// arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ElfPrpsinfo {
    pub pr_state: i8,
    pub pr_sname: u8,
    pub pr_zomb: i8,
    pub pr_nice: i8,
    pub _pad0: u32,
    pub pr_flag: u64,
    pub pr_uid: u32,
    pub pr_gid: u32,
    pub pr_pid: i32,
    pub pr_ppid: i32,
    pub pr_pgrp: i32,
    pub pr_sid: i32,
    pub pr_fname: [u8; 16],
    pub pr_psargs: [u8; 80],
}
abi_size!(ElfPrpsinfo, 136);
