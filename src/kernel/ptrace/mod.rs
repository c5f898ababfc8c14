//! ptrace inside the guest: who traces whom, and the stops. A tracee
//! stops by sleeping in its own kernel context (`stop`) until its tracer
//! resumes it with a request (`request.rs`) or it is killed; the tracer
//! learns of stops through wait4/waitid (`wait.rs`). The rest of the
//! kernel calls in through small hooks: syscall entry and exit
//! (`syscall_enter`/`syscall_exit`), signal delivery (`signal_stop`,
//! `group_stop`, `trap_pending`), fork, exec and exit (`events.rs`).

pub mod debugger;
mod events;
mod regs;
pub mod request;
pub mod wait;

pub use events::*;

use super::errno::Errno;
use super::signal::{self, SigInfo, SIGKILL, SIGTRAP};
use super::task::{self, lock, Pid, State, Task, Tid};
use crate::abi::ptrace::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How the tracer last resumed the tracee: which syscall stops it wants.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// PTRACE_CONT (or attached, not yet resumed): no syscall stops.
    Cont,
    /// PTRACE_SYSCALL: stops at syscall entry and exit.
    Syscall,
    /// PTRACE_SYSEMU: a stop at entry, and the call is not run.
    Sysemu,
}

/// What kind of stop the tracee sits in (for the requests that care).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StopKind {
    SyscallEntry,
    SyscallExit,
    /// Signal-delivery-stop: the tracer chooses the signal to deliver.
    Signal,
    /// Group-stop or PTRACE_EVENT_STOP (LISTEN is allowed).
    Group,
    Event,
}

/// One traced thread.
#[derive(Debug)]
pub struct Tracee {
    /// The tracing process (any of its threads may issue requests).
    pub tracer: Pid,
    pub seized: bool,
    pub options: u32,
    pub mode: Mode,
    /// In a ptrace-stop now.
    pub stopped: Option<StopKind>,
    /// The wait status the tracer has not collected yet.
    pub report: Option<i32>,
    /// Exited: `report` is its exit status, and the entry goes once the
    /// tracer collects it.
    pub exited: bool,
    /// Set by the tracer to end the stop: the signal to resume with.
    pub resume: Option<i32>,
    /// The siginfo of the stop (GETSIGINFO), possibly edited (SETSIGINFO).
    pub last_siginfo: Option<SigInfo>,
    /// GETEVENTMSG.
    pub eventmsg: u64,
    /// A PTRACE_EVENT_STOP is due (SEIZE's auto-attach, INTERRUPT).
    pub trap_stop: bool,
    /// PTRACE_LISTEN: stopped, but not for the tracer's requests.
    pub listening: bool,
    /// The tracer asked for one instruction (TF set by us).
    pub stepping: bool,
    /// PTRACE_DETACH: the tracee drops its entry as it resumes.
    pub detach: bool,
}

impl Tracee {
    fn new(tracer: Pid, seized: bool, options: u32) -> Tracee {
        Tracee {
            tracer,
            seized,
            options,
            mode: Mode::Cont,
            stopped: None,
            report: None,
            exited: false,
            resume: None,
            last_siginfo: None,
            eventmsg: 0,
            trap_stop: false,
            listening: false,
            stepping: false,
            detach: false,
        }
    }
}

