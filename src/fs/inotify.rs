//! inotify: files that report filesystem events (create, delete, modify,
//! attribute changes, opens, closes, moves) on watched files and
//! directories as `struct inotify_event` records.
//!
//! Watches are keyed by (device, inode number), so they follow the file
//! whichever dentry or handle reaches it. The VFS and syscall layers call
//! the `fsnotify_*` functions at each event; they return at once while
//! nobody watches anything (one atomic load).

use super::file::{File, FileOps, POLLIN};
use super::fown::{FasyncList, POLL_IN};
use super::vfs::{Inode, Path};
use crate::abi::stat::InotifyEvent;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::wait::WaitQueue;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

pub const IN_ACCESS: u32 = 0x1;
pub const IN_MODIFY: u32 = 0x2;
pub const IN_ATTRIB: u32 = 0x4;
pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
pub const IN_OPEN: u32 = 0x20;
pub const IN_MOVED_FROM: u32 = 0x40;
pub const IN_MOVED_TO: u32 = 0x80;
pub const IN_CREATE: u32 = 0x100;
pub const IN_DELETE: u32 = 0x200;
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
const IN_Q_OVERFLOW: u32 = 0x4000;
const IN_IGNORED: u32 = 0x8000;
const IN_ALL_EVENTS: u32 = 0xfff;
pub const IN_ONLYDIR: u32 = 0x0100_0000;
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
const IN_EXCL_UNLINK: u32 = 0x0400_0000;
const IN_MASK_CREATE: u32 = 0x1000_0000;
const IN_MASK_ADD: u32 = 0x2000_0000;
pub const IN_ISDIR: u32 = 0x4000_0000;
const IN_ONESHOT: u32 = 0x8000_0000;
/// /proc/sys/fs/inotify/max_queued_events.
const MAX_QUEUED: usize = 16384;
/// Size of `struct inotify_event` without its name.
const EVENT_HEADER: usize = core::mem::size_of::<InotifyEvent>();

type Key = (u64, u64);

fn key_of(inode: &dyn Inode) -> Key {
    let st = inode.stat();
    (st.dev, st.ino)
}

struct Watch {
    wd: i32,
    key: Key,
    mask: u32,
    /// Held as Linux holds the inode: the watch keeps it alive.
    _inode: Arc<dyn Inode>,
}

struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: String,
}

impl Event {
    /// Bytes in a read: the header and the name padded with NULs to a
    /// multiple of the header size, as Linux pads it.
    fn size(&self) -> usize {
        EVENT_HEADER + self.name_len()
    }
    fn name_len(&self) -> usize {
        if self.name.is_empty() {
            0
        } else {
            (self.name.len() + 1).next_multiple_of(EVENT_HEADER)
        }
    }
    fn write(&self, out: &mut [u8]) {
        let h = InotifyEvent {
            wd: self.wd,
            mask: self.mask,
            cookie: self.cookie,
            len: self.name_len() as u32,
        };
        crate::abi::write_at(out, 0, &h);
        let n = &mut out[EVENT_HEADER..self.size()];
        n.fill(0);
        n[..self.name.len()].copy_from_slice(self.name.as_bytes());
    }
}

#[derive(Default)]
struct Inner {
    watches: Vec<Watch>,
    next_wd: i32,
    queue: VecDeque<Event>,
    overflowed: bool,
}

/// One inotify instance (the open file inotify_init returns).
pub struct Inotify {
    inner: Mutex<Inner>,
    wq: Arc<WaitQueue>,
    /// O_ASYNC descriptions: SIGIO (POLL_IN) for each event queued.
    fasync: FasyncList,
}

