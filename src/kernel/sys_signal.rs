//! Signal syscalls: rt_sigaction, rt_sigprocmask, rt_sigreturn, kill,
//! tkill/tgkill, sigaltstack, rt_sigsuspend, rt_sigtimedwait, pause,
//! signalfd/signalfd4.

use super::cred;
use super::errno::{Errno, KResult};
use super::sched;
use super::signal::{
    self, bit, SigAction, SigInfo, NSIG, SIGCONT, SIGKILL, SIGSTOP, SI_TKILL, SI_USER, UNBLOCKABLE,
};
use super::task::{self, Pid, Task};
use super::time;
use crate::abi::{
    self,
    signal::{KSigaction, SigfieldsKill, Siginfo, Stack},
    time::Timespec,
};
use crate::fs::file::{File, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::fs::signalfd::SignalFd;
use std::sync::Arc;

/// rt_sigaction
pub fn sys_rt_sigaction(t: &Arc<Task>, sig: i32, act: u64, old: u64, size: usize) -> KResult<u64> {
    if !(1..=NSIG).contains(&sig) || size != 8 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let new = if act != 0 {
        if sig == SIGKILL || sig == SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let a: KSigaction = abi::read_val(&mm, act)?;
        Some(SigAction {
            handler: a.sa_handler,
            flags: a.sa_flags,
            restorer: a.sa_restorer,
            mask: a.sa_mask & !UNBLOCKABLE,
        })
    } else {
        None
    };
    let sh = t.sighand();
    let prev = {
        let mut s = sh.lock().unwrap_or_else(|e| e.into_inner());
        let prev = s.get(sig);
        if let Some(n) = new {
            s.set(sig, n);
        }
        prev
    };
    if let Some(n) = new {
        // Setting SIG_IGN (or default-ignore) discards pending instances.
        if n.handler == signal::SIG_IGN
            || (n.handler == signal::SIG_DFL && matches!(sig, 17 | 23 | 28))
        {
            t.tg().lock().pending.remove(bit(sig));
            for tid in t.tg().lock().threads.clone() {
                if let Some(x) = task::task(tid) {
                    x.lock().pending.remove(bit(sig));
                }
            }
        }
    }
    if old != 0 {
        let a = KSigaction {
            sa_handler: prev.handler,
            sa_flags: prev.flags,
            sa_restorer: prev.restorer,
            sa_mask: prev.mask,
        };
        abi::write_val(&mm, old, &a)?;
    }
    Ok(0)
}

/// rt_sigprocmask
pub fn sys_rt_sigprocmask(
    t: &Arc<Task>,
    how: i32,
    set: u64,
    old: u64,
    size: usize,
) -> KResult<u64> {
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let cur = t.lock().sigmask;
    if set != 0 {
        let s = mm.read_u64(set)?;
        let n = match how {
            0 => cur | s,
            1 => cur & !s,
            2 => s,
            _ => return Err(Errno::EINVAL),
        };
        t.lock().sigmask = n & !UNBLOCKABLE;
    }
    if old != 0 {
        mm.write_u64(old, cur)?;
    }
    Ok(0)
}

/// rt_sigreturn
pub fn sys_rt_sigreturn(t: &Arc<Task>) -> KResult<u64> {
    if signal::sigreturn(t).is_err() {
        super::exit::group_exit(t, signal::SIGSEGV);
    }
    Err(Errno::EJUSTRETURN)
}

fn check_sig(sig: i32) -> KResult<()> {
    if !(0..=NSIG).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Linux's check_kill_permission: `t` may signal its own process, a
/// process whose ids match (`cred::may_signal`), and with SIGCONT any
/// process of its session; otherwise EPERM.
pub(crate) fn may_kill(t: &Task, target: Pid, sig: i32) -> KResult<()> {
    if target == t.tgid() {
        return Ok(());
    }
    let tg = task::group(target).ok_or(Errno::ESRCH)?;
    let (creds, sid) = {
        let g = tg.lock();
        (g.creds.clone(), g.sid)
    };
    if cred::may_signal(&t.creds(), &creds) || (sig == SIGCONT && sid == t.session_and_pgrp().0) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// kill
pub fn sys_kill(t: &Arc<Task>, pid: i32, sig: i32) -> KResult<u64> {
    check_sig(sig)?;
    let info = SigInfo::user(sig, t.tgid(), SI_USER);
    let pidns = super::ns::pid::active(t);
    let find = |p: i32| super::ns::pid::find_in(p, &pidns);
    if pid > 0 {
        let pid = find(pid).ok_or(Errno::ESRCH)?;
        may_kill(t, pid, sig)?;
        signal::send_to_process(pid, info)?;
        return Ok(0);
    }
    let targets: Vec<i32> = if pid == 0 || pid < -1 {
        let pg = if pid == 0 {
            t.tg().lock().pgid
        } else {
            pid.checked_neg().and_then(find).ok_or(Errno::ESRCH)?
        };
        task::all_groups()
            .into_iter()
            .filter(|g| {
                let i = g.lock();
                i.pgid == pg && i.zombie.is_none()
            })
            .map(|g| g.tgid)
            .collect()
    } else {
        // -1: everyone the caller's pid namespace holds but its init
        // and the caller.
        task::all_groups()
            .into_iter()
            .filter(|g| {
                super::ns::pid::nr_in(g.tgid, &pidns) > 1
                    && g.tgid != t.tgid()
                    && g.lock().zombie.is_none()
            })
            .map(|g| g.tgid)
            .collect()
    };
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    // As Linux: a process group counts as signalled when one member was;
    // kill(-1) ignores the processes it may not signal.
    let mut sent = false;
    for &p in &targets {
        if may_kill(t, p, sig).is_ok() {
            signal::send_to_process(p, info)?;
            sent = true;
        }
    }
    if sent || pid == -1 {
        Ok(0)
    } else {
        Err(Errno::EPERM)
    }
}

fn thread_kill(t: &Arc<Task>, tgid: Option<i32>, tid: i32, sig: i32) -> KResult<u64> {
    check_sig(sig)?;
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let target = super::ns::pid::find(t, tid)
        .and_then(task::task)
        .ok_or(Errno::ESRCH)?;
    if let Some(g) = tgid {
        if Some(target.tgid()) != super::ns::pid::find(t, g) {
            return Err(Errno::ESRCH);
        }
    }
    may_kill(t, target.tgid(), sig)?;
    if sig == 0 {
        return Ok(0);
    }
    signal::send_to_thread(&target, SigInfo::user(sig, t.tgid(), SI_TKILL));
    Ok(0)
}

/// tkill
pub fn sys_tkill(t: &Arc<Task>, tid: i32, sig: i32) -> KResult<u64> {
    thread_kill(t, None, tid, sig)
}

/// tgkill
pub fn sys_tgkill(t: &Arc<Task>, tgid: i32, tid: i32, sig: i32) -> KResult<u64> {
    if tgid <= 0 {
        return Err(Errno::EINVAL);
    }
    thread_kill(t, Some(tgid), tid, sig)
}

/// rt_sigqueueinfo
pub fn sys_rt_sigqueueinfo(t: &Arc<Task>, pid: i32, sig: i32, info: u64) -> KResult<u64> {
    check_sig(sig)?;
    let u: Siginfo = abi::read_val(&t.mm(), info)?;
    let code = u.si_code;
    let value = u.fields::<SigfieldsKill>().si_value;
    let si = SigInfo {
        signo: sig,
        code,
        pid: t.tgid(),
        value,
        ..Default::default()
    };
    let pid = super::ns::pid::find(t, pid).ok_or(Errno::ESRCH)?;
    may_kill(t, pid, sig)?;
    signal::send_to_process(pid, si)?;
    Ok(0)
}

/// rt_sigpending
pub fn sys_rt_sigpending(t: &Arc<Task>, set: u64, size: usize) -> KResult<u64> {
    if size > 8 {
        return Err(Errno::EINVAL);
    }
    let p = t.lock().pending.set | t.tg().lock().pending.set;
    let mask = t.lock().sigmask;
    t.mm().write_u64(set, p & mask)?;
    Ok(0)
}

/// sigaltstack
pub fn sys_sigaltstack(t: &Arc<Task>, ss: u64, old: u64) -> KResult<u64> {
    let mm = t.mm();
    let cur = t.lock().altstack;
    if old != 0 {
        let sp = t.lock().ctx.regs.rsp;
        let on = cur.1 != 0 && sp > cur.0 && sp <= cur.0 + cur.1;
        let flags = if cur.1 == 0 {
            signal::SS_DISABLE
        } else if on {
            signal::SS_ONSTACK
        } else {
            0
        };
        let st = Stack {
            ss_sp: cur.0,
            ss_flags: flags,
            _pad: 0,
            ss_size: cur.1,
        };
        abi::write_val(&mm, old, &st)?;
    }
    if ss != 0 {
        let Stack {
            ss_sp: sp,
            ss_flags: flags,
            ss_size: size,
            ..
        } = abi::read_val(&mm, ss)?;
        if flags & !(signal::SS_DISABLE | (1 << 31)) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & signal::SS_DISABLE != 0 {
            t.lock().altstack = (0, 0, signal::SS_DISABLE);
        } else {
            if size < 2048 {
                return Err(Errno::ENOMEM);
            }
            t.lock().altstack = (sp, size, 0);
        }
    }
    Ok(0)
}

/// rt_sigsuspend: sleep with a temporary mask until a signal is to be
/// acted on. The caller's mask comes back on the way out to user mode,
/// after the handler (signal::deliver restores `saved_mask`).
pub fn sys_rt_sigsuspend(t: &Arc<Task>, mask: u64, size: usize) -> KResult<u64> {
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let m = t.mm().read_u64(mask)?;
    {
        let mut i = t.lock();
        let old = i.sigmask;
        i.saved_mask = Some(old);
        i.sigmask = m & !UNBLOCKABLE;
    }
    // Only a signal ends it (ERESTARTSYS, ERESTARTNOHAND for this
    // syscall); any other wake-up is spurious.
    loop {
        sched::wait(t, None)?;
    }
}

/// pause
pub fn sys_pause(t: &Arc<Task>) -> KResult<u64> {
    loop {
        sched::wait(t, None)?;
    }
}

/// rt_sigtimedwait
pub fn sys_rt_sigtimedwait(
    t: &Arc<Task>,
    set: u64,
    info: u64,
    ts: u64,
    size: usize,
) -> KResult<u64> {
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let want = mm.read_u64(set)? & !UNBLOCKABLE;
    let dl = if ts != 0 {
        let Timespec {
            tv_sec: s,
            tv_nsec: ns,
        } = abi::read_val(&mm, ts)?;
        Some(
            time::monotonic_ns()
                .saturating_add(s.saturating_mul(1_000_000_000))
                .saturating_add(ns),
        )
    } else {
        None
    };
    // Take a pending signal from the set (thread first, then process).
    let take = || -> KResult<Option<u64>> {
        let Some(si) = signal::dequeue_from(t, want) else {
            return Ok(None);
        };
        if info != 0 {
            abi::write_val(&mm, info, &si.to_abi())?;
        }
        Ok(Some(si.signo as u64))
    };
    loop {
        if let Some(sig) = take()? {
            return Ok(sig);
        }
        if dl.is_some_and(|d| time::monotonic_ns() >= d) {
            return Err(Errno::EAGAIN);
        }
        // Signals in the set wake us even though they are blocked
        // (send_to_* wakes a blocked thread when every thread blocks the
        // signal); other signals end the wait.
        if sched::wait(t, dl).is_err() {
            // A signal of the set that is not blocked is pending too:
            // it is taken rather than delivered, as Linux dequeues after
            // its sleep whatever woke it. Otherwise EINTR, never a
            // restart (Linux's do_sigtimedwait), also after a stop.
            return take()?.ok_or(Errno::EINTR);
        }
    }
}

/// signalfd, signalfd4: create a signalfd reading the signals in `mask`
/// (`fd` = -1), or replace the mask of the signalfd `fd`.
pub fn sys_signalfd4(t: &Arc<Task>, fd: i32, mask: u64, size: usize, flags: u32) -> KResult<u64> {
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 || size != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = t.mm().read_u64(mask)?;
    if fd != -1 {
        let f = task::lock(&t.files()).get(fd)?;
        let sfd = f
            .ops
            .clone()
            .into_any()
            .and_then(|a| a.downcast::<SignalFd>().ok())
            .ok_or(Errno::EINVAL)?;
        sfd.set_mask(mask);
        return Ok(fd as u64);
    }
    let f = File::new(
        SignalFd::new(mask, t),
        None,
        None,
        O_RDWR | (flags & O_NONBLOCK),
    );
    let nofile = t.nofile();
    Ok(task::lock(&t.files()).install(f, flags & O_CLOEXEC != 0, nofile)? as u64)
}
