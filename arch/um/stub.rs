//! The stub: the only code a guest's host process contains besides the
//! guest's own pages.
//!
//! A guest address space is a host process started from a tiny ELF image
//! generated here (no libc, one page of code at `STUB_CODE`). Its entry maps
//! the stub data area (the first frames of physical memory), seals its own
//! code page (mseal: no later mmap, munmap, mprotect or mremap on the host
//! can replace or unprotect it) and traps. From then on the kernel runs
//! batches of host syscalls (mmap, munmap, mprotect) in that process by
//! writing them to the data area and pointing the process's instruction
//! pointer at `ruml_stub_batch`: one round trip for a whole batch, as UML's
//! stub does.
//!
//! The data area is only accessible while a batch runs: each batch opens it
//! (mprotect read/write) first and closes it (PROT_NONE) last, so guest code,
//! which only runs between batches, can neither read the requests of other
//! address spaces nor forge its own.

use std::arch::global_asm;

/// Where the stub code page lives in every guest host process. Guest user
/// space ends here (the guest's TASK_SIZE).
pub const STUB_CODE: u64 = 0x7ff0_0000_0000;
/// The stub's data area: header, syscall records, filters, stack.
pub const STUB_DATA: u64 = STUB_CODE + 0x1000;
/// Size of the data area, backed by physical frames 0.. of guest memory.
pub const STUB_DATA_SIZE: u64 = 16 * 4096;
/// End of the stub's address range.
pub const STUB_END: u64 = STUB_DATA + STUB_DATA_SIZE;
/// Highest user address on the host (x86_64, 4-level paging).
pub const HOST_TASK_SIZE: u64 = 0x7fff_ffff_f000;
/// The file descriptor guest host processes hold physical memory under.
pub const PHYS_FD: i32 = 3;

/// Size of one syscall record: nr, six arguments, result.
pub const OP_SIZE: u64 = 64;
/// Header of the data area: [0] number of records, [8] records completed.
pub const OPS_OFFSET: u64 = 64;
/// The last 8 KiB of the data area: seccomp programs and a little stack.
pub const AUX_OFFSET: u64 = STUB_DATA_SIZE - 2 * 4096;
/// Room for records, leaving the auxiliary pages at the end.
pub const MAX_OPS: usize = ((AUX_OFFSET - OPS_OFFSET) / OP_SIZE) as usize;
/// mseal(2), Linux 6.10 and later; older hosts answer ENOSYS and the
/// stub's code page is then protected by the kernel's checks and the
/// seccomp filter alone.
const SYS_MSEAL: u32 = 462;

