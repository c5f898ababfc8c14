//! Signals: actions, pending sets, generation (kill, tgkill, faults, tty)
//! and delivery with Linux's x86_64 rt_sigframe, plus rt_sigreturn.

use super::errno::{Errno, KResult};
use super::exit;
use super::sched;
use super::task::{self, Pid, State, Task};
use crate::abi::signal as abi;
use std::collections::VecDeque;
use std::sync::Arc;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
#[allow(dead_code)]
pub const SIGUSR1: i32 = 10;
pub const SIGSEGV: i32 = 11;
#[allow(dead_code)]
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
#[allow(dead_code)]
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGXCPU: i32 = 24;
pub const SIGXFSZ: i32 = 25;
pub const SIGWINCH: i32 = 28;
pub const SIGIO: i32 = 29;
pub const SIGSYS: i32 = 31;
pub const NSIG: i32 = 64;

pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
/// SIGPOLL codes (POLL_MSG: dnotify and lease breaks).
pub const POLL_IN: i32 = 1;
pub const POLL_MSG: i32 = 3;
pub const POLL_HUP: i32 = 6;
pub const SI_TKILL: i32 = -6;
pub const SI_TIMER: i32 = -2;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

pub const SA_NOCLDSTOP: u64 = 1;
pub const SA_NOCLDWAIT: u64 = 2;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;

/// Is `sig` a signal number (1..=64)? Anything else names no signal: a
/// guest can put any byte in clone's exit signal, and Linux then simply
/// sends nothing when the child exits.
pub fn valid_signal(sig: i32) -> bool {
    (1..=NSIG).contains(&sig)
}

/// The mask bit of `sig`; 0 for a number that names no signal.
pub fn bit(sig: i32) -> u64 {
    if valid_signal(sig) {
        1u64 << (sig - 1)
    } else {
        0
    }
}

/// Signals that can never be blocked or caught.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

/// A signal's details (the kernel's siginfo).
#[derive(Clone, Copy, Default, Debug)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    pub errno: i32,
    /// pid / timer id / fault address low half
    pub pid: i32,
    pub uid: u32,
    /// SIGCHLD status, or sigval for queued signals.
    pub status: i32,
    pub addr: u64,
    pub value: u64,
}

impl SigInfo {
    pub fn kernel(sig: i32) -> SigInfo {
        SigInfo {
            signo: sig,
            code: SI_KERNEL,
            ..Default::default()
        }
    }
    /// Whether the SIGPOLL layout holds the details (si_band in `addr`,
    /// si_fd in `status`): a kernel POLL_* code on a signal without
    /// codes of its own, as Linux's siginfo_layout.
    pub fn is_poll(&self) -> bool {
        (POLL_IN..=POLL_HUP).contains(&self.code)
            && !matches!(
                self.signo,
                SIGILL | SIGFPE | SIGSEGV | SIGBUS | SIGTRAP | SIGCHLD | SIGSYS
            )
    }
    pub fn user(sig: i32, pid: Pid, code: i32) -> SigInfo {
        SigInfo {
            signo: sig,
            code,
            pid,
            ..Default::default()
        }
    }
    /// The siginfo_t the guest sees, its union arm chosen by signal and
    /// code.
    pub fn to_abi(&self) -> abi::Siginfo {
        let mut s = abi::Siginfo {
            si_signo: self.signo,
            si_errno: self.errno,
            si_code: self.code,
            ..bytemuck::Zeroable::zeroed()
        };
        match self.signo {
            SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP if self.code > 0 => {
                s.set_fields(&abi::SigfieldsFault { si_addr: self.addr });
            }
            _ if self.is_poll() => s.set_fields(&abi::SigfieldsPoll {
                si_band: self.addr as i64,
                si_fd: self.status,
                _pad: 0,
            }),
            _ if self.code == SI_TIMER => s.set_fields(&abi::SigfieldsTimer {
                si_tid: self.pid,
                si_overrun: self.status,
                si_value: self.value,
            }),
            SIGSYS if self.code == crate::abi::seccomp::SYS_SECCOMP => {
                s.set_fields(&abi::SigfieldsSys {
                    si_call_addr: self.addr,
                    si_syscall: self.status,
                    si_arch: self.value as u32,
                })
            }
            SIGCHLD => s.set_fields(&abi::SigfieldsChld {
                si_pid: self.pid,
                si_uid: self.uid,
                si_status: self.status,
                ..Default::default()
            }),
            _ => s.set_fields(&abi::SigfieldsKill {
                si_pid: self.pid,
                si_uid: self.uid,
                si_value: self.value,
            }),
        }
        s
    }
}

