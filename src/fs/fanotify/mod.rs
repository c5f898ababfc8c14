//! fanotify: notification groups that hear about opens, reads, writes,
//! closes and executions on marked inodes, mounts and filesystems, with an
//! open descriptor of the file in each event; groups of the content
//! classes also get permission events, which hold the opening, reading
//! or executing task until the group answers FAN_ALLOW or FAN_DENY.
//!
//! Groups made with FAN_REPORT_FID and its relatives get no descriptors:
//! each event names its objects by file handle in info records (`fid`),
//! and they may also hear directory-entry events (create, delete, moves,
//! renames), attribute changes and their objects' deletion and moves.
//!
//! Events come from inotify's hook points (`inotify::on_path` and the
//! directory-entry hooks) and from the open, read and exec paths
//! (`permission`); all return at once while no group has a mark (one
//! atomic load).

pub mod fid;
pub mod mark;

use super::file::{File, FileOps, POLLIN};
use super::vfs::{Inode, Path};
use crate::abi::fanotify::*;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{Pid, Task};
use crate::kernel::wait::WaitQueue;
use fid::{Happening, Info, DIRENT_EVENTS};
use mark::{Mark, Role, Target};
use std::cell::OnceCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// An inode: (device, inode number).
pub type Key = (u64, u64);

/// Events a group without file handles can hear.
pub const FD_EVENTS: u64 =
    FAN_ACCESS | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE | FAN_OPEN | FAN_OPEN_EXEC;
pub const PERM_EVENTS: u64 = FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM;
/// Events only groups with file handles hear.
pub const FID_EVENTS: u64 = DIRENT_EVENTS | FAN_ATTRIB | FAN_DELETE_SELF | FAN_MOVE_SELF;
/// Kept in a group's flags (no fanotify_init bit): it was made without
/// CAP_SYS_ADMIN (Linux's FANOTIFY_UNPRIV).
pub const FAN_UNPRIV_GROUP: u32 = 1 << 31;
/// The fid-mode fanotify_init flags.
pub const FID_BITS: u32 =
    FAN_REPORT_FID | FAN_REPORT_DIR_FID | FAN_REPORT_NAME | FAN_REPORT_TARGET_FID;
/// /proc/sys/fs/fanotify/max_queued_events.
const MAX_QUEUED: usize = 16384;
/// Groups per user (/proc/sys/fs/fanotify/max_user_groups).
pub const MAX_USER_GROUPS: usize = 128;
/// Linux merges an event into one of the last this many queued ones.
const MERGE_WINDOW: usize = 128;
const METADATA_LEN: usize = core::mem::size_of::<FanotifyEventMetadata>();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What marks are matched against for one event: the inode it happens
/// to (a dirent event's directory), its parent's key when the parent's
/// marks may hear it, the path for mount marks (None for events on an
/// inode alone), and whether the object is a directory (for a dirent
/// event: the entry).
pub struct Object<'a> {
    path: Option<&'a Path>,
    pub key: Key,
    pub parent: Option<Key>,
    pub dev: u64,
    pub is_dir: bool,
    mount: OnceCell<Option<u32>>,
}

fn key_of(i: &dyn Inode) -> Key {
    let s = i.stat();
    (s.dev, s.ino)
}

