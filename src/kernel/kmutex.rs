//! `KMutex`: the kernel's sleeping mutex (Linux's `struct mutex`). A task
//! that finds it taken sleeps in its kernel context, uninterruptibly ('D'
//! in /proc, as Linux's mutex_lock), while the vCPU runs other tasks; the
//! owner may itself sleep while holding it (wait for the disk). Waiters
//! get it in arrival order: unlocking hands it straight to the first one.
//!
//! Host `Mutex`es must never be held across a sleep (every kernel context
//! of a vCPU runs on its one host thread); a `KMutex` is what to hold
//! instead when a critical section waits. The data sits in a host `Mutex`
//! too (safe Rust needs one for shared mutable data), but only the
//! `KMutex`'s owner ever locks that one, so it is never contended and no
//! host thread ever blocks on it.
//!
//! Waiting needs a task: the one whose syscall runs (`kernel::current`).
//! Kernel code outside a syscall (the vCPU loop: interrupts, timers,
//! boot) cannot sleep and uses `try_lock`; `lock` there on a taken mutex
//! spins on the host, which only ends if the owner runs on another vCPU
//! (it is logged: such a caller is a bug).
//!
//! With several vCPUs, the big kernel lock keeps the queueing and the
//! sleep of a waiter atomic with respect to the owner's unlock (kernel
//! code of two vCPUs never runs at once), and the hand-over wakes the
//! waiter on its own vCPU (`sched::wake`).

use super::errno::{Errno, KResult};
use super::sched;
use super::task::{self, Tid};
use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

/// Owner id of kernel code that runs for no task (the vCPU loop, boot).
const KERNEL: Tid = 0;

#[derive(Default)]
struct State {
    /// Who holds it (`KERNEL` for no task), if anyone.
    owner: Option<Tid>,
    /// Tasks waiting, first come first.
    waiters: VecDeque<Tid>,
}

/// A sleeping mutex around a `T`.
#[derive(Default)]
pub struct KMutex<T> {
    state: Mutex<State>,
    data: Mutex<T>,
}

/// Holding a `KMutex`: derefs to the data; dropping it unlocks.
pub struct KMutexGuard<'a, T> {
    m: &'a KMutex<T>,
    data: Option<MutexGuard<'a, T>>,
}

impl<T> KMutex<T> {
    pub const fn new(v: T) -> KMutex<T> {
        KMutex {
            state: Mutex::new(State {
                owner: None,
                waiters: VecDeque::new(),
            }),
            data: Mutex::new(v),
        }
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn guard(&self) -> KMutexGuard<'_, T> {
        KMutexGuard {
            m: self,
            data: Some(self.data.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }

    // (Used by the unit tests; kept for callers that cannot sleep or
    // must stay killable.)
    #[cfg_attr(not(test), allow(dead_code))]
    /// Take it if nobody holds it and nobody waits (no queue jumping).
    pub fn try_lock(&self) -> Option<KMutexGuard<'_, T>> {
        let me = super::current::tid().unwrap_or(KERNEL);
        let mut s = self.st();
        if s.owner.is_some() || !s.waiters.is_empty() {
            return None;
        }
        s.owner = Some(me);
        drop(s);
        Some(self.guard())
    }

    // (Used by the unit tests; kept for callers that cannot sleep or
    // must stay killable.)
    #[cfg_attr(not(test), allow(dead_code))]
    /// Is it held right now (by anyone)?
    pub fn is_locked(&self) -> bool {
        self.st().owner.is_some()
    }

    /// Take it, sleeping uninterruptibly while another holds it.
    pub fn lock(&self) -> KMutexGuard<'_, T> {
        self.acquire(false);
        self.guard()
    }

    // (Used by the unit tests; kept for callers that cannot sleep or
    // must stay killable.)
    #[cfg_attr(not(test), allow(dead_code))]
    /// `lock` that a fatal signal ends (Linux's mutex_lock_killable):
    /// EINTR, without the lock.
    pub fn lock_killable(&self) -> KResult<KMutexGuard<'_, T>> {
        if self.acquire(true) {
            Ok(self.guard())
        } else {
            Err(Errno::EINTR)
        }
    }

    /// Become the owner; false only if `killable` and a fatal signal
    /// came first.
    fn acquire(&self, killable: bool) -> bool {
        let me = super::current::tid().unwrap_or(KERNEL);
        let t = (me != KERNEL).then(|| task::task(me)).flatten();
        let mut warned = false;
        // Leaves the queue if this context is unwound while it sleeps
        // (its task was ended under it), so the mutex is never handed to
        // a task that is gone.
        let mut queued: Option<Queued<'_, T>> = None;
        loop {
            let mut s = self.st();
            let mine = match s.owner {
                None => s.waiters.is_empty() || s.waiters.front() == Some(&me),
                // Handed over by the previous owner's unlock.
                Some(o) => o == me && me != KERNEL && queued.is_some() && !s.waiters.contains(&me),
            };
            if mine {
                s.waiters.retain(|&w| w != me);
                s.owner = Some(me);
                if let Some(q) = queued.take() {
                    std::mem::forget(q);
                }
                return true;
            }
            let dead = t.as_ref().is_none_or(|t| t.state() == task::State::Dead);
            if dead {
                // No task to put to sleep (or it can sleep no more): spin
                // on the host (see the module comment).
                drop(s);
                if !warned && t.is_none() {
                    log::error!("kmutex: lock taken outside a task context while held");
                    warned = true;
                }
                std::thread::yield_now();
                continue;
            }
            if !s.waiters.contains(&me) {
                s.waiters.push_back(me);
            }
            queued.get_or_insert(Queued { m: self, me });
            drop(s);
            let Some(t) = &t else { continue };
            // Nothing can unlock between here and the sleep: kernel code
            // of this vCPU runs one context at a time, and that of others
            // waits for the big kernel lock this one holds.
            if killable {
                if !sched::wait_killable(t, None) {
                    drop(queued.take());
                    return false;
                }
            } else {
                sched::wait_uninterruptible(t, None);
            }
        }
    }

    /// A waiter stops waiting (killed): leave the queue, and pass the
    /// mutex on if it was handed to us meanwhile.
    fn give_up(&self, me: Tid) {
        let mut s = self.st();
        s.waiters.retain(|&w| w != me);
        if s.owner == Some(me) {
            Self::hand_over(&mut s);
        }
    }

    /// Unlock: the first waiter becomes the owner and is woken.
    fn hand_over(s: &mut State) {
        s.owner = s.waiters.pop_front();
        if let Some(next) = s.owner {
            sched::wake(next);
        }
    }

    fn unlock(&self) {
        let mut s = self.st();
        Self::hand_over(&mut s);
    }
}

/// A waiter's place in the queue, given up when dropped.
struct Queued<'a, T> {
    m: &'a KMutex<T>,
    me: Tid,
}

impl<T> Drop for Queued<'_, T> {
    fn drop(&mut self) {
        self.m.give_up(self.me);
    }
}

impl<T> Deref for KMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.data.as_ref().expect("held")
    }
}

impl<T> DerefMut for KMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.data.as_mut().expect("held")
    }
}

impl<T> Drop for KMutexGuard<'_, T> {
    fn drop(&mut self) {
        // Let go of the data before the next owner can take it.
        self.data = None;
        self.m.unlock();
    }
}