/// One signal's action (struct k_sigaction).
#[derive(Clone, Copy, Default)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// A process's signal actions (shared with CLONE_SIGHAND).
#[derive(Clone)]
pub struct SigActions {
    pub actions: [SigAction; NSIG as usize],
}

impl Default for SigActions {
    fn default() -> Self {
        SigActions {
            actions: [SigAction::default(); NSIG as usize],
        }
    }
}

impl SigActions {
    /// The action for `sig`; the default one for a number that names no
    /// signal (callers validate guest input, this keeps a slip harmless).
    pub fn get(&self, sig: i32) -> SigAction {
        if !valid_signal(sig) {
            return SigAction::default();
        }
        self.actions[(sig - 1) as usize]
    }
    pub fn set(&mut self, sig: i32, a: SigAction) {
        if valid_signal(sig) {
            self.actions[(sig - 1) as usize] = a;
        }
    }
    /// execve: caught signals go back to default, ignored stay ignored.
    pub fn reset_for_exec(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            }
        }
    }
}

/// Pending signals: a bitmask plus their siginfo (standard signals queue
/// once, real-time signals queue every instance).
#[derive(Clone, Default)]
pub struct SigPending {
    pub set: u64,
    queue: VecDeque<SigInfo>,
}

impl SigPending {
    pub fn add(&mut self, info: SigInfo) {
        if !valid_signal(info.signo) {
            return;
        }
        let b = bit(info.signo);
        if info.signo < 32 && self.set & b != 0 {
            return;
        }
        self.set |= b;
        self.queue.push_back(info);
    }
    /// Take the lowest-numbered pending signal not in `blocked`.
    pub fn take(&mut self, blocked: u64) -> Option<SigInfo> {
        let avail = self.set & !blocked;
        if avail == 0 {
            return None;
        }
        let sig = avail.trailing_zeros() as i32 + 1;
        self.take_sig(sig)
    }
    pub fn take_sig(&mut self, sig: i32) -> Option<SigInfo> {
        let idx = self.queue.iter().position(|i| i.signo == sig)?;
        let info = self.queue.remove(idx)?;
        if !self.queue.iter().any(|i| i.signo == sig) {
            self.set &= !bit(sig);
        }
        Some(info)
    }
    /// The first queued signal `f` picks (a POSIX timer's own, whose
    /// overrun count grows while it waits).
    pub fn find_mut(&mut self, f: impl Fn(&SigInfo) -> bool) -> Option<&mut SigInfo> {
        self.queue.iter_mut().find(|i| f(i))
    }
    /// Drop the queued signals `f` picks (a deleted or re-armed timer's).
    pub fn remove_where(&mut self, f: impl Fn(&SigInfo) -> bool) {
        self.queue.retain(|i| !f(i));
        self.set = self.queue.iter().fold(0, |s, i| s | bit(i.signo));
    }
    pub fn remove(&mut self, mask: u64) {
        self.set &= !mask;
        self.queue.retain(|i| bit(i.signo) & mask == 0);
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Default_ {
    Term,
    Core,
    Stop,
    Ignore,
    Cont,
}

fn default_action(sig: i32) -> Default_ {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => Default_::Ignore,
        SIGCONT => Default_::Cont,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Default_::Stop,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => Default_::Core,
        _ => Default_::Term,
    }
}

/// Is `sig` ignored by `t`'s process (so sending it is a no-op)?
fn ignored(t: &Task, sig: i32, is_init: bool) -> bool {
    // A tracer sees every signal of its tracee (Linux's sig_ignored).
    if sig != SIGKILL && super::ptrace::is_traced(t.tid) {
        return false;
    }
    // A blocked signal is never ignored at send time (Linux sig_ignored):
    // the handler may change before it is unblocked, or the task may take
    // it with sigtimedwait/signalfd, as busybox init does.
    if t.lock().sigmask & bit(sig) != 0 {
        return false;
    }
    let a = t
        .sighand()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(sig);
    if a.handler == SIG_IGN {
        return true;
    }
    if a.handler == SIG_DFL {
        if default_action(sig) == Default_::Ignore {
            return true;
        }
        // init gets no default-action signals (SIGKILL/SIGSTOP included:
        // they come only from an ancestor namespace in Linux).
        if is_init {
            return true;
        }
    }
    false
}

/// Wake `t` if `sig` should interrupt what it is doing. An uninterruptible
/// ('D') sleeper is woken only when a signal will kill it, for killable
/// sleeps (`sched::wait_killable`); the others just sleep again.
/// Whether a signal ends `t`'s sleep: any signal an interruptible one, a
/// fatal one a killable one (vfork), none a disk wait.
fn wakes(t: &Arc<Task>) -> bool {
    let (io_wait, killable) = {
        let i = t.lock();
        (i.io_wait, i.wait_killable)
    };
    !io_wait || (killable && fatal_pending(t))
}

fn signal_wake(t: &Arc<Task>, sig: i32) {
    let st = t.lock().state;
    match st {
        State::Blocked if wakes(t) => sched::wake(t.tid),
        State::Stopped if sig == SIGKILL || sig == SIGCONT => sched::wake(t.tid),
        // It may be running a guest on another vCPU: get it back into the
        // kernel to take the signal.
        State::Runnable => sched::kick_task(t.tid),
        _ => {}
    }
}

/// SIGCONT resumes a stopped process; stop signals discard pending SIGCONT
/// and vice versa.
fn prepare_signal(tgid: Pid, sig: i32) {
    let Some(tg) = task::group(tgid) else { return };
    if sig == SIGCONT || sig == SIGKILL {
        let (threads, was_stopped, parent) = {
            let mut g = tg.lock();
            let stop_mask = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);
            g.pending.remove(stop_mask);
            let ws = g.stopped;
            g.stopped = false;
            if ws && sig == SIGCONT {
                g.stop_report = Some(0xffff);
            }
            (g.threads.clone(), ws, g.parent)
        };
        for tid in &threads {
            if let Some(t) = task::task(*tid) {
                let mut i = t.lock();
                i.pending
                    .remove(bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU));
                if i.state == State::Stopped {
                    i.state = State::Runnable;
                    drop(i);
                    sched::enqueue(t.tid);
                }
            }
        }
        if was_stopped && sig == SIGCONT {
            notify_parent_stop(tgid, parent, CLD_CONTINUED, SIGCONT);
        }
    } else if matches!(sig, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU) {
        tg.lock().pending.remove(bit(SIGCONT));
    }
}

