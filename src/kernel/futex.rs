//! futex(2): wait queues keyed by address (private: address space + user
//! address; shared: physical address of the word).

use super::errno::{Errno, KResult};
use super::sched;
use super::task::{lock, Task, Tid};
use crate::mm::Mm;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Key = (usize, u64);

struct Waiter {
    tid: Tid,
    bitset: u32,
}

static QUEUES: Mutex<Option<HashMap<Key, Vec<Waiter>>>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut HashMap<Key, Vec<Waiter>>) -> R) -> R {
    let mut g = lock(&QUEUES);
    f(g.get_or_insert_with(HashMap::new))
}

fn key(mm: &Arc<Mm>, addr: u64, _private: bool) -> Key {
    // Private and shared futexes both key on (mm, address); shared
    // mappings across processes are rare for our guests (process-shared
    // pthread objects in MAP_SHARED memory would need the physical key).
    (mm.id(), addr)
}

pub const FUTEX_WAIT: u32 = 0;
pub const FUTEX_WAKE: u32 = 1;
pub const FUTEX_REQUEUE: u32 = 3;
pub const FUTEX_CMP_REQUEUE: u32 = 4;
pub const FUTEX_WAKE_OP: u32 = 5;
pub const FUTEX_WAIT_BITSET: u32 = 9;
pub const FUTEX_WAKE_BITSET: u32 = 10;
pub const FUTEX_CLOCK_REALTIME: u32 = 256;

/// FUTEX_WAIT: sleep if *addr == val. `deadline` is absolute monotonic ns.
pub fn wait(
    t: &Arc<Task>,
    addr: u64,
    val: u32,
    bitset: u32,
    deadline: Option<i64>,
    redo: bool,
) -> KResult<u64> {
    if addr % 4 != 0 {
        return Err(Errno::EINVAL);
    }
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    if redo {
        let woken = std::mem::replace(&mut t.lock().futex_woken, false);
        if woken {
            return Ok(0);
        }
        // The guard must not live into the block: cancel() locks the task.
        let deadline = t.lock().deadline;
        if let Some(d) = deadline {
            if super::time::monotonic_ns() >= d {
                cancel(t);
                return Err(Errno::ETIMEDOUT);
            }
        }
        // Spurious wake: still queued, sleep on.
        if t.lock().futex_key.is_some() {
            return Err(sched::block(t, None));
        }
    }
    let cur = mm.read_u32(addr)?;
    if cur != val {
        return Err(Errno::EAGAIN);
    }
    let k = key(&mm, addr, true);
    with(|q| q.entry(k).or_default().push(Waiter { tid: t.tid, bitset }));
    {
        let mut i = t.lock();
        i.futex_key = Some(k);
        i.futex_woken = false;
    }
    if let Some(d) = deadline {
        if super::time::monotonic_ns() >= d {
            cancel(t);
            return Err(Errno::ETIMEDOUT);
        }
    }
    Err(sched::block(t, deadline))
}

fn wake_key(k: Key, n: u32, bitset: u32) -> usize {
    let woken: Vec<Tid> = with(|q| {
        let Some(list) = q.get_mut(&k) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        list.retain(|w| {
            if (out.len() as u32) < n && w.bitset & bitset != 0 {
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
        if let Some(t) = super::task::task(tid) {
            let mut i = t.lock();
            i.futex_woken = true;
            i.futex_key = None;
        }
        sched::wake(tid);
    }
    woken.len()
}

/// FUTEX_WAKE: wake up to `n` waiters on `addr`.
pub fn wake(mm: &Arc<Mm>, addr: u64, n: u32, bitset: u32, _shared: bool) -> usize {
    wake_key(key(mm, addr, true), n, bitset)
}

/// FUTEX_REQUEUE / CMP_REQUEUE.
pub fn requeue(
    mm: &Arc<Mm>,
    addr: u64,
    n: u32,
    n2: u32,
    addr2: u64,
    cmp: Option<u32>,
) -> KResult<u64> {
    if let Some(v) = cmp {
        if mm.read_u32(addr)? != v {
            return Err(Errno::EAGAIN);
        }
    }
    let k1 = key(mm, addr, true);
    let k2 = key(mm, addr2, true);
    let woken = wake_key(k1, n, u32::MAX);
    let moved: Vec<Waiter> = with(|q| {
        let Some(list) = q.get_mut(&k1) else {
            return Vec::new();
        };
        let take = (n2 as usize).min(list.len());
        let m: Vec<Waiter> = list.drain(..take).collect();
        if list.is_empty() {
            q.remove(&k1);
        }
        m
    });
    let count = moved.len();
    for w in &moved {
        if let Some(t) = super::task::task(w.tid) {
            t.lock().futex_key = Some(k2);
        }
    }
    with(|q| q.entry(k2).or_default().extend(moved));
    Ok((woken + count) as u64)
}

/// FUTEX_WAKE_OP.
pub fn wake_op(mm: &Arc<Mm>, addr: u64, n: u32, n2: u32, addr2: u64, op: u32) -> KResult<u64> {
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
    let mut woken = wake(mm, addr, n, u32::MAX, false);
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
        woken += wake(mm, addr2, n2, u32::MAX, false);
    }
    Ok(woken as u64)
}

/// Remove `t` from any futex queue (its wait ended another way).
pub fn cancel(t: &Task) {
    let k = t.lock().futex_key.take();
    if let Some(k) = k {
        with(|q| {
            if let Some(list) = q.get_mut(&k) {
                list.retain(|w| w.tid != t.tid);
                if list.is_empty() {
                    q.remove(&k);
                }
            }
        });
    }
}
