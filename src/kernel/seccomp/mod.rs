//! seccomp for guest programs: a task's seccomp state (mode, stacked
//! filters, no_new_privs), the check every syscall entry of a task in
//! strict or filter mode goes through (`syscall_entry`, called by
//! dispatch after the ptrace entry stop, as Linux), and what each filter
//! action does. The classic BPF checker and interpreter are `bpf.rs`,
//! the filter stack `filter.rs`, seccomp(2) and the prctl options
//! `sys.rs`. Tasks without seccomp pay one branch per syscall: dispatch
//! reads the mode in the same lock it reads the registers under.

pub mod audit;
pub mod bpf;
pub mod filter;
pub mod notify;
pub mod sys;

use super::errno::Errno;
use super::signal::{self, SigInfo, SIGKILL, SIGSYS};
use super::task::Task;
use crate::abi::seccomp::*;
use filter::Filter;
use std::sync::Arc;

/// A thread's seccomp state (Linux's task->seccomp and the
/// no_new_privs task flag). Inherited by clone, kept across execve.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// SECCOMP_MODE_DISABLED, _STRICT or _FILTER.
    pub mode: u8,
    /// The newest filter; the older ones hang off it.
    pub filter: Option<Arc<Filter>>,
    /// Filters installed ("Seccomp_filters:" in /proc/PID/status).
    pub filters: u32,
    /// PR_SET_NO_NEW_PRIVS: execve grants no privileges (setuid and
    /// setgid bits are ignored), and filters may be installed without
    /// CAP_SYS_ADMIN. Never cleared.
    pub no_new_privs: bool,
}

/// Whether the syscall runs after the seccomp check.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    Run,
    /// Not run: rax holds what the guest sees, or the task is dying.
    Skip,
}

/// The x86_64 syscalls strict mode allows: read, write, exit,
/// rt_sigreturn.
const STRICT_ALLOWED: [i32; 4] = [0, 1, 60, 15];

/// The syscall entry check of a task whose mode is not DISABLED.
pub fn syscall_entry(t: &Arc<Task>) -> Verdict {
    // A checkpoint/restore tracer has the filters off.
    if super::ptrace::seccomp_suspended(t.tid) {
        return Verdict::Run;
    }
    let (mode, top) = {
        let i = t.lock();
        (i.seccomp.mode, i.seccomp.filter.clone())
    };
    let data = data_of(t);
    match (mode, top) {
        (SECCOMP_MODE_STRICT, _) => {
            if STRICT_ALLOWED.contains(&data.nr) {
                return Verdict::Run;
            }
            audit::record(t, &data, SIGKILL, SECCOMP_RET_KILL_THREAD, true);
            exit_thread_with(t, SIGKILL);
            Verdict::Skip
        }
        (SECCOMP_MODE_FILTER, Some(top)) => filtered(t, &top, data, false),
        _ => Verdict::Run,
    }
}