/// Is process `tgid` an init (the system's or a pid namespace's), which
/// default actions do not reach (Linux's SIGNAL_UNKILLABLE).
fn unkillable(tgid: Pid) -> bool {
    tgid == 1 || super::ns::pid::init_of(tgid).is_some()
}

/// Does init `tgid` drop `info`'s signal when its action is the default
/// one: always the system's init; a namespace's init unless it is
/// SIGKILL or SIGSTOP from the kernel or from a process outside the
/// namespace (Linux's send_signal_locked `force`).
fn init_ignores(tgid: Pid, info: &SigInfo) -> bool {
    if tgid == 1 {
        return true;
    }
    let Some(ns) = super::ns::pid::init_of(tgid) else {
        return false;
    };
    let from_user = info.code <= 0 && info.code != SI_TIMER;
    let outside = match super::current::tgid() {
        Some(sender) if from_user => super::ns::pid::nr_in(sender, &ns) == 0,
        _ => true,
    };
    !(outside && matches!(info.signo, SIGKILL | SIGSTOP))
}

/// `info` as process `tgid` is to see it: a sender's or child's pid in
/// the receiver's pid namespace (0 when it is outside), as Linux fills
/// si_pid at send time.
fn localize(mut info: SigInfo, tgid: Pid) -> SigInfo {
    let has_pid = if info.signo == SIGCHLD && info.code > 0 {
        info.code <= CLD_CONTINUED
    } else {
        // SI_USER, SI_QUEUE, SI_MESGQ, SI_TKILL.
        matches!(info.code, SI_USER | -1 | -3 | SI_TKILL)
    };
    if has_pid && info.pid > 0 {
        let ns = super::ns::pid::ns_of_pid(tgid);
        info.pid = super::ns::pid::nr_in(info.pid, &ns);
    }
    info
}

