//! The process whose syscall this vCPU thread is handling: Linux's
//! `current`, for code below the VFS that is not handed the task
//! (/proc/self, ext4's reserved blocks). Outside a syscall (boot, the
//! scheduler's periodic commits) the kernel itself acts, as root.

use super::cred::Creds;
use super::task::{group, Pid};
use std::cell::Cell;

thread_local! {
    static CURRENT: Cell<Pid> = const { Cell::new(0) };
    static CURRENT_TID: Cell<Pid> = const { Cell::new(0) };
    /// The mount namespace of the task making the syscall (0: none),
    /// which path walks see mounts of.
    static MNT_NS: Cell<u64> = const { Cell::new(0) };
}

/// Set the process making the syscall about to run (0: none, which
/// also forgets its mount namespace).
pub fn set(tgid: Pid) {
    CURRENT.with(|c| c.set(tgid));
    if tgid == 0 {
        set_tid(0);
        MNT_NS.with(|c| c.set(0));
    }
}

/// Set the thread making the syscall about to run (0: none).
pub fn set_tid(tid: Pid) {
    CURRENT_TID.with(|c| c.set(tid));
}

/// Set the mount namespace (its id) of the task whose syscall runs.
pub fn set_mnt_ns(ns: u64) {
    MNT_NS.with(|c| c.set(ns));
}

/// The mount namespace of the task whose syscall runs, if any.
pub fn mnt_ns() -> Option<u64> {
    Some(MNT_NS.with(|c| c.get())).filter(|&n| n != 0)
}

/// The process making the current syscall, if any.
pub fn tgid() -> Option<Pid> {
    Some(CURRENT.with(|c| c.get())).filter(|&p| p != 0)
}

/// The thread making the current syscall, if any (fanotify's
/// FAN_REPORT_TID).
pub fn tid() -> Option<Pid> {
    Some(CURRENT_TID.with(|c| c.get())).filter(|&p| p != 0)
}

/// Call `f` with the credentials of the process making the current
/// syscall, or root's for the kernel itself. Takes the process's lock:
/// callers must not hold it (filesystems ask only on rare paths, such as
/// an allocation that would dip into the reserved blocks).
pub fn with_creds<R>(f: impl FnOnce(&Creds) -> R) -> R {
    match tgid().and_then(group) {
        Some(tg) => f(&tg.lock().creds),
        None => f(&Creds::ROOT),
    }
}
