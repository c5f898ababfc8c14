//! Wait queues: lists of sleeping tasks to wake when something changes.
//!
//! Sleeping is "block and run the syscall again": a task that cannot go on
//! adds itself here and its syscall returns EBLOCK; a wake makes it
//! runnable, and the syscall is re-evaluated from the start.

use super::sched;
use super::task::Tid;
use std::sync::Mutex;

#[derive(Default)]
pub struct WaitQueue {
    waiters: Mutex<Vec<Tid>>,
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
    pub fn wake_all(&self) {
        let w = std::mem::take(&mut *self.waiters.lock().unwrap_or_else(|e| e.into_inner()));
        for tid in w {
            sched::wake(tid);
        }
    }
}