/// Send a signal to a process (kill).
pub fn send_to_process(tgid: Pid, info: SigInfo) -> KResult<()> {
    let tg = task::group(tgid).ok_or(Errno::ESRCH)?;
    if tg.lock().zombie.is_some() {
        return Ok(());
    }
    let sig = info.signo;
    if sig == 0 {
        return Ok(());
    }
    if !valid_signal(sig) {
        return Err(Errno::EINVAL);
    }
    log::trace!("signal: {} to process {} (code {})", sig, tgid, info.code);
    prepare_signal(tgid, sig);
    let threads = tg.lock().threads.clone();
    let Some(first) = threads.first().and_then(|t| task::task(*t)) else {
        return Ok(());
    };
    if ignored(&first, sig, init_ignores(tgid, &info)) {
        return Ok(());
    }
    let info = localize(info, tgid);
    tg.lock().pending.add(info);
    // Wake a thread that does not block it; if all block it, wake them
    // all (one may be in sigtimedwait for it).
    let mut woke = false;
    for &tid in &threads {
        if let Some(t) = task::task(tid) {
            let blocked = t.lock().sigmask & !UNBLOCKABLE;
            if blocked & bit(sig) == 0 {
                signal_wake(&t, sig);
                woke = true;
                break;
            }
        }
    }
    if !woke {
        for tid in threads {
            if let Some(t) = task::task(tid) {
                signal_wake(&t, sig);
            }
        }
    }
    Ok(())
}

/// Send a signal to one thread (tgkill, faults).
pub fn send_to_thread(t: &Arc<Task>, info: SigInfo) {
    let sig = info.signo;
    if !valid_signal(sig) {
        return;
    }
    let tgid = t.tgid();
    prepare_signal(tgid, sig);
    if ignored(t, sig, init_ignores(tgid, &info)) && !is_fault(sig, info.code) {
        return;
    }
    let info = localize(info, tgid);
    t.lock().pending.add(info);
    signal_wake(t, sig);
}

fn is_fault(sig: i32, code: i32) -> bool {
    matches!(sig, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) && code > 0
}

/// Signal every process in a process group.
pub fn kill_pgrp(pgrp: Pid, sig: i32) -> bool {
    let mut any = false;
    for g in task::all_groups() {
        let (pg, zombie) = {
            let i = g.lock();
            (i.pgid, i.zombie.is_some())
        };
        if pg == pgrp && !zombie {
            any = true;
            let _ = send_to_process(g.tgid, SigInfo::kernel(sig));
        }
    }
    any
}

/// Tell the parent a child stopped or continued.
pub fn notify_parent_stop(child: Pid, parent: Pid, code: i32, sig: i32) {
    let Some(pg) = task::group(parent) else {
        return;
    };
    pg.child_wq.wake_all();
    let flags = task::group(parent)
        .and_then(|g| g.lock().threads.first().copied())
        .and_then(task::task)
        .map(|t| {
            t.sighand()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(SIGCHLD)
                .flags
        })
        .unwrap_or(0);
    if flags & SA_NOCLDSTOP != 0 {
        return;
    }
    let info = SigInfo {
        signo: SIGCHLD,
        code,
        pid: child,
        status: sig,
        ..Default::default()
    };
    let _ = send_to_process(parent, info);
}

