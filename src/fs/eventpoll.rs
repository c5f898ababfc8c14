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
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLWAKEUP: u32 = 1 << 29;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;

/// One watched file.
#[derive(Clone)]
pub struct Interest {
    pub file: Arc<File>,
    pub events: u32,
    pub data: u64,
    /// Disabled by EPOLLONESHOT after it fired, until EPOLL_CTL_MOD.
    pub armed: bool,
    /// Edge-triggered bookkeeping: the file's wake count and readiness
    /// when this entry was last reported (None: never, or re-armed).
    pub seen: Option<(u64, u32)>,
}

impl Interest {
    pub fn new(file: Arc<File>, events: u32, data: u64) -> Interest {
        Interest {
            file,
            events,
            data,
            armed: true,
            seen: None,
        }
    }

    /// The file's wake count, the clock edge-triggering goes by.
    fn wakes(&self) -> u64 {
        self.file.ops.wait_queue().map_or(0, |wq| wq.wakes())
    }

    /// Whether readiness `ready` (non-zero) is to be reported. An
    /// edge-triggered entry reports once per transition: after a report
    /// it stays quiet until the file wakes its waiters again (new data, a
    /// hangup) or a new kind of readiness appears, as Linux, whose
    /// ep_poll_callback re-queues the entry on every wakeup.
    fn pending(&self, ready: u32, wakes: u64) -> bool {
        if self.events & EPOLLET == 0 {
            return true;
        }
        match self.seen {
            None => true,
            Some((w, r)) => w != wakes || ready & !r != 0,
        }
    }
}

/// An epoll instance: the interest list, keyed by fd.
#[derive(Default)]
pub struct EventPoll {
    pub interests: Mutex<BTreeMap<i32, Interest>>,
}

impl EventPoll {
    /// Ready (fd, events, data) triples, at most `max`; one-shot entries
    /// are disarmed as they are reported, edge-triggered ones remember
    /// what they reported. Readiness is as `t`, the caller of epoll_wait,
    /// sees it.
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
            let wakes = it.wakes();
            let ready = it.file.ops.poll_task(&it.file, t) & (it.events | POLLERR | POLLHUP);
            if ready != 0 && it.pending(ready, wakes) {
                out.push((ready, it.data));
                it.seen = Some((wakes, ready));
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
            let wakes = it.wakes();
            let ready = it.file.ops.poll(&it.file) & (it.events | POLLERR | POLLHUP);
            it.armed && ready != 0 && it.pending(ready, wakes)
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
        crate::abi::write_at(buf, 0, &v);
        self.wq.wake_all();
        Ok(8)
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v: u64 = crate::abi::read_at(buf, 0);
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