impl<'a> Object<'a> {
    fn of(path: &'a Path) -> Object<'a> {
        let st = path.inode.stat();
        Object {
            path: Some(path),
            key: (st.dev, st.ino),
            parent: path.parent.as_ref().map(|p| key_of(&*p.inode)),
            dev: st.dev,
            is_dir: st.is_dir(),
            mount: OnceCell::new(),
        }
    }
    /// A dirent event in directory `dir` about an entry that `is_dir`.
    fn dirent(dir: &'a Path, is_dir: bool) -> Object<'a> {
        let key = key_of(&*dir.inode);
        Object {
            path: Some(dir),
            key,
            parent: None,
            dev: key.0,
            is_dir,
            mount: OnceCell::new(),
        }
    }
    /// An event on an inode with no path (deleted, moved, relinked).
    fn inode(i: &dyn Inode) -> Object<'a> {
        let st = i.stat();
        Object {
            path: None,
            key: (st.dev, st.ino),
            parent: None,
            dev: st.dev,
            is_dir: st.is_dir(),
            mount: OnceCell::new(),
        }
    }
    /// The id of the mount the path is in (looked up once, and only when
    /// a mount mark asks).
    pub fn mount_id(&self) -> Option<u32> {
        *self
            .mount
            .get_or_init(|| self.path.and_then(super::mount::mount_of).map(|m| m.id))
    }
}

/// A permission event's answer, which its task waits for.
struct Verdict {
    answer: Mutex<Option<u32>>,
    wq: WaitQueue,
}

impl Verdict {
    fn answer(&self, r: u32) {
        let mut a = lock(&self.answer);
        if a.is_none() {
            *a = Some(r);
        }
        drop(a);
        self.wq.wake_all();
    }
}

struct Event {
    mask: u64,
    pid: Pid,
    key: Key,
    is_dir: bool,
    /// None for the overflow event and in groups with file handles.
    path: Option<Path>,
    verdict: Option<Arc<Verdict>>,
    /// What a group with file handles is told (None otherwise).
    info: Option<Info>,
}

#[derive(Default)]
struct Inner {
    marks: Vec<Mark>,
    queue: VecDeque<Event>,
    /// Permission events read but not answered: the descriptor given
    /// with each.
    waiting: Vec<(i32, Arc<Verdict>)>,
    overflowed: bool,
}

/// One fanotify group (the file fanotify_init returns).
pub struct Group {
    inner: Mutex<Inner>,
    wq: Arc<WaitQueue>,
    /// FAN_CLASS_NOTIF, FAN_CLASS_CONTENT or FAN_CLASS_PRE_CONTENT.
    class: u32,
    flags: u32,
    /// How event descriptors are opened.
    event_f_flags: u32,
    /// The effective uid that made it (groups are counted per user).
    pub uid: u32,
}

/// Every group, for the hooks.
static GROUPS: Mutex<Vec<Weak<Group>>> = Mutex::new(Vec::new());
/// Marks in all groups: the hooks' fast path.
static MARKS: AtomicUsize = AtomicUsize::new(0);

/// Is anything marked at all?
pub fn active() -> bool {
    MARKS.load(Ordering::Relaxed) != 0
}

/// Groups made by `uid` that are still open.
pub fn groups_of(uid: u32) -> usize {
    lock(&GROUPS)
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|g| g.uid == uid)
        .count()
}

