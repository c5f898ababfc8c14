//! Classic BPF (cBPF) for seccomp: Linux's generic check of a classic
//! program (`check_classic`, as net/core/filter.c's bpf_check_classic),
//! the decoded instruction set a seccomp filter may use (`Op`), and the
//! interpreter that runs it over a `seccomp_data` (`run`). The
//! seccomp-specific restrictions and the decoding are `filter.rs`.

use crate::abi::seccomp::*;
use crate::kernel::errno::{Errno, KResult};

/// The opcodes a classic program may contain at all (Linux's
/// chk_code_allowed): anything else is EINVAL before the specific checks.
fn code_allowed(code: u16) -> bool {
    const ALU_OPS: [u16; 11] = [
        BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH,
        BPF_NEG,
    ];
    const JMP_OPS: [u16; 4] = [BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET];
    if code > 0xff {
        return false;
    }
    let class = code & 0x07;
    match class {
        BPF_ALU => {
            let op = code & 0xf0;
            let src = code & 0x08;
            ALU_OPS.contains(&op) && (op != BPF_NEG || src == 0)
        }
        BPF_LD => matches!(
            code,
            0x20 | 0x28 | 0x30 // W/H/B | ABS
                | 0x80 // W | LEN
                | 0x40 | 0x48 | 0x50 // W/H/B | IND
                | 0x00 // IMM
                | 0x60 // MEM
        ),
        BPF_LDX => matches!(code, 0x81 | 0xb1 | 0x01 | 0x61), // W|LEN, B|MSH, IMM, MEM
        BPF_ST | BPF_STX => code == class,
        BPF_MISC => code == BPF_MISC | BPF_TAX || code == BPF_MISC | BPF_TXA,
        BPF_RET => code == BPF_RET | BPF_K || code == BPF_RET | BPF_A,
        BPF_JMP => code == BPF_JMP | BPF_JA || JMP_OPS.contains(&(code & 0xf0)),
        _ => false,
    }
}

/// Is `code` a conditional jump (JEQ/JGE/JGT/JSET with K or X)?
fn is_cond_jump(code: u16) -> bool {
    code & 0x07 == BPF_JMP && code != BPF_JMP | BPF_JA
}

/// Linux's bpf_check_classic: every opcode known, no division or
/// modulo by a zero constant, shifts by constants below 32, scratch
/// slots below 16, every jump landing inside the program, ancillary
/// loads only where Linux has them, the last instruction a RET, and no
/// scratch slot read before every path to it has written it. EINVAL
/// otherwise. (An ancillary load, k >= SKF_AD_OFF, passes here only to
/// be refused by seccomp's own check, so which ones Linux knows does not
/// matter to seccomp: they are all let through.)
pub fn check_classic(prog: &[SockFilter]) -> KResult<()> {
    let flen = prog.len();
    if flen == 0 {
        return Err(Errno::EINVAL);
    }
    for (pc, f) in prog.iter().enumerate() {
        if !code_allowed(f.code) {
            return Err(Errno::EINVAL);
        }
        let k = f.k;
        let bad = match f.code {
            c if c == BPF_ALU | BPF_DIV | BPF_K || c == BPF_ALU | BPF_MOD | BPF_K => k == 0,
            c if c == BPF_ALU | BPF_LSH | BPF_K || c == BPF_ALU | BPF_RSH | BPF_K => k >= 32,
            c if c == BPF_LD | BPF_MEM || c == BPF_LDX | BPF_MEM || c == BPF_ST || c == BPF_STX => {
                k >= BPF_MEMWORDS
            }
            // Unconditional jumps are forward and must stay inside.
            c if c == BPF_JMP | BPF_JA => k as u64 >= (flen - pc - 1) as u64,
            c if is_cond_jump(c) => {
                pc + f.jt as usize + 1 >= flen || pc + f.jf as usize + 1 >= flen
            }
            _ => false,
        };
        if bad {
            return Err(Errno::EINVAL);
        }
    }
    let last = prog[flen - 1].code;
    if last != BPF_RET | BPF_K && last != BPF_RET | BPF_A {
        return Err(Errno::EINVAL);
    }
    check_loads_and_stores(prog)
}

