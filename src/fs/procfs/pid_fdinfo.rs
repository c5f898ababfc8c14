//! /proc/PID/fdinfo/N: an open file's position, flags (O_CLOEXEC from the
//! fd), mount id and inode number, then what its kind adds (a pidfd's
//! Pid: and NSpid: lines), in Linux's format.

use crate::fs::file::{File, O_CLOEXEC};
use crate::kernel::pidfd::PidFd;
use crate::kernel::task;
use std::sync::Arc;

/// The text of fdinfo for `f` at an fd that is close-on-exec or not.
pub(super) fn fdinfo(f: &Arc<File>, cloexec: bool) -> String {
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
        // -1 once the process is reaped.
        let nr = if task::group(p.tgid).is_some() {
            p.tgid
        } else {
            -1
        };
        s.push_str(&format!("Pid:\t{nr}\nNSpid:\t{nr}\n"));
    }
    s
}
