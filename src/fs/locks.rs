//! Advisory file locks with Linux's semantics: POSIX record locks and
//! open-file-description (OFD) locks through fcntl, flock(2) locks, and
//! /proc/locks.
//!
//! Locks live in one table keyed by (device, inode), like Linux's
//! per-inode `file_lock_context`: a list of byte-range locks (POSIX and
//! OFD share it, so they conflict with each other) and a separate list of
//! whole-file flock locks (independent of the record locks, as on Linux).
//! A POSIX lock belongs to the process (thread group), an OFD or flock lock
//! to the open file description (`File`), named by its address while it is
//! alive: `File`'s drop releases them.
//!
//! Waiting (F_SETLKW, flock without LOCK_NB) sleeps on the inode's wait
//! queue, which is woken whenever a lock on the inode goes away or
//! shrinks, and then tries again. Waiting POSIX
//! requests are remembered (who waits for whom) to refuse F_SETLKW cycles
//! with EDEADLK, as Linux's posix_locks_deadlock.
//!
//! The table lock is a leaf: nothing else is locked while it is held, and
//! no `File` is dropped under it.

use super::file::File;
use crate::abi::fcntl as abi;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched;
use crate::kernel::task::{Pid, Task, Tid};
use crate::kernel::wait::WaitQueue;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub const F_RDLCK: i16 = 0;
pub const F_WRLCK: i16 = 1;
pub const F_UNLCK: i16 = 2;

pub const F_GETLK: u32 = 5;
// F_SETLK (6) is the remaining case of `fcntl`.
pub const F_SETLKW: u32 = 7;
pub const F_OFD_GETLK: u32 = 36;
pub const F_OFD_SETLK: u32 = 37;
pub const F_OFD_SETLKW: u32 = 38;

pub const LOCK_SH: i32 = 1;
pub const LOCK_EX: i32 = 2;
pub const LOCK_NB: i32 = 4;
pub const LOCK_UN: i32 = 8;
/// Linux ignores LOCK_MAND requests (they never worked) and succeeds.
const LOCK_MAND: i32 = 32;

/// Linux's OFFSET_MAX: a range ending here runs to end of file ("EOF").
const OFFSET_MAX: i64 = i64::MAX;
/// How far Linux follows a chain of waiters looking for a cycle.
const MAX_DEADLK_ITERATIONS: usize = 10;

/// Who holds a lock: a process (POSIX) or an open file description.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Owner {
    Process(Pid),
    File(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Posix,
    Ofd,
    Flock,
}

/// One granted lock: bytes `start..=end` (`end == OFFSET_MAX`: to EOF).
#[derive(Clone, Debug)]
struct Lock {
    kind: Kind,
    owner: Owner,
    write: bool,
    start: i64,
    end: i64,
    /// The process that took it (l_pid, /proc/locks).
    pid: Pid,
    /// Creation order, for /proc/locks (newest first, as Linux lists).
    seq: u64,
}

impl Lock {
    fn overlaps(&self, start: i64, end: i64) -> bool {
        self.start <= end && start <= self.end
    }
    fn conflicts(&self, owner: Owner, write: bool, start: i64, end: i64) -> bool {
        self.owner != owner && (self.write || write) && self.overlaps(start, end)
    }
}

/// An inode: (device, inode number); inode-less files (pipes, sockets)
/// use a device no inode has and the address of their operations.
type Key = (u64, u64);
const NO_DEV: u64 = u64::MAX;

/// The locks of one inode.
#[derive(Default)]
struct Ctx {
    /// POSIX and OFD record locks, grouped by owner, each owner's sorted by
    /// start (Linux's order: F_GETLK reports the first conflict in it).
    posix: Vec<Lock>,
    flock: Vec<Lock>,
    wq: Arc<WaitQueue>,
    /// The sleepers were woken under this hold of the table.
    woken: bool,
}

impl Ctx {
    /// Wake everyone sleeping for a lock here: they try again.
    fn wake(&mut self) {
        self.wq.wake_all();
        self.woken = true;
    }
}

