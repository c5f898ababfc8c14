//! /proc/PID/fdinfo/N: an open file's position, flags (O_CLOEXEC from the
//! fd), mount id and inode number, then what its kind adds (a pidfd's
//! Pid: and NSpid: lines), in Linux's format.

use crate::fs::file::{File, O_CLOEXEC};
use crate::kernel::ns::Ns;
use crate::kernel::pidfd::PidFd;
use crate::kernel::task;
use std::sync::Arc;

/// The text of fdinfo for `f` at an fd that is close-on-exec or not.
/// `pidns`: the proc mount's pid namespace, which numbers a pidfd's
/// process.
pub(super) fn fdinfo(f: &Arc<File>, cloexec: bool, pidns: &Ns) -> String {
    let pos = *f.lock_pos();
    let flags = f.flags() | if cloexec { O_CLOEXEC } else { 0 };
    // Files without a path (pipes, sockets, pidfds) live on internal
    // mounts Linux does not list; 0 stands for those.
    let mnt = f
        .path
        .as_ref()
        .and_then(crate::fs::mount::mount_of)
        .map_or(0, |m| m.id);
    let ino = f.stat().map_or(0, |s| s.ino);
    let mut s = format!("pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt}\nino:\t{ino}\n");
    if let Some(p) = f
        .ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<PidFd>().ok())
    {
        // In the mount's pid namespace, then the levels below it; -1
        // once the process is reaped or when the namespace does not
        // hold it.
        let levels = if task::group(p.tgid).is_some() {
            crate::kernel::ns::pid::numbers_from(p.tgid, pidns)
        } else {
            Vec::new()
        };
        let nr = levels.first().copied().unwrap_or(-1);
        let nspid = if levels.is_empty() {
            "-1".to_string()
        } else {
            levels
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("\t")
        };
        s.push_str(&format!("Pid:\t{nr}\nNSpid:\t{nspid}\n"));
    }
    s
}
