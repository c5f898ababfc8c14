//! The kernel half of the debugger outside the guest (the gdb server in
//! drivers/gdb): it traces a guest process's threads through the same
//! ptrace-stops a guest tracer uses, with `DEBUGGER` as the tracer. Its
//! stops are not reported by wait4 or SIGCHLD (no guest process traces
//! them) but through `crate::drivers::gdb::notify`, and its requests come
//! from the vCPU's interrupt path, never from a guest system call.

use super::*;
use crate::arch::regs::Regs;
use crate::kernel::errno::KResult;

/// The tracer id of the outside debugger: no guest process has it, so
/// guest ptrace requests and waits never see its tracees, and a guest
/// tracer cannot attach to them (EPERM, as a second tracer on Linux).
pub const DEBUGGER: Pid = -1;

/// Where a thread the debugger traces is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// Running (or on its way to a stop).
    Running,
    /// In a ptrace-stop: what kind, and the signal and si_code of it.
    Stopped {
        kind: StopKind,
        signo: i32,
        code: i32,
    },
    /// Exited with this wait status (the entry stays until `forget`).
    Exited(i32),
}

/// Trace every thread of process `pid` and have each stop at its next
/// chance (as PTRACE_SEIZE then PTRACE_INTERRUPT): a thread asleep in a
/// system call leaves it (the call restarts when it runs on). New threads
/// are traced from their first instruction (PTRACE_O_TRACECLONE).
pub fn attach(pid: Pid) -> KResult<Vec<Tid>> {
    let g = task::group(pid).ok_or(Errno::ESRCH)?;
    let tids = {
        let l = g.lock();
        if l.zombie.is_some() {
            return Err(Errno::ESRCH);
        }
        l.threads.clone()
    };
    {
        let mut tb = table();
        if tids.iter().any(|t| tb.get(*t).is_some()) {
            return Err(Errno::EPERM);
        }
        for &tid in &tids {
            tb.insert(tid, Tracee::new(DEBUGGER, true, PTRACE_O_TRACECLONE));
        }
    }
    for &tid in &tids {
        interrupt(tid);
    }
    Ok(tids)
}

/// Have a running traced thread stop at its next chance.
pub fn interrupt(tid: Tid) {
    {
        let mut tb = table();
        let Some(e) = tb.get_mut(tid) else { return };
        if e.stopped.is_some() || e.exited {
            return;
        }
        e.trap_stop = true;
    }
    let Some(t) = task::task(tid) else { return };
    let (blocked, job_stopped) = {
        let mut i = t.lock();
        let stopped = i.state == State::Stopped;
        if stopped {
            // Stopped by job control: it stops for the debugger instead.
            i.state = State::Runnable;
        }
        (i.state == State::Blocked && !i.io_wait, stopped)
    };
    if job_stopped {
        crate::kernel::sched::enqueue(tid);
    } else if blocked {
        crate::kernel::sched::wake(tid);
    }
}

/// Where traced thread `tid` is (None: not traced by the debugger).
pub fn state(tid: Tid) -> Option<ThreadState> {
    let tb = table();
    let e = tb.get(tid).filter(|e| e.tracer == DEBUGGER)?;
    if e.exited {
        return Some(ThreadState::Exited(e.report.unwrap_or(0)));
    }
    match e.stopped {
        Some(kind) if e.resume.is_none() => {
            let si = e.last_siginfo.unwrap_or_default();
            Some(ThreadState::Stopped {
                kind,
                signo: si.signo,
                code: si.code,
            })
        }
        _ => Some(ThreadState::Running),
    }
}

/// Every thread the debugger traces in process `pid` (exited ones too,
/// until forgotten), and new ones its threads made.
pub fn threads(pid: Pid) -> Vec<Tid> {
    let mut v: Vec<Tid> = table()
        .iter()
        .filter(|(tid, e)| {
            e.tracer == DEBUGGER && task::find_tg_of(**tid).is_none_or(|g| g.tgid == pid)
        })
        .map(|(&tid, _)| tid)
        .collect();
    v.sort_unstable();
    v
}

