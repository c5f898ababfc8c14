//! futex(2): wait queues keyed as Linux's get_futex_key: a private futex
//! (FUTEX_PRIVATE_FLAG, or a word in a private mapping) by address space
//! and address; a word in a shared mapping by the object behind it (the
//! file, or the tmpfs file of shared anonymous memory) and its offset, so
//! processes that map it at different addresses meet on one queue.

use super::errno::{Errno, KResult};
use super::sched;
use super::task::{lock, RestartBlock, Task, Tid};
use crate::fs::vfs::Inode;
use crate::mm::{Backing, Mm};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a futex word is identified by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// Address space id and user address.
    Private { mm: usize, addr: u64 },
    /// The backing inode (device, inode number) and the byte offset of the
    /// word in it.
    Shared { dev: u64, ino: u64, off: u64 },
}

/// Where a waiter is queued, shared by its queue entry and the sleeping
/// task: the key (a requeue moves it), None once a wake took the entry
/// off (Linux's futex_q lock_ptr).
type Slot = Arc<Mutex<Option<Key>>>;

struct Waiter {
    tid: Tid,
    bitset: u32,
    slot: Slot,
    /// The inode of a shared key, held so that its identity cannot be
    /// reused by another file while someone waits on it.
    _pin: Option<Arc<dyn Inode>>,
}

static QUEUES: Mutex<Option<HashMap<Key, Vec<Waiter>>>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut HashMap<Key, Vec<Waiter>>) -> R) -> R {
    let mut g = lock(&QUEUES);
    f(g.get_or_insert_with(HashMap::new))
}

/// The key of the word at `addr` (4-byte aligned), with the inode to pin
/// for a shared key. EFAULT if a non-private futex is not mapped.
fn key(mm: &Arc<Mm>, addr: u64, private: bool) -> KResult<(Key, Option<Arc<dyn Inode>>)> {
    if addr % 4 != 0 {
        return Err(Errno::EINVAL);
    }
    let private_key = Key::Private { mm: mm.id(), addr };
    if private {
        return Ok((private_key, None));
    }
    let m = mm.lock();
    let vma = m.find_vma(addr).ok_or(Errno::EFAULT)?;
    match &vma.backing {
        Backing::File { inode, offset, .. } if vma.shared => {
            let st = inode.stat();
            let off = offset + (addr - vma.start);
            let k = Key::Shared {
                dev: st.dev,
                ino: st.ino,
                off,
            };
            Ok((k, Some(inode.clone())))
        }
        // A private mapping's pages belong to this address space alone.
        _ => Ok((private_key, None)),
    }
}

pub const FUTEX_WAIT: u32 = 0;
pub const FUTEX_WAKE: u32 = 1;
pub const FUTEX_REQUEUE: u32 = 3;
pub const FUTEX_CMP_REQUEUE: u32 = 4;
pub const FUTEX_WAKE_OP: u32 = 5;
pub const FUTEX_WAIT_BITSET: u32 = 9;
pub const FUTEX_WAKE_BITSET: u32 = 10;
pub const FUTEX_CLOCK_REALTIME: u32 = 256;

/// Take the waiter of `slot` off its queue. False if a wake took it
/// off first (the wait then succeeded, whatever else ended it).
fn unqueue(slot: &Slot) -> bool {
    with(|q| {
        let Some(k) = lock(slot).take() else {
            return false;
        };
        if let Some(list) = q.get_mut(&k) {
            list.retain(|w| !Arc::ptr_eq(&w.slot, slot));
            if list.is_empty() {
                q.remove(&k);
            }
        }
        true
    })
}

/// A queued wait: leaves the queue however the wait ends, also when the
/// task's kernel stack is unwound because the task was killed in it.
struct Queued(Slot);

impl Drop for Queued {
    fn drop(&mut self) {
        unqueue(&self.0);
    }
}

