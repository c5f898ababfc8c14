//! Wait queues: lists of sleeping tasks to wake when something changes.
//!
//! A handler that cannot go on adds its task here and sleeps in its kernel
//! context (`sched::wait`); a wake makes it runnable, and the handler
//! checks its condition again where it stopped.

use super::sched;
use super::task::Tid;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct WaitQueue {
    waiters: Mutex<Vec<Tid>>,
    /// Wakes so far: edge-triggered epoll compares it with the count it
    /// last reported at to see a new readiness transition.
    wakes: AtomicU64,
}

impl WaitQueue {
    pub fn new() -> WaitQueue {
        WaitQueue::default()
    }
    /// Add `tid` to be woken at the next `wake_all`.
    pub fn add(&self, tid: Tid) {
        let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if !w.contains(&tid) {
            w.push(tid);
        }
    }
    /// How many times `wake_all` ran.
    pub fn wakes(&self) -> u64 {
        self.wakes.load(Ordering::Relaxed)
    }
    pub fn wake_all(&self) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        let w = std::mem::take(&mut *self.waiters.lock().unwrap_or_else(|e| e.into_inner()));
        for tid in w {
            sched::wake(tid);
        }
    }
}
