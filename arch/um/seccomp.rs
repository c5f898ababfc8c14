//! The host-side seccomp filter of every guest host process.
//!
//! A guest's host process should only ever execute the stub's mapping
//! calls. The kernel keeps guest code from reaching a host system call by
//! construction (PTRACE_SYSEMU intercepts every guest `syscall`; the stub
//! code page is sealed and outside the guest's range; the stub's data area
//! is inaccessible while the guest runs). This filter is the second wall:
//! if all of that failed, a host system call that is not one of the stub's,
//! from one of the stub's own instructions, with the stub's arguments, kills
//! the process (SECCOMP_RET_KILL_PROCESS).
//!
//! What the stub may do:
//! - `mmap(addr, len, prot, MAP_SHARED|MAP_FIXED[|MAP_POPULATE], PHYS_FD, off)`
//!   with `[addr, addr+len)` inside the guest range and `prot <= RWX`;
//! - `munmap` and `mprotect` of ranges inside the guest range, and
//!   `mprotect` of exactly the stub data area (closing it around batches);
//! - the zygote only: `fork`, and `seccomp(SET_MODE_FILTER, 0, ..)` so that
//!   each child can add the small filter that takes `fork` away again.
//!
//! Filters are classic BPF over `struct seccomp_data`; 64-bit arguments are
//! two 32-bit words, so the range check adds them with an explicit carry.

use super::stub::{
    REQ_ADDR, REQ_REC, REQ_REC_SIZE, REQ_SLOT_SIZE, REQ_START_STACK, STUB_CODE, STUB_DATA,
    STUB_DATA_SIZE,
};

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy)]
struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_LD_MEM: u16 = 0x60; // BPF_LD | BPF_MEM
const BPF_LDX_MEM: u16 = 0x61; // BPF_LDX | BPF_MEM
const BPF_ST: u16 = 0x02;
const BPF_ADD_X: u16 = 0x0c; // BPF_ALU | BPF_ADD | BPF_X
const BPF_ADD_K: u16 = 0x04; // BPF_ALU | BPF_ADD | BPF_K
const BPF_TAX: u16 = 0x07; // BPF_MISC | BPF_TAX
const BPF_RET_K: u16 = 0x06;
const BPF_JA: u16 = 0x05;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JGT_K: u16 = 0x25;
const BPF_JGE_K: u16 = 0x35;
const BPF_JGE_X: u16 = 0x3d;
const BPF_JSET_K: u16 = 0x45;

const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `seccomp(2)` operation installing a filter.
pub const SECCOMP_SET_MODE_FILTER: u64 = 1;

// Offsets in struct seccomp_data.
const NR: u32 = 0;
const ARCH: u32 = 4;
const IP_LO: u32 = 8;
const IP_HI: u32 = 12;
fn arg_lo(i: u32) -> u32 {
    16 + 8 * i
}
fn arg_hi(i: u32) -> u32 {
    20 + 8 * i
}

/// A jump target: an instruction index, or one of the two verdicts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Label(usize),
    Allow,
    Kill,
    /// SIGSYS to the thread (the seccomp platform's guest system calls).
    Trap,
    Next,
}