/// A task sleeping in F_SETLKW for a POSIX lock: its process, and the
/// owner of the lock in its way (for deadlock detection).
#[derive(Clone, Copy)]
struct Waiter {
    owner: Pid,
    blocker: Owner,
    key: Key,
}

#[derive(Default)]
struct Table {
    inodes: BTreeMap<Key, Ctx>,
    waiters: BTreeMap<Tid, Waiter>,
    seq: u64,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);
/// Some lock exists: closes and exits need to look at the table.
static ACTIVE: AtomicBool = AtomicBool::new(false);

struct Guard<'a>(MutexGuard<'a, Option<Table>>);

impl std::ops::Deref for Guard<'_> {
    type Target = Table;
    fn deref(&self) -> &Table {
        self.0.as_ref().expect("table made in table()")
    }
}
impl std::ops::DerefMut for Guard<'_> {
    fn deref_mut(&mut self) -> &mut Table {
        self.0.as_mut().expect("table made in table()")
    }
}
impl Drop for Guard<'_> {
    /// Forget inodes without locks (waking their sleepers) and the wait
    /// records of woken sleepers (they wait for nobody until they run
    /// again, as Linux takes a woken waiter off its blocked list), and
    /// publish whether any lock is left.
    fn drop(&mut self) {
        let t = self.0.as_mut().expect("table made in table()");
        let mut woken = Vec::new();
        t.inodes.retain(|k, c| {
            let keep = !c.posix.is_empty() || !c.flock.is_empty();
            if !keep {
                c.wake();
            }
            if std::mem::take(&mut c.woken) {
                woken.push(*k);
            }
            keep
        });
        if !woken.is_empty() {
            t.waiters.retain(|_, w| !woken.contains(&w.key));
        }
        ACTIVE.store(!t.inodes.is_empty(), Ordering::Relaxed);
    }
}

fn table() -> Guard<'static> {
    let mut g = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    g.get_or_insert_with(Table::default);
    Guard(g)
}

fn key_of(f: &File) -> Key {
    match &f.inode {
        Some(i) => {
            let st = i.stat();
            (st.dev, st.ino)
        }
        None => (NO_DEV, Arc::as_ptr(&f.ops) as *const () as usize as u64),
    }
}

/// The open file description's identity as a lock owner.
fn file_owner(f: &File) -> Owner {
    Owner::File(f as *const File as usize)
}

// ---------------------------------------------------------------------
// fcntl record locks

/// A struct flock's fields (the guest layout is `abi::fcntl::Flock`).
struct Flock {
    ty: i16,
    whence: i16,
    start: i64,
    len: i64,
    pid: i32,
}

impl Flock {
    fn parse(b: &abi::Flock) -> Flock {
        Flock {
            ty: b.l_type,
            whence: b.l_whence,
            start: b.l_start,
            len: b.l_len,
            pid: b.l_pid,
        }
    }
    /// Store into `b`, leaving its padding as the caller passed it.
    fn store(&self, b: &mut abi::Flock) {
        b.l_type = self.ty;
        b.l_whence = self.whence;
        b.l_start = self.start;
        b.l_len = self.len;
        b.l_pid = self.pid;
    }
}

/// The byte range a struct flock names, as Linux's flock_to_posix_lock:
/// relative to SEEK_SET/CUR/END, a negative length reaching backwards,
/// length 0 meaning to EOF.
fn range_of(f: &File, l: &Flock) -> KResult<(i64, i64)> {
    let base: i64 = match l.whence {
        0 => 0,
        1 => *f.lock_pos() as i64,
        2 => f.stat()?.size as i64,
        _ => return Err(Errno::EINVAL),
    };
    range(base, l.start, l.len)
}

