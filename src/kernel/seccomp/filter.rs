//! seccomp filters: the checks Linux's seccomp_check_filter adds to the
//! classic ones (loads only from `struct seccomp_data`, 4-byte aligned;
//! no packet loads, no modulo), decoding into `bpf::Op`, and the stack of
//! a task's filters with Linux's rule for which result wins.

use super::bpf::{self, Alu, Cond, Op, Src};
use crate::abi::seccomp::*;
use crate::kernel::errno::{Errno, KResult};
use std::sync::Arc;

/// Instructions over all of a task's filters, each counted with a
/// 4-instruction penalty (Linux's MAX_INSNS_PER_PATH).
pub const MAX_INSNS_PER_PATH: usize = 32768;

/// One installed filter and the ones installed before it. Filters are
/// shared (fork, TSYNC) and never change once installed. Its users are
/// the tasks running under it and the filters stacked on it: the strong
/// references (a listener holds only a weak one, so that it sees when
/// nobody uses the filter any more).
#[derive(Debug)]
pub struct Filter {
    pub prog: Vec<Op>,
    /// SECCOMP_FILTER_FLAG_LOG: actions other than ALLOW are logged.
    pub log: bool,
    pub prev: Option<Arc<Filter>>,
    /// SECCOMP_FILTER_FLAG_NEW_LISTENER: where its USER_NOTIF results go.
    pub notif: Option<Arc<super::notify::Notif>>,
}

impl Drop for Filter {
    /// The last user is gone: the listener polls hung up.
    fn drop(&mut self) {
        if let Some(n) = &self.notif {
            n.orphaned();
        }
    }
}

impl Filter {
    /// Instructions along the chain from this filter down, with Linux's
    /// per-filter penalty.
    pub fn path_len(self: &Arc<Filter>) -> usize {
        chain(self).map(|f| f.prog.len() + 4).sum()
    }
}

/// `f` and every filter below it, newest first.
pub fn chain(f: &Arc<Filter>) -> impl Iterator<Item = &Arc<Filter>> {
    std::iter::successors(Some(f), |f| f.prev.as_ref())
}

/// Is `old` one of the filters of `chain_top` (or no filter at all)?
/// (Linux's is_ancestor, for TSYNC.)
pub fn is_ancestor(old: Option<&Arc<Filter>>, chain_top: Option<&Arc<Filter>>) -> bool {
    let Some(old) = old else { return true };
    chain_top.is_some_and(|top| chain(top).any(|f| Arc::ptr_eq(f, old)))
}

/// Check a program as Linux does for seccomp (the classic checks, then
/// seccomp's own) and decode it. EINVAL for anything refused.
pub fn prepare(insns: &[SockFilter]) -> KResult<Vec<Op>> {
    bpf::check_classic(insns)?;
    insns.iter().map(decode).collect()
}