/// Every instance, for the event hooks.
static INSTANCES: Mutex<Vec<Weak<Inotify>>> = Mutex::new(Vec::new());
/// Watches in all instances: the hooks' fast path.
static WATCHES: AtomicUsize = AtomicUsize::new(0);
static NEXT_COOKIE: AtomicU32 = AtomicU32::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Inotify {
    pub fn new() -> Arc<Inotify> {
        let i = Arc::new(Inotify {
            inner: Mutex::new(Inner {
                next_wd: 1,
                ..Default::default()
            }),
            wq: Arc::new(WaitQueue::new()),
            fasync: FasyncList::new(),
        });
        let mut all = lock(&INSTANCES);
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&i));
        i
    }

    /// inotify_add_watch on `inode`: a new watch descriptor, or the one
    /// that already watches it with its mask replaced (or, with
    /// IN_MASK_ADD, extended).
    pub fn add_watch(&self, inode: Arc<dyn Inode>, mask: u32) -> KResult<i32> {
        if mask & IN_ALL_EVENTS == 0
            || mask & (IN_MASK_ADD | IN_MASK_CREATE) == IN_MASK_ADD | IN_MASK_CREATE
        {
            return Err(Errno::EINVAL);
        }
        let key = key_of(&*inode);
        let bits = mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
        let mut g = lock(&self.inner);
        if let Some(w) = g.watches.iter_mut().find(|w| w.key == key) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            w.mask = if mask & IN_MASK_ADD != 0 {
                w.mask | bits
            } else {
                bits
            };
            return Ok(w.wd);
        }
        let wd = g.next_wd;
        g.next_wd += 1;
        g.watches.push(Watch {
            wd,
            key,
            mask: bits,
            _inode: inode,
        });
        WATCHES.fetch_add(1, Ordering::Relaxed);
        Ok(wd)
    }

    /// inotify_rm_watch: the watch goes, and IN_IGNORED says so.
    pub fn rm_watch(&self, wd: i32) -> KResult<()> {
        let mut g = lock(&self.inner);
        let i = g
            .watches
            .iter()
            .position(|w| w.wd == wd)
            .ok_or(Errno::EINVAL)?;
        g.watches.remove(i);
        WATCHES.fetch_sub(1, Ordering::Relaxed);
        let queued = Self::push(&mut g, wd, IN_IGNORED, 0, "");
        drop(g);
        self.wq.wake_all();
        if queued {
            self.fasync.kill(POLL_IN);
        }
        Ok(())
    }

    /// Queue an event; whether one was added (not merged or dropped).
    fn push(g: &mut Inner, wd: i32, mask: u32, cookie: u32, name: &str) -> bool {
        if let Some(last) = g.queue.back() {
            // Linux merges an event identical to the last one queued.
            if last.wd == wd && last.mask == mask && last.cookie == cookie && last.name == name {
                return false;
            }
        }
        if g.queue.len() >= MAX_QUEUED {
            let first = !g.overflowed;
            if first {
                g.overflowed = true;
                g.queue.push_back(Event {
                    wd: -1,
                    mask: IN_Q_OVERFLOW,
                    cookie: 0,
                    name: String::new(),
                });
            }
            return first;
        }
        g.queue.push_back(Event {
            wd,
            mask,
            cookie,
            name: name.to_string(),
        });
        true
    }

    /// Queue `mask` (with `name` for an event in a watched directory) for
    /// the watch on `key`, if it asks for it.
    fn deliver(&self, key: Key, mask: u32, cookie: u32, name: &str, self_gone: bool) {
        let mut g = lock(&self.inner);
        let Some(i) = g.watches.iter().position(|w| w.key == key) else {
            return;
        };
        let w = &g.watches[i];
        let (wd, wmask) = (w.wd, w.mask);
        let wanted = wmask & mask & IN_ALL_EVENTS != 0;
        let mut queued = false;
        if wanted {
            queued = Self::push(&mut g, wd, mask, cookie, name);
        }
        // A watch ends when its file is gone or after one event (oneshot).
        if self_gone || (wanted && wmask & IN_ONESHOT != 0) {
            g.watches.remove(i);
            WATCHES.fetch_sub(1, Ordering::Relaxed);
            queued |= Self::push(&mut g, wd, IN_IGNORED, 0, "");
        }
        let any = !g.queue.is_empty();
        drop(g);
        if any {
            self.wq.wake_all();
        }
        if queued {
            self.fasync.kill(POLL_IN);
        }
    }

    fn bytes_ready(&self) -> usize {
        lock(&self.inner).queue.iter().map(Event::size).sum()
    }
}

