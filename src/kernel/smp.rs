//! Several vCPUs: which vCPU runs each task, where new tasks go, and the
//! big kernel lock.
//!
//! Each vCPU is a host thread that runs guests through the platform (the
//! ptrace tracer of the address spaces it forked). Kernel code runs under
//! one lock, held by a vCPU from the moment it leaves a guest until it
//! enters one again or goes idle: guests run in parallel, the kernel does
//! not (Linux's big kernel lock of 2.0/2.2). All kernel state keeps the
//! single-CPU reasoning it was written with, and the guests' own work,
//! which is where CPU-bound programs spend their time, scales. With one
//! vCPU the lock is never taken.
//!
//! A task stays on the vCPU it started on (its kernel context lives on that
//! vCPU's thread, and its address space is traced by it); threads of a
//! process share its vCPU, and a new process goes to the vCPU with the
//! fewest tasks among those its affinity mask allows.
//!
//! sched_setaffinity moves a task whose vCPU its new mask excludes, at its
//! next return to the guest (`wants_move`, then `sched` ends its kernel
//! context there and the destination vCPU starts a new one and re-creates
//! the host process). Only a task alone in its address space can move: the
//! host process of an mm is traced by one vCPU, so threads of one process
//! share a vCPU whatever their masks say (their masks are kept and
//! reported, and their children are placed by them).

use super::task::Tid;
use crate::arch::cpu::{ncpus, this_cpu, MAX_CPUS};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The vCPU of every task that has one other than 0.
static TASK_CPU: Mutex<BTreeMap<Tid, usize>> = Mutex::new(BTreeMap::new());
/// Tasks per vCPU, for placing new processes.
static LOAD: Mutex<[usize; MAX_CPUS]> = Mutex::new([0; MAX_CPUS]);
/// Affinity masks narrower than "every vCPU" (bit N: vCPU N).
static MASKS: Mutex<BTreeMap<Tid, u64>> = Mutex::new(BTreeMap::new());
/// Tasks to move at their next return to the guest: tid -> vCPU.
static MOVES: Mutex<BTreeMap<Tid, usize>> = Mutex::new(BTreeMap::new());
/// Whether MOVES may be non-empty (checked on every guest return).
static ANY_MOVES: AtomicBool = AtomicBool::new(false);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The vCPU that runs `tid` (0 for tasks not placed).
pub fn task_cpu(tid: Tid) -> usize {
    if ncpus() == 1 {
        return 0;
    }
    lock(&TASK_CPU).get(&tid).copied().unwrap_or(0)
}

/// Record that `tid` runs on `cpu`.
pub fn place(tid: Tid, cpu: usize) {
    if ncpus() == 1 {
        return;
    }
    lock(&TASK_CPU).insert(tid, cpu);
    lock(&LOAD)[cpu % MAX_CPUS] += 1;
}

/// `tid` is gone.
pub fn forget(tid: Tid) {
    if ncpus() == 1 {
        return;
    }
    if let Some(cpu) = lock(&TASK_CPU).remove(&tid) {
        let mut l = lock(&LOAD);
        l[cpu] = l[cpu].saturating_sub(1);
    }
    lock(&MASKS).remove(&tid);
    lock(&MOVES).remove(&tid);
}

/// Forget every placement (reboot).
pub fn reset() {
    lock(&TASK_CPU).clear();
    *lock(&LOAD) = [0; MAX_CPUS];
    lock(&MASKS).clear();
    lock(&MOVES).clear();
    ANY_MOVES.store(false, Ordering::Relaxed);
}

/// Every vCPU's bit.
pub fn online_mask() -> u64 {
    let n = ncpus();
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// The vCPUs `tid` may run on.
pub fn affinity(tid: Tid) -> u64 {
    if ncpus() == 1 {
        return 1;
    }
    lock(&MASKS).get(&tid).copied().unwrap_or_else(online_mask)
}

/// A new task gets its parent's mask (fork, clone).
pub fn inherit_affinity(parent: Tid, child: Tid) {
    if ncpus() == 1 {
        return;
    }
    let mut masks = lock(&MASKS);
    if let Some(m) = masks.get(&parent).copied() {
        masks.insert(child, m);
    }
}

/// Set `tid`'s mask (non-empty, online vCPUs only). If its vCPU is not
/// in it and `movable` (alone in its address space), it is moved to the
/// least loaded allowed vCPU at its next return to the guest; the caller
/// kicks it. True if a move was asked for.
pub fn set_affinity(tid: Tid, mask: u64, movable: bool) -> bool {
    if ncpus() == 1 {
        return false;
    }
    let mask = mask & online_mask();
    if mask == online_mask() {
        lock(&MASKS).remove(&tid);
    } else {
        lock(&MASKS).insert(tid, mask);
    }
    let cpu = task_cpu(tid);
    let mut moves = lock(&MOVES);
    if mask & (1 << cpu) != 0 || !movable {
        moves.remove(&tid);
        return false;
    }
    moves.insert(tid, pick_cpu(mask));
    ANY_MOVES.store(true, Ordering::Relaxed);
    true
}

/// Whether `tid` is to move to another vCPU (cheap when no move is asked
/// for anywhere).
pub fn wants_move(tid: Tid) -> bool {
    ANY_MOVES.load(Ordering::Relaxed) && lock(&MOVES).contains_key(&tid)
}

/// Take `tid`'s pending move: the vCPU it should go to.
pub fn take_move(tid: Tid) -> Option<usize> {
    let mut moves = lock(&MOVES);
    let to = moves.remove(&tid);
    if moves.is_empty() {
        ANY_MOVES.store(false, Ordering::Relaxed);
    }
    to
}

/// `tid` now runs on `cpu` (a move done by `sched`).
pub fn move_to(tid: Tid, cpu: usize) {
    let old = lock(&TASK_CPU).insert(tid, cpu);
    let mut l = lock(&LOAD);
    if let Some(o) = old {
        l[o] = l[o].saturating_sub(1);
    }
    l[cpu % MAX_CPUS] += 1;
}

/// The vCPU for a new process, among those `mask` allows: the one with
/// the fewest tasks, preferring the caller's on a tie (its caches, and no
/// cross-vCPU wake-up for a parent that waits).
pub fn pick_cpu(mask: u64) -> usize {
    let n = ncpus();
    if n == 1 {
        return 0;
    }
    let allowed = |c: usize| mask & (1 << c) != 0;
    let here = this_cpu();
    let l = lock(&LOAD);
    let first = if allowed(here) {
        here
    } else {
        (0..n).find(|&c| allowed(c)).unwrap_or(here)
    };
    (0..n)
        .filter(|&c| allowed(c))
        .fold(first, |best, c| if l[c] < l[best] { c } else { best })
}

static BKL: Mutex<()> = Mutex::new(());

thread_local! {
    /// This vCPU's hold on the big kernel lock.
    static HELD: RefCell<Option<MutexGuard<'static, ()>>> = const { RefCell::new(None) };
}

/// Take the big kernel lock for this vCPU (no-op with one vCPU, or if
/// held already).
pub fn lock_kernel() {
    if ncpus() == 1 {
        return;
    }
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        if h.is_none() {
            *h = Some(BKL.lock().unwrap_or_else(|e| e.into_inner()));
        }
    });
}

/// Let other vCPUs into the kernel: this one is about to run a guest or
/// go idle, holding no other lock.
pub fn unlock_kernel() {
    if ncpus() == 1 {
        return;
    }
    HELD.with(|h| drop(h.borrow_mut().take()));
}
