//! Process syscalls: clone/fork/vfork, exit, wait, process groups and
//! sessions, limits, uname/sysinfo, prctl/arch_prctl, futex, reboot.

use super::errno::{Errno, KResult};
use super::exit::{self, exit_status};
use super::syscall::Args;
use super::task::{self, lock, Task, TaskInner, TgInner, ThreadGroup, Tid};
use super::{cred, futex, sched, signal, time};
use crate::abi;
use crate::arch;
use std::sync::atomic::AtomicI32;
use std::sync::{Arc, Mutex};

pub const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_VFORK: u64 = 0x4000;
const CLONE_PARENT: u64 = 0x8000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

/// What one clone asks for, from clone's registers or clone3's struct.
pub struct CloneReq {
    /// The CLONE_* flags, without clone's exit signal byte.
    pub flags: u64,
    pub exit_signal: i32,
    /// The child's stack pointer (0: the parent's).
    pub stack: u64,
    pub ptid: u64,
    pub ctid: u64,
    pub tls: u64,
    /// Where CLONE_PIDFD stores the pidfd.
    pub pidfd: u64,
    /// set_tid: the pid the child must get.
    pub set_tid: Option<i32>,
    /// CLONE_INTO_CGROUP: the fd of the child's cgroup2 directory.
    pub cgroup: Option<i32>,
}

/// clone, fork, vfork
pub fn sys_clone(
    t: &Arc<Task>,
    flags: u64,
    stack: u64,
    ptid: u64,
    ctid: u64,
    tls: u64,
) -> KResult<u64> {
    // Legacy clone takes only the low 32 flag bits; CLONE_PIDFD's fd goes
    // to `ptid`, so it cannot be combined with CLONE_PARENT_SETTID.
    super::pidfd::clone_flags_ok(flags)?;
    let req = CloneReq {
        flags: flags & 0xffff_ff00,
        exit_signal: (flags & 0xff) as i32,
        stack,
        ptid,
        ctid,
        tls,
        pidfd: ptid,
        set_tid: None,
        cgroup: None,
    };
    do_clone(t, &req)
}