global_asm!(
    ".pushsection .text.ruml_stub, \"ax\"",
    ".globl ruml_stub_start",
    ".globl ruml_stub_batch",
    ".globl ruml_stub_open_ret",
    ".globl ruml_stub_op_ret",
    ".globl ruml_stub_close_ret",
    ".globl ruml_stub_end",
    ".globl ruml_stub_rbatch",
    ".globl ruml_stub_ropen_ret",
    ".globl ruml_stub_rop_ret",
    ".globl ruml_stub_rclose_ret",
    ".globl ruml_stub_clone",
    ".globl ruml_stub_clone_ret",
    ".globl ruml_stub_sas_ret",
    ".globl ruml_stub_gfilter_ret",
    ".globl ruml_stub_handler",
    ".globl ruml_stub_wake_ret",
    ".globl ruml_stub_wait_ret",
    ".globl ruml_stub_sigreturn_ret",
    ".globl ruml_stub_hop_ret",
    "ruml_stub_start:",
    // mmap(STUB_DATA, STUB_DATA_SIZE, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, PHYS_FD, r9)
    "mov eax, 9",
    "movabs rdi, {data}",
    "mov esi, {size}",
    "mov edx, 3",
    "mov r10d, 0x11",
    "mov r8d, {fd}",
    // r9: the data area's offset, set by the tracer at the exec stop
    // (each vCPU has its own; exec leaves it 0).
    "syscall",
    "mov r15, rax",
    // mseal(STUB_CODE, 4096, 0): the result (0 or an errno) goes to rdx.
    "mov eax, {mseal}",
    "movabs rdi, {code}",
    "mov esi, 4096",
    "xor edx, edx",
    "syscall",
    "mov rdx, rax",
    "mov rax, r15",
    "int3",
    "ruml_stub_batch:",
    // Open the data area: mprotect(STUB_DATA, STUB_DATA_SIZE, RW).
    "mov eax, 10",
    "movabs rdi, {data}",
    "mov esi, {size}",
    "mov edx, 3",
    "syscall",
    "ruml_stub_open_ret:",
    "movabs rbx, {data}",
    "mov r12, [rbx]",
    "lea r13, [rbx + {ops}]",
    "xor r14d, r14d",
    "2:",
    "cmp r14, r12",
    "jae 3f",
    "mov rax, [r13]",
    "mov rdi, [r13 + 8]",
    "mov rsi, [r13 + 16]",
    "mov rdx, [r13 + 24]",
    "mov r10, [r13 + 32]",
    "mov r8, [r13 + 40]",
    "mov r9, [r13 + 48]",
    "syscall",
    "ruml_stub_op_ret:",
    "mov [r13 + 56], rax",
    "cmp rax, -4095",
    "jae 3f",
    "add r13, 64",
    "inc r14",
    "jmp 2b",
    "3:",
    "mov [rbx + 8], r14",
    // Close it again before any guest code can run.
    "mov eax, 10",
    "movabs rdi, {data}",
    "mov esi, {size}",
    "xor edx, edx",
    "syscall",
    "ruml_stub_close_ret:",
    "int3",
    // The seccomp platform's batch: like the one above, but the data
    // area is only opened for reading and the results stay in registers
    // (r14: records done, rax: the last result), so a guest thread of
    // the same process can never write a record the stub is executing.
    "ruml_stub_rbatch:",
    "mov eax, 10",
    "movabs rdi, {data}",
    "mov esi, {size}",
    "mov edx, 1",
    "syscall",
    "ruml_stub_ropen_ret:",
    "movabs rbx, {data}",
    "mov r12, [rbx]",
    "lea r13, [rbx + {ops}]",
    "xor r14d, r14d",
    "xor r15d, r15d",
    "2:",
    "cmp r14, r12",
    "jae 3f",
    "mov rax, [r13]",
    "mov rdi, [r13 + 8]",
    "mov rsi, [r13 + 16]",
    "mov rdx, [r13 + 24]",
    "mov r10, [r13 + 32]",
    "mov r8, [r13 + 40]",
    "mov r9, [r13 + 48]",
    "syscall",
    "ruml_stub_rop_ret:",
    "mov r15, rax",
    "cmp rax, -4095",
    "jae 3f",
    "add r13, 64",
    "inc r14",
    "jmp 2b",
    "3:",
    "mov eax, 10",
    "movabs rdi, {data}",
    "mov esi, {size}",
    "xor edx, edx",
    "syscall",
    "ruml_stub_rclose_ret:",
    "mov rax, r15",
    "int3",
    // Starting a seccomp-platform guest thread: the tracer sets the
    // registers of clone(2) and points rip here. The tracer's thread
    // traps back; the new thread goes on at the guest-thread entry.
    "ruml_stub_clone:",
    "syscall",
    "ruml_stub_clone_ret:",
    "test rax, rax",
    "jz 4f",
    "int3",
    "4:",
    // The new guest thread: its signal stack and its own filter (both
    // prepared by the kernel in its request slot), then a first event
    // (ud2 -> SIGILL) so that it waits in the handler, on a real frame.
    "mov eax, 131",
    "movabs rdi, {req_ss}",
    "xor esi, esi",
    "syscall",
    "ruml_stub_sas_ret:",
    "mov eax, 317",
    "mov edi, 1",
    "xor esi, esi",
    "movabs rdx, {req_fprog}",
    "syscall",
    "ruml_stub_gfilter_ret:",
    "ud2",
    // The signal handler of seccomp-platform guest threads (SIGSYS from
    // the filter's RET_TRAP, faults, the SIGALRM kick): record the event
    // and where the frame is (the kernel reads and writes the registers
    // in the frame itself), wake the kernel, wait for its answer, return
    // to the (possibly changed) frame with rt_sigreturn.
    "ruml_stub_handler:",
    "movabs rbx, {req}",
    "mov r12, rdx",
    "mov [rbx + 24], rdx",
    "mov [rbx + 4], edi",
    "mov eax, [rsi + 8]",
    "mov [rbx + 8], eax",
    "mov rax, [rsi + 16]",
    "mov [rbx + 16], rax",
    "rdfsbase rax",
    "mov [rbx + 32], rax",
    "rdgsbase rax",
    "mov [rbx + 40], rax",
    "mov dword ptr [rbx], 1",
    "mov eax, 202",
    "mov rdi, rbx",
    "mov esi, 1",
    "mov edx, 1",
    "xor r10d, r10d",
    "syscall",
    "ruml_stub_wake_ret:",
    "5:",
    "cmp dword ptr [rbx], 2",
    "je 6f",
    "mov eax, 202",
    "mov rdi, rbx",
    "xor esi, esi",
    "mov edx, 1",
    "xor r10d, r10d",
    "syscall",
    "ruml_stub_wait_ret:",
    "jmp 5b",
    // The answer. From here on only fixed addresses are used: a guest
    // that reached one of the futex sites above with its own registers
    // still runs exactly this.
    "6:",
    "movabs rbx, {req}",
    "mov dword ptr [rbx], 0",
    // A mapping batch sent with the answer: the kernel put the process's
    // cookie in the slot only after it saw this thread asleep in one of
    // the futex calls above, so it is taken (and erased) before any guest
    // code can run again. Without it there is no batch.
    "xor r15d, r15d",
    "xchg r15, [rbx + {h_cookie}]",
    "test r15, r15",
    "jz 7f",
    "movabs r13, {rec}",
    "mov rbp, [r13]",
    "cmp rbp, {rec_max}",
    "jbe 8f",
    "xor ebp, ebp",
    "8:",
    "add r13, {ops}",
    "xor r14d, r14d",
    "xor eax, eax",
    "9:",
    "cmp r14, rbp",
    "jae 10f",
    // One record, as the stub's batch runs it, with the cookie in the
    // high halves of r10 and r8 (the filter wants it there; the host
    // ignores them: mmap's fd is 32 bits, MAP_SHARED drops unknown
    // flags, munmap and mprotect take fewer arguments).
    "mov rax, [r13]",
    "mov rdi, [r13 + 8]",
    "mov rsi, [r13 + 16]",
    "mov rdx, [r13 + 24]",
    "mov r10d, [r13 + 32]",
    "mov r8d, [r13 + 40]",
    "mov r9, [r13 + 48]",
    "mov rcx, r15",
    "shr rcx, 32",
    "shl rcx, 32",
    "or r10, rcx",
    "mov rcx, r15",
    "shl rcx, 32",
    "or r8, rcx",
    "syscall",
    "ruml_stub_hop_ret:",
    "cmp rax, -4095",
    "jae 10f",
    "add r13, 64",
    "inc r14",
    "jmp 9b",
    "10:",
    "mov [rbx + {h_done}], r14",
    "mov [rbx + {h_result}], rax",
    "xor r15d, r15d",
    "xor ecx, ecx",
    "xor r10d, r10d",
    "xor r8d, r8d",
    "7:",
    "mov rax, [rbx + 32]",
    "wrfsbase rax",
    "mov rax, [rbx + 40]",
    "wrgsbase rax",
    "mov rsp, r12",
    "mov eax, 15",
    "syscall",
    "ruml_stub_sigreturn_ret:",
    "ud2",
    "ruml_stub_end:",
    ".popsection",
    data = const STUB_DATA,
    code = const STUB_CODE,
    size = const STUB_DATA_SIZE,
    fd = const PHYS_FD,
    ops = const OPS_OFFSET,
    mseal = const SYS_MSEAL,
    req = const REQ_ADDR,
    req_ss = const REQ_ADDR + REQ_SS,
    req_fprog = const REQ_ADDR + REQ_FPROG,
    h_cookie = const REQ_H_COOKIE,
    h_done = const REQ_H_DONE,
    h_result = const REQ_H_RESULT,
    rec = const REQ_REC,
    rec_max = const REQ_REC_MAX,
);

