//! A tracee's registers as ptrace shows them: user_regs_struct
//! (GETREGS/SETREGS, NT_PRSTATUS, PEEKUSER/POKEUSER by offset in struct
//! user) and the FPU state (GETFPREGS/SETFPREGS: the FXSAVE area;
//! NT_X86_XSTATE: the whole XSAVE image).

use super::*;
use crate::abi::ptrace::UserRegs;
use crate::arch::regs::Regs;
use crate::kernel::errno::KResult;

/// The tracee's registers in the guest layout.
pub fn get(t: &Task) -> UserRegs {
    let step = stepping(t);
    let mut r = t.lock().ctx.regs;
    // The trap flag a PTRACE_SINGLESTEP set is the tracer's business,
    // not part of the tracee's state (Linux's TIF_FORCED_TF).
    if step {
        r.eflags &= !TF;
    }
    r
}

const TF: u64 = 0x100;

fn stepping(t: &Task) -> bool {
    table().get(t.tid).is_some_and(|e| e.stepping)
}

/// The eflags bits a tracer may change (Linux's FLAG_MASK): CF PF AF ZF
/// SF TF DF OF NT RF AC.
const FLAG_MASK: u64 = 0x40dd5 | 0x4000 | 0x10000;

/// Set the tracee's registers from `u`, as Linux's putreg checks them:
/// bases beyond user space refused (EIO), only the user flags taken, and
/// the segment selectors kept (the host runs the guest with its own).
pub fn set(t: &Task, u: &UserRegs) -> KResult<()> {
    if u.fs_base >= crate::mm::TASK_SIZE || u.gs_base >= crate::mm::TASK_SIZE {
        return Err(Errno::EIO);
    }
    for sel in [u.cs, u.ss, u.ds, u.es, u.fs, u.gs] {
        if sel != 0 && sel & 3 != 3 {
            return Err(Errno::EIO);
        }
    }
    let step = stepping(t);
    let mut i = t.lock();
    let old = i.ctx.regs;
    let mut n: Regs = *u;
    n.cs = old.cs;
    n.ss = old.ss;
    n.ds = old.ds;
    n.es = old.es;
    n.fs = old.fs;
    n.gs = old.gs;
    n.eflags = (old.eflags & !FLAG_MASK) | (u.eflags & FLAG_MASK);
    if step {
        n.eflags |= TF;
    }
    i.ctx.regs = n;
    Ok(())
}

/// PEEKUSER: the word at `off` in struct user (registers; the debug
/// registers and the rest read as 0). EIO for a misaligned or too large
/// offset.
pub fn peek_user(t: &Task, off: u64) -> KResult<u64> {
    if off % 8 != 0 || off >= USER_SIZE {
        return Err(Errno::EIO);
    }
    let words: [u64; 27] = bytemuck::cast(get(t));
    Ok(words.get((off / 8) as usize).copied().unwrap_or(0))
}

/// POKEUSER: a register by offset, through the SETREGS checks; the debug
/// registers take only 0 (no hardware breakpoints here); EIO elsewhere.
pub fn poke_user(t: &Task, off: u64, val: u64) -> KResult<()> {
    if off % 8 != 0 || off >= USER_SIZE {
        return Err(Errno::EIO);
    }
    if off < 27 * 8 {
        let mut words: [u64; 27] = bytemuck::cast(get(t));
        words[(off / 8) as usize] = val;
        return set(t, &bytemuck::cast(words));
    }
    if (USER_DEBUGREG..USER_DEBUGREG + 64).contains(&off) && val == 0 {
        return Ok(());
    }
    Err(Errno::EIO)
}

/// The tracee's whole XSAVE image, brought up to date from the host.
pub fn fpu_image(t: &Task) -> Vec<u8> {
    let mm = t.mm();
    let ml = mm.lock();
    let mut i = t.lock();
    ml.sync_fpu(&mut i.ctx);
    i.ctx.fpu.clone()
}

/// Replace the first `data.len()` bytes of the tracee's XSAVE image
/// (sanitized as sigreturn does) and have the host load it.
pub fn set_fpu(t: &Task, data: &[u8]) -> KResult<()> {
    replace_fpu(t, fpu_image(t), data)
}

/// `set_fpu` on the image `cur` the caller has (brought up to date
/// however its vCPU may).
pub fn replace_fpu(t: &Task, cur: Vec<u8>, data: &[u8]) -> KResult<()> {
    if cur.len() < data.len() {
        return Err(Errno::EIO);
    }
    let mut img = cur.clone();
    img[..data.len()].copy_from_slice(data);
    crate::abi::xsave::sanitize(&mut img, &cur);
    let mm = t.mm();
    t.lock().ctx.fpu = img;
    mm.lock().invalidate_fpu();
    Ok(())
}