impl FileOps for Inotify {
    fn fasync_list(&self) -> Option<&crate::fs::fown::FasyncList> {
        Some(&self.fasync)
    }
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        let mut g = lock(&self.inner);
        let Some(first) = g.queue.front() else {
            return Err(Errno::EAGAIN);
        };
        if first.size() > buf.len() {
            return Err(Errno::EINVAL);
        }
        let mut n = 0;
        while let Some(e) = g.queue.front() {
            if n + e.size() > buf.len() {
                break;
            }
            e.write(&mut buf[n..n + e.size()]);
            n += e.size();
            if e.mask == IN_Q_OVERFLOW {
                g.overflowed = false;
            }
            g.queue.pop_front();
        }
        Ok(n)
    }
    fn poll(&self, _f: &File) -> u32 {
        if lock(&self.inner).queue.is_empty() {
            0
        } else {
            POLLIN
        }
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.wq.clone())
    }
    fn ioctl(
        &self,
        _f: &File,
        t: &Arc<crate::kernel::task::Task>,
        cmd: u32,
        arg: u64,
    ) -> KResult<u64> {
        if cmd != crate::abi::ioctl::FIONREAD {
            return Err(Errno::ENOTTY);
        }
        t.mm().write_u32(arg, self.bytes_ready() as u32)?;
        Ok(0)
    }
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
    fn name(&self) -> Option<String> {
        Some("anon_inode:inotify".into())
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        let n = lock(&self.inner).watches.len();
        WATCHES.fetch_sub(n, Ordering::Relaxed);
    }
}

/// Is anything watched at all? (The hooks' fast path.)
/// (dnotify hears the same events.)
pub fn active() -> bool {
    WATCHES.load(Ordering::Relaxed) != 0 || super::dnotify::active() || super::fanotify::active()
}

fn send(inode: &dyn Inode, mask: u32, cookie: u32, name: &str, self_gone: bool) {
    super::dnotify::event(inode, mask, !name.is_empty());
    if WATCHES.load(Ordering::Relaxed) == 0 {
        return;
    }
    let key = key_of(inode);
    let all: Vec<Arc<Inotify>> = lock(&INSTANCES).iter().filter_map(Weak::upgrade).collect();
    for i in all {
        i.deliver(key, mask, cookie, name, self_gone);
    }
}

/// An event on the file `p`: to its directory (named) and to itself.
fn on_path(p: &Path, mask: u32) {
    // fanotify's descriptor events have inotify's bit values.
    super::fanotify::notify(p, mask as u64);
    if !active() {
        return;
    }
    let dir = if p.inode.stat().is_dir() { IN_ISDIR } else { 0 };
    // The directory hears first, then the file, as Linux's fsnotify_parent.
    if let Some(parent) = &p.parent {
        send(&*parent.inode, mask | dir, 0, &p.name, false);
    }
    send(&*p.inode, mask | dir, 0, "", false);
}

/// `name` appeared in directory `parent` (create, mkdir, mknod, symlink, link).
pub fn fsnotify_create(parent: &Path, name: &str, is_dir: bool) {
    if active() {
        let dir = if is_dir { IN_ISDIR } else { 0 };
        send(&*parent.inode, IN_CREATE | dir, 0, name, false);
        if super::fanotify::active() {
            if let Ok(child) = parent.inode.lookup(name) {
                super::fanotify::dirent(IN_CREATE as u64, parent, name, &*child);
            }
        }
    }
}

