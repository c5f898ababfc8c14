//! epoll and eventfd: readiness notification over many files, and a
//! counter file that event loops use to wake themselves.

use super::file::{File, FileOps, POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use crate::kernel::wait::WaitQueue;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

// EPOLLIN/OUT/ERR/HUP have the values of POLLIN/OUT/ERR/HUP, so readiness
// from FileOps::poll is reported as it is.
pub const EPOLLONESHOT: u32 = 1 << 30;

/// One watched file.
#[derive(Clone)]
pub struct Interest {
    pub file: Arc<File>,
    pub events: u32,
    pub data: u64,
    /// Disabled by EPOLLONESHOT after it fired, until EPOLL_CTL_MOD.
    pub armed: bool,
}

/// An epoll instance: the interest list, keyed by fd.
#[derive(Default)]
pub struct EventPoll {
    pub interests: Mutex<BTreeMap<i32, Interest>>,
}

impl EventPoll {
    /// Ready (fd, events, data) triples, at most `max`; one-shot entries
    /// are disarmed as they are reported. Level-triggered: EPOLLET is
    /// accepted and treated like level (a superset of edge reports).
    /// Readiness is as `t`, the caller of epoll_wait, sees it.
    pub fn collect(&self, t: &Arc<Task>, max: usize) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut g = self.interests.lock().unwrap_or_else(|e| e.into_inner());
        for it in g.values_mut() {
            if out.len() >= max {
                break;
            }
            if !it.armed {
                continue;
            }
            let ready = it.file.ops.poll_task(&it.file, t) & (it.events | POLLERR | POLLHUP);
            if ready != 0 {
                out.push((ready, it.data));
                if it.events & EPOLLONESHOT != 0 {
                    it.armed = false;
                }
            }
        }
        out
    }

    /// The files to sleep on.
    pub fn files(&self) -> Vec<Arc<File>> {
        let g = self.interests.lock().unwrap_or_else(|e| e.into_inner());
        g.values().map(|i| i.file.clone()).collect()
    }
}

impl FileOps for EventPoll {
    fn poll(&self, _f: &File) -> u32 {
        let g = self.interests.lock().unwrap_or_else(|e| e.into_inner());
        let any = g.values().any(|it| {
            it.armed && it.file.ops.poll(&it.file) & (it.events | POLLERR | POLLHUP) != 0
        });
        if any {
            POLLIN
        } else {
            0
        }
    }
    fn name(&self) -> Option<String> {
        Some("anon_inode:[eventpoll]".into())
    }
}

/// An eventfd counter.
pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    wq: Arc<WaitQueue>,
}

impl EventFd {
    pub fn new(init: u64, semaphore: bool) -> Arc<EventFd> {
        Arc::new(EventFd {
            count: Mutex::new(init),
            semaphore,
            wq: Arc::new(WaitQueue::new()),
        })
    }
}

impl FileOps for EventFd {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        if *c == 0 {
            return Err(Errno::EAGAIN);
        }
        let v = if self.semaphore { 1 } else { *c };
        *c -= v;
        drop(c);
        buf[..8].copy_from_slice(&v.to_le_bytes());
        self.wq.wake_all();
        Ok(8)
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_le_bytes(buf[..8].try_into().unwrap());
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        if u64::MAX - 1 - *c < v {
            return Err(Errno::EAGAIN);
        }
        *c += v;
        drop(c);
        self.wq.wake_all();
        Ok(8)
    }
    fn poll(&self, _f: &File) -> u32 {
        let c = *self.count.lock().unwrap_or_else(|e| e.into_inner());
        let mut ev = 0;
        if c > 0 {
            ev |= POLLIN;
        }
        if c < u64::MAX - 1 {
            ev |= POLLOUT;
        }
        ev
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.wq.clone())
    }
    fn name(&self) -> Option<String> {
        Some("anon_inode:[eventfd]".into())
    }
}
