//! The lifecycle hooks of tracing: fork auto-attach and its event,
//! exec's event or SIGTRAP, PTRACE_EVENT_EXIT, a tracee's exit reported
//! to its tracer, and a tracer's exit detaching (or killing) its tracees.

use super::*;
use crate::kernel::signal::SIGSTOP;

/// What a traced parent's fork owes its tracer after the child exists.
pub struct ForkEvent {
    option: u32,
    event: i32,
}

/// A new child `child` of a traced `parent` (clone `flags`, exit signal
/// `exit_signal`): if the tracer asked for this kind of fork, the child is
/// traced too from its first instruction, starting with a SIGSTOP (or a
/// PTRACE_EVENT_STOP if seized). Called before the child first runs.
pub fn fork_attach(parent: &Task, child: Tid, flags: u64, exit_signal: i32) -> Option<ForkEvent> {
    if !any() {
        return None;
    }
    const CLONE_VFORK: u64 = 0x4000;
    const CLONE_UNTRACED: u64 = 0x0080_0000;
    let (option, event) = if flags & CLONE_VFORK != 0 {
        (PTRACE_O_TRACEVFORK, PTRACE_EVENT_VFORK)
    } else if exit_signal == signal::SIGCHLD {
        (PTRACE_O_TRACEFORK, PTRACE_EVENT_FORK)
    } else {
        (PTRACE_O_TRACECLONE, PTRACE_EVENT_CLONE)
    };
    let mut tb = table();
    let e = tb.get(parent.tid)?;
    if e.exited || e.options & option == 0 || flags & CLONE_UNTRACED != 0 {
        return None;
    }
    let mut c = Tracee::new(e.tracer, e.seized, e.options);
    if c.seized {
        c.trap_stop = true;
    }
    let seized = c.seized;
    tb.insert(child, c);
    drop(tb);
    if !seized {
        if let Some(ct) = task::task(child) {
            ct.lock().pending.add(SigInfo::kernel(SIGSTOP));
        }
    }
    Some(ForkEvent { option, event })
}

/// The parent's PTRACE_EVENT_FORK/VFORK/CLONE stop, with the child's pid
/// for GETEVENTMSG.
pub fn fork_event(parent: &Arc<Task>, ev: Option<ForkEvent>, child: Tid) {
    if let Some(ev) = ev {
        // The child's number in the tracer's pid namespace (Linux's
        // ptrace_event_pid).
        let tracer = super::tracer_of(parent.tid);
        let ns = crate::kernel::ns::pid::ns_of_pid(tracer);
        let shown = crate::kernel::ns::pid::nr_in(child, &ns);
        event(parent, ev.option, ev.event, shown as u64);
    }
}

/// A traced vfork parent's child released it: PTRACE_EVENT_VFORK_DONE.
pub fn vfork_done(parent: &Arc<Task>, child: Tid) {
    if any() {
        event(
            parent,
            PTRACE_O_TRACEVFORKDONE,
            PTRACE_EVENT_VFORK_DONE,
            child as u64,
        );
    }
}

/// A traced `t` finished an execve (`nr`: which call, kept in orig_rax
/// as Linux keeps it): PTRACE_EVENT_EXEC if asked for, else a SIGTRAP
/// for tracees not attached with SEIZE.
pub fn exec_event(t: &Arc<Task>, nr: u64) {
    if !is_traced(t.tid) {
        return;
    }
    t.lock().ctx.regs.orig_rax = nr;
    if event(t, PTRACE_O_TRACEEXEC, PTRACE_EVENT_EXEC, t.tid as u64) {
        return;
    }
    if !table().get(t.tid).is_some_and(|e| e.seized) {
        signal::send_to_thread(t, SigInfo::user(SIGTRAP, 0, signal::SI_USER));
    }
}

/// Does `t`'s tracer want PTRACE_EVENT_SECCOMP stops (seccomp's
/// SECCOMP_RET_TRACE; without them the call fails with ENOSYS)?
pub fn seccomp_wanted(t: &Task) -> bool {
    any()
        && table()
            .get(t.tid)
            .is_some_and(|e| !e.exited && e.options & PTRACE_O_TRACESECCOMP != 0)
}

