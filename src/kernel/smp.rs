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
//! fewest tasks.

use super::task::Tid;
use crate::arch::cpu::{ncpus, this_cpu, MAX_CPUS};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// The vCPU of every task that has one other than 0.
static TASK_CPU: Mutex<BTreeMap<Tid, usize>> = Mutex::new(BTreeMap::new());
/// Tasks per vCPU, for placing new processes.
static LOAD: Mutex<[usize; MAX_CPUS]> = Mutex::new([0; MAX_CPUS]);

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
}

/// Forget every placement (reboot).
pub fn reset() {
    lock(&TASK_CPU).clear();
    *lock(&LOAD) = [0; MAX_CPUS];
}

/// The vCPU for a new process: the one with the fewest tasks, preferring
/// the caller's on a tie (its caches, and no cross-vCPU wake-up for a
/// parent that waits).
pub fn pick_cpu() -> usize {
    let n = ncpus();
    if n == 1 {
        return 0;
    }
    let here = this_cpu();
    let l = lock(&LOAD);
    (0..n).fold(here, |best, c| if l[c] < l[best] { c } else { best })
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