/// Is a signal pending that `t` would act on now?
pub fn has_pending(t: &Task) -> bool {
    let (mask, own) = {
        let i = t.lock();
        (i.sigmask, i.pending.set)
    };
    let shared = t.tg().lock().pending.set;
    // A PTRACE_INTERRUPT ends a sleep as a signal does.
    (own | shared) & !(mask & !UNBLOCKABLE) != 0 || super::ptrace::trap_due(t.tid)
}

/// Is a signal pending that will kill `t`'s process when delivered
/// (SIGKILL, or an unblocked one whose default action, not overridden, is
/// to terminate)? Linux's fatal_signal_pending after complete_signal.
pub fn fatal_pending(t: &Task) -> bool {
    let mask = t.lock().sigmask & !UNBLOCKABLE;
    let set = pending_set(t) & !mask;
    if set & bit(SIGKILL) != 0 {
        return true;
    }
    if unkillable(t.tgid()) {
        return false;
    }
    let sh = t.sighand();
    let sh = sh.lock().unwrap_or_else(|e| e.into_inner());
    (1..=64).any(|sig| {
        set & bit(sig) != 0
            && sh.get(sig).handler == SIG_DFL
            && matches!(default_action(sig), Default_::Term | Default_::Core)
    })
}

/// Signals pending for `t`, its own and its process's, blocked or not.
pub fn pending_set(t: &Task) -> u64 {
    let own = t.lock().pending.set;
    own | t.tg().lock().pending.set
}

/// Take the lowest pending signal of `t` that is in `want`, the thread's
/// own first, then the process's (signalfd reads, whatever the mask).
pub fn dequeue_from(t: &Task, want: u64) -> Option<SigInfo> {
    if let Some(i) = t.lock().pending.take(!want) {
        return Some(i);
    }
    t.tg().lock().pending.take(!want)
}

fn dequeue(t: &Arc<Task>) -> Option<SigInfo> {
    let mask = t.lock().sigmask & !UNBLOCKABLE;
    if let Some(i) = t.lock().pending.take(mask) {
        return Some(i);
    }
    t.tg().lock().pending.take(mask)
}

const FRAME_SIZE: u64 = core::mem::size_of::<abi::RtSigframe>() as u64;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;

/// Deliver pending signals before returning to user mode. Returns false if
/// the task died or stopped.
pub fn deliver(t: &Arc<Task>) -> bool {
    loop {
        if t.tg().lock().group_exit.is_some() {
            exit::exit_thread(t);
            return false;
        }
        super::ptrace::trap_pending(t);
        let Some(info) = dequeue(t) else {
            restart_without_handler(t);
            // Two statements: an `if let` guard would live into the block.
            let saved = t.lock().saved_mask.take();
            if let Some(m) = saved {
                t.lock().sigmask = m;
            }
            return true;
        };
        // A tracer decides what becomes of its tracee's signals.
        let Some(info) = super::ptrace::signal_stop(t, info) else {
            continue;
        };
        let sig = info.signo;
        let tgid = t.tgid();
        let act = t
            .sighand()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sig);
        if act.handler == SIG_IGN && sig != SIGKILL && sig != SIGSTOP {
            continue;
        }
        if act.handler == SIG_DFL || sig == SIGKILL || sig == SIGSTOP {
            let d = default_action(sig);
            // An init gets only what an ancestor namespace or the kernel
            // forced through at send time (Linux's SIGNAL_UNKILLABLE).
            let forced = sig == SIGKILL || (sig == SIGSTOP && tgid != 1);
            if !forced && !is_fault(sig, info.code) && unkillable(tgid) {
                continue;
            }
            match d {
                Default_::Ignore | Default_::Cont => continue,
                Default_::Stop => {
                    // Nobody could continue an orphaned process group:
                    // job-control stops are discarded there.
                    let pgid = t.session_and_pgrp().1;
                    if sig != SIGSTOP && crate::tty::jobctl::will_become_orphaned(pgid, None) {
                        continue;
                    }
                    do_stop(t, sig);
                    if super::ptrace::group_stop(t, sig) {
                        continue;
                    }
                    return false;
                }
                Default_::Term | Default_::Core => {
                    // A core dump is written before the exit event, and
                    // the status says whether one was (WCOREDUMP).
                    let mut status = sig;
                    if d == Default_::Core && super::coredump::dump(t, &info) {
                        status |= 0x80;
                    }
                    super::ptrace::exit_event(t, status);
                    exit::group_exit(t, status);
                    return false;
                }
            }
        }
        if setup_frame(t, &info, &act).is_err() {
            // Cannot write the frame: the process dies of SIGSEGV (and
            // dumps core, as Linux's force_sigsegv).
            let mut status = SIGSEGV;
            if super::coredump::dump(t, &SigInfo::kernel(SIGSEGV)) {
                status |= 0x80;
            }
            exit::group_exit(t, status);
            return false;
        }
        if act.flags & SA_RESETHAND != 0 {
            t.sighand()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .set(sig, SigAction::default());
        }
    }
}