/// A program under construction: instructions whose jumps name labels,
/// resolved to relative offsets by `finish`.
struct Builder {
    insns: Vec<(u16, Target, Target, u32)>,
    labels: Vec<Option<usize>>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            insns: Vec::new(),
            labels: Vec::new(),
        }
    }
    fn label(&mut self) -> Target {
        self.labels.push(None);
        Target::Label(self.labels.len() - 1)
    }
    fn bind(&mut self, l: Target) {
        if let Target::Label(i) = l {
            self.labels[i] = Some(self.insns.len());
        }
    }
    fn stmt(&mut self, code: u16, k: u32) {
        self.insns.push((code, Target::Next, Target::Next, k));
    }
    fn load(&mut self, off: u32) {
        self.stmt(BPF_LD_W_ABS, off);
    }
    fn jump(&mut self, code: u16, k: u32, jt: Target, jf: Target) {
        self.insns.push((code, jt, jf, k));
    }
    fn goto(&mut self, t: Target) {
        self.insns.push((BPF_JA, t, Target::Next, 0));
    }
    /// Continue only if the 64-bit argument `i` equals `v`.
    fn require_arg(&mut self, i: u32, v: u64) {
        self.load(arg_lo(i));
        self.jump(BPF_JEQ_K, v as u32, Target::Next, Target::Kill);
        self.load(arg_hi(i));
        self.jump(BPF_JEQ_K, (v >> 32) as u32, Target::Next, Target::Kill);
    }
    /// Continue only if argument `i` has no bits outside `allowed`.
    fn require_bits(&mut self, i: u32, allowed: u64) {
        self.load(arg_lo(i));
        self.jump(BPF_JSET_K, !(allowed as u32), Target::Kill, Target::Next);
        self.load(arg_hi(i));
        self.jump(
            BPF_JSET_K,
            !((allowed >> 32) as u32),
            Target::Kill,
            Target::Next,
        );
    }
    /// Jump to `ok` if `[arg a, arg a + arg l)` lies inside `[0, limit]`
    /// without wrapping, else kill. `limit` must have a zero low word.
    fn range_check(&mut self, a: u32, l: u32, limit: u64, ok: Target) {
        debug_assert_eq!(limit as u32, 0);
        let lim_hi = (limit >> 32) as u32;
        // Both high words below the limit's: their sum (plus a carry)
        // then fits in 32 bits.
        self.load(arg_hi(a));
        self.jump(BPF_JGE_K, lim_hi, Target::Kill, Target::Next);
        self.load(arg_hi(l));
        self.jump(BPF_JGT_K, lim_hi, Target::Kill, Target::Next);
        // M0 = addr.lo; M1 = addr.lo + len.lo (mod 2^32)
        self.load(arg_lo(a));
        self.stmt(BPF_ST, 0);
        self.load(arg_lo(l));
        self.stmt(BPF_TAX, 0);
        self.stmt(BPF_LD_MEM, 0);
        self.stmt(BPF_ADD_X, 0);
        self.stmt(BPF_ST, 1);
        // Carry out of the low words when the sum is below addr.lo.
        self.stmt(BPF_LDX_MEM, 0);
        let no_carry = self.label();
        let join = self.label();
        self.jump(BPF_JGE_X, 0, no_carry, Target::Next);
        self.load(arg_hi(a));
        self.stmt(BPF_ADD_K, 1);
        self.goto(join);
        self.bind(no_carry);
        self.load(arg_hi(a));
        self.bind(join);
        // A = addr.hi + carry; add len.hi.
        self.stmt(BPF_ST, 2);
        self.load(arg_hi(l));
        self.stmt(BPF_TAX, 0);
        self.stmt(BPF_LD_MEM, 2);
        self.stmt(BPF_ADD_X, 0);
        // end.hi < lim.hi: inside; == lim.hi: only with end.lo == 0.
        let check_lo = self.label();
        self.jump(BPF_JGT_K, lim_hi, Target::Kill, Target::Next);
        self.jump(BPF_JEQ_K, lim_hi, check_lo, ok);
        self.bind(check_lo);
        self.stmt(BPF_LD_MEM, 1);
        self.jump(BPF_JEQ_K, 0, ok, Target::Kill);
    }

    /// The rest of an mmap check, allowing or killing: the low half of the
    /// flags exactly `MAP_SHARED|MAP_FIXED[|MAP_POPULATE]`, protection at
    /// most RWX, the range inside the guest's.
    fn mmap_flags_prot_range(&mut self) {
        let flags_ok = self.label();
        let shared_fixed = (libc::MAP_SHARED | libc::MAP_FIXED) as u32;
        self.load(arg_lo(3));
        self.jump(BPF_JEQ_K, shared_fixed, flags_ok, Target::Next);
        self.jump(
            BPF_JEQ_K,
            shared_fixed | libc::MAP_POPULATE as u32,
            flags_ok,
            Target::Kill,
        );
        self.bind(flags_ok);
        self.require_bits(2, 7);
        self.range_check(0, 1, STUB_CODE, Target::Allow);
    }

    /// Place a copy of the verdicts here (only after an instruction that
    /// never falls through): conditional jumps reach 255 instructions at
    /// most, so code far from the end jumps to the nearest copy after it.
    fn verdicts_here(&mut self) {
        for k in [
            SECCOMP_RET_ALLOW,
            SECCOMP_RET_KILL_PROCESS,
            SECCOMP_RET_TRAP,
        ] {
            self.stmt(BPF_RET_K, k);
        }
    }

    /// Resolve labels into the kernel's format, appending the verdicts.
    fn finish(self) -> Vec<u8> {
        let n = self.insns.len();
        // The first verdict `k` after instruction `i` (the final copy is
        // appended at n..n+3).
        let verdict = |i: usize, k: u32, last: usize| -> usize {
            (i + 1..n)
                .find(|&j| self.insns[j].0 == BPF_RET_K && self.insns[j].3 == k)
                .unwrap_or(last)
        };
        let resolve = |i: usize, t: Target| -> u32 {
            let dest = match t {
                Target::Next => i + 1,
                Target::Allow => verdict(i, SECCOMP_RET_ALLOW, n),
                Target::Kill => verdict(i, SECCOMP_RET_KILL_PROCESS, n + 1),
                Target::Trap => verdict(i, SECCOMP_RET_TRAP, n + 2),
                Target::Label(l) => self.labels[l].expect("unbound label"),
            };
            assert!(dest > i, "seccomp: backward jump");
            (dest - i - 1) as u32
        };
        let mut out: Vec<Insn> = Vec::with_capacity(n + 2);
        for (i, &(code, jt, jf, k)) in self.insns.iter().enumerate() {
            let insn = if code == BPF_JA {
                Insn {
                    code,
                    jt: 0,
                    jf: 0,
                    k: resolve(i, jt),
                }
            } else if code & 0x07 == 0x05 {
                let (t, f) = (resolve(i, jt), resolve(i, jf));
                assert!(t < 256 && f < 256, "seccomp: jump too far");
                Insn {
                    code,
                    jt: t as u8,
                    jf: f as u8,
                    k,
                }
            } else {
                Insn {
                    code,
                    jt: 0,
                    jf: 0,
                    k,
                }
            };
            out.push(insn);
        }
        out.push(Insn {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        });
        out.push(Insn {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_KILL_PROCESS,
        });
        out.push(Insn {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_TRAP,
        });
        let mut bytes = Vec::with_capacity(out.len() * 8);
        for i in out {
            bytes.extend_from_slice(&i.code.to_le_bytes());
            bytes.push(i.jt);
            bytes.push(i.jf);
            bytes.extend_from_slice(&i.k.to_le_bytes());
        }
        bytes
    }
}

