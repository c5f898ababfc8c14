//! Controlling terminals, sessions and job control: which tty a session
//! owns, acquiring and giving it up, the background read/write checks
//! (SIGTTIN/SIGTTOU), hangup when the controlling process exits, and
//! orphaned process groups (drivers/tty/tty_jobctrl.c, kernel/exit.c).
//!
//! A process's controlling tty is the tty whose session is the process's
//! session (Linux's signal->tty follows the same rule: set for the whole
//! session by the leader, cleared for the whole session on disassociation),
//! except for a process that gave it up with TIOCNOTTY.

use super::Tty;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::{self, SIGCONT, SIGHUP, SIGTTIN, SIG_IGN};
use crate::kernel::task::{self, lock, Pid, Task};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// Session id → its controlling tty.
static CTTYS: Mutex<BTreeMap<Pid, Arc<Tty>>> = Mutex::new(BTreeMap::new());
/// (tgid, sid) of non-leaders that dropped their controlling tty.
static DETACHED: Mutex<BTreeSet<(Pid, Pid)>> = Mutex::new(BTreeSet::new());

/// The controlling tty of session `sid`.
pub fn session_tty(sid: Pid) -> Option<Arc<Tty>> {
    lock(&CTTYS).get(&sid).cloned()
}

/// The controlling tty of `t`'s process.
pub fn ctty_of(t: &Task) -> Option<Arc<Tty>> {
    let (sid, _) = t.session_and_pgrp();
    if lock(&DETACHED).contains(&(t.tgid(), sid)) {
        return None;
    }
    session_tty(sid)
}

/// Is `tty` the controlling tty of `t`?
pub fn is_ctty(tty: &Tty, t: &Task) -> bool {
    ctty_of(t).is_some_and(|c| std::ptr::eq(Arc::as_ptr(&c), tty))
}

fn is_session_leader(t: &Task) -> bool {
    t.session_and_pgrp().0 == t.tgid()
}

/// Make `tty` the controlling tty of session `sid` with foreground `pgrp`.
pub fn set_ctty(tty: &Arc<Tty>, sid: Pid, pgrp: Pid) {
    tty.set_session(sid, pgrp);
    lock(&CTTYS).insert(sid, tty.clone());
    log::debug!(
        "tty: {} is now the controlling tty of session {}",
        tty.name,
        sid
    );
}

/// `tty` stops being anyone's controlling tty.
pub fn clear_session(tty: &Tty) {
    let sid = tty.set_session(0, 0);
    if sid != 0 {
        let mut m = lock(&CTTYS);
        if m.get(&sid)
            .is_some_and(|c| std::ptr::eq(Arc::as_ptr(c), tty))
        {
            m.remove(&sid);
        }
    }
}

/// open(2) of a tty without O_NOCTTY by a session leader without one
/// makes it the controlling tty (tty_open_proc_set_tty).
pub fn open_acquire(tty: &Arc<Tty>, t: &Task) {
    if !is_session_leader(t) || ctty_of(t).is_some() || tty.session() != 0 {
        return;
    }
    let (sid, pgid) = t.session_and_pgrp();
    set_ctty(tty, sid, pgid);
}

/// TIOCSCTTY: `steal` (arg 1, as root) takes a tty owned by another session.
pub fn tiocsctty(tty: &Arc<Tty>, t: &Task, steal: bool) -> KResult<()> {
    let (sid, pgid) = t.session_and_pgrp();
    if is_session_leader(t) && tty.session() == sid {
        return Ok(());
    }
    if !is_session_leader(t) || ctty_of(t).is_some() {
        return Err(Errno::EPERM);
    }
    if tty.session() != 0 {
        if !steal || t.creds().euid != 0 {
            return Err(Errno::EPERM);
        }
        clear_session(tty);
    }
    set_ctty(tty, sid, pgid);
    Ok(())
}

/// TIOCNOTTY: give up the controlling tty. The session leader's going
/// disassociates the whole session.
pub fn tiocnotty(tty: &Tty, t: &Task) -> KResult<()> {
    if !is_ctty(tty, t) {
        return Err(Errno::ENOTTY);
    }
    if is_session_leader(t) {
        disassociate(tty, false);
    } else {
        let sid = t.session_and_pgrp().0;
        lock(&DETACHED).insert((t.tgid(), sid));
    }
    Ok(())
}

/// The session leader lets go of `tty` (disassociate_ctty): the
/// foreground group hears SIGHUP (and SIGCONT unless the leader is
/// exiting); then nobody in the session has a controlling tty.
fn disassociate(tty: &Tty, on_exit: bool) {
    let pgrp = tty.foreground();
    if pgrp > 0 {
        signal::kill_pgrp(pgrp, SIGHUP);
        if !on_exit {
            signal::kill_pgrp(pgrp, SIGCONT);
        }
    }
    clear_session(tty);
}

