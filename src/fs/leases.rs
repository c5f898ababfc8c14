//! File leases (fcntl F_SETLEASE/F_GETLEASE), as Linux's fs/locks.c: a
//! process holding a lease on an open file is told with SIGIO (or its F_SETSIG signal) when
//! another open of the file conflicts (any open against a write lease, an
//! open for writing against a read lease); the opener waits until the
//! holder gives the lease up or downgrades it, or until
//! fs.lease-break-time seconds pass and the kernel does it for the holder.
//! An O_NONBLOCK opener starts the break and fails with EWOULDBLOCK.
//! truncate(2) breaks leases as a (blocking) open for writing does.
//!
//! Leases live in one table keyed by (device, inode); each belongs to an
//! open file description (named by its address while it is alive: `File`'s
//! drop removes it). The table lock is a leaf.

use super::file::{File, O_ACCMODE, O_NONBLOCK, O_RDONLY};
use super::locks::{F_RDLCK, F_UNLCK, F_WRLCK};
use super::vfs::Inode;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{self, Task};
use crate::kernel::wait::WaitQueue;
use crate::kernel::{sched, time};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// fs.lease-break-time: seconds a breaker waits before the kernel takes
/// the lease away (Linux's default 45).
pub static LEASE_BREAK_TIME: AtomicU32 = AtomicU32::new(45);
/// fs.leases-enable: 0 refuses new leases (EINVAL).
pub static LEASES_ENABLE: AtomicU32 = AtomicU32::new(1);

type Key = (u64, u64);

/// One lease.
struct Lease {
    /// The open file description holding it (its address).
    file: usize,
    write: bool,
    /// The description, whose owner (F_SETOWN, the fcntl caller by
    /// default) is told when it must go, with its F_SETSIG signal and
    /// the descriptor given (si_fd).
    filp: Weak<File>,
    fd: i32,
    /// While being broken: what it must become (F_RDLCK or F_UNLCK) and
    /// by when (monotonic ns) the kernel does it.
    breaking: Option<(i16, i64)>,
}

#[derive(Default)]
struct Table {
    leases: BTreeMap<Key, Vec<Lease>>,
    /// Breakers sleep here; woken whenever a lease changes or goes.
    wq: Arc<WaitQueue>,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);
/// Whether any lease exists: opens need not look otherwise.
static ACTIVE: AtomicBool = AtomicBool::new(false);

fn table() -> MutexGuard<'static, Option<Table>> {
    let mut g = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    g.get_or_insert_with(Table::default);
    g
}

fn key_of(i: &Arc<dyn Inode>) -> Key {
    let st = i.stat();
    (st.dev, st.ino)
}

fn file_id(f: &File) -> usize {
    f as *const File as usize
}

/// How many open file descriptions of the inode `key` there are for
/// reading only and for writing, besides `me` (Linux's i_readcount and
/// i_writecount, here counted over every process's fd table).
fn other_opens(key: Key, me: usize) -> (usize, usize) {
    let mut seen = std::collections::BTreeSet::new();
    let (mut r, mut w) = (0, 0);
    for t in task::all_tasks() {
        let files = t.files();
        let g = files.lock().unwrap_or_else(|e| e.into_inner());
        for (_, e) in g.iter() {
            let f = &e.file;
            let id = file_id(f);
            if id == me || !seen.insert(id) {
                continue;
            }
            let Some(i) = &f.inode else { continue };
            if f.flags() & super::file::O_PATH != 0 || key_of(i) != key {
                continue;
            }
            if f.flags() & O_ACCMODE == O_RDONLY {
                r += 1;
            } else {
                w += 1;
            }
        }
    }
    (r, w)
}

/// Wake breakers and forget the table's emptiness.
fn changed(t: &mut Table) {
    t.leases.retain(|_, v| !v.is_empty());
    ACTIVE.store(!t.leases.is_empty(), Ordering::Relaxed);
    t.wq.wake_all();
}

/// fcntl(F_GETLEASE): the lease's type, or while it is being broken the
/// type it must become; F_UNLCK when there is none.
pub fn get(f: &File) -> KResult<u64> {
    let Some(i) = &f.inode else {
        return Ok(F_UNLCK as u64);
    };
    let key = key_of(i);
    let g = table();
    let tb = g.as_ref().expect("table");
    let ty = tb
        .leases
        .get(&key)
        .and_then(|v| v.iter().find(|l| l.file == file_id(f)))
        .map_or(F_UNLCK, |l| match l.breaking {
            Some((to, _)) => to,
            None if l.write => F_WRLCK,
            None => F_RDLCK,
        });
    Ok(ty as u64)
}