/// The stub's filter. `syscall_ips` are the addresses just after the
/// stub's `syscall` instructions (what seccomp reports as the instruction
/// pointer); `zygote` also allows what forking address spaces needs.
pub fn stub_filter(syscall_ips: &[u64], zygote: bool) -> Vec<u8> {
    let mut b = Builder::new();
    b.load(ARCH);
    b.jump(BPF_JEQ_K, AUDIT_ARCH_X86_64, Target::Next, Target::Kill);
    // Only from the stub's own syscall instructions.
    let ip_ok = b.label();
    b.load(IP_HI);
    b.jump(
        BPF_JEQ_K,
        (STUB_CODE >> 32) as u32,
        Target::Next,
        Target::Kill,
    );
    b.load(IP_LO);
    for &ip in syscall_ips {
        debug_assert_eq!(ip >> 32, STUB_CODE >> 32);
        b.jump(BPF_JEQ_K, ip as u32, ip_ok, Target::Next);
    }
    b.goto(Target::Kill);
    b.bind(ip_ok);
    mapping_rules(&mut b, zygote, false);
    b.finish()
}

/// The checks of the stub's batch calls (the instruction pointer is one
/// of the batch's). `systrap`: the seccomp platform's additions (mapping
/// the request slot, starting the guest thread).
fn mapping_rules(b: &mut Builder, zygote: bool, systrap: bool) {
    let (mmap, munmap, mprotect, fork, seccomp) =
        (b.label(), b.label(), b.label(), b.label(), b.label());
    let clone = b.label();
    b.load(NR);
    if systrap {
        b.jump(BPF_JEQ_K, libc::SYS_clone as u32, clone, Target::Next);
    }
    b.jump(BPF_JEQ_K, libc::SYS_mmap as u32, mmap, Target::Next);
    b.jump(BPF_JEQ_K, libc::SYS_munmap as u32, munmap, Target::Next);
    b.jump(BPF_JEQ_K, libc::SYS_mprotect as u32, mprotect, Target::Next);
    if zygote {
        b.jump(BPF_JEQ_K, libc::SYS_fork as u32, fork, Target::Next);
        b.jump(BPF_JEQ_K, libc::SYS_seccomp as u32, seccomp, Target::Next);
    }
    b.goto(Target::Kill);

    // mmap: physical memory only, shared and fixed, inside the guest range.
    b.bind(mmap);
    b.require_arg(4, super::stub::PHYS_FD as u64);
    if systrap {
        // The request slot, exactly: read/write; its batch records,
        // exactly: read-only.
        for (addr, len, prot) in [
            (REQ_ADDR, REQ_SLOT_SIZE, 3),
            (REQ_REC, REQ_REC_SIZE, libc::PROT_READ as u64),
        ] {
            let other = b.label();
            b.load(arg_lo(0));
            b.jump(BPF_JEQ_K, addr as u32, Target::Next, other);
            b.load(arg_hi(0));
            b.jump(BPF_JEQ_K, (addr >> 32) as u32, Target::Next, other);
            b.require_arg(1, len);
            b.require_arg(2, prot);
            b.require_arg(3, (libc::MAP_SHARED | libc::MAP_FIXED) as u64);
            b.goto(Target::Allow);
            b.bind(other);
        }
    }
    b.load(arg_hi(3));
    b.jump(BPF_JEQ_K, 0, Target::Next, Target::Kill);
    b.mmap_flags_prot_range();

    b.bind(munmap);
    b.range_check(0, 1, STUB_CODE, Target::Allow);

    // mprotect: guest ranges, or opening/closing the data area.
    b.bind(mprotect);
    b.require_bits(2, 7);
    let guest = b.label();
    b.load(arg_hi(0));
    b.jump(BPF_JEQ_K, (STUB_DATA >> 32) as u32, Target::Next, guest);
    b.load(arg_lo(0));
    b.jump(BPF_JEQ_K, STUB_DATA as u32, Target::Next, guest);
    b.require_arg(1, STUB_DATA_SIZE);
    b.require_bits(2, 3);
    b.goto(Target::Allow);
    b.bind(guest);
    b.range_check(0, 1, STUB_CODE, Target::Allow);

    if zygote {
        b.bind(fork);
        b.goto(Target::Allow);
        b.bind(seccomp);
        b.require_arg(0, SECCOMP_SET_MODE_FILTER);
        b.require_arg(1, 0);
        b.goto(Target::Allow);
    } else {
        b.bind(fork);
        b.bind(seccomp);
        b.goto(Target::Kill);
    }
    if systrap {
        b.bind(clone);
        b.require_arg(0, CLONE_GUEST_THREAD);
        b.require_arg(1, REQ_ADDR + REQ_START_STACK);
        b.goto(Target::Allow);
    }
}