/// Bytes `start..=end` for l_start `start` and l_len `len` from `base`.
fn range(base: i64, start: i64, len: i64) -> KResult<(i64, i64)> {
    if start > OFFSET_MAX - base {
        return Err(Errno::EOVERFLOW);
    }
    let mut start = base + start;
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    let end;
    if len > 0 {
        if len - 1 > OFFSET_MAX - start {
            return Err(Errno::EOVERFLOW);
        }
        end = start + len - 1;
    } else if len < 0 {
        end = start - 1;
        start += len;
        if start < 0 {
            return Err(Errno::EINVAL);
        }
    } else {
        end = OFFSET_MAX;
    }
    Ok((start, end))
}

/// fcntl F_GETLK, F_SETLK, F_SETLKW and their F_OFD_ forms on `f`.
pub fn fcntl(t: &Task, f: &File, cmd: u32, arg: u64) -> KResult<u64> {
    let mm = t.mm();
    let mut buf: abi::Flock = crate::abi::read_val(&mm, arg)?;
    let mut l = Flock::parse(&buf);
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    if matches!(cmd, F_GETLK | F_OFD_GETLK) {
        if l.ty != F_RDLCK && l.ty != F_WRLCK {
            return Err(Errno::EINVAL);
        }
        let (start, end) = range_of(f, &l)?;
        if ofd && l.pid != 0 {
            return Err(Errno::EINVAL);
        }
        let owner = if ofd {
            file_owner(f)
        } else {
            Owner::Process(t.tgid())
        };
        let key = key_of(f);
        let found = table()
            .inodes
            .get(&key)
            .and_then(|c| {
                c.posix
                    .iter()
                    .find(|x| x.conflicts(owner, l.ty == F_WRLCK, start, end))
            })
            .cloned();
        match found {
            None => l.ty = F_UNLCK,
            Some(x) => {
                l.ty = if x.write { F_WRLCK } else { F_RDLCK };
                l.whence = 0;
                l.start = x.start;
                l.len = if x.end == OFFSET_MAX {
                    0
                } else {
                    x.end - x.start + 1
                };
                l.pid = if x.kind == Kind::Ofd { -1 } else { x.pid };
            }
        }
        l.store(&mut buf);
        crate::abi::write_val(&mm, arg, &buf)?;
        return Ok(0);
    }
    let (start, end) = range_of(f, &l)?;
    let write = match l.ty {
        F_RDLCK => false,
        F_WRLCK => true,
        F_UNLCK => false,
        _ => return Err(Errno::EINVAL),
    };
    // The description's access mode must allow the kind of lock.
    if (l.ty == F_RDLCK && !f.readable()) || (l.ty == F_WRLCK && !f.writable()) {
        return Err(Errno::EBADF);
    }
    if ofd && l.pid != 0 {
        return Err(Errno::EINVAL);
    }
    let (kind, owner) = if ofd {
        (Kind::Ofd, file_owner(f))
    } else {
        (Kind::Posix, Owner::Process(t.tgid()))
    };
    let wait = matches!(cmd, F_SETLKW | F_OFD_SETLKW);
    let req = Lock {
        kind,
        owner,
        write,
        start,
        end,
        pid: t.tgid(),
        seq: 0,
    };
    set_posix(t, key_of(f), req, l.ty == F_UNLCK, wait)
}

/// Take, change or drop (`unlock`) a record lock, with `wait` sleeping
/// until it can be had.
fn set_posix(t: &Task, key: Key, req: Lock, unlock: bool, wait: bool) -> KResult<u64> {
    let mut signalled = None;
    while !try_set_posix(t, key, req.clone(), unlock, wait)? {
        sleep(t, &mut signalled)?;
    }
    Ok(0)
}

