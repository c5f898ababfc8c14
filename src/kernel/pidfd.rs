//! Process file descriptors: pidfd_open, pidfd_send_signal, pidfd_getfd
//! and CLONE_PIDFD. A pidfd names one process by its tgid; it polls
//! readable once the process has exited (a zombie or reaped), and
//! waitid(P_PIDFD) waits for it.

use super::errno::{Errno, KResult};
use super::signal::{self, SigInfo, SI_USER};
use super::sys_fs::fd_file;
use super::task::{self, lock, Pid, Task};
use super::wait::WaitQueue;
use crate::abi::{self, signal::Siginfo};
use crate::fs::file::{File, FileOps, O_NONBLOCK, O_RDWR, POLLHUP, POLLIN};
use std::sync::{Arc, OnceLock};

/// Woken at every process exit: where pidfd pollers sleep.
fn exit_wq() -> &'static Arc<WaitQueue> {
    static WQ: OnceLock<Arc<WaitQueue>> = OnceLock::new();
    WQ.get_or_init(Default::default)
}

/// A process became a zombie (or was reaped): wake pidfd pollers.
pub fn process_exited() {
    exit_wq().wake_all();
}

/// The open file of a pidfd.
pub struct PidFd {
    pub tgid: Pid,
}

impl FileOps for PidFd {
    /// Readable once the process has exited; hung up once it is reaped.
    fn poll(&self, _f: &File) -> u32 {
        match task::group(self.tgid) {
            None => POLLIN | POLLHUP,
            Some(g) if g.lock().zombie.is_some() => POLLIN,
            Some(_) => 0,
        }
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(exit_wq().clone())
    }
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
}

/// The process a pidfd names and whether it is non-blocking; EBADF for
/// other files (Linux's pidfd_get_pid).
pub fn target(t: &Task, fd: i32) -> KResult<(Pid, bool)> {
    let f = fd_file(t, fd)?;
    let nonblock = f.flags() & O_NONBLOCK != 0;
    let p = f
        .ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<PidFd>().ok())
        .ok_or(Errno::EBADF)?;
    Ok((p.tgid, nonblock))
}

/// A new pidfd (close-on-exec) for process `tgid` in `t`'s fd table.
pub fn install(t: &Task, tgid: Pid, nonblock: bool) -> KResult<i32> {
    let f = File::new(
        Arc::new(PidFd { tgid }),
        None,
        None,
        O_RDWR | if nonblock { O_NONBLOCK } else { 0 },
    );
    let nofile = t.nofile();
    lock(&t.files()).install(f, true, nofile)
}

/// pidfd_open: the process must exist (ESRCH) and `pid` must be a
/// process, not another thread (EINVAL), unless PIDFD_THREAD.
pub fn sys_pidfd_open(t: &Arc<Task>, pid: i32, flags: u32) -> KResult<u64> {
    const PIDFD_THREAD: u32 = 0o200; // O_EXCL
    if flags & !(O_NONBLOCK | PIDFD_THREAD) != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    // The number is the caller's pid namespace's.
    let pid = crate::kernel::ns::pid::find(t, pid).ok_or(Errno::ESRCH)?;
    let tgid = match task::group(pid) {
        Some(g) => g.tgid,
        None => {
            let th = task::task(pid).ok_or(Errno::ESRCH)?;
            if flags & PIDFD_THREAD == 0 {
                return Err(Errno::EINVAL);
            }
            th.tgid()
        }
    };
    Ok(install(t, tgid, flags & O_NONBLOCK != 0)? as u64)
}

/// pidfd_send_signal: as kill(2) on the pidfd's process; with a siginfo,
/// as rt_sigqueueinfo (only the process itself may send codes >= 0 or
/// SI_TKILL). A zombie takes the signal and drops it; a reaped process is
/// ESRCH.
pub fn sys_pidfd_send_signal(
    t: &Arc<Task>,
    pidfd: i32,
    sig: i32,
    info: u64,
    flags: u32,
) -> KResult<u64> {
    const SIGNAL_FLAGS: u32 = 0x7; // PIDFD_SIGNAL_THREAD, _THREAD_GROUP, _PROCESS_GROUP
    const SI_TKILL: i32 = -6;
    if flags & !SIGNAL_FLAGS != 0 || flags.count_ones() > 1 {
        return Err(Errno::EINVAL);
    }
    let (tgid, _) = target(t, pidfd)?;
    if !(0..=signal::NSIG).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let si = if info != 0 {
        let u: Siginfo = abi::read_val(&t.mm(), info)?;
        if u.si_signo != sig {
            return Err(Errno::EINVAL);
        }
        if tgid != t.tgid() && (u.si_code >= 0 || u.si_code == SI_TKILL) {
            return Err(Errno::EPERM);
        }
        SigInfo {
            signo: sig,
            code: u.si_code,
            pid: t.tgid(),
            value: u.fields::<abi::signal::SigfieldsKill>().si_value,
            ..Default::default()
        }
    } else {
        SigInfo::user(sig, t.tgid(), SI_USER)
    };
    super::sys_signal::may_kill(t, tgid, sig)?;
    signal::send_to_process(tgid, si)?;
    Ok(0)
}

/// pidfd_getfd: a duplicate (close-on-exec) of the target's fd, for a
/// caller allowed to ptrace it (EPERM); EBADF when it has no such fd,
/// ESRCH when it has exited.
pub fn sys_pidfd_getfd(t: &Arc<Task>, pidfd: i32, fd: i32, flags: u32) -> KResult<u64> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let (tgid, _) = target(t, pidfd)?;
    let tg = task::group(tgid).ok_or(Errno::ESRCH)?;
    super::ptrace_access::check_read(Some(t.tgid()), tgid).map_err(|e| match e {
        Errno::ENOENT => Errno::ESRCH,
        _ => Errno::EPERM,
    })?;
    // An exited process has no files left (ESRCH, as Linux).
    let first = {
        let g = tg.lock();
        if g.zombie.is_some() {
            return Err(Errno::ESRCH);
        }
        g.threads.first().copied()
    };
    let owner = first.and_then(task::task).ok_or(Errno::ESRCH)?;
    let file = lock(&owner.files()).get(fd)?;
    let nofile = t.nofile();
    Ok(lock(&t.files()).install(file, true, nofile)? as u64)
}

/// CLONE_PIDFD's check of clone's flags (Linux's kernel_clone): the
/// pidfd and the parent's tid would share one address.
pub fn clone_flags_ok(flags: u64) -> KResult<()> {
    const CLONE_PIDFD: u64 = 0x1000;
    const CLONE_DETACHED: u64 = 0x400000;
    const CLONE_PARENT_SETTID: u64 = 0x100000;
    if flags & CLONE_PIDFD != 0 && flags & (CLONE_DETACHED | CLONE_PARENT_SETTID) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}