/// The checks of the handler's batch calls (`stub` `ruml_stub_hop_ret`),
/// in the process filter: the same as the stub's for guest ranges, except
/// that the high halves of mmap's flags and fd carry the process's cookie
/// (checked by the guest thread's own filter, `guest_thread_filter`), so
/// only their low halves are checked here; the data area and the slot are
/// never the handler's business.
fn handler_mapping_rules(b: &mut Builder) {
    let (mmap, munmap, mprotect) = (b.label(), b.label(), b.label());
    b.load(NR);
    b.jump(BPF_JEQ_K, libc::SYS_mmap as u32, mmap, Target::Next);
    b.jump(BPF_JEQ_K, libc::SYS_munmap as u32, munmap, Target::Next);
    b.jump(BPF_JEQ_K, libc::SYS_mprotect as u32, mprotect, Target::Kill);

    b.bind(mmap);
    b.load(arg_lo(4));
    b.jump(
        BPF_JEQ_K,
        super::stub::PHYS_FD as u32,
        Target::Next,
        Target::Kill,
    );
    b.mmap_flags_prot_range();

    b.bind(munmap);
    b.range_check(0, 1, STUB_CODE, Target::Allow);

    b.bind(mprotect);
    b.require_bits(2, 7);
    b.range_check(0, 1, STUB_CODE, Target::Allow);
    b.verdicts_here();
}

/// The flags the seccomp platform starts a guest thread with: a thread of
/// the host process, nothing else shared or traced.
pub const CLONE_GUEST_THREAD: u64 = (libc::CLONE_VM
    | libc::CLONE_FS
    | libc::CLONE_FILES
    | libc::CLONE_SIGHAND
    | libc::CLONE_THREAD
    | libc::CLONE_SYSVSEM) as u64;