static TRACEES: Mutex<Option<HashMap<Tid, Tracee>>> = Mutex::new(None);
/// How many tracees exist: the hooks' fast path when nothing is traced.
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// The table of tracees, by tid.
pub struct Table(MutexGuard<'static, Option<HashMap<Tid, Tracee>>>);

impl Table {
    pub fn get(&self, tid: Tid) -> Option<&Tracee> {
        self.0.as_ref()?.get(&tid)
    }
    pub fn get_mut(&mut self, tid: Tid) -> Option<&mut Tracee> {
        self.0.as_mut()?.get_mut(&tid)
    }
    pub fn insert(&mut self, tid: Tid, t: Tracee) {
        if self
            .0
            .get_or_insert_with(HashMap::new)
            .insert(tid, t)
            .is_none()
        {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
    }
    pub fn remove(&mut self, tid: Tid) -> Option<Tracee> {
        let r = self.0.as_mut()?.remove(&tid);
        if r.is_some() {
            COUNT.fetch_sub(1, Ordering::Relaxed);
        }
        r
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Tid, &Tracee)> {
        self.0.iter().flat_map(|m| m.iter())
    }
}

pub fn table() -> Table {
    Table(lock(&TRACEES))
}

/// Is anything traced at all (the hooks' cheap first test)?
fn any() -> bool {
    COUNT.load(Ordering::Relaxed) != 0
}

/// Is `tid` traced?
pub fn is_traced(tid: Tid) -> bool {
    any() && table().get(tid).is_some_and(|e| !e.exited)
}

/// Is `tid` in a ptrace-stop ("t (tracing stop)" in /proc)?
pub fn in_stop(tid: Tid) -> bool {
    any() && table().get(tid).is_some_and(|e| e.stopped.is_some())
}

/// The process tracing `tid` (0: none), for /proc's TracerPid.
pub fn tracer_of(tid: Tid) -> Pid {
    if !any() {
        return 0;
    }
    table()
        .get(tid)
        .filter(|e| !e.exited && !e.detach && e.tracer != debugger::DEBUGGER)
        .map_or(0, |e| e.tracer)
}

/// Forget every tracee (reboot).
pub fn reset() {
    *lock(&TRACEES) = None;
    COUNT.store(0, Ordering::Relaxed);
}

/// Is `t` being killed (a stop must end, and no new one begin)?
fn dying(t: &Task) -> bool {
    t.state() == State::Dead
        || signal::pending_set(t) & signal::bit(SIGKILL) != 0
        || t.tg().lock().group_exit.is_some()
}

/// CLD_TRAPPED: the si_code of the tracer's SIGCHLD for a ptrace-stop.
const CLD_TRAPPED: i32 = 4;

/// Stop `t` for its tracer with `exit_code` (the stop's wait status is
/// `exit_code << 8 | 0x7f`) and `info` for GETSIGINFO, until the tracer
/// resumes it. Returns the signal it was resumed with (0: none), or None
/// when it was not traced, was detached meanwhile without a signal, or
/// is being killed.
fn stop(
    t: &Arc<Task>,
    kind: StopKind,
    exit_code: i32,
    info: SigInfo,
    msg: Option<u64>,
) -> Option<i32> {
    if dying(t) {
        return None;
    }
    let tracer = {
        let mut tb = table();
        let e = tb.get_mut(t.tid)?;
        e.stopped = Some(kind);
        e.report = Some((exit_code << 8) | 0x7f);
        e.last_siginfo = Some(info);
        e.resume = None;
        e.listening = false;
        if let Some(m) = msg {
            e.eventmsg = m;
        }
        e.tracer
    };
    log::trace!("ptrace: {} stops ({kind:?}, {exit_code:#x})", t.tid);
    if tracer == debugger::DEBUGGER {
        debugger::stopping(t);
    }
    notify_tracer(tracer, t.tid, CLD_TRAPPED, exit_code & 0x7f);
    let resumed = loop {
        let r = {
            let mut tb = table();
            match tb.get_mut(t.tid) {
                None => break None,
                Some(e) => {
                    let r = e.resume.take();
                    if r.is_some() && e.detach {
                        tb.remove(t.tid);
                    }
                    r
                }
            }
        };
        if r.is_some() {
            break r;
        }
        if dying(t) {
            break None;
        }
        // Only SIGKILL (and the tracer) end a ptrace-stop: another
        // signal's wake-up just finds the condition unchanged and sleeps
        // again. Not an uninterruptible ('D') sleep: a stopped tracee
        // does not count in the load average.
        t.lock().state = State::Blocked;
        super::sched::sleep(t);
    };
    if let Some(e) = table().get_mut(t.tid) {
        e.stopped = None;
        e.report = None;
        e.listening = false;
    }
    if dying(t) {
        return None;
    }
    resumed
}

/// Tell the tracer process that `tid` stopped or exited: wake its
/// waiters, and SIGCHLD it (unless it asked for none on stops).
fn notify_tracer(tracer: Pid, tid: Tid, code: i32, status: i32) {
    if tracer == debugger::DEBUGGER {
        crate::drivers::gdb::notify();
        return;
    }
    signal::notify_parent_stop(tid, tracer, code, status);
}

/// Resume `tid` (a request's end): the tracee's stop loop sees `sig`.
fn resume(tid: Tid, sig: i32) {
    if let Some(e) = table().get_mut(tid) {
        e.resume = Some(sig);
    }
    super::sched::wake(tid);
}

/// The siginfo of a ptrace_notify stop (syscall and event stops).
fn trap_info(t: &Task, exit_code: i32) -> SigInfo {
    SigInfo {
        signo: SIGTRAP,
        code: exit_code,
        pid: t.tid,
        uid: t.creds().uid,
        ..Default::default()
    }
}

/// A PTRACE_EVENT_* stop of `t` (if its tracer asked for `option`);
/// `msg` for GETEVENTMSG. True if the event was reported.
fn event(t: &Arc<Task>, option: u32, ev: i32, msg: u64) -> bool {
    let wanted = table()
        .get(t.tid)
        .is_some_and(|e| !e.exited && e.options & option != 0);
    if !wanted {
        return false;
    }
    // A signal given when resuming from an event stop is ignored (man
    // 2 ptrace: only signal-delivery and syscall stops inject).
    let code = SIGTRAP | (ev << 8);
    stop(t, StopKind::Event, code, trap_info(t, code), Some(msg));
    true
}

/// A signal given when resuming from a syscall stop is sent to the
/// tracee (Linux's ptrace_report_syscall).
fn inject_after_trap(t: &Arc<Task>, sig: i32) {
    if sig != 0 && signal::valid_signal(sig) {
        signal::send_to_thread(t, SigInfo::user(sig, 0, signal::SI_USER));
    }
}

/// What the syscall hook decided at entry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SyscallTrace {
    /// Not traced: no stops.
    Off,
    /// Run the call; `exit` says whether an exit stop may follow.
    Run,
    /// Do not run it (orig_rax set to -1, SYSEMU, or killed), the result
    /// is what rax holds.
    Skip,
}

/// Syscall entry of `t`: the entry stop, if its tracer asked for
/// syscall stops. The tracer may change the registers meanwhile.
pub fn syscall_enter(t: &Arc<Task>) -> SyscallTrace {
    if !any() {
        return SyscallTrace::Off;
    }
    let (mode, good) = match table().get(t.tid) {
        Some(e) if !e.exited && e.mode != Mode::Cont => {
            (e.mode, e.options & PTRACE_O_TRACESYSGOOD != 0)
        }
        Some(_) => return SyscallTrace::Run,
        None => return SyscallTrace::Off,
    };
    // The tracer sees -ENOSYS in rax at the entry stop (Linux's entry
    // code sets it before the stop).
    t.lock().ctx.regs.rax = (-(Errno::ENOSYS.0 as i64)) as u64;
    let code = SIGTRAP | if good { 0x80 } else { 0 };
    let sig = stop(
        t,
        StopKind::SyscallEntry,
        code,
        trap_info(t, code),
        Some(PTRACE_EVENTMSG_SYSCALL_ENTRY),
    );
    if dying(t) {
        return SyscallTrace::Skip;
    }
    inject_after_trap(t, sig.unwrap_or(0));
    if mode == Mode::Sysemu || t.lock().ctx.regs.orig_rax == u64::MAX {
        return SyscallTrace::Skip;
    }
    SyscallTrace::Run
}

/// Syscall exit of `t`: the exit stop, if its tracer (still) asks for
/// syscall stops. Not after SYSEMU.
pub fn syscall_exit(t: &Arc<Task>, how: SyscallTrace) {
    if how == SyscallTrace::Off || !any() || t.state() == State::Dead {
        return;
    }
    let good = match table().get(t.tid) {
        Some(e) if !e.exited && e.mode == Mode::Syscall => e.options & PTRACE_O_TRACESYSGOOD != 0,
        _ => return,
    };
    let code = SIGTRAP | if good { 0x80 } else { 0 };
    let sig = stop(
        t,
        StopKind::SyscallExit,
        code,
        trap_info(t, code),
        Some(PTRACE_EVENTMSG_SYSCALL_EXIT),
    );
    inject_after_trap(t, sig.unwrap_or(0));
}

/// Signal delivery to a traced `t`: the signal-delivery-stop. The
/// tracer decides what is delivered: nothing (None), the same signal,
/// or another one. SIGKILL is never stopped for.
pub fn signal_stop(t: &Arc<Task>, info: SigInfo) -> Option<SigInfo> {
    if info.signo == SIGKILL || !is_traced(t.tid) {
        return Some(info);
    }
    let sig = stop(t, StopKind::Signal, info.signo, info, None)?;
    if sig == 0 {
        return None;
    }
    // The tracer's (possibly edited) siginfo, if it kept the signal;
    // a new signal comes from the tracer.
    let last = table().get(t.tid).and_then(|e| e.last_siginfo);
    let info = match last {
        Some(l) if l.signo == sig => l,
        _ => {
            let tracer = table().get(t.tid).map_or(0, |e| e.tracer);
            SigInfo::user(sig, tracer, signal::SI_USER)
        }
    };
    // Blocked now (the tracer changed it): queued again for later.
    if t.lock().sigmask & signal::bit(sig) & !signal::UNBLOCKABLE != 0 {
        signal::send_to_thread(t, info);
        return None;
    }
    Some(info)
}

/// A traced `t` entered a group-stop for `sig`: it stops for its tracer
/// instead (Linux's ptrace group-stop), and runs on when the tracer
/// resumes it. False when `t` is not traced (it stops as usual).
pub fn group_stop(t: &Arc<Task>, sig: i32) -> bool {
    if !is_traced(t.tid) {
        return false;
    }
    let seized = table().get(t.tid).is_some_and(|e| e.seized);
    t.lock().state = State::Runnable;
    let code = if seized {
        sig | (PTRACE_EVENT_STOP << 8)
    } else {
        sig
    };
    let info = SigInfo::kernel(sig);
    stop(t, StopKind::Group, code, info, None);
    true
}

/// Is a PTRACE_EVENT_STOP due for `tid` (it makes a blocking syscall
/// end, as a signal would)?
pub fn trap_due(tid: Tid) -> bool {
    any() && table().get(tid).is_some_and(|e| e.trap_stop && !e.exited)
}

/// Before signal delivery: take a due PTRACE_EVENT_STOP (seized tracees:
/// INTERRUPT, and a new auto-attached child).
pub fn trap_pending(t: &Arc<Task>) {
    if !trap_due(t.tid) {
        return;
    }
    if let Some(e) = table().get_mut(t.tid) {
        e.trap_stop = false;
    }
    let code = SIGTRAP | (PTRACE_EVENT_STOP << 8);
    stop(t, StopKind::Group, code, trap_info(t, code), None);
}