/// seccomp_check_filter for one instruction: what it becomes, or EINVAL
/// for what seccomp does not allow.
fn decode(f: &SockFilter) -> KResult<Op> {
    let k = f.k;
    let src = if f.code & BPF_X != 0 {
        Src::X
    } else {
        Src::K(k)
    };
    let size = core::mem::size_of::<SeccompData>() as u32;
    let op = match f.code {
        c if c == BPF_LD | BPF_W | BPF_ABS => {
            if k >= size || k & 3 != 0 {
                return Err(Errno::EINVAL);
            }
            Op::LdData((k / 4) as u8)
        }
        c if c == BPF_LD | BPF_W | BPF_LEN => Op::LdImm(size),
        c if c == BPF_LDX | BPF_W | BPF_LEN => Op::LdxImm(size),
        c if c == BPF_LD | BPF_IMM => Op::LdImm(k),
        c if c == BPF_LDX | BPF_IMM => Op::LdxImm(k),
        c if c == BPF_LD | BPF_MEM => Op::LdMem(k as u8),
        c if c == BPF_LDX | BPF_MEM => Op::LdxMem(k as u8),
        BPF_ST => Op::St(k as u8),
        BPF_STX => Op::Stx(k as u8),
        c if c == BPF_MISC | BPF_TAX => Op::Tax,
        c if c == BPF_MISC | BPF_TXA => Op::Txa,
        c if c == BPF_RET | BPF_K => Op::RetK(k),
        c if c == BPF_RET | BPF_A => Op::RetA,
        c if c == BPF_JMP | BPF_JA => Op::Ja(k),
        c if c == BPF_ALU | BPF_NEG => Op::Neg,
        c if c & 0x07 == BPF_ALU => {
            let op = match c & 0xf0 {
                BPF_ADD => Alu::Add,
                BPF_SUB => Alu::Sub,
                BPF_MUL => Alu::Mul,
                BPF_DIV => Alu::Div,
                BPF_AND => Alu::And,
                BPF_OR => Alu::Or,
                BPF_XOR => Alu::Xor,
                BPF_LSH => Alu::Lsh,
                BPF_RSH => Alu::Rsh,
                // BPF_MOD: a classic opcode seccomp does not take.
                _ => return Err(Errno::EINVAL),
            };
            Op::Alu(op, src)
        }
        c if c & 0x07 == BPF_JMP => {
            let cond = match c & 0xf0 {
                BPF_JEQ => Cond::Eq,
                BPF_JGT => Cond::Gt,
                BPF_JGE => Cond::Ge,
                BPF_JSET => Cond::Set,
                _ => return Err(Errno::EINVAL),
            };
            Op::Jmp(cond, src, f.jt, f.jf)
        }
        // Byte and halfword loads, indirect loads, BPF_MSH: packet
        // access, meaningless over seccomp_data.
        _ => return Err(Errno::EINVAL),
    };
    Ok(op)
}

/// The action part of a filter's result, ordered as Linux orders them:
/// the lowest (as a signed number) has the highest precedence, so
/// KILL_PROCESS (the sign bit) beats everything and ALLOW nothing.
pub fn action_rank(ret: u32) -> i32 {
    (ret & SECCOMP_RET_ACTION_FULL) as i32
}