/// The seccomp platform's process filter (installed in its zygote, so
/// every address space and its guest thread inherit it):
/// - a system call from anywhere outside the stub code page traps
///   (SIGSYS to the stub's handler: a guest system call);
/// - from the batch's sites: the same mapping rules as the ptrace
///   platform's, plus mapping the request slot and starting the guest
///   thread (and, in the zygote, fork);
/// - from the handler's sites: futex on the request word only (wait or
///   wake), rt_sigreturn; from the guest thread's start: sigaltstack and
///   installing its own filter;
/// - anything else from the stub kills the process.
pub fn systrap_filter(zygote: bool) -> Vec<u8> {
    let s = super::stub::seccomp_sites();
    let mut b = Builder::new();
    b.load(ARCH);
    b.jump(BPF_JEQ_K, AUDIT_ARCH_X86_64, Target::Next, Target::Kill);
    b.load(IP_HI);
    b.jump(
        BPF_JEQ_K,
        (STUB_CODE >> 32) as u32,
        Target::Next,
        Target::Trap,
    );
    b.load(IP_LO);
    debug_assert_eq!(STUB_CODE as u32, 0);
    b.jump(BPF_JGE_K, 0x1000, Target::Trap, Target::Next);
    let (batch, futex, sigreturn, sas, gfilter) =
        (b.label(), b.label(), b.label(), b.label(), b.label());
    let hbatch = b.label();
    let mut batch_sites = super::stub::syscall_sites().to_vec();
    batch_sites.extend_from_slice(&s.rbatch_sites);
    batch_sites.push(s.clone_ret);
    for ip in batch_sites {
        b.jump(BPF_JEQ_K, ip as u32, batch, Target::Next);
    }
    b.jump(BPF_JEQ_K, s.wake_ret as u32, futex, Target::Next);
    b.jump(BPF_JEQ_K, s.wait_ret as u32, futex, Target::Next);
    b.jump(BPF_JEQ_K, s.sigreturn_ret as u32, sigreturn, Target::Next);
    b.jump(BPF_JEQ_K, s.hop_ret as u32, hbatch, Target::Next);
    b.jump(BPF_JEQ_K, s.sas_ret as u32, sas, Target::Next);
    b.jump(BPF_JEQ_K, s.gfilter_ret as u32, gfilter, Target::Kill);

    b.bind(futex);
    b.load(NR);
    b.jump(
        BPF_JEQ_K,
        libc::SYS_futex as u32,
        Target::Next,
        Target::Kill,
    );
    b.require_arg(0, REQ_ADDR);
    // No timeout: a handler the kernel has seen asleep here (and moved
    // to its park word) wakes only when the kernel wakes it.
    b.require_arg(3, 0);
    // FUTEX_WAIT (0) or FUTEX_WAKE (1), shared (no FUTEX_PRIVATE_FLAG):
    // the kernel waits on the same word through its own mapping.
    b.load(arg_hi(1));
    b.jump(BPF_JEQ_K, 0, Target::Next, Target::Kill);
    b.load(arg_lo(1));
    b.jump(BPF_JGT_K, 1, Target::Kill, Target::Allow);

    b.bind(sigreturn);
    b.load(NR);
    b.jump(
        BPF_JEQ_K,
        libc::SYS_rt_sigreturn as u32,
        Target::Allow,
        Target::Kill,
    );

    b.bind(sas);
    b.load(NR);
    b.jump(
        BPF_JEQ_K,
        libc::SYS_sigaltstack as u32,
        Target::Allow,
        Target::Kill,
    );

    b.bind(gfilter);
    b.load(NR);
    b.jump(
        BPF_JEQ_K,
        libc::SYS_seccomp as u32,
        Target::Next,
        Target::Kill,
    );
    b.require_arg(0, SECCOMP_SET_MODE_FILTER);
    b.require_arg(1, 0);
    b.goto(Target::Allow);

    b.bind(hbatch);
    handler_mapping_rules(&mut b);

    b.bind(batch);
    mapping_rules(&mut b, zygote, true);
    b.finish()
}

/// The filter the seccomp platform's guest thread adds for itself: of the
/// stub's system calls it may make only the handler's (futex on its
/// request word, rt_sigreturn, and the mapping calls of a batch sent with
/// an answer when they carry `cookie`), so the stub batch's mapping calls,
/// fork, clone and seccomp are out of its reach whatever registers it
/// jumps there with, and so are the handler's mapping calls without the
/// cookie, which guest code never sees (see `seccomp_platform`).
/// Everything outside the stub is left to the process filter (trap).
pub fn guest_thread_filter(cookie: u64) -> Vec<u8> {
    let s = super::stub::seccomp_sites();
    let mut b = Builder::new();
    b.load(ARCH);
    b.jump(BPF_JEQ_K, AUDIT_ARCH_X86_64, Target::Next, Target::Kill);
    b.load(IP_HI);
    b.jump(
        BPF_JEQ_K,
        (STUB_CODE >> 32) as u32,
        Target::Next,
        Target::Allow,
    );
    b.load(IP_LO);
    b.jump(BPF_JGE_K, 0x1000, Target::Allow, Target::Next);
    b.jump(BPF_JEQ_K, s.wake_ret as u32, Target::Allow, Target::Next);
    b.jump(BPF_JEQ_K, s.wait_ret as u32, Target::Allow, Target::Next);
    let hop = b.label();
    b.jump(BPF_JEQ_K, s.hop_ret as u32, hop, Target::Next);
    b.jump(
        BPF_JEQ_K,
        s.sigreturn_ret as u32,
        Target::Allow,
        Target::Kill,
    );
    b.bind(hop);
    b.load(arg_hi(3));
    b.jump(BPF_JEQ_K, (cookie >> 32) as u32, Target::Next, Target::Kill);
    b.load(arg_hi(4));
    b.jump(BPF_JEQ_K, cookie as u32, Target::Allow, Target::Kill);
    b.finish()
}