/// Linux's check_load_and_stores: a scratch slot may be read only where
/// every path to the read has stored it. Jumps are forward only, so one
/// pass that carries "slots valid" along each edge is enough.
fn check_loads_and_stores(prog: &[SockFilter]) -> KResult<()> {
    let mut masks = vec![u16::MAX; prog.len()];
    let mut valid: u16 = 0;
    for (pc, f) in prog.iter().enumerate() {
        valid &= masks[pc];
        match f.code {
            c if c == BPF_ST || c == BPF_STX => valid |= 1 << f.k,
            c if (c == BPF_LD | BPF_MEM || c == BPF_LDX | BPF_MEM) && valid & (1 << f.k) == 0 => {
                return Err(Errno::EINVAL);
            }
            c if c == BPF_JMP | BPF_JA => {
                masks[pc + 1 + f.k as usize] &= valid;
                valid = u16::MAX;
            }
            c if is_cond_jump(c) => {
                masks[pc + 1 + f.jt as usize] &= valid;
                masks[pc + 1 + f.jf as usize] &= valid;
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

/// An ALU operation seccomp allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    Add,
    Sub,
    Mul,
    Div,
    And,
    Or,
    Xor,
    Lsh,
    Rsh,
}

/// A conditional jump's test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    Eq,
    Gt,
    Ge,
    Set,
}

/// The second operand: the constant k or the index register X.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    K(u32),
    X,
}

/// One decoded instruction of a checked seccomp program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A = 32-bit word `.0` of seccomp_data.
    LdData(u8),
    /// A = k (also BPF_LD|BPF_W|BPF_LEN, the size of seccomp_data).
    LdImm(u32),
    /// X = k (also BPF_LDX|BPF_W|BPF_LEN).
    LdxImm(u32),
    LdMem(u8),
    LdxMem(u8),
    St(u8),
    Stx(u8),
    Alu(Alu, Src),
    Neg,
    Tax,
    Txa,
    /// pc += k.
    Ja(u32),
    Jmp(Cond, Src, u8, u8),
    RetK(u32),
    RetA,
}

/// Run a checked program over `data` (seccomp_data as 32-bit words):
/// the value of the RET it reaches. A division by a zero X returns 0, as
/// Linux's classic-to-eBPF conversion does. Every jump of a checked
/// program lands inside it and it ends in a RET, so falling off the end
/// cannot happen; if it did, 0 (kill) is the safe answer.
pub fn run(prog: &[Op], data: &[u32; 16]) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; BPF_MEMWORDS as usize];
    let mut pc = 0usize;
    while let Some(&op) = prog.get(pc) {
        pc += 1;
        match op {
            Op::LdData(w) => a = data[w as usize & 15],
            Op::LdImm(k) => a = k,
            Op::LdxImm(k) => x = k,
            Op::LdMem(i) => a = mem[i as usize & 15],
            Op::LdxMem(i) => x = mem[i as usize & 15],
            Op::St(i) => mem[i as usize & 15] = a,
            Op::Stx(i) => mem[i as usize & 15] = x,
            Op::Alu(op, src) => {
                let v = match src {
                    Src::K(k) => k,
                    Src::X => x,
                };
                a = match op {
                    Alu::Add => a.wrapping_add(v),
                    Alu::Sub => a.wrapping_sub(v),
                    Alu::Mul => a.wrapping_mul(v),
                    Alu::Div => match a.checked_div(v) {
                        Some(q) => q,
                        None => return 0,
                    },
                    Alu::And => a & v,
                    Alu::Or => a | v,
                    Alu::Xor => a ^ v,
                    // 32-bit shifts use the count's low five bits.
                    Alu::Lsh => a << (v & 31),
                    Alu::Rsh => a >> (v & 31),
                };
            }
            Op::Neg => a = a.wrapping_neg(),
            Op::Tax => x = a,
            Op::Txa => a = x,
            Op::Ja(k) => pc += k as usize,
            Op::Jmp(cond, src, jt, jf) => {
                let v = match src {
                    Src::K(k) => k,
                    Src::X => x,
                };
                let taken = match cond {
                    Cond::Eq => a == v,
                    Cond::Gt => a > v,
                    Cond::Ge => a >= v,
                    Cond::Set => a & v != 0,
                };
                pc += if taken { jt } else { jf } as usize;
            }
            Op::RetK(k) => return k,
            Op::RetA => return a,
        }
    }
    0
}