/// The part of clone and clone3 after their argument checks: make the
/// child task as `req` says.
pub fn do_clone(t: &Arc<Task>, req: &CloneReq) -> KResult<u64> {
    let (flags, stack, tls) = (req.flags, req.stack, req.tls);
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SETTLS != 0 && tls >= crate::mm::TASK_SIZE {
        // As arch_prctl(ARCH_SET_FS): the host could not load it.
        return Err(Errno::EPERM);
    }
    let child_ns = super::ns::sys::for_clone_checked(t, flags)?;
    super::nproc::may_fork(t)?;
    // A pid namespace's init may not make siblings (Linux: its parent
    // is outside the namespace).
    if flags & CLONE_PARENT != 0 && super::ns::pid::init_of(t.tgid()).is_some() {
        return Err(Errno::EINVAL);
    }
    // set_tid names the pid in the child's own namespace: the global
    // pid itself only when that is the initial one.
    let nested = super::ns::pid::of(&child_ns.pid).level > 0;
    let tid = match req.set_tid {
        Some(p) if !nested => task::alloc_pid_exact(p, t.creds().capable())?,
        Some(p) => {
            if !(1..32768).contains(&p) {
                return Err(Errno::EINVAL);
            }
            if !super::ns::capable_in(t, &child_ns.pid) {
                return Err(Errno::EPERM);
            }
            task::alloc_pid().ok_or(Errno::EAGAIN)?
        }
        None => task::alloc_pid().ok_or(Errno::EAGAIN)?,
    };
    let want = req.set_tid.filter(|_| nested);
    super::ns::pid::alloc(&child_ns.pid, tid, want)?;
    let cgroup = match req.cgroup {
        Some(fd) => crate::fs::cgroup::clone_target(t, fd, flags & CLONE_THREAD != 0)?,
        None => crate::fs::cgroup::group_of(t.tid),
    };
    crate::fs::cgroup::may_fork_into(cgroup)?;
    // CLONE_PIDFD: the parent's pidfd for the child, at `req.pidfd`.
    let pidfd = if flags & CLONE_PIDFD != 0 {
        Some(super::pidfd::install(t, tid, false)?)
    } else {
        None
    };
    let parent_mm = t.mm();
    let child_ctx = {
        let mut m = parent_mm.lock();
        let mut i = t.lock();
        m.sync_fpu(&mut i.ctx);
        if flags & CLONE_VM != 0 {
            m.host.set_multithreaded();
        }
        let mut c = i.ctx.duplicate();
        c.regs.rax = 0;
        if stack != 0 {
            c.regs.rsp = stack;
        }
        if flags & CLONE_SETTLS != 0 {
            c.regs.fs_base = tls;
        }
        c
    };
    // Threads share their process's vCPU (its address space is traced by
    // that vCPU); a new process goes where there is room among the
    // vCPUs its inherited mask allows.
    let cpu = if flags & CLONE_VM != 0 {
        super::smp::task_cpu(t.tid)
    } else {
        super::smp::pick_cpu(super::smp::affinity(t.tid))
    };
    let mm = if flags & CLONE_VM != 0 {
        parent_mm.clone()
    } else {
        parent_mm.fork(cpu == crate::arch::cpu::this_cpu())?
    };
    let (files, fs, sighand, sigmask, altstack, comm, nice, sched, seccomp, rseq) = {
        let i = t.lock();
        let files = if flags & CLONE_FILES != 0 {
            i.files.clone()
        } else {
            Arc::new(Mutex::new(lock(&i.files).clone()))
        };
        let fs = if flags & CLONE_FS != 0 {
            i.fs.clone()
        } else {
            Arc::new(Mutex::new(lock(&i.fs).clone()))
        };
        let sighand = if flags & CLONE_SIGHAND != 0 {
            i.sighand.clone()
        } else {
            let mut h = lock(&i.sighand).clone();
            if flags & CLONE_CLEAR_SIGHAND != 0 {
                // Handlers go back to default, ignored signals stay ignored.
                h.reset_for_exec();
            }
            Arc::new(Mutex::new(h))
        };
        let alt = if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
            (0, 0, signal::SS_DISABLE)
        } else {
            i.altstack
        };
        let sched = i.sched.forked();
        (
            files,
            fs,
            sighand,
            i.sigmask,
            alt,
            i.comm.clone(),
            i.nice,
            sched,
            i.seccomp.clone(),
            super::rseq::for_child(i.rseq, flags & CLONE_VM != 0),
        )
    };
    let tgid = if flags & CLONE_THREAD != 0 {
        let tg = t.tg();
        tg.lock().threads.push(tid);
        tg.tgid
    } else {
        let ptg = t.tg();
        let pi = ptg.lock();
        let parent = if flags & CLONE_PARENT != 0 {
            pi.parent
        } else {
            ptg.tgid
        };
        let g = Arc::new(ThreadGroup {
            tgid: tid,
            inner: Mutex::new(TgInner {
                exit_signal: req.exit_signal,
                dumpable: pi.dumpable,
                securebits: pi.securebits,
                cap_bset: pi.cap_bset,
                oom_score_adj: pi.oom_score_adj,
                ..TgInner::new(
                    parent,
                    vec![tid],
                    (pi.pgid, pi.sid),
                    pi.creds.clone(),
                    pi.rlimits,
                )
            }),
            child_wq: Default::default(),
        });
        drop(pi);
        task::insert_group(g);
        if parent == ptg.tgid {
            ptg.lock().children.push(tid);
        } else if let Some(pp) = task::group(parent) {
            pp.lock().children.push(tid);
        }
        tid
    };
    let child = Arc::new(Task {
        tid,
        tgid: AtomicI32::new(tgid),
        acct: Default::default(),
        inner: Mutex::new(TaskInner {
            sigmask,
            altstack,
            clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 {
                req.ctid
            } else {
                0
            },
            vfork_parent: if flags & CLONE_VFORK != 0 {
                Some(t.tid)
            } else {
                None
            },
            nice,
            sched,
            ns: child_ns,
            seccomp,
            rseq,
            ..TaskInner::new(child_ctx, mm.clone(), files, fs, sighand, comm)
        }),
    });
    // The parent sees the child's number in its own pid namespace, the
    // child its number in the child's.
    let parent_view = super::ns::pid::vnr(t, tid);
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = parent_mm.write_u32(req.ptid, parent_view as u32);
    }
    if let Some(fd) = pidfd {
        let _ = parent_mm.write_u32(req.pidfd, fd as u32);
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        let own = super::ns::pid::nr_in(tid, &child.lock().ns.pid);
        let _ = mm.write_u32(req.ctid, own as u32);
    }
    super::smp::place(tid, cpu);
    super::smp::inherit_affinity(t.tid, tid);
    task::insert_task(child);
    crate::fs::cgroup::forked_into(tid, cgroup);
    super::keys::forked(t, tid, flags & CLONE_THREAD != 0);
    // A traced parent's child may be traced from its first instruction.
    let trace = super::ptrace::fork_attach(t, tid, flags, req.exit_signal);
    super::acct::forked();
    sched::enqueue_front(tid);
    sched::yield_now();
    super::ptrace::fork_event(t, trace, tid);
    if flags & CLONE_VFORK != 0 {
        // Sleep until the child execs or exits (it then drops its
        // `vfork_parent`, or is gone). Once the child exists the call
        // cannot fail (Linux): other signals wait until it returns the
        // child's pid, and a fatal one ends the wait (the process dies on
        // the way out).
        let released = || task::task(tid).is_none_or(|c| c.lock().vfork_parent != Some(t.tid));
        while !released() {
            if !sched::wait_killable(t, None) {
                break;
            }
        }
        super::ptrace::vfork_done(t, tid);
    }
    Ok(parent_view as u64)
}