fn do_stop(t: &Arc<Task>, sig: i32) {
    let tg = t.tg();
    log::trace!("signal: process {} stops on signal {}", tg.tgid, sig);
    let (threads, parent) = {
        let mut g = tg.lock();
        g.stopped = true;
        g.stop_report = Some((sig << 8) | 0x7f);
        (g.threads.clone(), g.parent)
    };
    for tid in threads {
        if let Some(x) = task::task(tid) {
            let mut i = x.lock();
            if i.state != State::Dead {
                i.state = State::Stopped;
            }
        }
    }
    notify_parent_stop(tg.tgid, parent, CLD_STOPPED, sig);
}

/// x86-64 restart_syscall.
const NR_RESTART_SYSCALL: u64 = 219;

/// A syscall that asked to be restarted (and no handler ran): back up to
/// the syscall instruction.
fn restart_without_handler(t: &Arc<Task>) {
    let mut i = t.lock();
    if !i.restart_check {
        return;
    }
    i.restart_check = false;
    let rax = i.ctx.regs.rax as i64;
    let code = Errno((-rax) as i32);
    if code == Errno::ERESTARTSYS || code == Errno::ERESTARTNOHAND || code == Errno::ERESTARTNOINTR
    {
        i.ctx.regs.rax = i.ctx.regs.orig_rax;
        i.ctx.regs.rip -= 2;
    } else if code == Errno::ERESTART_RESTARTBLOCK {
        // Not the same call again (its arguments are relative): restart_syscall
        // carries on from what the task's restart_block kept.
        i.ctx.regs.rax = NR_RESTART_SYSCALL;
        i.ctx.regs.rip -= 2;
    }
}