impl Group {
    pub fn new(flags: u32, event_f_flags: u32, uid: u32) -> Arc<Group> {
        let g = Arc::new(Group {
            inner: Mutex::new(Inner::default()),
            wq: Arc::new(WaitQueue::new()),
            class: flags & FAN_CLASS_BITS,
            flags,
            event_f_flags,
            uid,
        });
        let mut all = lock(&GROUPS);
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&g));
        g
    }

    /// Does this group get permission events?
    pub fn content_class(&self) -> bool {
        self.class != FAN_CLASS_NOTIF
    }

    /// The group's file-handle report flags (0: it reports descriptors).
    pub fn fid_mode(&self) -> u32 {
        self.flags & FID_BITS
    }

    /// Made without CAP_SYS_ADMIN: inode marks only.
    pub fn unprivileged(&self) -> bool {
        self.flags & FAN_UNPRIV_GROUP != 0
    }

    /// The bytes event `e` takes in a read.
    fn event_len(&self, e: &Event) -> usize {
        METADATA_LEN
            + e.info
                .as_ref()
                .map_or(0, |i| fid::info_len(self.fid_mode(), e.mask, i))
    }

    /// FAN_MARK_ADD: or `mask` into the mark on `target` (or its ignore
    /// mask), making the mark if there is none.
    pub fn add_mark(
        &self,
        target: Target,
        hold: Option<Arc<dyn super::vfs::Inode>>,
        mask: u64,
        flags: u32,
    ) {
        let ignore = flags & (FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORE) != 0;
        let mut g = lock(&self.inner);
        let m = match g.marks.iter_mut().position(|m| m.target == target) {
            Some(i) => &mut g.marks[i],
            None => {
                MARKS.fetch_add(1, Ordering::Relaxed);
                g.marks.push(Mark {
                    target,
                    mask: 0,
                    ignore: 0,
                    surv_modify: false,
                    ignore_flags: false,
                    _inode: hold,
                });
                g.marks.last_mut().expect("just pushed")
            }
        };
        if ignore {
            m.ignore |= mask;
            m.ignore_flags = flags & FAN_MARK_IGNORE != 0;
            if flags & FAN_MARK_IGNORED_SURV_MODIFY != 0 {
                m.surv_modify = true;
            }
        } else {
            m.mask |= mask;
        }
    }

    /// FAN_MARK_REMOVE: take `mask` out of the mark on `target`; the mark
    /// goes once both its masks are empty. ENOENT when there is none.
    pub fn remove_mark(&self, target: Target, mask: u64, flags: u32) -> KResult<()> {
        let mut g = lock(&self.inner);
        let i = g
            .marks
            .iter()
            .position(|m| m.target == target)
            .ok_or(Errno::ENOENT)?;
        let m = &mut g.marks[i];
        if flags & (FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORE) != 0 {
            m.ignore &= !mask;
        } else {
            m.mask &= !mask;
        }
        if m.mask & !(FAN_ONDIR | FAN_EVENT_ON_CHILD) == 0 && m.ignore == 0 {
            g.marks.remove(i);
            MARKS.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// FAN_MARK_FLUSH: drop every mark of one kind.
    pub fn flush_marks(&self, kind: u32) {
        let mut g = lock(&self.inner);
        let before = g.marks.len();
        g.marks.retain(|m| {
            let k = match m.target {
                Target::Inode(_) => FAN_MARK_INODE,
                Target::Mount(_) => FAN_MARK_MOUNT,
                Target::Fs(_) => FAN_MARK_FILESYSTEM,
            };
            k != kind
        });
        MARKS.fetch_sub(before - g.marks.len(), Ordering::Relaxed);
    }

    /// Events of this group's kind: file-handle groups hear no
    /// permission events, descriptor groups no fid-only ones.
    fn hears(&self) -> u64 {
        if self.fid_mode() != 0 {
            FD_EVENTS | FID_EVENTS
        } else {
            FD_EVENTS | PERM_EVENTS
        }
    }

    /// What of `mask` this group hears for `o` (and, for a write, the
    /// ignore masks that do not survive it are cleared first), and
    /// whether a mark on the parent heard it (then a group with file
    /// handles is told the parent too).
    fn wants(&self, o: &Object, mask: u64) -> (u64, bool) {
        let mut g = lock(&self.inner);
        let mut marks_mask = 0;
        let mut ignore = 0;
        let mut wide = false;
        for m in g.marks.iter_mut() {
            let Some(role) = m.role(o) else { continue };
            if mask & FAN_MODIFY != 0 && !m.surv_modify {
                m.ignore = 0;
            }
            ignore |= m.effective_ignore(o.is_dir, role);
            if m.applies(o.is_dir, role) && m.mask & mask != 0 {
                marks_mask |= m.mask;
                wide |= role == Role::Parent;
            }
        }
        (mask & marks_mask & !ignore & self.hears(), wide)
    }

    /// For a rename: whether the group's marks hear it at the old place
    /// (a mark on the old directory) and at the new one (on the new
    /// directory); a filesystem mark hears both.
    fn wants_rename(&self, old: &Object, new: &Object) -> (bool, bool) {
        let g = lock(&self.inner);
        let (mut o, mut n) = (false, false);
        for m in g.marks.iter() {
            if m.mask & FAN_RENAME == 0 || !m.applies(old.is_dir, Role::Object) {
                continue;
            }
            let ignored = m.effective_ignore(old.is_dir, Role::Object) & FAN_RENAME != 0;
            if ignored {
                continue;
            }
            match m.target {
                Target::Inode(k) => {
                    o |= k == old.key;
                    n |= k == new.key;
                }
                Target::Fs(dev) if dev == old.dev => (o, n) = (true, true),
                _ => {}
            }
        }
        (o, n)
    }

    /// Queue `e` (merged into an earlier event of the same file and
    /// process when it is not a permission event; with file handles, of
    /// the same reported objects and names, never a rename with another
    /// kind), then wake readers.
    fn queue(&self, e: Event) {
        let mut g = lock(&self.inner);
        if e.verdict.is_none() {
            let merged = g.queue.iter_mut().rev().take(MERGE_WINDOW).find(|o| {
                let same = match (&o.info, &e.info) {
                    (Some(a), Some(b)) => a == b && o.mask & FAN_RENAME == e.mask & FAN_RENAME,
                    (None, None) => o.path.is_some() && o.key == e.key,
                    _ => false,
                };
                o.verdict.is_none() && same && o.pid == e.pid && o.is_dir == e.is_dir
            });
            if let Some(o) = merged {
                o.mask |= e.mask;
                return;
            }
        }
        if g.queue.len() >= MAX_QUEUED && self.flags & FAN_UNLIMITED_QUEUE == 0 {
            if let Some(v) = &e.verdict {
                // Linux lets the access go when the queue is full.
                v.answer(FAN_ALLOW);
            }
            if !g.overflowed {
                g.overflowed = true;
                g.queue.push_back(Event {
                    mask: FAN_Q_OVERFLOW,
                    pid: 0,
                    key: (0, 0),
                    is_dir: false,
                    path: None,
                    verdict: None,
                    info: None,
                });
            }
        } else {
            g.queue.push_back(e);
        }
        drop(g);
        self.wq.wake_all();
    }

    /// The pid an event reports: the thread's with FAN_REPORT_TID.
    fn reporter(&self) -> Pid {
        if self.flags & FAN_REPORT_TID != 0 {
            crate::kernel::current::tid().unwrap_or(0)
        } else {
            crate::kernel::current::tgid().unwrap_or(0)
        }
    }

    /// Queue a permission event; its task then waits on the verdict.
    fn ask(&self, o: &Object, mask: u64) -> Arc<Verdict> {
        let v = Arc::new(Verdict {
            answer: Mutex::new(None),
            wq: WaitQueue::new(),
        });
        self.queue(Event {
            mask,
            pid: self.reporter(),
            key: o.key,
            is_dir: o.is_dir,
            path: o.path.cloned(),
            verdict: Some(v.clone()),
            info: None,
        });
        v
    }

    /// Take back a permission event its task no longer waits for.
    fn withdraw(&self, v: &Arc<Verdict>) {
        let mut g = lock(&self.inner);
        g.queue
            .retain(|e| !e.verdict.as_ref().is_some_and(|x| Arc::ptr_eq(x, v)));
        g.waiting.retain(|(_, x)| !Arc::ptr_eq(x, v));
    }

    /// Open the event's file for the reader: its own description, which
    /// makes no events of its own.
    fn event_fd(&self, t: &Task, e: &Event) -> KResult<i32> {
        let Some(p) = e.path.as_ref().filter(|_| e.info.is_none()) else {
            return Ok(FAN_NOFD);
        };
        let f = File::open_quiet(p, self.event_f_flags)?;
        let nofile = t.nofile();
        let cloexec = self.event_f_flags & super::file::O_CLOEXEC != 0;
        crate::kernel::task::lock(&t.files()).install(f, cloexec, nofile)
    }

    /// FIONREAD: the bytes the queued events would take.
    fn bytes_ready(&self) -> usize {
        let g = lock(&self.inner);
        g.queue.iter().map(|e| self.event_len(e)).sum()
    }
}

impl FileOps for Group {
    fn read(&self, _f: &File, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    fn read_task(&self, _f: &File, t: &Arc<Task>, buf: &mut [u8]) -> KResult<usize> {
        let mut n = 0;
        loop {
            let e = {
                let mut g = lock(&self.inner);
                if g.queue.is_empty() {
                    break;
                }
                let len = g.queue.front().map_or(0, |e| self.event_len(e));
                if n + len > buf.len() {
                    if n == 0 {
                        return Err(Errno::EINVAL);
                    }
                    break;
                }
                let e = g.queue.pop_front().expect("not empty");
                if e.mask & FAN_Q_OVERFLOW != 0 {
                    g.overflowed = false;
                }
                e
            };
            let fd = match self.event_fd(t, &e) {
                Ok(fd) => fd,
                Err(err) => {
                    // The access goes on unanswered events as Linux's
                    // copy_event_to_user: denied.
                    if let Some(v) = &e.verdict {
                        v.answer(FAN_DENY);
                    }
                    if n == 0 {
                        return Err(err);
                    }
                    break;
                }
            };
            let len = self.event_len(&e);
            if let Some(v) = e.verdict {
                lock(&self.inner).waiting.push((fd, v));
            }
            let md = FanotifyEventMetadata {
                event_len: len as u32,
                vers: FANOTIFY_METADATA_VERSION,
                reserved: 0,
                metadata_len: METADATA_LEN as u16,
                mask: e.mask,
                fd,
                pid: e.pid as i32,
            };
            crate::abi::write_at(&mut buf[n..n + METADATA_LEN], 0, &md);
            if let Some(i) = &e.info {
                fid::write_info(
                    self.fid_mode(),
                    e.mask,
                    i,
                    &mut buf[n + METADATA_LEN..n + len],
                );
            }
            n += len;
        }
        if n == 0 {
            Err(Errno::EAGAIN)
        } else {
            Ok(n)
        }
    }
    /// A verdict on a permission event: struct fanotify_response.
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        if buf.len() < core::mem::size_of::<FanotifyResponse>() {
            return Err(Errno::EINVAL);
        }
        let r: FanotifyResponse = crate::abi::read_at(buf, 0);
        let access = r.response & !(FAN_AUDIT | FAN_INFO);
        if access != FAN_ALLOW && access != FAN_DENY {
            return Err(Errno::EINVAL);
        }
        if r.response & FAN_AUDIT != 0 && self.flags & FAN_ENABLE_AUDIT == 0 {
            return Err(Errno::EINVAL);
        }
        if r.response & FAN_INFO != 0 {
            // No info records are taken.
            return Err(Errno::EINVAL);
        }
        if r.fd < 0 {
            return Err(Errno::EINVAL);
        }
        let v = {
            let mut g = lock(&self.inner);
            let i = g
                .waiting
                .iter()
                .position(|(fd, _)| *fd == r.fd)
                .ok_or(Errno::ENOENT)?;
            g.waiting.remove(i).1
        };
        v.answer(access);
        Ok(buf.len().min(core::mem::size_of::<FanotifyResponse>()))
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
    fn ioctl(&self, _f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
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
        Some("anon_inode:[fanotify]".into())
    }
}

impl Drop for Group {
    /// The group's file closed: its marks go, and every access waiting
    /// for it is allowed.
    fn drop(&mut self) {
        let g = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        MARKS.fetch_sub(g.marks.len(), Ordering::Relaxed);
        for (_, v) in g.waiting.drain(..) {
            v.answer(FAN_ALLOW);
        }
        for e in g.queue.drain(..) {
            if let Some(v) = e.verdict {
                v.answer(FAN_ALLOW);
            }
        }
    }
}

fn groups() -> Vec<Arc<Group>> {
    lock(&GROUPS).iter().filter_map(Weak::upgrade).collect()
}

/// A notification event (FAN_ACCESS, MODIFY, CLOSE_*, OPEN, OPEN_EXEC)
/// on the file at `p`, made by the current process.
pub fn notify(p: &Path, mask: u64) {
    if !active() {
        return;
    }
    let o = Object::of(p);
    for g in groups() {
        let (m, wide) = g.wants(&o, mask & (FD_EVENTS | FAN_ATTRIB));
        if m == 0 {
            continue;
        }
        let info = if g.fid_mode() != 0 {
            // The parent and name come along when a mark on the parent
            // heard it, and for a non-directory always in a group that
            // reports directories (Linux sets FS_EVENT_ON_CHILD on its
            // other marks).
            let dirs = g.fid_mode() & FAN_REPORT_DIR_FID != 0 && !o.is_dir;
            let dir = p.parent.as_ref().filter(|_| wide || dirs);
            let h = Happening {
                mask: m | if o.is_dir { FAN_ONDIR } else { 0 },
                object: &*p.inode,
                dir: dir.map(|d| &*d.inode),
                name: dir.map(|_| p.name.as_str()),
                new: None,
            };
            match fid::build(g.fid_mode(), &h, false, false) {
                Some(i) => Some((h.mask, i)),
                None => continue,
            }
        } else {
            None
        };
        g.queue(Event {
            mask: info.as_ref().map_or(m, |(m, _)| *m),
            pid: g.reporter(),
            key: o.key,
            is_dir: o.is_dir,
            path: Some(p.clone()),
            verdict: None,
            info: info.map(|(_, i)| i),
        });
    }
}

/// Queue for every file-handle group that hears `mask` on `o` the event
/// `h` describes (`h.dir` only for groups that heard it through a mark
/// on the parent, unless `dir_always`).
fn notify_fid(o: &Object, h: &Happening, dir_always: bool) {
    for g in groups() {
        if g.fid_mode() == 0 {
            continue;
        }
        let (m, wide) = g.wants(o, h.mask & !FAN_ONDIR);
        if m == 0 {
            continue;
        }
        let ondir = if o.is_dir { FAN_ONDIR } else { 0 };
        let mine = Happening {
            mask: m | ondir,
            dir: h.dir.filter(|_| dir_always || wide),
            name: h.name.filter(|_| dir_always || wide),
            ..*h
        };
        let Some(info) = fid::build(g.fid_mode(), &mine, false, false) else {
            continue;
        };
        g.queue(Event {
            mask: mine.mask,
            pid: g.reporter(),
            key: o.key,
            is_dir: o.is_dir,
            path: None,
            verdict: None,
            info: Some(info),
        });
    }
}

/// A directory-entry event (FAN_CREATE, FAN_DELETE, FAN_MOVED_FROM,
/// FAN_MOVED_TO): entry `name` of directory `dir`, the inode `child`.
pub fn dirent(mask: u64, dir: &Path, name: &str, child: &dyn Inode) {
    if !active() {
        return;
    }
    let o = Object::dirent(dir, child.stat().is_dir());
    let h = Happening {
        mask,
        object: child,
        dir: Some(&*dir.inode),
        name: Some(name),
        new: None,
    };
    notify_fid(&o, &h, true);
}

/// An event on an inode reached by no path: FAN_DELETE_SELF, FAN_MOVE_SELF,
/// and FAN_ATTRIB for a change of its link count.
pub fn inode_event(inode: &dyn Inode, mask: u64) {
    if !active() {
        return;
    }
    let o = Object::inode(inode);
    let h = Happening {
        mask,
        object: inode,
        dir: None,
        name: None,
        new: None,
    };
    notify_fid(&o, &h, false);
}

/// FAN_RENAME: `inode` moved from `old` in `from` to `new` in `to`; a
/// group is told the places its marks heard it at.
pub fn rename(from: &Path, old: &str, to: &Path, new: &str, inode: &dyn Inode) {
    if !active() {
        return;
    }
    let is_dir = inode.stat().is_dir();
    let (of, ot) = (Object::dirent(from, is_dir), Object::dirent(to, is_dir));
    let ondir = if is_dir { FAN_ONDIR } else { 0 };
    for g in groups() {
        if g.fid_mode() & FAN_REPORT_NAME == 0 {
            continue;
        }
        let (o, n) = g.wants_rename(&of, &ot);
        if !o && !n {
            continue;
        }
        let h = Happening {
            mask: FAN_RENAME | ondir,
            object: inode,
            dir: Some(&*from.inode),
            name: Some(old),
            new: Some((&*to.inode, new)),
        };
        let Some(info) = fid::build(g.fid_mode(), &h, o, n) else {
            continue;
        };
        g.queue(Event {
            mask: h.mask,
            pid: g.reporter(),
            key: of.key,
            is_dir,
            path: None,
            verdict: None,
            info: Some(info),
        });
    }
}

/// A permission event (FAN_OPEN_PERM, FAN_ACCESS_PERM, FAN_OPEN_EXEC_PERM)
/// by `t` on the file at `p`: every content-class group that wants it is
/// asked in turn, pre-content groups first; the first FAN_DENY fails the
/// access with EPERM. The task waits holding no reference to the group,
/// so the group's close (which allows everything pending) can happen.
pub fn permission(t: &Task, p: &Path, mask: u64) -> KResult<()> {
    if !active() {
        return Ok(());
    }
    let o = Object::of(p);
    let mut gs: Vec<(u32, Weak<Group>)> = groups()
        .iter()
        .filter(|g| g.content_class())
        .map(|g| (g.class, Arc::downgrade(g)))
        .collect();
    gs.sort_by_key(|(class, _)| std::cmp::Reverse(*class));
    for (_, weak) in gs {
        let Some(g) = weak.upgrade() else { continue };
        let (m, _) = g.wants(&o, mask & PERM_EVENTS);
        if m == 0 {
            continue;
        }
        let v = g.ask(&o, m);
        drop(g);
        loop {
            v.wq.add(t.tid);
            if let Some(a) = *lock(&v.answer) {
                if a & FAN_DENY != 0 {
                    return Err(Errno::EPERM);
                }
                break;
            }
            // Only a fatal signal ends the wait (Linux's TASK_KILLABLE);
            // the event is withdrawn.
            if !crate::kernel::sched::wait_killable(t, None) {
                if let Some(g) = weak.upgrade() {
                    g.withdraw(&v);
                }
                return Err(Errno::EINTR);
            }
        }
    }
    Ok(())
}

/// A read of `f` by `t` is about to happen (FAN_ACCESS_PERM).
pub fn read_permission(t: &Task, f: &File) -> KResult<()> {
    if !active() || f.is_quiet() {
        return Ok(());
    }
    match &f.path {
        Some(p) => permission(t, p, FAN_ACCESS_PERM),
        None => Ok(()),
    }
}