/// exit
pub fn sys_exit(t: &Arc<Task>, code: i32) -> KResult<u64> {
    super::ptrace::exit_event(t, exit_status(code));
    let tg = t.tg();
    {
        let mut g = tg.lock();
        if g.threads.len() == 1 && g.group_exit.is_none() {
            g.group_exit = Some(exit_status(code));
        }
    }
    exit::exit_thread(t);
    Err(Errno::EJUSTRETURN)
}

/// exit_group
pub fn sys_exit_group(t: &Arc<Task>, code: i32) -> KResult<u64> {
    super::ptrace::exit_event(t, exit_status(code));
    exit::group_exit(t, exit_status(code));
    Err(Errno::EJUSTRETURN)
}

const WNOHANG: i32 = 1;
const WUNTRACED: i32 = 2;
const WEXITED: i32 = 4;
const WCONTINUED: i32 = 8;
const WNOWAIT: i32 = 0x0100_0000;

enum Found {
    Exited(Tid, i32),
    Stopped(Tid, i32),
    Continued(Tid),
    /// A tracee's ptrace-stop (its wait status), to its tracer.
    Traced(Tid, i32),
    /// A tracee's exit reported to its tracer: nothing to reap.
    TracedExit(Tid, i32),
}

impl Found {
    fn pid(&self) -> Tid {
        match *self {
            Found::Exited(p, _)
            | Found::Stopped(p, _)
            | Found::Continued(p)
            | Found::Traced(p, _)
            | Found::TracedExit(p, _) => p,
        }
    }
}

/// A report from the caller's tracees first (`pid` as wait4's), then
/// its children; ECHILD only with neither.
fn find_any(
    t: &Task,
    pid: i32,
    sel: &dyn Fn(&ThreadGroup, &TgInner) -> bool,
    opts: i32,
) -> KResult<Option<Found>> {
    use super::ptrace::wait::Report;
    let (r, tracees) = super::ptrace::wait::find(t.tgid(), pid, opts & WNOWAIT != 0);
    match r {
        Some(Report::Stopped(p, st)) => return Ok(Some(Found::Traced(p, st))),
        Some(Report::Exited(p, st)) => return Ok(Some(Found::TracedExit(p, st))),
        None => {}
    }
    match find_child(t, sel, opts) {
        Err(Errno::ECHILD) if tracees => Ok(None),
        r => r,
    }
}

/// Find a child matching `sel` whose state change can be reported.
fn find_child(
    t: &Task,
    sel: &dyn Fn(&ThreadGroup, &TgInner) -> bool,
    opts: i32,
) -> KResult<Option<Found>> {
    let me = t.tg();
    let children = me.lock().children.clone();
    let mut any = false;
    for c in children {
        let Some(cg) = task::group(c) else { continue };
        let mut ci = cg.lock();
        if !sel(&cg, &ci) {
            continue;
        }
        any = true;
        if opts & WEXITED != 0 {
            if let Some(st) = ci.zombie {
                // A pid namespace's init is reported once the rest of its
                // namespace is gone.
                drop(ci);
                if super::ns::pid::init_still_zapping(c) {
                    continue;
                }
                return Ok(Some(Found::Exited(c, st)));
            }
        }
        if opts & WUNTRACED != 0 {
            if let Some(st) = ci.stop_report {
                if st != 0xffff {
                    if opts & WNOWAIT == 0 {
                        ci.stop_report = None;
                    }
                    return Ok(Some(Found::Stopped(c, st)));
                }
            }
        }
        if opts & WCONTINUED != 0 && ci.stop_report == Some(0xffff) {
            if opts & WNOWAIT == 0 {
                ci.stop_report = None;
            }
            return Ok(Some(Found::Continued(c)));
        }
    }
    if !any {
        return Err(Errno::ECHILD);
    }
    Ok(None)
}

