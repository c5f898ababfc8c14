//! Classic BPF (SO_ATTACH_FILTER): checking a program when it is attached
//! and running it on a packet. The result is how many bytes of the packet
//! the socket keeps (0: drop it), as Linux's sk_filter.

use crate::abi::net::SockFilter;
use crate::kernel::errno::{Errno, KResult};

/// Linux's BPF_MAXINSNS.
const MAX_INSNS: usize = 4096;
/// Scratch memory words (BPF_MEMWORDS).
const MEMWORDS: usize = 16;

const LD: u16 = 0;
const LDX: u16 = 1;
const ST: u16 = 2;
const STX: u16 = 3;
const ALU: u16 = 4;
const JMP: u16 = 5;
const RET: u16 = 6;
const MISC: u16 = 7;

/// A checked program.
#[derive(Clone, Debug)]
pub struct Filter(Vec<SockFilter>);

impl Filter {
    /// Check `prog` as Linux's bpf_check_classic does: a length of 1 to
    /// 4096, jumps that stay inside, known opcodes, scratch slots in
    /// range, a constant division by zero refused, a return at the end.
    pub fn new(prog: Vec<SockFilter>) -> KResult<Filter> {
        if prog.is_empty() || prog.len() > MAX_INSNS {
            return Err(Errno::EINVAL);
        }
        let n = prog.len();
        for (pc, i) in prog.iter().enumerate() {
            let class = i.code & 7;
            let ok = match class {
                LD | LDX => {
                    let mode = i.code & 0xe0;
                    (mode != 0x60 || (i.k as usize) < MEMWORDS) && mode <= 0xa0
                }
                ST | STX => (i.k as usize) < MEMWORDS,
                ALU => {
                    let op = i.code & 0xf0;
                    op <= 0xa0 && !((op == 0x30 || op == 0x90) && i.code & 8 == 0 && i.k == 0)
                }
                JMP => {
                    let op = i.code & 0xf0;
                    if op == 0 {
                        (i.k as usize) < n - pc - 1
                    } else {
                        op <= 0x40 && pc + 1 + (i.jt as usize) < n && pc + 1 + (i.jf as usize) < n
                    }
                }
                RET | MISC => true,
                _ => false,
            };
            if !ok {
                return Err(Errno::EINVAL);
            }
        }
        if prog[n - 1].code & 7 != RET {
            return Err(Errno::EINVAL);
        }
        Ok(Filter(prog))
    }

    /// Run on `pkt`: the number of bytes to keep (0 drops it).
    pub fn run(&self, pkt: &[u8]) -> u32 {
        let (mut a, mut x) = (0u32, 0u32);
        let mut mem = [0u32; MEMWORDS];
        let mut pc = 0;
        let load = |off: u32, size: u16| -> Option<u32> {
            let off = off as usize;
            let len = match size {
                0 => 4,
                8 => 2,
                _ => 1,
            };
            let b = pkt.get(off..off.checked_add(len)?)?;
            Some(b.iter().fold(0u32, |v, &b| (v << 8) | b as u32))
        };
        while let Some(i) = self.0.get(pc) {
            pc += 1;
            let k = i.k;
            match i.code & 7 {
                LD | LDX => {
                    let size = i.code & 0x18;
                    let v = match i.code & 0xe0 {
                        0x00 => Some(k),
                        0x20 => load(k, size),
                        0x40 => load(x.wrapping_add(k), size),
                        0x60 => Some(mem[k as usize]),
                        0x80 => Some(pkt.len() as u32),
                        // BPF_MSH: 4 * (the IP header length nibble).
                        _ => load(k, 0x10).map(|b| (b & 0xf) * 4),
                    };
                    // A load past the end ends the program: drop.
                    let Some(v) = v else { return 0 };
                    if i.code & 7 == LD {
                        a = v;
                    } else {
                        x = v;
                    }
                }
                ST => mem[k as usize] = a,
                STX => mem[k as usize] = x,
                ALU => {
                    let s = if i.code & 8 != 0 { x } else { k };
                    a = match i.code & 0xf0 {
                        0x00 => a.wrapping_add(s),
                        0x10 => a.wrapping_sub(s),
                        0x20 => a.wrapping_mul(s),
                        0x30 => match a.checked_div(s) {
                            Some(v) => v,
                            None => return 0,
                        },
                        0x40 => a | s,
                        0x50 => a & s,
                        0x60 => a.checked_shl(s).unwrap_or(0),
                        0x70 => a.checked_shr(s).unwrap_or(0),
                        0x80 => a.wrapping_neg(),
                        0x90 => match a.checked_rem(s) {
                            Some(v) => v,
                            None => return 0,
                        },
                        _ => a ^ s,
                    };
                }
                JMP => {
                    let s = if i.code & 8 != 0 { x } else { k };
                    let taken = match i.code & 0xf0 {
                        0x00 => {
                            pc += k as usize;
                            continue;
                        }
                        0x10 => a == s,
                        0x20 => a > s,
                        0x30 => a >= s,
                        _ => a & s != 0,
                    };
                    pc += if taken { i.jt } else { i.jf } as usize;
                }
                RET => {
                    return match i.code & 0x18 {
                        0x00 => k,
                        0x08 => x,
                        _ => a,
                    }
                }
                _ => {
                    if i.code & 0xf8 == 0x80 {
                        a = x;
                    } else {
                        x = a;
                    }
                }
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    #[test]
    fn udp_port_filter() {
        // ldb [9]; jeq #17 else drop; ldxb 4*([0]&0xf); ldh [x+2];
        // jeq #68 keep else drop.
        let f = Filter::new(vec![
            ins(0x30, 0, 0, 9),
            ins(0x15, 0, 4, 17),
            ins(0xb1, 0, 0, 0),
            ins(0x48, 0, 0, 2),
            ins(0x15, 0, 1, 68),
            ins(0x06, 0, 0, 0xffff),
            ins(0x06, 0, 0, 0),
        ])
        .unwrap();
        let mut p = vec![0u8; 28];
        p[0] = 0x45;
        p[9] = 17;
        p[22] = 0;
        p[23] = 68;
        assert_eq!(f.run(&p), 0xffff);
        p[23] = 67;
        assert_eq!(f.run(&p), 0);
        p[9] = 6;
        assert_eq!(f.run(&p), 0);
        // Too short: the load fails.
        assert_eq!(f.run(&p[..5]), 0);
    }

    #[test]
    fn bad_programs() {
        assert_eq!(Filter::new(vec![]).err(), Some(Errno::EINVAL));
        // Jump out of the program.
        assert!(Filter::new(vec![ins(0x15, 5, 0, 1), ins(6, 0, 0, 0)]).is_err());
        // No return at the end.
        assert!(Filter::new(vec![ins(0x30, 0, 0, 9)]).is_err());
    }
}