/// One try at `set_posix` with the table locked: Ok(false) when queued
/// on the inode to sleep (and recorded as waiting, for deadlock
/// detection).
fn try_set_posix(t: &Task, key: Key, mut req: Lock, unlock: bool, wait: bool) -> KResult<bool> {
    let mut g = table();
    g.waiters.remove(&t.tid);
    if unlock && !g.inodes.contains_key(&key) {
        return Ok(true);
    }
    let seq = g.seq;
    g.seq += 1;
    req.seq = seq;
    let ctx = g.inodes.entry(key).or_default();
    let blocker = if unlock {
        None
    } else {
        ctx.posix
            .iter()
            .find(|x| x.conflicts(req.owner, req.write, req.start, req.end))
            .map(|c| (c.owner, ctx.wq.clone()))
    };
    if let Some((blocker, wq)) = blocker {
        if !wait {
            return Err(Errno::EAGAIN);
        }
        if let (Kind::Posix, Owner::Process(me)) = (req.kind, req.owner) {
            if deadlock(&g, me, blocker) {
                return Err(Errno::EDEADLK);
            }
            g.waiters.insert(
                t.tid,
                Waiter {
                    owner: me,
                    blocker,
                    key,
                },
            );
        }
        wq.add(t.tid);
        return Ok(false);
    }
    if apply(&mut ctx.posix, req, unlock) {
        ctx.wake();
    }
    Ok(true)
}

/// Would waiting for `blocker` close a cycle back to process `me`? Follows
/// "the owner of the lock in the way is itself waiting for..." as Linux's
/// posix_locks_deadlock does.
fn deadlock(t: &Table, me: Pid, mut blocker: Owner) -> bool {
    for _ in 0..=MAX_DEADLK_ITERATIONS {
        let Owner::Process(p) = blocker else {
            return false;
        };
        match t.waiters.values().find(|w| w.owner == p) {
            Some(w) => blocker = w.blocker,
            None => return false,
        }
        if blocker == Owner::Process(me) {
            return true;
        }
    }
    false
}

/// Put `req` into `list` for its owner, merging with the owner's adjacent
/// or overlapping locks of the same type and cutting the owner's other
/// locks around it (POSIX's upgrade, downgrade and split); `unlock` only
/// cuts. Returns whether anything held before was given up (sleepers may
/// go on).
fn apply(list: &mut Vec<Lock>, mut req: Lock, unlock: bool) -> bool {
    let owner = req.owner;
    let pos = list.iter().position(|x| x.owner == owner);
    let mut mine = Vec::new();
    list.retain(|x| {
        if x.owner == owner {
            mine.push(x.clone());
            false
        } else {
            true
        }
    });
    let mut kept = Vec::new();
    let mut released = false;
    for x in mine {
        // Adjacent counts as touching for merging (end + 1 == start).
        let touches = x.start <= req.end.saturating_add(1) && req.start <= x.end.saturating_add(1);
        if !unlock && x.write == req.write && touches {
            req.start = req.start.min(x.start);
            req.end = req.end.max(x.end);
            req.seq = req.seq.min(x.seq);
            continue;
        }
        if !x.overlaps(req.start, req.end) {
            kept.push(x);
            continue;
        }
        // A write lock turned read, or bytes unlocked: others may go on.
        released |= x.write || unlock;
        if x.start < req.start {
            kept.push(Lock {
                end: req.start - 1,
                ..x.clone()
            });
        }
        if x.end > req.end {
            kept.push(Lock {
                start: req.end + 1,
                ..x
            });
        }
    }
    if !unlock {
        kept.push(req);
    }
    kept.sort_by_key(|x| x.start);
    let at = pos.unwrap_or(list.len()).min(list.len());
    list.splice(at..at, kept);
    released
}

// ---------------------------------------------------------------------
// flock(2)

/// The lock type a flock(2) operation asks for, LOCK_NB aside (EINVAL
/// for anything else).
pub fn flock_type(op: i32) -> KResult<i16> {
    match op & !LOCK_NB {
        LOCK_SH => Ok(F_RDLCK),
        LOCK_EX => Ok(F_WRLCK),
        LOCK_UN => Ok(F_UNLCK),
        _ => Err(Errno::EINVAL),
    }
}

/// Whether flock(2) succeeds without doing anything: Linux ignores
/// LOCK_MAND requests (they never worked).
pub fn flock_ignored(op: i32) -> bool {
    op & LOCK_MAND != 0
}