extern "C" {
    static ruml_stub_start: u8;
    static ruml_stub_batch: u8;
    static ruml_stub_open_ret: u8;
    static ruml_stub_op_ret: u8;
    static ruml_stub_close_ret: u8;
    static ruml_stub_end: u8;
    static ruml_stub_rbatch: u8;
    static ruml_stub_ropen_ret: u8;
    static ruml_stub_rop_ret: u8;
    static ruml_stub_rclose_ret: u8;
    static ruml_stub_clone: u8;
    static ruml_stub_clone_ret: u8;
    static ruml_stub_sas_ret: u8;
    static ruml_stub_gfilter_ret: u8;
    static ruml_stub_handler: u8;
    static ruml_stub_wake_ret: u8;
    static ruml_stub_wait_ret: u8;
    static ruml_stub_sigreturn_ret: u8;
    static ruml_stub_hop_ret: u8;
}

/// The stub's machine code.
fn code() -> &'static [u8] {
    // SAFETY: the two symbols delimit one contiguous block of our own text
    // section defined by the global_asm above.
    unsafe {
        let start = &ruml_stub_start as *const u8;
        let end = &ruml_stub_end as *const u8;
        std::slice::from_raw_parts(start, end as usize - start as usize)
    }
}

/// Where `sym` (one of the stub's labels) is in a guest host process.
fn stub_addr(sym: &u8) -> u64 {
    // SAFETY: only the addresses of our own symbols are taken, never read.
    let start = unsafe { &ruml_stub_start as *const u8 as u64 };
    STUB_CODE + HDR + (sym as *const u8 as u64 - start)
}