fn setup_frame(t: &Arc<Task>, info: &SigInfo, act: &SigAction) -> KResult<()> {
    let mm = t.mm();
    {
        let mut ml = mm.lock();
        let mut i = t.lock();
        ml.sync_fpu(&mut i.ctx);
        let _ = &mut ml;
    }
    let mut i = t.lock();
    // Syscall restart decision with a handler.
    if i.restart_check {
        i.restart_check = false;
        let code = Errno((-(i.ctx.regs.rax as i64)) as i32);
        if code == Errno::ERESTARTNOHAND || code == Errno::ERESTART_RESTARTBLOCK {
            i.ctx.regs.rax = (-(Errno::EINTR.0 as i64)) as u64;
        } else if code == Errno::ERESTARTSYS {
            if act.flags & SA_RESTART != 0 {
                i.ctx.regs.rax = i.ctx.regs.orig_rax;
                i.ctx.regs.rip -= 2;
            } else {
                i.ctx.regs.rax = (-(Errno::EINTR.0 as i64)) as u64;
            }
        } else if code == Errno::ERESTARTNOINTR {
            i.ctx.regs.rax = i.ctx.regs.orig_rax;
            i.ctx.regs.rip -= 2;
        }
    }
    drop(i);
    // A signal aborts the restartable sequence it interrupted: the frame
    // saves the abort handler as the place to return to.
    super::rseq::signal_deliver(t, info.signo);
    let mut i = t.lock();
    let regs = i.ctx.regs;
    let (ss_sp, ss_size, ss_flags) = i.altstack;
    let on_alt = ss_size != 0 && regs.rsp > ss_sp && regs.rsp <= ss_sp + ss_size;
    let mut sp =
        if act.flags & SA_ONSTACK != 0 && ss_flags & SS_DISABLE == 0 && ss_size != 0 && !on_alt {
            ss_sp + ss_size
        } else {
            regs.rsp - 128
        };
    let fpu = i.ctx.fpu.clone();
    let fp_size = fpu.len() as u64 + 4;
    sp = (sp - fp_size) & !63;
    let fpstate = sp;
    sp = ((sp - FRAME_SIZE) & !15) - 8;
    let frame = sp;
    let oldmask = i.saved_mask.take().unwrap_or(i.sigmask);
    let altstack = i.altstack;
    drop(i);

    let ssf: i32 = if altstack.1 == 0 {
        SS_DISABLE
    } else if on_alt {
        SS_ONSTACK
    } else {
        0
    };
    let (err, trapno, cr2) = if is_fault(info.signo, info.code) {
        (
            if info.signo == SIGSEGV { 4u64 } else { 0 },
            if info.signo == SIGSEGV { 14u64 } else { 0 },
            info.addr,
        )
    } else {
        (0, 0, 0)
    };
    let sc = abi::Sigcontext {
        r8: regs.r8,
        r9: regs.r9,
        r10: regs.r10,
        r11: regs.r11,
        r12: regs.r12,
        r13: regs.r13,
        r14: regs.r14,
        r15: regs.r15,
        rdi: regs.rdi,
        rsi: regs.rsi,
        rbp: regs.rbp,
        rbx: regs.rbx,
        rdx: regs.rdx,
        rax: regs.rax,
        rcx: regs.rcx,
        rsp: regs.rsp,
        rip: regs.rip,
        eflags: regs.eflags,
        cs: regs.cs as u16,
        gs: 0,
        fs: 0,
        ss: regs.ss as u16,
        err,
        trapno,
        oldmask,
        cr2,
        fpstate: if fpu.is_empty() { 0 } else { fpstate },
        reserved1: [0; 8],
    };
    let f = abi::RtSigframe {
        pretcode: act.restorer,
        uc: abi::Ucontext {
            uc_flags: if fpu.is_empty() { 0 } else { abi::UC_FP_XSTATE },
            uc_link: 0,
            uc_stack: abi::Stack {
                ss_sp: altstack.0,
                ss_flags: ssf,
                _pad: 0,
                ss_size: altstack.1,
            },
            uc_mcontext: sc,
            uc_sigmask: oldmask,
        },
        info: info.to_abi(),
    };
    crate::abi::write_val(&mm, frame, &f)?;
    if !fpu.is_empty() {
        mm.write(fpstate, &fpu)?;
        mm.write_u32(fpstate + fpu.len() as u64, FP_XSTATE_MAGIC2)?;
    }
    let mut i = t.lock();
    i.ctx.regs.rsp = frame;
    i.ctx.regs.rip = act.handler;
    i.ctx.regs.rdi = info.signo as u64;
    i.ctx.regs.rsi = frame + core::mem::offset_of!(abi::RtSigframe, info) as u64;
    i.ctx.regs.rdx = frame + core::mem::offset_of!(abi::RtSigframe, uc) as u64;
    i.ctx.regs.rax = 0;
    i.ctx.regs.eflags &= !(0x100 | 0x400); // TF, DF
    let mut m = i.sigmask | act.mask;
    if act.flags & SA_NODEFER == 0 {
        m |= bit(info.signo);
    }
    i.sigmask = m & !UNBLOCKABLE;
    Ok(())
}