/// fcntl(F_SETLEASE, arg) on `f` by `t`.
pub fn set(t: &Task, fd: i32, f: &Arc<File>, arg: u64) -> KResult<u64> {
    let ty = i16::try_from(arg).map_err(|_| Errno::EINVAL)?;
    let i = f.inode.as_ref().ok_or(Errno::EINVAL)?;
    let st = i.stat();
    if !st.is_reg() {
        return Err(Errno::EINVAL);
    }
    let c = t.creds();
    if c.fsuid != st.uid && !c.capable(crate::kernel::caps::CAP_LEASE) {
        return Err(Errno::EACCES);
    }
    if ![F_RDLCK, F_WRLCK, F_UNLCK].contains(&ty) {
        return Err(Errno::EINVAL);
    }
    if ty != F_UNLCK && LEASES_ENABLE.load(Ordering::Relaxed) == 0 {
        return Err(Errno::EINVAL);
    }
    let key = (st.dev, st.ino);
    let me = file_id(f);
    // Counted before taking the table (it locks every fd table).
    let opens = (ty != F_UNLCK).then(|| other_opens(key, me));
    let mut g = table();
    let tb = g.as_mut().expect("table");
    let list = tb.leases.entry(key).or_default();
    let mine = list.iter().position(|l| l.file == me);
    if ty == F_UNLCK {
        let Some(p) = mine else {
            changed(tb);
            return Err(Errno::EAGAIN);
        };
        list.remove(p);
        changed(tb);
        return Ok(0);
    }
    // Linux's check_conflicting_open: a read lease needs no writer; a
    // write lease no other open at all (its own fd may read or write).
    let (r, w) = opens.unwrap_or_default();
    let self_writes = f.flags() & O_ACCMODE != O_RDONLY;
    let conflict = if ty == F_RDLCK {
        w > 0 || self_writes
    } else {
        r > 0 || w > 0
    };
    // Other files' leases: none may exist for a write lease, and none
    // may be on its way out for a read lease (generic_add_lease).
    let others_conflict = list
        .iter()
        .any(|l| l.file != me && (ty == F_WRLCK || matches!(l.breaking, Some((F_UNLCK, _)))));
    if conflict || others_conflict {
        changed(tb);
        return Err(Errno::EAGAIN);
    }
    match mine {
        // Our own lease may always change type; a break in progress goes
        // on (its breaker still waits) unless a downgrade satisfies it.
        Some(p) => {
            let l = &mut list[p];
            l.write = ty == F_WRLCK;
            l.fd = fd;
            if ty == F_RDLCK && matches!(l.breaking, Some((F_RDLCK, _))) {
                l.breaking = None;
            }
        }
        None => list.push(Lease {
            file: me,
            write: ty == F_WRLCK,
            filp: Arc::downgrade(f),
            fd,
            breaking: None,
        }),
    }
    changed(tb);
    drop(g);
    super::fown::set_default(t, f, t.tgid(), super::fown::F_OWNER_PID);
    Ok(0)
}

/// An open of `inode` with `flags` by `t` (Linux's break_lease): start
/// breaking the leases it conflicts with, then wait until none is left
/// (EWOULDBLOCK at once with O_NONBLOCK).
pub fn break_lease(t: &Task, inode: &Arc<dyn Inode>, flags: u32) -> KResult<()> {
    if !ACTIVE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let key = key_of(inode);
    let writing = flags & O_ACCMODE != O_RDONLY;
    let target = if writing { F_UNLCK } else { F_RDLCK };
    let mut signalled: Option<Errno> = None;
    loop {
        let mut tell = Vec::new();
        let deadline;
        {
            let mut g = table();
            let tb = g.as_mut().expect("table");
            let now = time::monotonic_ns();
            let mut expired = false;
            let Some(list) = tb.leases.get_mut(&key) else {
                return Ok(());
            };
            // Leases whose break time is up go (or become read leases).
            list.retain_mut(|l| match l.breaking {
                Some((to, by)) if by <= now => {
                    expired = true;
                    l.breaking = None;
                    l.write = false;
                    to == F_RDLCK
                }
                _ => true,
            });
            let conflicting: Vec<&mut Lease> =
                list.iter_mut().filter(|l| writing || l.write).collect();
            if conflicting.is_empty() {
                if expired {
                    changed(tb);
                }
                return Ok(());
            }
            let by = now + LEASE_BREAK_TIME.load(Ordering::Relaxed) as i64 * 1_000_000_000;
            let mut first = i64::MAX;
            for l in conflicting {
                match &mut l.breaking {
                    None => {
                        l.breaking = Some((target, by));
                        if let Some(f) = l.filp.upgrade() {
                            tell.push((f, l.fd));
                        }
                    }
                    // A write open asks more of a lease being downgraded.
                    Some((to, _)) if target == F_UNLCK && *to == F_RDLCK => {
                        *to = F_UNLCK;
                    }
                    _ => {}
                }
                first = first.min(l.breaking.map_or(by, |(_, b)| b));
            }
            deadline = first;
            if flags & O_NONBLOCK == 0 && signalled.is_none() {
                tb.wq.add(t.tid);
            }
        }
        // To the file's owner (F_SETOWN; the holder unless changed).
        for (f, fd) in tell {
            super::fown::send_sigio(&f, fd, super::fown::POLL_MSG);
        }
        if flags & O_NONBLOCK != 0 {
            return Err(Errno::EAGAIN);
        }
        if let Some(e) = signalled {
            return Err(e);
        }
        signalled = sched::wait(t, Some(deadline)).err();
    }
}

/// The last descriptor of `f` went away: its lease goes.
pub fn file_released(f: &File) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    let me = file_id(f);
    let mut g = table();
    let tb = g.as_mut().expect("table");
    let mut any = false;
    for v in tb.leases.values_mut() {
        let n = v.len();
        v.retain(|l| l.file != me);
        any |= v.len() != n;
    }
    if any {
        changed(tb);
    }
}