/// flock(2) on `f` for a type from `flock_type`; `nonblock`: LOCK_NB.
pub fn flock(t: &Task, f: &File, ty: i16, nonblock: bool) -> KResult<u64> {
    if ty != F_UNLCK && !f.readable() && !f.writable() {
        return Err(Errno::EBADF);
    }
    flock_set(t, f, ty, nonblock)
}

fn flock_set(t: &Task, f: &File, ty: i16, nonblock: bool) -> KResult<u64> {
    let mut signalled = None;
    while !try_flock(t, f, ty, nonblock)? {
        sleep(t, &mut signalled)?;
    }
    Ok(0)
}

/// One try at `flock_set` with the table locked: Ok(false) when queued on
/// the inode to sleep. A conversion dropped its old lock on the first try.
fn try_flock(t: &Task, f: &File, ty: i16, nonblock: bool) -> KResult<bool> {
    let owner = file_owner(f);
    let key = key_of(f);
    let mut g = table();
    let seq = g.seq;
    g.seq += 1;
    let ctx = g.inodes.entry(key).or_default();
    // A conversion first drops the old lock (Linux's flock is not atomic
    // here: a waiter may get in between, and a failed LOCK_NB conversion
    // leaves no lock at all).
    if let Some(i) = ctx.flock.iter().position(|x| x.owner == owner) {
        if ty != F_UNLCK && ctx.flock[i].write == (ty == F_WRLCK) {
            return Ok(true);
        }
        ctx.flock.remove(i);
        ctx.wake();
    }
    if ty == F_UNLCK {
        return Ok(true);
    }
    let write = ty == F_WRLCK;
    if ctx
        .flock
        .iter()
        .any(|x| x.conflicts(owner, write, 0, OFFSET_MAX))
    {
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        ctx.wq.add(t.tid);
        return Ok(false);
    }
    ctx.flock.push(Lock {
        kind: Kind::Flock,
        owner,
        write,
        start: 0,
        end: OFFSET_MAX,
        pid: t.tgid(),
        seq,
    });
    Ok(true)
}

/// Sleep until the inode's wait queue is woken, after a try that failed.
/// A signal that ends the sleep is kept in `signalled` for one more try
/// (Linux takes a lock freed as the signal came); after that it ends the
/// call (ERESTARTSYS: SA_RESTART restarts it) and takes us off the
/// waiters, so no deadlock is seen through us.
fn sleep(t: &Task, signalled: &mut Option<Errno>) -> KResult<()> {
    if let Some(e) = *signalled {
        cancel(t);
        return Err(e);
    }
    *signalled = sched::wait(t, None).err();
    Ok(())
}

// ---------------------------------------------------------------------
// Releasing

/// Whether any lock exists (closes need not look otherwise).
pub fn any() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Process `t` closed a descriptor of `f`: POSIX's rule drops all its
/// record locks on that file, whichever descriptor took them.
pub fn posix_close(t: &Task, f: &File) {
    f.ops.flush(f, t);
    super::dnotify::flush(f, t.tgid());
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    let key = key_of(f);
    release(|k, x| k == key && x.owner == Owner::Process(t.tgid()));
}

/// The last descriptor of an open file description went away: its OFD
/// and flock locks go. Called from `File`'s drop.
pub fn file_released(f: &File) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    let owner = file_owner(f);
    release(|_, x| x.owner == owner);
}

/// The process `tgid` ended: its POSIX locks go.
pub fn process_exit(tgid: Pid) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    release(|_, x| x.owner == Owner::Process(tgid));
}

/// `t` no longer waits for a lock (its wait was interrupted, or it exits).
pub fn cancel(t: &Task) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    table().waiters.remove(&t.tid);
}

/// Drop every lock `gone` picks and wake the sleepers of inodes that lost
/// some.
fn release(gone: impl Fn(Key, &Lock) -> bool) {
    let mut g = table();
    for (k, c) in g.inodes.iter_mut() {
        let n = c.posix.len() + c.flock.len();
        c.posix.retain(|x| !gone(*k, x));
        c.flock.retain(|x| !gone(*k, x));
        if c.posix.len() + c.flock.len() != n {
            c.wake();
        }
    }
}