/// Has `tid`'s tracer suspended its seccomp filters
/// (PTRACE_O_SUSPEND_SECCOMP)?
pub fn seccomp_suspended(tid: Tid) -> bool {
    any()
        && table()
            .get(tid)
            .is_some_and(|e| !e.exited && e.options & PTRACE_O_SUSPEND_SECCOMP != 0)
}

/// SECCOMP_RET_TRACE: the PTRACE_EVENT_SECCOMP stop, with the filter's
/// data for GETEVENTMSG. The tracer may change or skip the call.
pub fn seccomp_event(t: &Arc<Task>, data: u64) {
    event(t, PTRACE_O_TRACESECCOMP, PTRACE_EVENT_SECCOMP, data);
}

/// `t` is about to exit with wait status `status` (exit, exit_group, a
/// fatal signal): PTRACE_EVENT_EXIT, if asked for. Its registers and
/// memory are still there to look at.
pub fn exit_event(t: &Arc<Task>, status: i32) {
    if any() && !dying(t) {
        event(t, PTRACE_O_TRACEEXIT, PTRACE_EVENT_EXIT, status as u64);
    }
}

/// Thread `t` of `tg` is gone (`last`: the process's last thread). A
/// tracee's exit is reported to its tracer, unless the tracer is the
/// real parent and the process's own exit will tell it (wait then
/// reaps it as usual). A tracer thread leaving does nothing here; the
/// process's exit does (`tracer_exited`).
pub fn thread_exited(t: &Task, tg: &task::ThreadGroup, last: bool) {
    if !any() {
        return;
    }
    let (status, parent) = {
        let g = tg.lock();
        (g.group_exit.unwrap_or(0), g.parent)
    };
    let tracer = {
        let mut tb = table();
        let Some(e) = tb.get_mut(t.tid) else { return };
        if (last && e.tracer == parent) || e.detach {
            tb.remove(t.tid);
            return;
        }
        e.exited = true;
        e.stopped = None;
        e.report = Some(status);
        e.tracer
    };
    if tracer == debugger::DEBUGGER {
        crate::drivers::gdb::notify();
        return;
    }
    let (code, st) = if status & 0x7f != 0 {
        (signal::CLD_KILLED, status & 0x7f)
    } else {
        (signal::CLD_EXITED, (status >> 8) & 0xff)
    };
    if let Some(g) = task::group(tracer) {
        g.child_wq.wake_all();
    }
    let info = SigInfo {
        signo: signal::SIGCHLD,
        code,
        pid: t.tid,
        status: st,
        ..Default::default()
    };
    let _ = signal::send_to_process(tracer, info);
}

/// Process `tgid` exited: its tracees are detached (and run on), or
/// killed if it asked for PTRACE_O_EXITKILL; reports of exited tracees
/// nobody will collect are dropped.
pub fn tracer_exited(tgid: Pid) {
    if !any() {
        return;
    }
    let mine: Vec<(Tid, bool, bool)> = table()
        .iter()
        .filter(|(_, e)| e.tracer == tgid)
        .map(|(&tid, e)| (tid, e.exited, e.options & PTRACE_O_EXITKILL != 0))
        .collect();
    for (tid, exited, kill) in mine {
        table().remove(tid);
        if exited {
            continue;
        }
        if let Some(t) = task::task(tid) {
            clear_step(&t);
            if kill {
                signal::send_to_thread(&t, SigInfo::kernel(SIGKILL));
            }
        }
        super::super::sched::wake(tid);
    }
}

/// Undo a PTRACE_SINGLESTEP's trap flag.
pub(super) fn clear_step(t: &Task) {
    const TF: u64 = 0x100;
    let stepping = table()
        .get_mut(t.tid)
        .map(|e| std::mem::take(&mut e.stepping));
    if stepping != Some(false) {
        t.lock().ctx.regs.eflags &= !TF;
    }
}
