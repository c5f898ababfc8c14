//! Process and thread exit: tearing a task down, zombies, reparenting
//! orphans to init, and notifying the parent.

use super::signal::{self, SigInfo, CLD_EXITED, CLD_KILLED, SIGCHLD, SIGKILL};
use super::task::{self, State, Task};
use super::{futex, futex_robust, sched};
use std::sync::Arc;

/// Wait status for a normal exit with `code`.
pub fn exit_status(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// exit_group / fatal signal: every thread of the process exits with
/// `status` (a wait status). The calling thread exits now; the others when
/// they next run (they are woken).
pub fn group_exit(t: &Arc<Task>, status: i32) {
    let tg = t.tg();
    let threads = {
        let mut g = tg.lock();
        if g.group_exit.is_none() {
            g.group_exit = Some(status);
        }
        g.stopped = false;
        g.threads.clone()
    };
    for tid in threads {
        if tid == t.tid {
            continue;
        }
        if let Some(o) = task::task(tid) {
            // Other threads are not running (one vCPU): end them directly.
            exit_thread(&o);
        }
    }
    exit_thread(t);
}

/// One thread ends. The last thread of a process makes it a zombie.
pub fn exit_thread(t: &Arc<Task>) {
    if t.state() == State::Dead {
        return;
    }
    let tg = t.tg();
    // CLONE_CHILD_CLEARTID: zero the tid word and wake a joiner.
    let (ctid, mm, vfork_parent, robust) = {
        let mut i = t.lock();
        i.state = State::Dead;
        let robust = std::mem::take(&mut i.robust_list);
        (
            i.clear_child_tid,
            i.mm.clone(),
            i.vfork_parent.take(),
            robust,
        )
    };
    // Robust locks first, as Linux: a joiner may go on to take them.
    futex_robust::exit_robust_list(&mm, t.tid as u32, robust);
    if ctid != 0 {
        // Only if someone else still uses the address space.
        if Arc::strong_count(&mm) > 1 && mm.write_u32(ctid, 0).is_ok() {
            // Linux wakes the joiner with a shared (non-private) futex.
            let _ = futex::wake(&mm, ctid, 1, u32::MAX, false);
        }
    }
    futex::cancel(t);
    crate::fs::locks::cancel(t);
    release_vfork(vfork_parent);
    // Drop what the thread holds.
    // Closing files may run device close code: not under the task lock.
    let (files, filter) = {
        let mut i = t.lock();
        i.pending = Default::default();
        // The thread no longer uses its seccomp filters: a listener
        // polls hung up once no thread does.
        (std::mem::take(&mut i.files), i.seccomp.filter.take())
    };
    drop(files);
    drop(filter);
    let peak_rss_kb = mm.lock().peak_rss_kb();
    drop(mm);
    let name_start = {
        let i = t.lock();
        (i.comm.clone(), i.start_time)
    };
    let last = {
        let mut g = tg.lock();
        g.acct.thread_exited(&t.acct, peak_rss_kb);
        g.threads.retain(|&x| x != t.tid);
        if g.threads.is_empty() {
            g.last_thread = Some(name_start);
        }
        g.threads.is_empty()
    };
    super::ptrace::thread_exited(t, &tg, last);
    task::remove_task(t.tid);
    if last {
        process_exit(&tg);
    }
}

/// A vfork child exec'd or exited: its parent may go on.
pub fn release_vfork(parent: Option<task::Tid>) {
    if let Some(p) = parent {
        sched::wake(p);
    }
}

fn process_exit(tg: &Arc<task::ThreadGroup>) {
    let tgid = tg.tgid;
    let status = {
        let g = tg.lock();
        g.group_exit.unwrap_or(0)
    };
    if tgid == 1 {
        super::panic::panic(&format!(
            "Attempted to kill init! exitcode={:#010x}",
            status
        ));
    }
    // SEM_UNDO adjustments are given back when the process goes.
    crate::ipc::sem::exit(tgid);
    // Its POSIX record locks go with it.
    crate::fs::locks::process_exit(tgid);
    // Its tracees run on untraced (or die, with PTRACE_O_EXITKILL).
    super::ptrace::tracer_exited(tgid);
    // A pid namespace's init takes its namespace with it: nobody may
    // enter any more, and everyone in it is killed (Linux's
    // zap_pid_ns_processes).
    let zapped = super::ns::pid::init_of(tgid);
    if let Some(ns) = &zapped {
        for p in super::ns::pid::zap(ns) {
            if p != tgid {
                let _ = signal::send_to_process(p, SigInfo::kernel(SIGKILL));
            }
        }
    }
    // Orphans go to the init of the pid namespace the process lives in.
    let children = std::mem::take(&mut tg.lock().children);
    if !children.is_empty() {
        let ns = super::ns::pid::ns_of_pid(tgid);
        let reaper = if zapped.is_some() || super::ns::pid::is_dead(&ns) {
            None
        } else {
            super::ns::pid::reaper(&ns)
                .filter(|&r| r != tgid)
                .and_then(task::group)
                .filter(|g| g.lock().zombie.is_none())
        };
        if reaper.is_none() {
            // Nobody is left to wait for them: zombies go now, the
            // others when they exit (they are being killed).
            for c in &children {
                if task::group(*c).is_some_and(|cg| cg.lock().zombie.is_some()) {
                    task::remove_group(*c);
                }
            }
        }
        if let Some(init) = reaper {
            let init_pid = init.tgid;
            let mut any_zombie = false;
            for c in &children {
                if let Some(cg) = task::group(*c) {
                    let mut cgi = cg.lock();
                    cgi.parent = init_pid;
                    // Init is told with SIGCHLD, whatever the child's
                    // original exit signal was (Linux's reparent_leader).
                    cgi.exit_signal = SIGCHLD;
                    any_zombie |= cgi.zombie.is_some();
                }
            }
            init.lock().children.extend(children.iter().copied());
            if any_zombie {
                init.child_wq.wake_all();
                let _ = signal::send_to_process(init_pid, SigInfo::kernel(SIGCHLD));
            }
        }
    }
    // Terminal hangup and orphaned process groups (job control).
    let (sid, pgid, parent) = {
        let g = tg.lock();
        (g.sid, g.pgid, g.parent)
    };
    crate::tty::jobctl::exit_notify(tgid, sid, pgid, parent, &children);
    let (parent, exit_signal) = {
        let mut g = tg.lock();
        g.zombie = Some(status);
        g.itimer_real = None;
        (g.parent, g.exit_signal)
    };
    super::pidfd::process_exited();
    super::ns::pid::member_exited(tgid);
    super::time::cancel_itimer(tgid);
    super::posix_timers::exit_process(tgid);
    // A parent that is gone (a pid namespace's init that died first)
    // cannot wait: reap at once.
    let parent_gone = match task::group(parent) {
        Some(p) => p.lock().zombie.is_some(),
        None => super::ns::pid::of(&super::ns::pid::ns_of_pid(tgid)).level > 0,
    };
    // Parent ignoring SIGCHLD (or SA_NOCLDWAIT): reap at once.
    let auto_reap = parent_gone
        || task::group(parent)
            .and_then(|p| p.lock().threads.first().copied())
            .and_then(task::task)
            .map(|pt| {
                let a = pt
                    .sighand()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(SIGCHLD);
                a.handler == signal::SIG_IGN || a.flags & signal::SA_NOCLDWAIT != 0
            })
            .unwrap_or(false);
    if let Some(p) = task::group(parent) {
        if auto_reap {
            p.lock().children.retain(|&c| c != tgid);
        }
        p.child_wq.wake_all();
    }
    if auto_reap {
        task::remove_group(tgid);
    }
    if signal::valid_signal(exit_signal) && !auto_reap {
        let (code, st) = if status & 0x7f != 0 {
            // CLD_DUMPED when a core was written.
            (CLD_KILLED + (status >> 7 & 1), status & 0x7f)
        } else {
            (CLD_EXITED, (status >> 8) & 0xff)
        };
        let info = SigInfo {
            signo: exit_signal,
            code,
            pid: tgid,
            status: st,
            ..Default::default()
        };
        let _ = signal::send_to_process(parent, info);
    }
}

/// Kill every process (poweroff/reboot): no notifications.
pub fn kill_all() {
    for t in task::all_tasks() {
        let mut i = t.lock();
        i.state = State::Dead;
    }
    let _ = SIGKILL;
}