/// Is `sig` blocked or ignored by `t` (the tty layer then does not use it
/// to stop `t`)?
fn is_ignored(t: &Task, sig: i32) -> bool {
    if t.lock().sigmask & signal::bit(sig) != 0 {
        return true;
    }
    let a = t
        .sighand()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(sig);
    a.handler == SIG_IGN
}

/// May `t` use `tty` as if in the foreground (__tty_check_change)? A
/// background process gets `sig` (SIGTTIN for reads, SIGTTOU for writes
/// with TOSTOP and for changing settings) and the call restarts once it is
/// continued; EIO if it cannot be stopped.
pub fn check_change(tty: &Tty, t: &Task, sig: i32) -> KResult<()> {
    if !is_ctty(tty, t) {
        return Ok(());
    }
    let fg = tty.foreground();
    let (_, pgrp) = t.session_and_pgrp();
    if fg == 0 || fg == pgrp {
        return Ok(());
    }
    if is_ignored(t, sig) {
        return if sig == SIGTTIN {
            Err(Errno::EIO)
        } else {
            Ok(())
        };
    }
    if will_become_orphaned(pgrp, None) {
        return Err(Errno::EIO);
    }
    log::debug!(
        "tty: {}: background process group {} gets signal {}",
        tty.name,
        pgrp,
        sig
    );
    signal::kill_pgrp(pgrp, sig);
    Err(Errno::ERESTARTSYS)
}

/// Does process group `pgrp` have a member in the session with a parent in
/// another group of that session (a "connection" that keeps it from being
/// orphaned), not counting `ignored`?
pub fn will_become_orphaned(pgrp: Pid, ignored: Option<Pid>) -> bool {
    for g in task::all_groups() {
        let (pg, sid, parent, zombie) = {
            let i = g.lock();
            (i.pgid, i.sid, i.parent, i.zombie.is_some())
        };
        if pg != pgrp || Some(g.tgid) == ignored || zombie || parent <= 1 {
            continue;
        }
        let Some(p) = task::group(parent) else {
            continue;
        };
        let (ppg, psid) = {
            let i = p.lock();
            (i.pgid, i.sid)
        };
        if ppg != pgrp && psid == sid {
            return false;
        }
    }
    true
}

fn has_stopped_jobs(pgrp: Pid) -> bool {
    task::all_groups().iter().any(|g| {
        let i = g.lock();
        i.pgid == pgrp && i.stopped && i.zombie.is_none()
    })
}

/// A process group that just became orphaned with stopped members gets
/// SIGHUP and SIGCONT, so they do not stay stopped forever.
fn kill_if_orphaned(pgrp: Pid, ignored: Option<Pid>) {
    if will_become_orphaned(pgrp, ignored) && has_stopped_jobs(pgrp) {
        log::debug!("tty: process group {} orphaned with stopped jobs", pgrp);
        signal::kill_pgrp(pgrp, SIGHUP);
        signal::kill_pgrp(pgrp, SIGCONT);
    }
}

/// Process `tgid` (session `sid`, group `pgid`, parent `parent`) is
/// exiting; `children` were its children, already handed to init. Called
/// before it becomes a zombie.
pub fn exit_notify(tgid: Pid, sid: Pid, pgid: Pid, parent: Pid, children: &[Pid]) {
    lock(&DETACHED).retain(|&(p, _)| p != tgid);
    // The controlling process exits: hang up its terminal.
    if tgid == sid {
        if let Some(tty) = session_tty(sid) {
            if tty.is_pty() {
                disassociate(&tty, true);
            } else {
                tty.hangup(true);
            }
        }
    }
    // Children whose group loses its last outside connection through us.
    for &c in children {
        let Some(cg) = task::group(c) else { continue };
        let (cpg, csid) = {
            let i = cg.lock();
            (i.pgid, i.sid)
        };
        if cpg != pgid && csid == sid {
            kill_if_orphaned(cpg, None);
        }
    }
    // Our own group, if we were its connection.
    if let Some(p) = task::group(parent) {
        let (ppg, psid) = {
            let i = p.lock();
            (i.pgid, i.sid)
        };
        if ppg != pgid && psid == sid {
            kill_if_orphaned(pgid, Some(tgid));
        }
    }
}

/// Signal the session of a hung-up tty: the session leader gets SIGHUP
/// and SIGCONT; when its controlling process exited, the foreground group
/// gets SIGHUP too (tty_signal_session_leader).
pub(super) fn signal_session_on_hangup(sid: Pid, pgrp: Pid, exit_session: bool) {
    if sid > 0 {
        if let Some(g) = task::group(sid) {
            if g.lock().sid == sid {
                let _ = signal::send_to_process(sid, signal::SigInfo::kernel(SIGHUP));
                let _ = signal::send_to_process(sid, signal::SigInfo::kernel(SIGCONT));
            }
        }
    }
    if exit_session && pgrp > 0 {
        signal::kill_pgrp(pgrp, SIGHUP);
    }
}

/// Forget every controlling-tty assignment (reboot).
pub fn reset() {
    lock(&CTTYS).clear();
    lock(&DETACHED).clear();
}