/// `find_child`, sleeping on the process's child wait queue until a
/// matching child has something to report; `None` only with WNOHANG.
/// A signal ends the wait with ERESTARTSYS (SA_RESTART restarts it).
fn wait_child(
    t: &Task,
    pid: i32,
    sel: &dyn Fn(&ThreadGroup, &TgInner) -> bool,
    opts: i32,
) -> KResult<Option<Found>> {
    let tg = t.tg();
    let mut interrupted = None;
    loop {
        // Queued before looking, so a change after the look wakes us.
        if opts & WNOHANG == 0 {
            tg.child_wq.add(t.tid);
        }
        if let Some(f) = find_any(t, pid, sel, opts)? {
            return Ok(Some(f));
        }
        if opts & WNOHANG != 0 {
            return Ok(None);
        }
        // Linux looks once more after a signal: a child whose exit both
        // woke us and sent SIGCHLD is reported. A stale queue entry costs
        // only a spurious wake.
        if let Some(e) = interrupted {
            return Err(e);
        }
        interrupted = sched::wait(t, None).err();
    }
}

fn reap(t: &Task, pid: Tid) {
    let me = t.tg();
    if let Some(child) = task::group(pid) {
        super::acct::reaped(&me, &child);
    }
    me.lock().children.retain(|&c| c != pid);
    task::remove_group(pid);
}

/// wait's pid argument (a pid, or minus a process group) in global
/// numbers; a number the caller's pid namespace does not have becomes
/// one no process has (ECHILD).
fn global_wait_pid(t: &Task, pid: i32) -> i32 {
    const NONE: i32 = i32::MAX;
    match pid {
        -1 | 0 => pid,
        p if p > 0 => super::ns::pid::find(t, p).unwrap_or(NONE),
        p => p
            .checked_neg()
            .and_then(|g| super::ns::pid::find(t, g))
            .map_or(-NONE, |g| -g),
    }
}

fn selector(t: &Task, pid: i32) -> Box<dyn Fn(&ThreadGroup, &TgInner) -> bool> {
    let my_pgid = t.tg().lock().pgid;
    match pid {
        -1 => Box::new(|_, _| true),
        0 => Box::new(move |_, i| i.pgid == my_pgid),
        p if p > 0 => Box::new(move |g, _| g.tgid == p),
        p => Box::new(move |_, i| i.pgid == -p),
    }
}

/// wait4
pub fn sys_wait4(t: &Arc<Task>, pid: i32, status: u64, opts: i32, rusage: u64) -> KResult<u64> {
    if opts & !(WNOHANG | WUNTRACED | WCONTINUED | 0x6000_0000 | i32::MIN) != 0 {
        return Err(Errno::EINVAL);
    }
    let pid = global_wait_pid(t, pid);
    let sel = selector(t, pid);
    match wait_child(t, pid, &*sel, opts | WEXITED)? {
        Some(f) => {
            let p = f.pid();
            let shown = super::ns::pid::vnr(t, p);
            // Read before reaping folds the child into our children's times.
            let ru = super::sys_rusage::child_rusage(p);
            let st = match f {
                Found::Exited(p, st) => {
                    reap(t, p);
                    st
                }
                Found::Stopped(_, st) | Found::Traced(_, st) | Found::TracedExit(_, st) => st,
                Found::Continued(_) => 0xffff,
            };
            if status != 0 {
                t.mm().write_u32(status, st as u32)?;
            }
            if rusage != 0 {
                abi::write_val(&t.mm(), rusage, &ru)?;
            }
            Ok(shown as u64)
        }
        None => Ok(0),
    }
}

