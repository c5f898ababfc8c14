//! File owners and O_ASYNC: F_SETOWN/F_GETOWN(_EX), the per-object lists
//! of descriptions that asked for SIGIO, and the signal they are sent
//! (Linux's fown_struct, fasync_struct and send_sigio).

use super::file::File;
use crate::abi::fcntl::FOwnerEx;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::ns::pid as pidns;
use crate::kernel::signal::{self, SigInfo, SIGIO};
use crate::kernel::task::{self, Pid, Task};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

pub const F_OWNER_TID: i32 = 0;
pub const F_OWNER_PID: i32 = 1;
pub const F_OWNER_PGRP: i32 = 2;

/// SIGPOLL si_codes an event reports.
pub const POLL_IN: i32 = signal::POLL_IN;
pub const POLL_OUT: i32 = 2;
pub const POLL_HUP: i32 = signal::POLL_HUP;
pub const POLL_MSG: i32 = signal::POLL_MSG;
/// si_code for signals that have codes of their own (Linux's SI_SIGIO).
const SI_SIGIO: i32 = -5;

/// Who gets an open file description's SIGIO: a thread, a process or a
/// process group (global pids), with the setter's uid and euid for the
/// permission check at send time. pid 0: nobody.
#[derive(Clone, Copy, Debug, Default)]
pub struct Owner {
    pub pid: Pid,
    /// F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP.
    pub kind: i32,
    uid: u32,
    euid: u32,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Is `pid` a pid in use as a thread, process group or session (Linux's
/// find_vpid succeeding)?
fn pid_exists(pid: Pid) -> bool {
    task::task(pid).is_some()
        || task::all_groups().iter().any(|g| {
            let i = g.lock();
            i.pgid == pid || i.sid == pid
        })
}

/// Does the owner still name something (Linux's pid_task on its type)?
fn owner_alive(o: &Owner) -> bool {
    match o.kind {
        F_OWNER_PGRP => task::all_groups().iter().any(|g| {
            let i = g.lock();
            i.pgid == o.pid && i.zombie.is_none()
        }),
        F_OWNER_PID => task::group(o.pid).is_some(),
        _ => task::task(o.pid).is_some(),
    }
}

/// Set `f`'s owner to `local` (as `t` names it) of `kind`; 0 clears it.
fn set(t: &Arc<Task>, f: &File, local: i32, kind: i32) -> KResult<u64> {
    let pid = if local == 0 {
        0
    } else {
        let g = pidns::find(t, local).ok_or(Errno::ESRCH)?;
        if !pid_exists(g) {
            return Err(Errno::ESRCH);
        }
        g
    };
    let c = t.creds();
    *lock(&f.owner) = Owner {
        pid,
        kind,
        uid: c.uid,
        euid: c.euid,
    };
    Ok(0)
}

/// Give `f` the owner `pid` (global) of `kind` set by `t` unless it has
/// one (Linux's __f_setown without force: O_ASYNC on a tty, F_SETLEASE
/// and F_NOTIFY, whose signals go to the owner).
pub fn set_default(t: &Task, f: &File, pid: Pid, kind: i32) {
    let mut o = lock(&f.owner);
    if o.pid == 0 {
        let c = t.creds();
        *o = Owner {
            pid,
            kind,
            uid: c.uid,
            euid: c.euid,
        };
    }
}

/// F_SETOWN: a process (> 0) or process group (< 0).
pub fn setown(t: &Arc<Task>, f: &File, arg: u64) -> KResult<u64> {
    let who = arg as i32;
    if who == i32::MIN {
        return Err(Errno::EINVAL);
    }
    if who < 0 {
        set(t, f, -who, F_OWNER_PGRP)
    } else {
        set(t, f, who, F_OWNER_PID)
    }
}

/// F_GETOWN: the owner as `t` sees it, negative for a group, 0 when it
/// is gone.
pub fn getown(t: &Arc<Task>, f: &File) -> u64 {
    let o = *lock(&f.owner);
    if o.pid == 0 || !owner_alive(&o) {
        return 0;
    }
    let n = pidns::vnr(t, o.pid);
    (if o.kind == F_OWNER_PGRP { -n } else { n }) as i64 as u64
}

/// F_SETOWN_EX.
pub fn setown_ex(t: &Arc<Task>, f: &File, arg: u64) -> KResult<u64> {
    let o: FOwnerEx = crate::abi::read_val(&t.mm(), arg)?;
    if !(F_OWNER_TID..=F_OWNER_PGRP).contains(&o.type_) {
        return Err(Errno::EINVAL);
    }
    set(t, f, o.pid, o.type_)
}

/// F_GETOWN_EX.
pub fn getown_ex(t: &Arc<Task>, f: &File, arg: u64) -> KResult<u64> {
    let o = *lock(&f.owner);
    let pid = if o.pid != 0 && owner_alive(&o) {
        pidns::vnr(t, o.pid)
    } else {
        0
    };
    crate::abi::write_val(&t.mm(), arg, &FOwnerEx { type_: o.kind, pid })?;
    Ok(0)
}

/// May a signal from an owner set with `o`'s credentials reach `target`
/// (Linux's sigio_perm)?
fn perm(o: &Owner, target: &Task) -> bool {
    let c = target.creds();
    o.euid == 0 || o.euid == c.suid || o.euid == c.uid || o.uid == c.suid || o.uid == c.uid
}

/// The signal for event `reason` (POLL_IN, POLL_OUT, POLL_HUP) on `fd`:
/// plain SIGIO when F_SETSIG is 0, else that signal with si_band/si_fd.
fn siginfo(sig: u32, fd: i32, reason: i32) -> SigInfo {
    if sig == 0 {
        return SigInfo::kernel(SIGIO);
    }
    // POLLIN|POLLRDNORM, POLLOUT|POLLWRNORM|POLLWRBAND, ..., POLLHUP|POLLERR.
    const BAND: [u64; 6] = [0x41, 0x304, 0x441, 0x8, 0x82, 0x18];
    let code = match sig as i32 {
        signal::SIGILL
        | signal::SIGFPE
        | signal::SIGSEGV
        | signal::SIGBUS
        | signal::SIGTRAP
        | signal::SIGCHLD
        | signal::SIGSYS => SI_SIGIO,
        _ => reason,
    };
    SigInfo {
        signo: sig as i32,
        code,
        addr: BAND[(reason - POLL_IN) as usize],
        status: fd,
        ..Default::default()
    }
}

/// Send `f`'s owner the signal for `reason` on `fd` (send_sigio).
pub fn send_sigio(f: &File, fd: i32, reason: i32) {
    let o = *lock(&f.owner);
    if o.pid == 0 {
        return;
    }
    let info = siginfo(f.sig(), fd, reason);
    let to_process = |tgid: Pid| {
        let first = task::group(tgid).and_then(|g| g.lock().threads.first().copied());
        if let Some(t) = first.and_then(task::task) {
            if perm(&o, &t) {
                let _ = signal::send_to_process(tgid, info);
            }
        }
    };
    match o.kind {
        F_OWNER_TID => {
            if let Some(t) = task::task(o.pid) {
                if perm(&o, &t) {
                    signal::send_to_thread(&t, info);
                }
            }
        }
        F_OWNER_PID => {
            if let Some(t) = task::task(o.pid) {
                to_process(t.tgid());
            }
        }
        _ => {
            for g in task::all_groups() {
                let member = {
                    let i = g.lock();
                    i.pgid == o.pid && i.zombie.is_none()
                };
                if member {
                    to_process(g.tgid);
                }
            }
        }
    }
}

/// The descriptions of one object (a pipe's readers, a socket) that set
/// O_ASYNC, each with the fd it was set through (si_fd). Empty costs one
/// atomic load per event.
#[derive(Default)]
pub struct FasyncList {
    count: AtomicUsize,
    list: Mutex<Vec<(Weak<File>, i32)>>,
}

impl FasyncList {
    pub fn new() -> FasyncList {
        FasyncList::default()
    }

    /// O_ASYNC turned on (or set again through another fd) or off for `f`.
    pub fn set(&self, f: &Arc<File>, fd: i32, on: bool) {
        let mut l = lock(&self.list);
        l.retain(|(w, _)| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(f)));
        if on {
            l.push((Arc::downgrade(f), fd));
        }
        self.count.store(l.len(), Ordering::Relaxed);
    }

    /// Whether any description asked for SIGIO.
    pub fn armed(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// The object has an event: signal every O_ASYNC description's owner
    /// (kill_fasync).
    pub fn kill(&self, reason: i32) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let files: Vec<(Arc<File>, i32)> = lock(&self.list)
            .iter()
            .filter_map(|(w, fd)| w.upgrade().map(|f| (f, *fd)))
            .collect();
        for (f, fd) in files {
            send_sigio(&f, fd, reason);
        }
    }
}