/// The filter a child of the zygote adds on top of the zygote's: it may
/// never fork or change its filters again.
pub fn child_filter() -> Vec<u8> {
    let mut b = Builder::new();
    b.load(ARCH);
    b.jump(BPF_JEQ_K, AUDIT_ARCH_X86_64, Target::Next, Target::Kill);
    b.load(NR);
    b.jump(BPF_JEQ_K, libc::SYS_fork as u32, Target::Kill, Target::Next);
    b.jump(
        BPF_JEQ_K,
        libc::SYS_clone as u32,
        Target::Kill,
        Target::Next,
    );
    b.jump(
        BPF_JEQ_K,
        libc::SYS_seccomp as u32,
        Target::Kill,
        Target::Allow,
    );
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small interpreter for the subset of classic BPF the builder emits,
    /// to test the filters without a host process.
    fn run(prog: &[u8], nr: u32, ip: u64, args: [u64; 6]) -> u32 {
        let mut data = Vec::new();
        data.extend_from_slice(&nr.to_le_bytes());
        data.extend_from_slice(&AUDIT_ARCH_X86_64.to_le_bytes());
        data.extend_from_slice(&ip.to_le_bytes());
        for a in args {
            data.extend_from_slice(&a.to_le_bytes());
        }
        let word =
            |off: u32| u32::from_le_bytes(data[off as usize..off as usize + 4].try_into().unwrap());
        let insns: Vec<(u16, u8, u8, u32)> = prog
            .chunks(8)
            .map(|c| {
                (
                    u16::from_le_bytes([c[0], c[1]]),
                    c[2],
                    c[3],
                    u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
                )
            })
            .collect();
        let (mut a, mut x, mut m) = (0u32, 0u32, [0u32; 16]);
        let mut pc = 0usize;
        loop {
            let (code, jt, jf, k) = insns[pc];
            pc += 1;
            match code {
                BPF_LD_W_ABS => a = word(k),
                BPF_LD_MEM => a = m[k as usize],
                BPF_LDX_MEM => x = m[k as usize],
                BPF_ST => m[k as usize] = a,
                BPF_ADD_X => a = a.wrapping_add(x),
                BPF_ADD_K => a = a.wrapping_add(k),
                BPF_TAX => x = a,
                BPF_RET_K => return k,
                BPF_JA => pc += k as usize,
                BPF_JEQ_K | BPF_JGT_K | BPF_JGE_K | BPF_JGE_X | BPF_JSET_K => {
                    let c = match code {
                        BPF_JEQ_K => a == k,
                        BPF_JGT_K => a > k,
                        BPF_JGE_K => a >= k,
                        BPF_JGE_X => a >= x,
                        _ => a & k != 0,
                    };
                    pc += if c { jt } else { jf } as usize;
                }
                _ => panic!("unknown opcode {code:#x}"),
            }
        }
    }

    const IP: u64 = STUB_CODE + 0x100;
    const FLAGS: u64 = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;

    fn mmap(f: &[u8], addr: u64, len: u64) -> u32 {
        run(f, libc::SYS_mmap as u32, IP, [addr, len, 3, FLAGS, 3, 0])
    }

    #[test]
    fn mmap_inside_the_guest_range_only() {
        let f = stub_filter(&[IP], false);
        assert_eq!(mmap(&f, 0x1000, 0x1000), SECCOMP_RET_ALLOW);
        assert_eq!(mmap(&f, STUB_CODE - 0x1000, 0x1000), SECCOMP_RET_ALLOW);
        assert_eq!(mmap(&f, 0, STUB_CODE), SECCOMP_RET_ALLOW);
        // Carry from the low words into the high word.
        assert_eq!(mmap(&f, 0x7fef_ffff_f000, 0x1000), SECCOMP_RET_ALLOW);
        assert_eq!(mmap(&f, 0x7fef_ffff_f000, 0x2000), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(mmap(&f, STUB_CODE, 0x1000), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(
            mmap(&f, STUB_CODE - 0x1000, 0x2000),
            SECCOMP_RET_KILL_PROCESS
        );
        assert_eq!(mmap(&f, 0x1000, u64::MAX - 0xfff), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(
            mmap(&f, 0xffff_f000, 0x7fef_0000_2000),
            SECCOMP_RET_KILL_PROCESS
        );
        // Wrong fd, flags, protection.
        let bad_fd = run(&f, 9, IP, [0x1000, 0x1000, 3, FLAGS, 4, 0]);
        assert_eq!(bad_fd, SECCOMP_RET_KILL_PROCESS);
        let anon = run(&f, 9, IP, [0x1000, 0x1000, 3, FLAGS | 0x20, 3, 0]);
        assert_eq!(anon, SECCOMP_RET_KILL_PROCESS);
        let bad_prot = run(&f, 9, IP, [0x1000, 0x1000, 8, FLAGS, 3, 0]);
        assert_eq!(bad_prot, SECCOMP_RET_KILL_PROCESS);
        let populate = run(&f, 9, IP, [0x1000, 0x1000, 7, FLAGS | 0x8000, 3, 0]);
        assert_eq!(populate, SECCOMP_RET_ALLOW);
    }

    #[test]
    fn only_from_the_stub_and_only_its_calls() {
        let f = stub_filter(&[IP, IP + 0x20], false);
        assert_eq!(
            run(&f, 11, IP + 0x20, [0x1000, 0x1000, 0, 0, 0, 0]),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(&f, 11, IP + 0x10, [0x1000, 0x1000, 0, 0, 0, 0]),
            SECCOMP_RET_KILL_PROCESS
        );
        assert_eq!(
            run(&f, 11, 0x40_1000, [0x1000, 0x1000, 0, 0, 0, 0]),
            SECCOMP_RET_KILL_PROCESS
        );
        for nr in [0u32, 1, 2, 39, 56, 57, 59, 62, 101, 257, 317, 322, 435] {
            assert_eq!(run(&f, nr, IP, [0; 6]), SECCOMP_RET_KILL_PROCESS, "nr {nr}");
        }
        // The data area may be opened and closed, nothing else above.
        let data = [STUB_DATA, STUB_DATA_SIZE, 3, 0, 0, 0];
        assert_eq!(run(&f, 10, IP, data), SECCOMP_RET_ALLOW);
        let code = [STUB_CODE, 0x1000, 7, 0, 0, 0];
        assert_eq!(run(&f, 10, IP, code), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(
            run(&f, 11, IP, [STUB_DATA, STUB_DATA_SIZE, 0, 0, 0, 0]),
            SECCOMP_RET_KILL_PROCESS
        );
    }

    #[test]
    fn only_the_zygote_forks() {
        let z = stub_filter(&[IP], true);
        let c = stub_filter(&[IP], false);
        assert_eq!(run(&z, 57, IP, [0; 6]), SECCOMP_RET_ALLOW);
        assert_eq!(run(&c, 57, IP, [0; 6]), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(run(&z, 317, IP, [1, 0, 0, 0, 0, 0]), SECCOMP_RET_ALLOW);
        assert_eq!(
            run(&z, 317, IP, [1, 1, 0, 0, 0, 0]),
            SECCOMP_RET_KILL_PROCESS
        );
        let child = child_filter();
        assert_eq!(run(&child, 57, IP, [0; 6]), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(
            run(&child, 317, IP, [1, 0, 0, 0, 0, 0]),
            SECCOMP_RET_KILL_PROCESS
        );
        assert_eq!(run(&child, 9, IP, [0; 6]), SECCOMP_RET_ALLOW);
    }
    #[test]
    fn systrap_traps_the_guest_and_confines_the_stub() {
        let s = super::super::stub::seccomp_sites();
        let f = systrap_filter(false);
        let g = guest_thread_filter(COOKIE);
        // A guest system call from guest code: SIGSYS for the handler.
        assert_eq!(run(&f, 39, 0x40_1000, [0; 6]), SECCOMP_RET_TRAP);
        assert_eq!(run(&g, 39, 0x40_1000, [0; 6]), SECCOMP_RET_ALLOW);
        // The handler's futex on its own word, shared, wait or wake.
        for op in [0, 1] {
            let a = [REQ_ADDR, op, 1, 0, 0, 0];
            assert_eq!(run(&f, 202, s.wake_ret, a), SECCOMP_RET_ALLOW);
            assert_eq!(run(&g, 202, s.wait_ret, a), SECCOMP_RET_ALLOW);
        }
        for bad in [
            [STUB_DATA, 1, 1, 0, 0, 0],
            [REQ_ADDR, 0x81, 1, 0, 0, 0],
            [REQ_ADDR + 48, 0, 1, 0, 0, 0],
            [REQ_ADDR, 0, 1, 0x1000, 0, 0],
            [REQ_ADDR, 4, 0, 1, REQ_ADDR + 48, 1],
        ] {
            assert_eq!(run(&f, 202, s.wake_ret, bad), SECCOMP_RET_KILL_PROCESS);
        }
        assert_eq!(run(&f, 2, s.wake_ret, [0; 6]), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(run(&f, 15, s.sigreturn_ret, [0; 6]), SECCOMP_RET_ALLOW);
        assert_eq!(
            run(&f, 2, s.sigreturn_ret, [0; 6]),
            SECCOMP_RET_KILL_PROCESS
        );
        // The batch's mapping calls pass the process filter (the stub's
        // thread) but never the guest thread's.
        let m = [0x1000, 0x1000, 3, FLAGS, 3, 0];
        assert_eq!(run(&f, 9, s.rbatch_sites[1], m), SECCOMP_RET_ALLOW);
        assert_eq!(run(&g, 9, s.rbatch_sites[1], m), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(run(&f, 9, s.wake_ret, m), SECCOMP_RET_KILL_PROCESS);
        // The slot, exactly; the guest thread's start, exactly.
        let slot = [REQ_ADDR, REQ_SLOT_SIZE, 3, FLAGS, 3, 0x12000];
        assert_eq!(run(&f, 9, s.rbatch_sites[1], slot), SECCOMP_RET_ALLOW);
        let big = [REQ_ADDR, 2 * REQ_SLOT_SIZE, 3, FLAGS, 3, 0];
        assert_eq!(run(&f, 9, s.rbatch_sites[1], big), SECCOMP_RET_KILL_PROCESS);
        let clone = [CLONE_GUEST_THREAD, REQ_ADDR + REQ_START_STACK, 0, 0, 0, 0];
        assert_eq!(run(&f, 56, s.clone_ret, clone), SECCOMP_RET_ALLOW);
        assert_eq!(run(&g, 56, s.clone_ret, clone), SECCOMP_RET_KILL_PROCESS);
        let fork_like = [0x11, 0, 0, 0, 0, 0];
        assert_eq!(
            run(&f, 56, s.clone_ret, fork_like),
            SECCOMP_RET_KILL_PROCESS
        );
        // Nothing else from the stub page.
        assert_eq!(run(&f, 9, s.handler, m), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(
            run(&g, 317, s.gfilter_ret, [1, 0, 0, 0, 0, 0]),
            SECCOMP_RET_KILL_PROCESS
        );
        // The records page, read-only only.
        let rec = [REQ_REC, REQ_REC_SIZE, 1, FLAGS, 3, 0x1a000];
        assert_eq!(run(&f, 9, s.rbatch_sites[1], rec), SECCOMP_RET_ALLOW);
        let rec_rw = [REQ_REC, REQ_REC_SIZE, 3, FLAGS, 3, 0x1a000];
        assert_eq!(
            run(&f, 9, s.rbatch_sites[1], rec_rw),
            SECCOMP_RET_KILL_PROCESS
        );
    }

    const COOKIE: u64 = 0x1234_5678_9abc_def1;

    /// mmap/munmap/mprotect arguments as the handler's batch passes them.
    fn with_cookie(mut a: [u64; 6], cookie: u64) -> [u64; 6] {
        a[3] |= cookie & !0xffff_ffff;
        a[4] |= cookie << 32;
        a
    }

    #[test]
    fn the_handler_batch_needs_the_cookie() {
        let s = super::super::stub::seccomp_sites();
        let f = systrap_filter(false);
        let g = guest_thread_filter(COOKIE);
        let both = |nr: u32, a: [u64; 6]| {
            let (x, y) = (run(&f, nr, s.hop_ret, a), run(&g, nr, s.hop_ret, a));
            if x == SECCOMP_RET_ALLOW {
                y
            } else {
                x
            }
        };
        let m = [0x1000, 0x1000, 3, FLAGS, 3, 0x5000];
        assert_eq!(both(9, with_cookie(m, COOKIE)), SECCOMP_RET_ALLOW);
        let pop = [0x1000, 0x1000, 3, FLAGS | 0x8000, 3, 0x5000];
        assert_eq!(both(9, with_cookie(pop, COOKIE)), SECCOMP_RET_ALLOW);
        let un = [0x1000, 0x1000, 0, 0, 0, 0];
        assert_eq!(both(11, with_cookie(un, COOKIE)), SECCOMP_RET_ALLOW);
        let pr = [0x1000, 0x1000, 1, 0, 0, 0];
        assert_eq!(both(10, with_cookie(pr, COOKIE)), SECCOMP_RET_ALLOW);
        // Without the cookie, or with another, the guest thread dies.
        for bad in [0, COOKIE ^ 1, COOKIE ^ (1 << 40), !COOKIE] {
            for (nr, a) in [(9, m), (11, un), (10, pr)] {
                assert_eq!(both(nr, with_cookie(a, bad)), SECCOMP_RET_KILL_PROCESS);
            }
        }
        // With the cookie, still only the guest range and physical memory.
        for a in [
            [STUB_CODE, 0x1000, 3, FLAGS, 3, 0],
            [0x1000, 0x1000, 3, FLAGS, 4, 0],
            [0x1000, 0x1000, 3, FLAGS | 0x20, 3, 0],
            [0x1000, 0x1000, 8, FLAGS, 3, 0],
            [STUB_CODE - 0x1000, 0x2000, 3, FLAGS, 3, 0],
        ] {
            assert_eq!(both(9, with_cookie(a, COOKIE)), SECCOMP_RET_KILL_PROCESS);
        }
        let data = [STUB_DATA, STUB_DATA_SIZE, 3, 0, 0, 0];
        assert_eq!(
            both(10, with_cookie(data, COOKIE)),
            SECCOMP_RET_KILL_PROCESS
        );
        let rec = [REQ_REC, REQ_REC_SIZE, 3, 0, 0, 0];
        assert_eq!(both(10, with_cookie(rec, COOKIE)), SECCOMP_RET_KILL_PROCESS);
        assert_eq!(both(11, with_cookie(rec, COOKIE)), SECCOMP_RET_KILL_PROCESS);
        // Anything else from that site dies too.
        for nr in [0u32, 2, 25, 56, 57, 59, 202, 317] {
            assert_eq!(both(nr, with_cookie(m, COOKIE)), SECCOMP_RET_KILL_PROCESS);
        }
    }
}