/// The seccomp platform's per-process request slot: where it is mapped
/// in each guest host process (above the data area), and its layout.
/// Words: [0] state (0 guest running, 1 event posted by the stub, 2 answer
/// posted by the kernel; the futex both sides wait on), [4] signal number,
/// [8] si_code, [16] si_addr, [24] address of the signal frame's
/// ucontext, [32] fs base, [40] gs base, then the handler's mapping batch
/// (`REQ_H_*`).
pub const REQ_ADDR: u64 = STUB_END;
/// Size of one request slot's read/write part: a header page, a start-up
/// stack page and the signal stack the handler's frames go on.
pub const REQ_SLOT_SIZE: u64 = 8 * 4096;
/// The futex the kernel moves a waiting handler to (FUTEX_CMP_REQUEUE)
/// before it sends a batch: proof that the thread sleeps in the stub.
pub const REQ_H_PARK: u64 = 48;
/// The process's batch cookie, present only between that proof and the
/// handler taking it (it zeroes the word).
pub const REQ_H_COOKIE: u64 = 56;
/// The handler's batch results: records done, the last result.
pub const REQ_H_DONE: u64 = 64;
pub const REQ_H_RESULT: u64 = 72;
/// The handler's batch records, mapped read-only right above the
/// read/write part (the same format as the data area: [0] count, records
/// from `OPS_OFFSET`), from the frames after it in the slot.
pub const REQ_REC: u64 = REQ_ADDR + REQ_SLOT_SIZE;
pub const REQ_REC_SIZE: u64 = 4 * 4096;
/// Records a handler batch holds at most.
pub const REQ_REC_MAX: u64 = (REQ_REC_SIZE - OPS_OFFSET) / OP_SIZE;
/// Physical memory one slot takes: both parts.
pub const REQ_SLOT_STRIDE: u64 = REQ_SLOT_SIZE + REQ_REC_SIZE;
/// The `stack_t` the guest thread installs as its signal stack.
pub const REQ_SS: u64 = 256;
/// The guest thread's own filter: a `sock_fprog`, its instructions after.
pub const REQ_FPROG: u64 = 512;
pub const REQ_FILTER: u64 = 1024;
/// Top of the stack the guest thread starts on (clone's stack).
pub const REQ_START_STACK: u64 = 2 * 4096;
/// The signal stack: the rest of the slot.
pub const REQ_SIGSTACK: u64 = 2 * 4096;

/// The seccomp platform's stub addresses.
pub struct SeccompSites {
    pub rbatch: u64,
    /// After the read-only batch's syscalls (open, record, close).
    pub rbatch_sites: [u64; 3],
    pub clone: u64,
    pub clone_ret: u64,
    /// The guest thread's start: sigaltstack, then seccomp.
    pub sas_ret: u64,
    pub gfilter_ret: u64,
    pub handler: u64,
    pub wake_ret: u64,
    pub wait_ret: u64,
    pub sigreturn_ret: u64,
    /// After the handler's batch syscall (answers that carry mappings).
    pub hop_ret: u64,
}