/// waitid
pub fn sys_waitid(
    t: &Arc<Task>,
    idtype: i32,
    id: i32,
    infop: u64,
    opts: i32,
    rusage: u64,
) -> KResult<u64> {
    let mut opts_nonblock = false;
    let pid = match idtype {
        0 => -1,
        1 => id,
        2 => {
            if id == 0 {
                0
            } else {
                -id
            }
        }
        // P_PIDFD: the pidfd's process; a non-blocking pidfd makes the
        // wait WNOHANG, with EAGAIN when nothing is ready.
        3 => {
            if id < 0 {
                return Err(Errno::EINVAL);
            }
            let (p, nonblock) = super::pidfd::target(t, id)?;
            if nonblock {
                opts_nonblock = true;
            }
            p
        }
        _ => return Err(Errno::EINVAL),
    };
    if opts & (WEXITED | WUNTRACED | WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    let opts = if opts_nonblock { opts | WNOHANG } else { opts };
    // A pidfd's process is already a global pid.
    let pid = if idtype == 3 {
        pid
    } else {
        global_wait_pid(t, pid)
    };
    let sel = selector(t, pid);
    match wait_child(t, pid, &*sel, opts)? {
        Some(f) => {
            let p = f.pid();
            let ru = super::sys_rusage::child_rusage(p);
            // Numbered before reaping frees the pid.
            let shown = super::ns::pid::vnr(t, p);
            let (code, st) = match f {
                Found::Exited(p, st) | Found::TracedExit(p, st) => {
                    if opts & WNOWAIT == 0 && matches!(f, Found::Exited(..)) {
                        reap(t, p);
                    }
                    if st & 0x7f != 0 {
                        // CLD_DUMPED (3) when a core was written.
                        (signal::CLD_KILLED + (st >> 7 & 1), st & 0x7f)
                    } else {
                        (signal::CLD_EXITED, (st >> 8) & 0xff)
                    }
                }
                // CLD_TRAPPED, with the whole stop code (event bits too).
                Found::Traced(_, st) => (4, (st >> 8) & 0xffff),
                Found::Stopped(_, st) => (signal::CLD_STOPPED, (st >> 8) & 0xff),
                Found::Continued(_) => (signal::CLD_CONTINUED, signal::SIGCONT),
            };
            if infop != 0 {
                let si = signal::SigInfo {
                    signo: signal::SIGCHLD,
                    code,
                    pid: shown,
                    status: st,
                    ..Default::default()
                };
                abi::write_val(&t.mm(), infop, &si.to_abi())?;
            }
            if rusage != 0 {
                abi::write_val(&t.mm(), rusage, &ru)?;
            }
            Ok(0)
        }
        None if opts_nonblock => Err(Errno::EAGAIN),
        // WNOHANG and nothing to report.
        None => {
            if infop != 0 {
                t.mm().write(infop, &[0u8; 128])?;
            }
            if rusage != 0 {
                t.mm().write(rusage, &[0u8; 144])?;
            }
            Ok(0)
        }
    }
}

pub fn parent_pid(t: &Task) -> i32 {
    t.tg().lock().parent
}

/// setpgid
pub fn sys_setpgid(t: &Arc<Task>, pid: i32, pgid: i32) -> KResult<u64> {
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let me = t.tgid();
    let target = if pid == 0 {
        me
    } else {
        super::ns::pid::find(t, pid).ok_or(Errno::ESRCH)?
    };
    let tg = task::group(target).ok_or(Errno::ESRCH)?;
    if target != me && tg.lock().parent != me {
        return Err(Errno::ESRCH);
    }
    let pg = if pgid == 0 {
        target
    } else {
        // A group the caller cannot name does not exist for it.
        super::ns::pid::find(t, pgid).ok_or(Errno::EPERM)?
    };
    let my_sid = t.tg().lock().sid;
    let mut g = tg.lock();
    if g.sid != my_sid {
        return Err(Errno::EPERM);
    }
    if g.sid == target {
        return Err(Errno::EPERM);
    }
    if pg != target {
        let exists = task::all_groups().iter().any(|x| {
            x.tgid != target && {
                let i = x.lock();
                i.pgid == pg && i.sid == my_sid
            }
        });
        if !exists {
            return Err(Errno::EPERM);
        }
    }
    g.pgid = pg;
    Ok(0)
}

/// The process `pid` names for the caller (0: itself); ESRCH.
fn named_group(t: &Task, pid: i32) -> KResult<Arc<ThreadGroup>> {
    if pid == 0 {
        return Ok(t.tg());
    }
    super::ns::pid::find(t, pid)
        .and_then(task::group)
        .ok_or(Errno::ESRCH)
}

/// getpgid, getpgrp: the group's number in the caller's pid namespace
/// (0 when its leader is outside it).
pub fn sys_getpgid(t: &Arc<Task>, pid: i32) -> KResult<u64> {
    let pg = named_group(t, pid)?.lock().pgid;
    Ok(super::ns::pid::vnr(t, pg) as u64)
}

/// getsid: as getpgid, for the session.
pub fn sys_getsid(t: &Arc<Task>, pid: i32) -> KResult<u64> {
    let s = named_group(t, pid)?.lock().sid;
    Ok(super::ns::pid::vnr(t, s) as u64)
}

/// setsid
pub fn sys_setsid(t: &Arc<Task>) -> KResult<u64> {
    let me = t.tgid();
    let leader = task::all_groups()
        .iter()
        .any(|g| g.tgid != me && g.lock().pgid == me);
    let tg = t.tg();
    let mut g = tg.lock();
    if g.pgid == me || leader {
        return Err(Errno::EPERM);
    }
    g.sid = me;
    g.pgid = me;
    drop(g);
    Ok(super::ns::pid::vnr(t, me) as u64)
}

/// The node name of the caller's UTS namespace (the initial one for the
/// kernel itself): /proc/sys/kernel/hostname.
pub fn hostname() -> String {
    shown(super::ns::with_current_uts(|n| n.hostname.clone()))
}

/// An unset name shows as "(none)", as Linux's UTS_NODENAME default.
fn shown(h: String) -> String {
    if h.is_empty() {
        "(none)".into()
    } else {
        h
    }
}

pub const RELEASE: &str = "6.6.0-ruml";

/// uname
pub fn sys_uname(t: &Arc<Task>, buf: u64) -> KResult<u64> {
    let mut u: abi::resource::Utsname = bytemuck::Zeroable::zeroed();
    let names = super::ns::hostname_of(t);
    let d = names.domainname;
    let fields = [
        "Linux".to_string(),
        shown(names.hostname),
        RELEASE.to_string(),
        format!("#1 ruml {}", env!("CARGO_PKG_VERSION")),
        "x86_64".to_string(),
        if d.is_empty() { "(none)".into() } else { d },
    ];
    let slots = [
        &mut u.sysname,
        &mut u.nodename,
        &mut u.release,
        &mut u.version,
        &mut u.machine,
        &mut u.domainname,
    ];
    for (slot, f) in slots.into_iter().zip(&fields) {
        // At most 64 bytes: the 65th is the NUL.
        let n = f.len().min(64);
        slot[..n].copy_from_slice(&f.as_bytes()[..n]);
    }
    abi::write_val(&t.mm(), buf, &u)?;
    Ok(0)
}

/// sethostname
pub fn sys_sethostname(t: &Arc<Task>, name: u64, len: usize) -> KResult<u64> {
    set_uts_name(t, name, len, true)
}

/// sethostname (`host`) and setdomainname: CAP_SYS_ADMIN over the
/// caller's UTS namespace.
fn set_uts_name(t: &Arc<Task>, name: u64, len: usize, host: bool) -> KResult<u64> {
    let uts = super::ns::of(t).uts;
    if !super::ns::capable_in(t, &uts) {
        return Err(Errno::EPERM);
    }
    if len > 64 {
        return Err(Errno::EINVAL);
    }
    let b = t.mm().read_vec(name, len)?;
    let v = String::from_utf8_lossy(&b).into_owned();
    let mut n = lock(uts.uts().ok_or(Errno::EINVAL)?);
    if host {
        n.hostname = v;
    } else {
        n.domainname = v;
    }
    Ok(0)
}

/// setdomainname
pub fn sys_setdomainname(t: &Arc<Task>, name: u64, len: usize) -> KResult<u64> {
    set_uts_name(t, name, len, false)
}

/// The NIS domain name (uname's domainname).
pub fn domainname() -> String {
    super::ns::with_current_uts(|n| n.domainname.clone())
}

/// Set the NIS domain name (setdomainname, kernel.domainname).
pub fn set_domainname(d: &str) {
    super::ns::with_current_uts(|n| n.domainname = d.to_string());
}

pub fn set_hostname(h: &str) {
    super::ns::with_current_uts(|n| n.hostname = h.to_string());
}

/// sysinfo
pub fn sys_sysinfo(t: &Arc<Task>, buf: u64) -> KResult<u64> {
    let (total, free) = crate::mm::frame::stats();
    let si = abi::resource::Sysinfo {
        uptime: time::uptime_ns() / 1_000_000_000,
        totalram: total * 4096,
        freeram: free * 4096,
        procs: task::all_tasks().len() as u16,
        mem_unit: 1,
        ..Default::default()
    };
    abi::write_val(&t.mm(), buf, &si)?;
    Ok(0)
}

fn rlimit_target(t: &Arc<Task>, pid: i32) -> KResult<Arc<ThreadGroup>> {
    named_group(t, pid)
}

/// prlimit64
pub fn sys_prlimit64(t: &Arc<Task>, pid: i32, res: u32, new: u64, old: u64) -> KResult<u64> {
    if res as usize >= task::RLIM_NLIMITS {
        return Err(Errno::EINVAL);
    }
    let tg = rlimit_target(t, pid)?;
    let c = t.creds();
    let (cur, target_creds) = {
        let g = tg.lock();
        (g.rlimits[res as usize], g.creds.clone())
    };
    // Another process's limits: only with all the same ids, or
    // CAP_SYS_RESOURCE (Linux's check_prlimit_permission).
    if tg.tgid != t.tgid() && !c.capable() && !cred::owns_all_ids(&c, &target_creds) {
        return Err(Errno::EPERM);
    }
    if new != 0 {
        let abi::resource::Rlimit {
            rlim_cur: s,
            rlim_max: h,
        } = abi::read_val(&t.mm(), new)?;
        if s > h {
            return Err(Errno::EINVAL);
        }
        // Raising a hard limit needs CAP_SYS_RESOURCE; no one gets more
        // files than fs.nr_open. Lowering NOFILE closes nothing: only new
        // fds are checked against it.
        let nofile = res as usize == task::RLIMIT_NOFILE;
        if (nofile && h > task::NR_OPEN_MAX) || (h > cur.1 && !c.capable()) {
            return Err(Errno::EPERM);
        }
        tg.lock().rlimits[res as usize] = (s, h);
        super::rlimits::note_set(res as usize, s, h);
    }
    if old != 0 {
        let r = abi::resource::Rlimit {
            rlim_cur: cur.0,
            rlim_max: cur.1,
        };
        abi::write_val(&t.mm(), old, &r)?;
    }
    Ok(0)
}

/// getrlimit
pub fn sys_getrlimit(t: &Arc<Task>, res: u32, old: u64) -> KResult<u64> {
    sys_prlimit64(t, 0, res, 0, old)
}

/// setrlimit
pub fn sys_setrlimit(t: &Arc<Task>, res: u32, new: u64) -> KResult<u64> {
    sys_prlimit64(t, 0, res, new, 0)
}

/// prctl
pub fn sys_prctl(t: &Arc<Task>, op: i32, a2: u64, a3: u64, a4: u64, a5: u64) -> KResult<u64> {
    if let Some(r) = super::seccomp::sys::prctl(t, op, [a2, a3, a4, a5]) {
        return r;
    }
    if let Some(r) = super::securebits::prctl(t, op, [a2, a3, a4, a5]) {
        return r;
    }
    match op {
        1 | 36 => Ok(0),
        2 => {
            t.mm().write_u32(a2, 0)?;
            Ok(0)
        }
        // PR_GET_DUMPABLE, PR_SET_DUMPABLE: only SUID_DUMP_DISABLE (0)
        // and SUID_DUMP_USER (1) may be set, as Linux.
        3 => Ok(t.tg().lock().dumpable as u64),
        4 => {
            if a2 > 1 {
                return Err(Errno::EINVAL);
            }
            t.tg().lock().dumpable = a2 == 1;
            Ok(0)
        }
        15 => {
            let b = t.mm().read_cstr_bytes(a2, 64).unwrap_or_default();
            let n = b.len().min(15);
            t.lock().comm = String::from_utf8_lossy(&b[..n]).into_owned();
            Ok(0)
        }
        16 => {
            let mut c = t.lock().comm.clone().into_bytes();
            c.truncate(15);
            c.resize(16, 0);
            t.mm().write(a2, &c)?;
            Ok(0)
        }
        37 => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// arch_prctl
pub fn sys_arch_prctl(t: &Arc<Task>, code: i32, addr: u64) -> KResult<u64> {
    match code {
        0x1001 => {
            t.lock().ctx.regs.gs_base = addr;
            Ok(0)
        }
        0x1002 => {
            if addr >= crate::mm::TASK_SIZE {
                return Err(Errno::EPERM);
            }
            t.lock().ctx.regs.fs_base = addr;
            Ok(0)
        }
        0x1003 => {
            let v = t.lock().ctx.regs.fs_base;
            t.mm().write_u64(addr, v)?;
            Ok(0)
        }
        0x1004 => {
            let v = t.lock().ctx.regs.gs_base;
            t.mm().write_u64(addr, v)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// set_tid_address
pub fn sys_set_tid_address(t: &Arc<Task>, ptr: u64) -> KResult<u64> {
    t.lock().clear_child_tid = ptr;
    Ok(super::ns::pid::vnr(t, t.tid) as u64)
}

/// sched_yield
pub fn sys_sched_yield(_t: &Arc<Task>) -> KResult<u64> {
    sched::yield_now();
    Ok(0)
}

/// getcpu: the vCPU the task runs on; one NUMA node.
pub fn sys_getcpu(t: &Arc<Task>, cpu: u64, node: u64) -> KResult<u64> {
    if cpu != 0 {
        t.mm().write_u32(cpu, super::smp::task_cpu(t.tid) as u32)?;
    }
    if node != 0 {
        t.mm().write_u32(node, 0)?;
    }
    Ok(0)
}

/// capget: the header's version is checked first (an unknown one is
/// answered with the kernel's, _LINUX_CAPABILITY_VERSION_3, written back,
/// and EINVAL, or 0 when no data is asked for: libcap-ng probes the
/// version so), then its pid (negative: EINVAL; not found: ESRCH). The
/// sets are the target's (`Creds::capability_sets`), one 32-bit word
/// for version 1, two for versions 2 and 3.
pub fn sys_capget(t: &Arc<Task>, hdr: u64, data: u64) -> KResult<u64> {
    let mm = t.mm();
    let h: abi::resource::CapUserHeader = abi::read_val(&mm, hdr)?;
    let words = match h.version {
        abi::resource::CAP_VERSION_1 => 1,
        abi::resource::CAP_VERSION_2 | abi::resource::CAP_VERSION_3 => 2,
        _ => {
            mm.write_u32(hdr, abi::resource::CAP_VERSION_3)?;
            return if data == 0 { Ok(0) } else { Err(Errno::EINVAL) };
        }
    };
    if data == 0 {
        return Ok(0);
    }
    if h.pid < 0 {
        return Err(Errno::EINVAL);
    }
    let target = super::sys_sched::target(t, h.pid)?;
    let (perm, eff) = target.creds().capability_sets();
    let word = |i: u32| abi::resource::CapUserData {
        effective: (eff >> (32 * i)) as u32,
        permitted: (perm >> (32 * i)) as u32,
        inheritable: 0,
    };
    if words == 1 {
        abi::write_val(&mm, data, &word(0))?;
    } else {
        abi::write_val(&mm, data, &[word(0), word(1)])?;
    }
    Ok(0)
}

/// getrandom
pub fn sys_getrandom(t: &Arc<Task>, buf: u64, len: usize, _flags: u32) -> KResult<u64> {
    let n = len.min(1 << 20);
    let mut b = vec![0u8; n];
    crate::drivers::char::host_console::host_random(&mut b);
    t.mm().write(buf, &b)?;
    Ok(n as u64)
}

/// futex
pub fn sys_futex(t: &Arc<Task>, a: Args) -> KResult<u64> {
    let (addr, op, val, tmo, addr2, val3) = (a.u(0), a.u32(1), a.u32(2), a.u(3), a.u(4), a.u32(5));
    let cmd = op & 127;
    const FUTEX_PRIVATE_FLAG: u32 = 128;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let mm = t.mm();
    let read_deadline = |abs: bool| -> KResult<Option<i64>> {
        if tmo == 0 {
            return Ok(None);
        }
        let v = abi::read_val::<abi::time::Timespec>(&mm, tmo)?.to_ns()?;
        Ok(Some(if abs {
            if op & futex::FUTEX_CLOCK_REALTIME != 0 {
                time::monotonic_ns().saturating_add(v.saturating_sub(time::realtime_ns()))
            } else {
                time::guest_mono_to_kernel(v)
            }
        } else {
            time::monotonic_ns().saturating_add(v)
        }))
    };
    match cmd {
        futex::FUTEX_WAIT | futex::FUTEX_WAIT_BITSET => {
            let bitset = if cmd == futex::FUTEX_WAIT {
                u32::MAX
            } else {
                val3
            };
            let dl = read_deadline(cmd == futex::FUTEX_WAIT_BITSET)?;
            futex::wait(t, addr, val, bitset, dl, private)
        }
        futex::FUTEX_WAKE | futex::FUTEX_WAKE_BITSET => {
            let bitset = if cmd == futex::FUTEX_WAKE {
                u32::MAX
            } else {
                val3
            };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(futex::wake(&mm, addr, val, bitset, private)? as u64)
        }
        futex::FUTEX_REQUEUE => futex::requeue(&mm, addr, val, tmo as u32, addr2, None, private),
        futex::FUTEX_CMP_REQUEUE => {
            futex::requeue(&mm, addr, val, tmo as u32, addr2, Some(val3), private)
        }
        futex::FUTEX_WAKE_OP => futex::wake_op(&mm, addr, val, tmo as u32, addr2, val3, private),
        _ => Err(Errno::ENOSYS),
    }
}

/// reboot
pub fn sys_reboot(t: &Arc<Task>, magic1: u32, magic2: u32, cmd: u32) -> KResult<u64> {
    if !t.creds().capable() {
        return Err(Errno::EPERM);
    }
    if magic1 != 0xfee1_dead || ![672274793, 85072278, 369367448, 537993216].contains(&magic2) {
        return Err(Errno::EINVAL);
    }
    match cmd {
        0x4321_fedc | 0xcdef_0123 => {
            let msg = if cmd == 0x4321_fedc {
                "reboot: Power down"
            } else {
                "reboot: System halted"
            };
            // Like the kernel's emergency sync at power off: nothing
            // written is lost, and ext filesystems are left clean.
            crate::fs::ext4::shutdown_all();
            super::printk::printk(msg);
            crate::drivers::char::host_console::restore_terminal();
            arch::host_exit(0);
        }
        0x0123_4567 => {
            crate::fs::ext4::shutdown_all();
            // The vCPU loop reboots once this task gives the vCPU back:
            // its own kernel context cannot tear everything down.
            super::sched::request_reboot();
            Err(Errno::EJUSTRETURN)
        }
        0x89ab_cdef | 0 => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