/// Run a stopped thread on (`step`: for one instruction, with the trap
/// flag), delivering signal `sig` (0: none) if the stop was a signal's.
/// A thread not stopped yet does not stop after all.
pub fn resume(tid: Tid, step: bool, sig: i32) {
    let Some(t) = task::task(tid) else { return };
    events::clear_step(&t);
    if step {
        t.lock().ctx.regs.eflags |= 0x100;
    }
    let stopped = {
        let mut tb = table();
        let Some(e) = tb.get_mut(tid) else { return };
        e.mode = Mode::Cont;
        e.stepping = step;
        e.trap_stop = false;
        e.stopped.is_some()
    };
    if stopped {
        super::resume(tid, sig);
    }
}

/// Stop tracing `tid` (gdb's detach, or the connection closed): it runs
/// on without a signal.
pub fn detach(tid: Tid) {
    if let Some(t) = task::task(tid) {
        events::clear_step(&t);
    }
    let stopped = {
        let mut tb = table();
        let Some(e) = tb.get_mut(tid).filter(|e| e.tracer == DEBUGGER) else {
            return;
        };
        if e.exited || e.stopped.is_none() {
            tb.remove(tid);
            false
        } else {
            e.detach = true;
            e.mode = Mode::Cont;
            true
        }
    };
    if stopped {
        super::resume(tid, 0);
    }
}

/// Drop the entry of an exited thread.
pub fn forget(tid: Tid) {
    let mut tb = table();
    if tb
        .get(tid)
        .is_some_and(|e| e.tracer == DEBUGGER && e.exited)
    {
        tb.remove(tid);
    }
}

/// The registers of traced thread `tid` (without a trap flag we set).
pub fn regs(tid: Tid) -> KResult<Regs> {
    let t = task::task(tid).ok_or(Errno::ESRCH)?;
    Ok(super::regs::get(&t))
}

/// Set the registers of traced thread `tid`, as PTRACE_SETREGS checks them.
pub fn set_regs(tid: Tid, r: &Regs) -> KResult<()> {
    let t = task::task(tid).ok_or(Errno::ESRCH)?;
    super::regs::set(&t, r)
}

/// A thread stops for the debugger: bring its FPU image up to date from
/// the host here, on its own vCPU (only that vCPU's thread may ask the
/// host for it; the debugger runs on vCPU 0).
pub(super) fn stopping(t: &Task) {
    let _ = super::regs::fpu_image(t);
}

/// The XSAVE image of thread `tid` (its FXSAVE area first).
pub fn fpu(tid: Tid) -> KResult<Vec<u8>> {
    let t = task::task(tid).ok_or(Errno::ESRCH)?;
    if crate::kernel::smp::task_cpu(tid) == crate::arch::cpu::this_cpu() {
        return Ok(super::regs::fpu_image(&t));
    }
    // Another vCPU's: as `stopping` left it.
    let img = t.lock().ctx.fpu.clone();
    Ok(img)
}

/// Replace the start of thread `tid`'s XSAVE image (sanitized as
/// sigreturn does); the host loads it when the thread next runs.
pub fn set_fpu(tid: Tid, data: &[u8]) -> KResult<()> {
    let t = task::task(tid).ok_or(Errno::ESRCH)?;
    super::regs::replace_fpu(&t, fpu(tid)?, data)
}

/// Read the memory of `tid`'s process (as PTRACE_PEEKDATA).
pub fn read_mem(tid: Tid, addr: u64, buf: &mut [u8]) -> KResult<()> {
    let t = task::task(tid).ok_or(Errno::ESRCH)?;
    t.mm().read(addr, buf).map_err(|_| Errno::EIO)
}

/// Write the memory of `tid`'s process, read-only program text too (a
/// breakpoint), as PTRACE_POKEDATA.
pub fn write_mem(tid: Tid, addr: u64, data: &[u8]) -> KResult<()> {
    let t = task::task(tid).ok_or(Errno::ESRCH)?;
    let mm = t.mm();
    let r = mm.lock().write_force(addr, data);
    r.map_err(|_| Errno::EIO)
}

/// SIGKILL process `pid` (gdb's kill).
pub fn kill(pid: Pid) -> KResult<()> {
    signal::send_to_process(pid, SigInfo::kernel(SIGKILL))
}