/// Run the filters and carry out the winning action. `recheck`: the
/// second run after a tracer's PTRACE_EVENT_SECCOMP stop, where TRACE
/// means "run it".
fn filtered(t: &Arc<Task>, top: &Arc<Filter>, data: SeccompData, recheck: bool) -> Verdict {
    let (ret, matched) = filter::run_all(top, &data);
    let requested = matched.is_some_and(|f| f.log);
    let action = ret & SECCOMP_RET_ACTION_FULL;
    let value = ret & SECCOMP_RET_DATA;
    match action {
        SECCOMP_RET_ALLOW => Verdict::Run,
        SECCOMP_RET_LOG => {
            audit::record(t, &data, 0, action, true);
            Verdict::Run
        }
        SECCOMP_RET_ERRNO => {
            audit::record(t, &data, 0, action, requested);
            // 16 bits of data, but never past the errno range.
            let e = value.min(4095) as i64;
            t.lock().ctx.regs.rax = (-e) as u64;
            Verdict::Skip
        }
        SECCOMP_RET_TRAP => {
            audit::record(t, &data, 0, action, requested);
            // The handler sees the registers of the call (rax = nr).
            {
                let mut i = t.lock();
                i.ctx.regs.rax = i.ctx.regs.orig_rax;
            }
            signal::force_info(t, sigsys(&data, value));
            Verdict::Skip
        }
        SECCOMP_RET_TRACE => {
            if recheck {
                return Verdict::Run;
            }
            audit::record(t, &data, 0, action, requested);
            set_result(t, Errno::ENOSYS);
            if !super::ptrace::seccomp_wanted(t) {
                return Verdict::Skip;
            }
            super::ptrace::seccomp_event(t, value as u64);
            // Dying during the stop: the call must not run unchecked.
            if signal::fatal_pending(t) || t.state() == super::task::State::Dead {
                return Verdict::Skip;
            }
            // The tracer may have changed or cancelled the call: check
            // what is there now.
            let data = data_of(t);
            if data.nr < 0 {
                return Verdict::Skip;
            }
            filtered(t, top, data, true)
        }
        SECCOMP_RET_USER_NOTIF => {
            let Some(matched) = matched.cloned() else {
                return Verdict::Run;
            };
            let v = notify::user_notification(t, &matched, &data);
            if v == Verdict::Skip {
                audit::record(t, &data, 0, action, requested);
            }
            v
        }
        // KILL_THREAD, KILL_PROCESS and any unknown action.
        _ => {
            audit::record(t, &data, SIGSYS, action, requested);
            kill(t, &data, value, action == SECCOMP_RET_KILL_THREAD);
            Verdict::Skip
        }
    }
}

/// What the filters see of `t`'s syscall: its number, the architecture,
/// the address after the syscall instruction, the six arguments.
fn data_of(t: &Task) -> SeccompData {
    let i = t.lock();
    let r = &i.ctx.regs;
    SeccompData {
        nr: r.orig_rax as i32,
        arch: AUDIT_ARCH_X86_64,
        instruction_pointer: r.rip,
        args: [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9],
    }
}

fn set_result(t: &Task, e: Errno) {
    t.lock().ctx.regs.rax = (-(e.0 as i64)) as u64;
}

/// The SIGSYS of a TRAP or kill: si_code SYS_SECCOMP, the address after
/// the syscall instruction, the call and its architecture, and the
/// filter's data in si_errno.
fn sigsys(data: &SeccompData, value: u32) -> SigInfo {
    SigInfo {
        signo: SIGSYS,
        code: SYS_SECCOMP,
        errno: value as i32,
        addr: data.instruction_pointer,
        status: data.nr,
        value: data.arch as u64,
        ..Default::default()
    }
}

/// KILL_PROCESS, or KILL_THREAD of a process's last thread: the process
/// dies of SIGSYS, dumping core as that signal's default action does
/// (no handler or tracer can intervene). KILL_THREAD with other threads
/// left ends this thread only, with exit code SIGSYS.
fn kill(t: &Arc<Task>, data: &SeccompData, value: u32, thread_only: bool) {
    let alone = t.tg().lock().threads.len() == 1;
    if thread_only && !alone {
        exit_thread_with(t, SIGSYS);
        return;
    }
    // The dump shows the registers of the call.
    {
        let mut i = t.lock();
        i.ctx.regs.rax = i.ctx.regs.orig_rax;
    }
    let mut status = SIGSYS;
    if super::coredump::dump(t, &sigsys(data, value)) {
        status |= 0x80;
    }
    super::ptrace::exit_event(t, status);
    super::exit::group_exit(t, status);
}

/// Linux's do_exit(sig) from a syscall: this thread ends with wait
/// status `sig`, which becomes the process's if it was the last one.
fn exit_thread_with(t: &Arc<Task>, sig: i32) {
    super::ptrace::exit_event(t, sig);
    {
        let tg = t.tg();
        let mut g = tg.lock();
        if g.threads.len() == 1 && g.group_exit.is_none() {
            g.group_exit = Some(sig);
        }
    }
    super::exit::exit_thread(t);
}