/// `name` (the inode `victim`) left directory `parent`, in Linux's order:
/// the victim's link count changed (files), it is gone for good if that
/// was its last name (IN_DELETE_SELF, and its watches end), then the
/// directory hears IN_DELETE.
pub fn fsnotify_delete(parent: &Path, name: &str, victim: Option<&Arc<dyn Inode>>) {
    if !active() {
        return;
    }
    let st = victim.map(|v| v.stat());
    let is_dir = st.as_ref().is_some_and(|s| s.is_dir());
    if let (Some(v), Some(st)) = (victim, st) {
        if !is_dir {
            send(&**v, IN_ATTRIB, 0, "", false);
            super::fanotify::inode_event(&**v, IN_ATTRIB as u64);
        }
        if is_dir || st.nlink == 0 {
            send(&**v, IN_DELETE_SELF, 0, "", true);
            super::fanotify::inode_event(&**v, IN_DELETE_SELF as u64);
        }
    }
    send(
        &*parent.inode,
        IN_DELETE | if is_dir { IN_ISDIR } else { 0 },
        0,
        name,
        false,
    );
    if let Some(v) = victim {
        super::fanotify::dirent(IN_DELETE as u64, parent, name, &**v);
    }
}

/// `inode` got another name: its link count changed (IN_ATTRIB to its own
/// watches only, as Linux's fsnotify_link_count).
pub fn fsnotify_link_count(inode: &Arc<dyn Inode>) {
    if active() {
        send(&**inode, IN_ATTRIB, 0, "", false);
        super::fanotify::inode_event(&**inode, IN_ATTRIB as u64);
    }
}

/// `inode` moved from `old` in `from` to `new` in `to`.
pub fn fsnotify_move(from: &Path, old: &str, to: &Path, new: &str, inode: &Arc<dyn Inode>) {
    if !active() {
        return;
    }
    let dir = if inode.stat().is_dir() { IN_ISDIR } else { 0 };
    let cookie = NEXT_COOKIE.fetch_add(1, Ordering::Relaxed);
    // fanotify hears FAN_RENAME first, as Linux's fsnotify_move.
    super::fanotify::rename(from, old, to, new, &**inode);
    send(&*from.inode, IN_MOVED_FROM | dir, cookie, old, false);
    super::fanotify::dirent(IN_MOVED_FROM as u64, from, old, &**inode);
    send(&*to.inode, IN_MOVED_TO | dir, cookie, new, false);
    super::fanotify::dirent(IN_MOVED_TO as u64, to, new, &**inode);
    send(&**inode, IN_MOVE_SELF, 0, "", false);
    super::fanotify::inode_event(&**inode, IN_MOVE_SELF as u64);
}

/// The file was written or truncated.
pub fn fsnotify_modify(p: &Path) {
    on_path(p, IN_MODIFY);
}

/// The file's attributes changed (chmod, chown, times, xattrs).
pub fn fsnotify_attrib(p: &Path) {
    on_path(p, IN_ATTRIB);
}

/// The file was read (or listed).
pub fn fsnotify_access(p: &Path) {
    on_path(p, IN_ACCESS);
}

/// The file was opened.
pub fn fsnotify_open(p: &Path) {
    on_path(p, IN_OPEN);
}

/// The file's last descriptor closed (`wrote`: it was open for writing).
pub fn fsnotify_close(p: &Path, wrote: bool) {
    on_path(
        p,
        if wrote {
            IN_CLOSE_WRITE
        } else {
            IN_CLOSE_NOWRITE
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_padded_to_the_header_size() {
        let e = Event {
            wd: 3,
            mask: IN_CREATE,
            cookie: 0,
            name: "abc".into(),
        };
        assert_eq!(e.size(), 32);
        let mut b = vec![0xffu8; 32];
        e.write(&mut b);
        assert_eq!(crate::abi::read_at::<InotifyEvent>(&b, 0).len, 16);
        assert_eq!(&b[16..20], b"abc\0");
        assert!(b[20..].iter().all(|&x| x == 0));
        let bare = Event {
            wd: 1,
            mask: IN_IGNORED,
            cookie: 0,
            name: String::new(),
        };
        assert_eq!(bare.size(), 16);
    }
}