/// rt_sigreturn: restore the context saved by `setup_frame`.
pub fn sigreturn(t: &Arc<Task>) -> KResult<()> {
    let mm = t.mm();
    let frame = t.lock().ctx.regs.rsp - 8;
    // The ucontext is all sigreturn needs; the siginfo after it may have
    // been unmapped by the handler.
    let uc: abi::Ucontext = crate::abi::read_val(
        &mm,
        frame + core::mem::offset_of!(abi::RtSigframe, uc) as u64,
    )?;
    let sc = uc.uc_mcontext;
    // The FPU state in the frame is what the interrupted code gets back
    // (a handler may have edited it). It is guest data: sanitized against
    // the task's own image before the host loads it.
    let fpstate = sc.fpstate;
    let mask = uc.uc_sigmask;
    let mut fpu = None;
    if fpstate != 0 {
        let cur = t.lock().ctx.fpu.clone();
        if !cur.is_empty() {
            let mut img = mm.read_vec(fpstate, cur.len())?;
            crate::abi::xsave::sanitize(&mut img, &cur);
            fpu = Some(img);
        }
    }
    let mut i = t.lock();
    let r = &mut i.ctx.regs;
    r.r8 = sc.r8;
    r.r9 = sc.r9;
    r.r10 = sc.r10;
    r.r11 = sc.r11;
    r.r12 = sc.r12;
    r.r13 = sc.r13;
    r.r14 = sc.r14;
    r.r15 = sc.r15;
    r.rdi = sc.rdi;
    r.rsi = sc.rsi;
    r.rbp = sc.rbp;
    r.rbx = sc.rbx;
    r.rdx = sc.rdx;
    r.rax = sc.rax;
    r.rcx = sc.rcx;
    r.rsp = sc.rsp;
    r.rip = sc.rip;
    // Only the user-changeable flags (FIX_EFLAGS).
    let fl = sc.eflags;
    r.eflags = (r.eflags & !0x40dd5) | (fl & 0x40dd5);
    r.orig_rax = u64::MAX;
    i.sigmask = mask & !UNBLOCKABLE;
    i.restart_check = false;
    // As Linux's restore_sigcontext: a restart_syscall after this has
    // nothing to carry on.
    i.restart_block = None;
    if let Some(fp) = fpu {
        i.ctx.fpu = fp;
        drop(i);
        mm.lock().invalidate_fpu();
    }
    Ok(())
}

/// Kill-or-handle with SIGSEGV for a kernel-detected corruption of
/// user-space state (Linux's force_sigsegv): if the signal being handled
/// was SIGSEGV itself, its handler is reset so that this one kills.
pub fn force_sigsegv(t: &Arc<Task>, handling: i32) {
    if handling == SIGSEGV {
        t.sighand()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .set(SIGSEGV, SigAction::default());
    }
    force_info(t, SigInfo::kernel(SIGSEGV));
}

/// The signal a fault becomes, for a fault the mm could not resolve.
pub fn force_fault(t: &Arc<Task>, sig: i32, code: i32, addr: u64) {
    let info = SigInfo {
        signo: sig,
        code,
        addr,
        ..Default::default()
    };
    force_info(t, info);
}

/// Queue `info` for `t` so that it cannot be blocked or ignored away
/// (Linux's force_sig_info): a blocked or ignored signal is unblocked
/// and its action reset to the default. Faults and seccomp's SIGSYS.
pub fn force_info(t: &Arc<Task>, info: SigInfo) {
    let sig = info.signo;
    {
        let mut i = t.lock();
        if i.sigmask & bit(sig) != 0 {
            i.sigmask &= !bit(sig);
            drop(i);
            let sh = t.sighand();
            let mut s = sh.lock().unwrap_or_else(|e| e.into_inner());
            s.set(sig, SigAction::default());
        }
    }
    {
        let sh = t.sighand();
        let mut s = sh.lock().unwrap_or_else(|e| e.into_inner());
        if s.get(sig).handler == SIG_IGN {
            s.set(sig, SigAction::default());
        }
    }
    t.lock().pending.add(info);
}
