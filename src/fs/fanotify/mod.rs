//! fanotify: notification groups that hear about opens, reads, writes,
//! closes and executions on marked inodes, mounts and filesystems, with an
//! open descriptor of the file in each event; groups of the content
//! classes also get permission events, which hold the opening, reading
//! or executing task until the group answers FAN_ALLOW or FAN_DENY.
//!
//! Events come from inotify's hook points (`inotify::on_path`) and from
//! the open, read and exec paths (`permission`); both return at once
//! while no group has a mark (one atomic load). Only the descriptor
//! flavour exists: the file-handle reports (FAN_REPORT_FID and friends),
//! and with them the directory-entry events, are refused at init.

pub mod mark;

use super::file::{File, FileOps, POLLIN};
use super::vfs::Path;
use crate::abi::fanotify::*;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{Pid, Task};
use crate::kernel::wait::WaitQueue;
use mark::{Mark, Target};
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

/// The object of one event, with what marks are matched against.
pub struct Object<'a> {
    path: &'a Path,
    pub key: Key,
    pub parent: Option<Key>,
    pub dev: u64,
    pub is_dir: bool,
    mount: OnceCell<Option<u32>>,
}

impl<'a> Object<'a> {
    fn of(path: &'a Path) -> Object<'a> {
        let st = path.inode.stat();
        let parent = path.parent.as_ref().map(|p| {
            let s = p.inode.stat();
            (s.dev, s.ino)
        });
        Object {
            path,
            key: (st.dev, st.ino),
            parent,
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
            .get_or_init(|| super::mount::mount_of(self.path).map(|m| m.id))
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
    /// None for the overflow event.
    path: Option<Path>,
    verdict: Option<Arc<Verdict>>,
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

    /// What of `mask` this group hears for `o` (and, for a write, the
    /// ignore masks that do not survive it are cleared first).
    fn wants(&self, o: &Object, mask: u64) -> u64 {
        let mut g = lock(&self.inner);
        let mut marks_mask = 0;
        let mut ignore = 0;
        for m in g.marks.iter_mut() {
            let Some(role) = m.role(o) else { continue };
            if mask & FAN_MODIFY != 0 && !m.surv_modify {
                m.ignore = 0;
            }
            ignore |= m.effective_ignore(o.is_dir, role);
            if m.applies(o.is_dir, role) {
                marks_mask |= m.mask;
            }
        }
        mask & marks_mask & !ignore & (FD_EVENTS | PERM_EVENTS)
    }

    /// Queue `e` (merged into an earlier event of the same file and
    /// process when it is not a permission event), then wake readers.
    fn queue(&self, e: Event) {
        let mut g = lock(&self.inner);
        if e.verdict.is_none() {
            let merged = g.queue.iter_mut().rev().take(MERGE_WINDOW).find(|o| {
                o.verdict.is_none()
                    && o.path.is_some()
                    && o.key == e.key
                    && o.pid == e.pid
                    && o.is_dir == e.is_dir
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
            path: Some(o.path.clone()),
            verdict: Some(v.clone()),
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
        let Some(p) = &e.path else {
            return Ok(FAN_NOFD);
        };
        let f = File::open_quiet(p, self.event_f_flags)?;
        let nofile = t.nofile();
        let cloexec = self.event_f_flags & super::file::O_CLOEXEC != 0;
        crate::kernel::task::lock(&t.files()).install(f, cloexec, nofile)
    }

    /// FIONREAD: the bytes the queued events would take.
    fn bytes_ready(&self) -> usize {
        lock(&self.inner).queue.len() * METADATA_LEN
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
                if n + METADATA_LEN > buf.len() {
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
            if let Some(v) = e.verdict {
                lock(&self.inner).waiting.push((fd, v));
            }
            let md = FanotifyEventMetadata {
                event_len: METADATA_LEN as u32,
                vers: FANOTIFY_METADATA_VERSION,
                reserved: 0,
                metadata_len: METADATA_LEN as u16,
                mask: e.mask,
                fd,
                pid: e.pid as i32,
            };
            crate::abi::write_at(&mut buf[n..n + METADATA_LEN], 0, &md);
            n += METADATA_LEN;
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
        let m = g.wants(&o, mask & FD_EVENTS);
        if m != 0 {
            g.queue(Event {
                mask: m,
                pid: g.reporter(),
                key: o.key,
                is_dir: o.is_dir,
                path: Some(p.clone()),
                verdict: None,
            });
        }
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
        let m = g.wants(&o, mask & PERM_EVENTS);
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
