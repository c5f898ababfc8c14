//! Scripted guest threads for the fake platform: instead of running guest
//! code, a switch into a context with a script plays its next steps: a
//! system call (returned as `Event::Syscall`), a load or store in guest
//! memory (through what the host would have mapped: a page that is not
//! mapped, or not writable, is a fault for the kernel to handle, then the
//! step runs again), or a closure that looks at the registers between
//! calls (the previous call's result in rax).
//!
//! The script's program counter is the context's rip, so the kernel's own
//! register changes act on it as they would on real code: step `i`'s
//! syscall instruction sits at `CODE + 16 * i` and returns to 2 bytes
//! further; a restart (rip backed up by 2) issues the call again; a signal
//! handler (rip anywhere else) returns at once through rt_sigreturn, as
//! `ret` to an SA_RESTORER trampoline would, and is logged.

// Only unit tests load scripts; vmlinux builds keep the (empty) player.
#![cfg_attr(not(test), allow(dead_code))]

use super::fake::FakeAddressSpace;
use super::platform::AddressSpace;
use super::process::{Context, Event};
use super::regs::Regs;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Where scripted code "lives" in the guest address space.
pub const CODE: u64 = 0x1000_0000;
const STEP: u64 = 16;
const PAGE: u64 = 4096;
const SYS_RT_SIGRETURN: u64 = 15;
const SIGSEGV: i32 = 11;
const SEGV_MAPERR: i32 = 1;
const SEGV_ACCERR: i32 = 2;
const PROT_READ: u32 = 1;
const PROT_WRITE: u32 = 2;
const SYS_EXIT: u64 = 60;

/// A closure run between a script's system calls, on the vCPU, while the
/// kernel holds the task's and its mm's locks: registers only.
pub type Check = Box<dyn FnOnce(&mut Regs) + Send>;
/// A closure given the bytes a load read.
pub type Loaded = Box<dyn FnOnce(&[u8]) + Send>;

/// One step of a scripted guest thread.
pub enum Step {
    /// System call `nr` with up to six arguments.
    Syscall(u64, [u64; 6]),
    /// Look at (or change) the registers, e.g. assert on rax.
    Check(Check),
    /// Store bytes at a guest address.
    Store(u64, Vec<u8>),
    /// Load `len` bytes from a guest address and look at them.
    Load(u64, usize, Loaded),
}

struct Script {
    steps: Vec<Option<Step>>,
    /// Signal numbers of the handlers "run", in order.
    handled: Arc<Mutex<Vec<i32>>>,
}

static SCRIPTS: Mutex<Option<HashMap<u64, Script>>> = Mutex::new(None);

fn scripts() -> std::sync::MutexGuard<'static, Option<HashMap<u64, Script>>> {
    SCRIPTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Give `ctx` a script to play from its first step; after the last one it
/// calls exit(0) (its thread only). Returns the log of the signal
/// handlers it enters.
pub fn load(ctx: &mut Context, steps: Vec<Step>) -> Arc<Mutex<Vec<i32>>> {
    ctx.regs.rip = CODE;
    let handled = Arc::new(Mutex::new(Vec::new()));
    let s = Script {
        steps: steps.into_iter().map(Some).collect(),
        handled: handled.clone(),
    };
    scripts()
        .get_or_insert_with(HashMap::new)
        .insert(ctx.id(), s);
    handled
}

fn syscall(r: &mut Regs, nr: u64, a: [u64; 6], next_rip: u64) -> Event {
    r.orig_rax = nr;
    r.rax = nr;
    [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9] = a;
    r.rip = next_rip;
    Event::Syscall
}

/// Copy between guest memory at `addr` and `buf` as the guest's own load
/// or store would: through the host's mappings, or a fault.
fn access(mm: &dyn AddressSpace, addr: u64, buf: &mut [u8], store: bool) -> Result<(), Event> {
    let mm = mm
        .as_any()
        .downcast_ref::<FakeAddressSpace>()
        .expect("scripts run in fake address spaces");
    let need = if store { PROT_WRITE } else { PROT_READ };
    let mut done = 0;
    while done < buf.len() {
        let a = addr + done as u64;
        let page = a & !(PAGE - 1);
        let n = ((page + PAGE - a) as usize).min(buf.len() - done);
        let code = match mm.pages.get(&page) {
            None => SEGV_MAPERR,
            Some(&(prot, _)) if prot & need == 0 => SEGV_ACCERR,
            Some(&(_, phys)) => {
                let pm = super::physmem();
                let b = &mut buf[done..done + n];
                if store {
                    pm.write(phys + (a - page), b);
                } else {
                    pm.read(phys + (a - page), b);
                }
                done += n;
                continue;
            }
        };
        return Err(Event::Fault {
            signo: SIGSEGV,
            code,
            addr: a,
        });
    }
    Ok(())
}

/// Play `ctx`'s script up to its next system call or fault; `None` if it
/// has none.
pub fn play(mm: &dyn AddressSpace, ctx: &mut Context) -> Option<Event> {
    loop {
        let rip = ctx.regs.rip;
        let mut g = scripts();
        let s = g.as_mut()?.get_mut(&ctx.id())?;
        let len = s.steps.len() as u64;
        if !(CODE..=CODE + STEP * len).contains(&rip) {
            // A signal handler: pop its return address (the restorer) and
            // return through rt_sigreturn, which reads the frame above.
            s.handled
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(ctx.regs.rdi as i32);
            let r = &mut ctx.regs;
            r.rsp += 8;
            return Some(syscall(r, SYS_RT_SIGRETURN, [0; 6], rip));
        }
        let (i, off) = ((rip - CODE) / STEP, (rip - CODE) % STEP);
        if off != 0 {
            // Returned from step i's syscall: on to the next step.
            ctx.regs.rip = CODE + STEP * (i + 1);
            continue;
        }
        if i == len {
            return Some(syscall(&mut ctx.regs, SYS_EXIT, [0; 6], rip + 2));
        }
        match s.steps[i as usize].take() {
            Some(Step::Syscall(nr, a)) => {
                // Kept: a restart runs it again.
                s.steps[i as usize] = Some(Step::Syscall(nr, a));
                return Some(syscall(&mut ctx.regs, nr, a, rip + 2));
            }
            Some(Step::Check(f)) => {
                // Not under the scripts' lock: a check may look at other
                // tasks (this one's and its mm's locks are held).
                drop(g);
                f(&mut ctx.regs);
                ctx.regs.rip = rip + STEP;
            }
            Some(Step::Store(addr, mut b)) => {
                if let Err(fault) = access(mm, addr, &mut b, true) {
                    s.steps[i as usize] = Some(Step::Store(addr, b));
                    return Some(fault);
                }
                ctx.regs.rip = rip + STEP;
            }
            Some(Step::Load(addr, len, f)) => {
                let mut b = vec![0; len];
                if let Err(fault) = access(mm, addr, &mut b, false) {
                    s.steps[i as usize] = Some(Step::Load(addr, len, f));
                    return Some(fault);
                }
                drop(g);
                f(&b);
                ctx.regs.rip = rip + STEP;
            }
            None => ctx.regs.rip = rip + STEP,
        }
    }
}