// ---------------------------------------------------------------------
// /proc/locks

/// /proc/locks in Linux's format, newest lock first:
/// `1: POSIX  ADVISORY  WRITE 123 00:0f:42 0 EOF`.
pub fn proc_locks() -> String {
    let g = table();
    let mut all: Vec<(Key, &Lock)> = g
        .inodes
        .iter()
        .flat_map(|(k, c)| c.posix.iter().chain(c.flock.iter()).map(move |x| (*k, x)))
        .collect();
    all.sort_by_key(|(_, x)| std::cmp::Reverse(x.seq));
    let mut s = String::new();
    for (n, ((dev, ino), x)) in all.into_iter().enumerate() {
        let kind = match x.kind {
            Kind::Posix => "POSIX  ADVISORY  ",
            Kind::Ofd => "OFDLCK ADVISORY  ",
            Kind::Flock => "FLOCK  ADVISORY  ",
        };
        let ty = if x.write { "WRITE" } else { "READ " };
        let pid = if x.kind == Kind::Ofd { -1 } else { x.pid };
        let file = if dev == NO_DEV {
            "<none>:0".to_string()
        } else {
            let major = (dev >> 8) & 0xfff;
            let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
            format!("{major:02x}:{minor:02x}:{ino}")
        };
        let range = if x.end == OFFSET_MAX {
            format!("{} EOF", x.start)
        } else {
            format!("{} {}", x.start, x.end)
        };
        s.push_str(&format!("{}: {kind}{ty} {pid} {file} {range}\n", n + 1));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lk(owner: i32, write: bool, start: i64, end: i64) -> Lock {
        Lock {
            kind: Kind::Posix,
            owner: Owner::Process(owner),
            write,
            start,
            end,
            pid: owner,
            seq: 0,
        }
    }

    fn ranges(l: &[Lock]) -> Vec<(i32, bool, i64, i64)> {
        l.iter()
            .map(|x| {
                let Owner::Process(p) = x.owner else { panic!() };
                (p, x.write, x.start, x.end)
            })
            .collect()
    }

    #[test]
    fn merge_adjacent_same_type() {
        let mut l = vec![];
        apply(&mut l, lk(1, true, 0, 9), false);
        apply(&mut l, lk(1, true, 10, 19), false);
        assert_eq!(ranges(&l), vec![(1, true, 0, 19)]);
    }

    #[test]
    fn unlock_splits() {
        let mut l = vec![lk(1, true, 0, 19)];
        assert!(apply(&mut l, lk(1, false, 5, 9), true));
        assert_eq!(ranges(&l), vec![(1, true, 0, 4), (1, true, 10, 19)]);
    }

    #[test]
    fn downgrade_middle_splits_in_three() {
        let mut l = vec![lk(1, true, 0, OFFSET_MAX)];
        assert!(apply(&mut l, lk(1, false, 10, 19), false));
        assert_eq!(
            ranges(&l),
            vec![
                (1, true, 0, 9),
                (1, false, 10, 19),
                (1, true, 20, OFFSET_MAX)
            ]
        );
    }

    #[test]
    fn other_owners_keep_their_place() {
        let mut l = vec![lk(2, false, 0, 5), lk(1, false, 0, 5)];
        apply(&mut l, lk(2, false, 6, 9), false);
        assert_eq!(ranges(&l), vec![(2, false, 0, 9), (1, false, 0, 5)]);
    }

    #[test]
    fn ranges_follow_linux() {
        assert_eq!(range(0, 10, -5), Ok((5, 9)));
        assert_eq!(range(0, 3, -5), Err(Errno::EINVAL));
        assert_eq!(range(0, -1, 1), Err(Errno::EINVAL));
        assert_eq!(range(0, OFFSET_MAX, 2), Err(Errno::EOVERFLOW));
        assert_eq!(range(100, OFFSET_MAX - 50, 1), Err(Errno::EOVERFLOW));
        assert_eq!(range(100, -70, 0), Ok((30, OFFSET_MAX)));
    }
}