/// Where the seccomp platform's pieces of the stub are.
pub fn seccomp_sites() -> SeccompSites {
    // SAFETY: taking the addresses of our own symbols.
    unsafe {
        SeccompSites {
            rbatch: stub_addr(&ruml_stub_rbatch),
            rbatch_sites: [
                stub_addr(&ruml_stub_ropen_ret),
                stub_addr(&ruml_stub_rop_ret),
                stub_addr(&ruml_stub_rclose_ret),
            ],
            clone: stub_addr(&ruml_stub_clone),
            clone_ret: stub_addr(&ruml_stub_clone_ret),
            sas_ret: stub_addr(&ruml_stub_sas_ret),
            gfilter_ret: stub_addr(&ruml_stub_gfilter_ret),
            handler: stub_addr(&ruml_stub_handler),
            wake_ret: stub_addr(&ruml_stub_wake_ret),
            wait_ret: stub_addr(&ruml_stub_wait_ret),
            sigreturn_ret: stub_addr(&ruml_stub_sigreturn_ret),
            hop_ret: stub_addr(&ruml_stub_hop_ret),
        }
    }
}

/// Every address right after one of the stub's `syscall` instructions
/// (the hostile tests jump to each of them).
pub fn all_syscall_sites() -> Vec<u64> {
    let s = seccomp_sites();
    let mut v = syscall_sites().to_vec();
    v.extend_from_slice(&s.rbatch_sites);
    v.extend_from_slice(&[
        s.clone_ret,
        s.sas_ret,
        s.gfilter_ret,
        s.wake_ret,
        s.wait_ret,
        s.sigreturn_ret,
        s.hop_ret,
    ]);
    v
}

/// Size of the ELF header plus one program header; the code follows.
const HDR: u64 = 64 + 56;

/// Address of the batch entry point in a guest host process.
pub fn batch_entry() -> u64 {
    // SAFETY: taking the address of our own symbol.
    stub_addr(unsafe { &ruml_stub_batch })
}

/// The addresses right after the batch's `syscall` instructions: the
/// instruction pointers seccomp sees for the stub's own calls (opening the
/// data area, one record, closing it).
pub fn syscall_sites() -> [u64; 3] {
    // SAFETY: taking the addresses of our own symbols.
    unsafe {
        [
            stub_addr(&ruml_stub_open_ret),
            stub_addr(&ruml_stub_op_ret),
            stub_addr(&ruml_stub_close_ret),
        ]
    }
}

/// Where the `syscall` instruction that runs one record is: the debug hook
/// that simulates a guest reaching a host syscall starts there.
pub fn op_syscall_insn() -> u64 {
    syscall_sites()[1] - 2
}

/// A minimal static ELF executable whose one PT_LOAD maps the stub at
/// STUB_CODE, entry at the mmap-and-trap prologue.
pub fn elf_image() -> Vec<u8> {
    let code = code();
    let mut v = Vec::with_capacity(HDR as usize + code.len());
    // e_ident
    v.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    v.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    v.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    v.extend_from_slice(&(STUB_CODE + HDR).to_le_bytes()); // e_entry
    v.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    v.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    v.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    v.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    v.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    v.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    v.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    v.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    v.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
                                              // PT_LOAD
    let filesz = HDR + code.len() as u64;
    v.extend_from_slice(&1u32.to_le_bytes()); // p_type
    v.extend_from_slice(&5u32.to_le_bytes()); // PF_R | PF_X
    v.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    v.extend_from_slice(&STUB_CODE.to_le_bytes()); // p_vaddr
    v.extend_from_slice(&STUB_CODE.to_le_bytes()); // p_paddr
    v.extend_from_slice(&filesz.to_le_bytes()); // p_filesz
    v.extend_from_slice(&4096u64.to_le_bytes()); // p_memsz
    v.extend_from_slice(&4096u64.to_le_bytes()); // p_align
    debug_assert_eq!(v.len() as u64, HDR);
    v.extend_from_slice(code);
    assert!(v.len() <= 4096);
    v
}