/// FUTEX_WAIT: sleep if *addr == val. `deadline` is absolute monotonic ns.
pub fn wait(
    t: &Arc<Task>,
    addr: u64,
    val: u32,
    bitset: u32,
    deadline: Option<i64>,
    private: bool,
) -> KResult<u64> {
    if addr % 4 != 0 {
        return Err(Errno::EINVAL);
    }
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let (k, pin) = key(&mm, addr, private)?;
    // Queue first, then look at the word: a waker that changes it and
    // wakes after the check finds us queued (Linux's futex_wait_setup).
    let slot: Slot = Arc::new(Mutex::new(Some(k)));
    with(|q| {
        q.entry(k).or_default().push(Waiter {
            tid: t.tid,
            bitset,
            slot: slot.clone(),
            _pin: pin,
        })
    });
    let queued = Queued(slot);
    if mm.read_u32(addr)? != val {
        return Err(Errno::EAGAIN);
    }
    loop {
        if lock(&queued.0).is_none() {
            return Ok(0);
        }
        if deadline.is_some_and(|d| super::time::monotonic_ns() >= d) {
            return if unqueue(&queued.0) {
                Err(Errno::ETIMEDOUT)
            } else {
                Ok(0)
            };
        }
        if let Err(e) = sched::wait(t, deadline) {
            // Woken and signalled at once: the wake counts (the waker
            // already counted it), as Linux's unqueue_me.
            if !unqueue(&queued.0) {
                return Ok(0);
            }
            // A timed wait goes on to the same deadline if restarted
            // without a handler, and is EINTR after one, whatever
            // SA_RESTART says (Linux's futex_wait_restart).
            let Some(deadline) = deadline else {
                return Err(e);
            };
            t.lock().restart_block = Some(RestartBlock::Futex {
                addr,
                val,
                bitset,
                deadline,
                private,
            });
            return Err(Errno::ERESTART_RESTARTBLOCK);
        }
    }
}

fn wake_key(k: Key, n: u32, bitset: u32) -> usize {
    let woken: Vec<Tid> = with(|q| {
        let Some(list) = q.get_mut(&k) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        list.retain(|w| {
            if (out.len() as u32) < n && w.bitset & bitset != 0 {
                *lock(&w.slot) = None;
                out.push(w.tid);
                false
            } else {
                true
            }
        });
        if list.is_empty() {
            q.remove(&k);
        }
        out
    });
    for &tid in &woken {
        sched::wake(tid);
    }
    woken.len()
}

/// FUTEX_WAKE: wake up to `n` waiters on `addr`.
pub fn wake(mm: &Arc<Mm>, addr: u64, n: u32, bitset: u32, private: bool) -> KResult<usize> {
    Ok(wake_key(key(mm, addr, private)?.0, n, bitset))
}

/// FUTEX_REQUEUE / CMP_REQUEUE.
pub fn requeue(
    mm: &Arc<Mm>,
    addr: u64,
    n: u32,
    n2: u32,
    addr2: u64,
    cmp: Option<u32>,
    private: bool,
) -> KResult<u64> {
    let (k1, _) = key(mm, addr, private)?;
    let (k2, pin2) = key(mm, addr2, private)?;
    if let Some(v) = cmp {
        if mm.read_u32(addr)? != v {
            return Err(Errno::EAGAIN);
        }
    }
    let woken = wake_key(k1, n, u32::MAX);
    let moved: Vec<Waiter> = with(|q| {
        let Some(list) = q.get_mut(&k1) else {
            return Vec::new();
        };
        let take = (n2 as usize).min(list.len());
        let m: Vec<Waiter> = list
            .drain(..take)
            .map(|w| Waiter {
                _pin: pin2.clone(),
                ..w
            })
            .collect();
        if list.is_empty() {
            q.remove(&k1);
        }
        m
    });
    let count = moved.len();
    for w in &moved {
        *lock(&w.slot) = Some(k2);
    }
    with(|q| q.entry(k2).or_default().extend(moved));
    Ok((woken + count) as u64)
}

/// FUTEX_WAKE_OP.
pub fn wake_op(
    mm: &Arc<Mm>,
    addr: u64,
    n: u32,
    n2: u32,
    addr2: u64,
    op: u32,
    private: bool,
) -> KResult<u64> {
    let (k1, _) = key(mm, addr, private)?;
    let (k2, _) = key(mm, addr2, private)?;
    let opcode = (op >> 28) & 7;
    let cmp = (op >> 24) & 15;
    let mut oparg = ((op >> 12) & 0xfff) as i32;
    let cmparg = (op & 0xfff) as i32;
    if (op >> 28) & 8 != 0 {
        oparg = 1 << (oparg & 31);
    }
    let old = mm.read_u32(addr2)? as i32;
    let new = match opcode {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return Err(Errno::ENOSYS),
    };
    mm.write_u32(addr2, new as u32)?;
    let mut woken = wake_key(k1, n, u32::MAX);
    let c = match cmp {
        0 => old == cmparg,
        1 => old != cmparg,
        2 => old < cmparg,
        3 => old <= cmparg,
        4 => old > cmparg,
        5 => old >= cmparg,
        _ => return Err(Errno::ENOSYS),
    };
    if c {
        woken += wake_key(k2, n2, u32::MAX);
    }
    Ok(woken as u64)
}

/// Remove `t` from any futex queue (it exits: a wait it was killed in
/// may not have unqueued itself yet).
pub fn cancel(t: &Task) {
    with(|q| {
        q.retain(|_, list| {
            list.retain(|w| w.tid != t.tid);
            !list.is_empty()
        })
    });
}
