//! dnotify: fcntl(F_NOTIFY) marks on directories. A change among a
//! watched directory's entries (or to the directory itself) sends the
//! file's owner (F_SETOWN; the marker by default) its F_SETSIG signal,
//! or SIGIO, once unless the mark is DN_MULTISHOT. Events arrive through
//! inotify's hook points
//! (`inotify::send`); marks go when their owner closes a descriptor of
//! the file or its last descriptor goes.

use super::file::File;
use super::inotify::{
    IN_ACCESS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_ISDIR, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO,
};
use super::vfs::Inode;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{Pid, Task};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

const DN_ACCESS: u32 = 0x1;
const DN_MODIFY: u32 = 0x2;
const DN_CREATE: u32 = 0x4;
const DN_DELETE: u32 = 0x8;
const DN_RENAME: u32 = 0x10;
const DN_ATTRIB: u32 = 0x20;
const DN_MULTISHOT: u32 = 0x8000_0000;

type Key = (u64, u64);

/// One F_NOTIFY registration: an open directory in one process.
struct Mark {
    file: Weak<File>,
    owner: Pid,
    /// The descriptor last given to F_NOTIFY (si_fd).
    fd: i32,
    /// The inotify events it wants, as Linux converts DN_* to FS_*.
    events: u32,
    multishot: bool,
}

static MARKS: Mutex<BTreeMap<Key, Vec<Mark>>> = Mutex::new(BTreeMap::new());
/// Whether any mark exists (the event hooks' fast path).
static ACTIVE: AtomicBool = AtomicBool::new(false);

fn marks() -> std::sync::MutexGuard<'static, BTreeMap<Key, Vec<Mark>>> {
    MARKS.lock().unwrap_or_else(|e| e.into_inner())
}

fn key_of(i: &dyn Inode) -> Key {
    let st = i.stat();
    (st.dev, st.ino)
}

fn same(m: &Mark, f: &File) -> bool {
    std::ptr::eq(m.file.as_ptr(), f)
}

fn settle(g: &mut BTreeMap<Key, Vec<Mark>>) {
    g.retain(|_, v| !v.is_empty());
    ACTIVE.store(!g.is_empty(), Ordering::Relaxed);
}

pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// DN_* to the inotify events that trigger it.
fn events_of(dn: u32) -> u32 {
    let mut e = 0;
    for (d, i) in [
        (DN_ACCESS, IN_ACCESS),
        (DN_MODIFY, IN_MODIFY),
        (DN_ATTRIB, IN_ATTRIB),
        (DN_CREATE, IN_CREATE | IN_MOVED_TO),
        (DN_DELETE, IN_DELETE | IN_MOVED_FROM),
        (DN_RENAME, IN_MOVED_FROM | IN_MOVED_TO),
    ] {
        if dn & d != 0 {
            e |= i;
        }
    }
    e
}

/// fcntl(fd, F_NOTIFY, arg) by `t`. Linux's order: no events removes
/// the caller's mark (on any file), then ENOTDIR; a second F_NOTIFY on
/// the same open directory adds to its mark.
pub fn fcntl_notify(t: &Task, fd: i32, f: &Arc<File>, arg: u64) -> KResult<u64> {
    let arg = arg as u32;
    let owner = t.tgid();
    if arg & !DN_MULTISHOT == 0 {
        flush(f, owner);
        return Ok(0);
    }
    let inode = f.inode.as_ref().ok_or(Errno::ENOTDIR)?;
    if !inode.stat().is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mut g = marks();
    let v = g.entry(key_of(&**inode)).or_default();
    if let Some(m) = v.iter_mut().find(|m| same(m, f) && m.owner == owner) {
        m.fd = fd;
        m.events |= events_of(arg);
        m.multishot |= arg & DN_MULTISHOT != 0;
    } else {
        v.push(Mark {
            file: Arc::downgrade(f),
            owner,
            fd,
            events: events_of(arg),
            multishot: arg & DN_MULTISHOT != 0,
        });
    }
    ACTIVE.store(true, Ordering::Relaxed);
    drop(g);
    super::fown::set_default(t, f, owner, super::fown::F_OWNER_PID);
    Ok(0)
}

/// Process `owner` closed a descriptor of `f`: its mark goes (Linux's
/// dnotify_flush at every close).
pub fn flush(f: &File, owner: Pid) {
    if !active() {
        return;
    }
    let mut g = marks();
    for v in g.values_mut() {
        v.retain(|m| !(same(m, f) && m.owner == owner));
    }
    settle(&mut g);
}

/// The last descriptor of `f` went: every mark through it goes.
pub fn file_released(f: &File) {
    if !active() {
        return;
    }
    let mut g = marks();
    for v in g.values_mut() {
        v.retain(|m| !same(m, f));
    }
    settle(&mut g);
}

/// The inotify event `mask` on `inode`; `child` is whether it concerns an
/// entry of the directory rather than the inode itself. As Linux, only
/// events on entries or on a directory itself reach dnotify.
pub fn event(inode: &dyn Inode, mask: u32, child: bool) {
    if !active() || !(child || mask & IN_ISDIR != 0) {
        return;
    }
    let mut tell = Vec::new();
    {
        let mut g = marks();
        let Some(v) = g.get_mut(&key_of(inode)) else {
            return;
        };
        v.retain(|m| {
            if m.events & mask == 0 {
                return true;
            }
            if let Some(f) = m.file.upgrade() {
                tell.push((f, m.fd));
            }
            m.multishot
        });
        settle(&mut g);
    }
    // To the file's owner (F_SETOWN; the marker unless changed).
    for (f, fd) in tell {
        super::fown::send_sigio(&f, fd, super::fown::POLL_MSG);
    }
}