/// Run every filter from `top` down over `data`: the result of highest
/// precedence, the newest filter's on a tie, and the filter that gave
/// it (None for an ALLOW, which every filter may have given).
pub fn run_all<'a>(top: &'a Arc<Filter>, data: &SeccompData) -> (u32, Option<&'a Arc<Filter>>) {
    let words = data.words();
    let mut ret = SECCOMP_RET_ALLOW;
    let mut matched = None;
    for f in chain(top) {
        let r = bpf::run(&f.prog, &words);
        if action_rank(r) < action_rank(ret) {
            ret = r;
            matched = Some(f);
        }
    }
    (ret, matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }
    fn ret(k: u32) -> SockFilter {
        ins(BPF_RET | BPF_K, 0, 0, k)
    }
    fn ld(off: u32) -> SockFilter {
        ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, off)
    }

    /// errno EPERM for syscall `nr`, allow the rest.
    fn deny(nr: u32) -> Vec<SockFilter> {
        vec![
            ld(0),
            ins(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, nr),
            ret(SECCOMP_RET_ERRNO | 1),
            ret(SECCOMP_RET_ALLOW),
        ]
    }

    fn data(nr: i32, arg0: u64) -> SeccompData {
        SeccompData {
            nr,
            arch: AUDIT_ARCH_X86_64,
            instruction_pointer: 0x401000,
            args: [arg0, 0, 0, 0, 0, 0],
        }
    }

    fn install(prev: Option<Arc<Filter>>, p: &[SockFilter]) -> Arc<Filter> {
        Arc::new(Filter {
            prog: prepare(p).unwrap(),
            log: false,
            prev,
            notif: None,
        })
    }

    #[test]
    fn runs_a_deny_list() {
        let f = install(None, &deny(39));
        assert_eq!(run_all(&f, &data(39, 0)).0, SECCOMP_RET_ERRNO | 1);
        assert_eq!(run_all(&f, &data(1, 0)).0, SECCOMP_RET_ALLOW);
    }

    #[test]
    fn refuses_what_linux_refuses() {
        let bad: &[&[SockFilter]] = &[
            &[],
            &[ld(0)],                                          // no RET at the end
            &[ld(2), ret(0)],                                  // unaligned
            &[ld(64), ret(0)],                                 // past seccomp_data
            &[ins(BPF_LD | BPF_B | BPF_ABS, 0, 0, 0), ret(0)], // byte load
            &[ins(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0), ret(0)],
            &[ins(BPF_ALU | BPF_MOD | BPF_K, 0, 0, 3), ret(0)],
            &[ins(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 32), ret(0)],
            &[ins(BPF_JMP | BPF_JA, 0, 0, 1), ret(0)], // jumps out
            &[ins(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0), ret(0)],
            &[ins(BPF_LD | BPF_MEM, 0, 0, 0), ret(0)], // slot never stored
            &[ins(BPF_ST, 0, 0, 16), ret(0)],
            &[ins(0xff, 0, 0, 0), ret(0)],
        ];
        for p in bad {
            assert_eq!(prepare(p), Err(Errno::EINVAL), "{p:?}");
        }
    }

    #[test]
    fn memory_must_be_stored_on_every_path() {
        // Slot 0 stored on one branch only, then loaded: refused.
        let p = [
            ins(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 5),
            ins(BPF_ST, 0, 0, 0),
            ins(BPF_LD | BPF_MEM, 0, 0, 0),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        assert_eq!(prepare(&p), Err(Errno::EINVAL));
        let p = [
            ins(BPF_ST, 0, 0, 0),
            ins(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),
            ins(BPF_LD | BPF_MEM, 0, 0, 0),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        assert!(prepare(&p).is_ok());
    }

    #[test]
    fn arithmetic_and_division_by_zero_x() {
        // A = arg0 low word; X = 0; A / X returns 0 from the program.
        let p = [
            ld(16),
            ins(BPF_LDX | BPF_IMM, 0, 0, 0),
            ins(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0),
            ret(SECCOMP_RET_ALLOW),
        ];
        let f = install(None, &p);
        assert_eq!(run_all(&f, &data(0, 7)).0, 0);
        // (arg0 * 3 + 1) >> 1, returned with RET A.
        let p = [
            ld(16),
            ins(BPF_ALU | BPF_MUL | BPF_K, 0, 0, 3),
            ins(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1),
            ins(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 1),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        let f = install(None, &p);
        assert_eq!(bpf::run(&f.prog, &data(0, 7).words()), 11);
        let p = [
            ins(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),
            ins(BPF_RET | BPF_A, 0, 0, 0),
        ];
        assert_eq!(bpf::run(&prepare(&p).unwrap(), &data(0, 0).words()), 64);
    }

    #[test]
    fn stacked_filters_take_the_strictest() {
        let allow = install(None, &[ret(SECCOMP_RET_ALLOW)]);
        let errno = install(Some(allow), &[ret(SECCOMP_RET_ERRNO | 5)]);
        let trap = install(Some(errno.clone()), &[ret(SECCOMP_RET_TRAP | 9)]);
        assert_eq!(run_all(&errno, &data(0, 0)).0, SECCOMP_RET_ERRNO | 5);
        assert_eq!(run_all(&trap, &data(0, 0)).0, SECCOMP_RET_TRAP | 9);
        let kill = install(Some(trap), &[ret(SECCOMP_RET_KILL_PROCESS)]);
        assert_eq!(run_all(&kill, &data(0, 0)).0, SECCOMP_RET_KILL_PROCESS);
        // On a tie the newest filter's data wins.
        let e2 = install(Some(errno.clone()), &[ret(SECCOMP_RET_ERRNO | 7)]);
        assert_eq!(run_all(&e2, &data(0, 0)).0, SECCOMP_RET_ERRNO | 7);
        assert!(is_ancestor(Some(&errno), Some(&e2)));
        assert!(!is_ancestor(Some(&e2), Some(&errno)));
        assert_eq!(e2.path_len(), 3 * 5);
    }
}
