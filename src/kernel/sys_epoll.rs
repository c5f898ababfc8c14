//! epoll_create1, epoll_ctl, epoll_wait/epoll_pwait, eventfd2.

use super::errno::{Errno, KResult};
use super::sched;
use super::task::{lock, Task};
use super::time;
use crate::abi::{self, poll::EpollEvent, UserSlice};
use crate::fs::eventpoll::{
    EventFd, EventPoll, Interest, EPOLLET, EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLLWAKEUP,
};
use crate::fs::file::{File, O_CLOEXEC, O_NONBLOCK, O_RDWR, POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::fs::vfs::{S_IFDIR, S_IFMT, S_IFREG};
use std::sync::Arc;

fn epoll_of(f: &Arc<File>) -> KResult<Arc<EventPoll>> {
    // The ops object is the EventPoll itself; find it through the table of
    // live instances (FileOps has no downcast).
    lock(&INSTANCES)
        .iter()
        .filter_map(|w| w.upgrade())
        .find(|e| std::ptr::addr_eq(Arc::as_ptr(e), Arc::as_ptr(&f.ops)))
        .ok_or(Errno::EINVAL)
}

static INSTANCES: std::sync::Mutex<Vec<std::sync::Weak<EventPoll>>> =
    std::sync::Mutex::new(Vec::new());

/// epoll_create, epoll_create1
pub fn sys_epoll_create1(t: &Arc<Task>, flags: u32) -> KResult<u64> {
    if flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let ep = Arc::new(EventPoll::default());
    {
        let mut g = lock(&INSTANCES);
        g.retain(|w| w.strong_count() > 0);
        g.push(Arc::downgrade(&ep));
    }
    let f = File::new(ep, None, None, O_RDWR);
    let nofile = t.nofile();
    Ok(lock(&t.files()).install(f, flags & O_CLOEXEC != 0, nofile)? as u64)
}

/// epoll_ctl
pub fn sys_epoll_ctl(t: &Arc<Task>, epfd: i32, op: i32, fd: i32, event: u64) -> KResult<u64> {
    let files = t.files();
    let (epf, target) = {
        let g = lock(&files);
        (g.get(epfd)?, g.get(fd)?)
    };
    let (events, data) = if op != 2 {
        let e: EpollEvent = abi::read_val(&t.mm(), event)?;
        (e.events, e.data)
    } else {
        (0, 0)
    };
    // Regular files and directories cannot be polled (Linux's
    // file_can_poll): they are always ready, so epoll refuses them;
    // except those with a poll of their own (/proc/PID/mountinfo).
    let mode = target.stat().map_or(0, |st| st.mode & S_IFMT);
    if (mode == S_IFREG || mode == S_IFDIR) && !target.ops.has_poll() {
        return Err(Errno::EPERM);
    }
    if Arc::ptr_eq(&epf, &target) {
        return Err(Errno::EINVAL);
    }
    let ep = epoll_of(&epf)?;
    if events & EPOLLEXCLUSIVE != 0 {
        // Exclusive wakeups only make sense on add, for plain readiness.
        // Linux's EPOLLEXCLUSIVE_OK_BITS.
        let allowed = EPOLLEXCLUSIVE | EPOLLET | EPOLLWAKEUP | POLLIN | POLLOUT | POLLERR | POLLHUP;
        if op == 3 || (op == 1 && (events & !allowed != 0 || events & EPOLLONESHOT != 0)) {
            return Err(Errno::EINVAL);
        }
    }
    let mut g = ep.interests.lock().unwrap_or_else(|e| e.into_inner());
    match op {
        1 => {
            if g.contains_key(&fd) {
                return Err(Errno::EEXIST);
            }
            g.insert(fd, Interest::new(target, events, data));
        }
        2 => {
            g.remove(&fd).ok_or(Errno::ENOENT)?;
        }
        3 => {
            let it = g.get_mut(&fd).ok_or(Errno::ENOENT)?;
            if it.events & EPOLLEXCLUSIVE != 0 {
                return Err(Errno::EINVAL);
            }
            *it = Interest::new(target, events, data);
        }
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// epoll_wait, epoll_pwait (timeout in ms, -1 = forever)
pub fn sys_epoll_pwait(
    t: &Arc<Task>,
    epfd: i32,
    events: u64,
    max: i32,
    timeout_ms: i32,
    sigmask: u64,
    size: usize,
) -> KResult<u64> {
    if max <= 0 || max > 1 << 16 {
        return Err(Errno::EINVAL);
    }
    let epf = lock(&t.files()).get(epfd)?;
    let ep = epoll_of(&epf)?;
    if sigmask != 0 {
        if size != 8 {
            return Err(Errno::EINVAL);
        }
        let m = t.mm().read_u64(sigmask)?;
        // The caller's mask comes back on the way out to user mode (after
        // the handler of a signal that ended the wait): signal::deliver.
        let mut i = t.lock();
        let old = i.sigmask;
        i.saved_mask = Some(old);
        i.sigmask = m & !super::signal::UNBLOCKABLE;
    }
    // Computed once: a wake-up that finds nothing ready waits on to the
    // same deadline.
    let deadline = (timeout_ms >= 0)
        .then(|| time::monotonic_ns().saturating_add(timeout_ms as i64 * 1_000_000));
    loop {
        let ready = ep.collect(t, max as usize);
        if !ready.is_empty()
            || timeout_ms == 0
            || deadline.is_some_and(|d| time::monotonic_ns() >= d)
        {
            let out: Vec<EpollEvent> = ready
                .iter()
                .map(|&(events, data)| EpollEvent { events, data })
                .collect();
            UserSlice::new(events, out.len()).write(&t.mm(), &out)?;
            return Ok(ready.len() as u64);
        }
        // Entries left on queues that did not fire cause only a spurious
        // wake-up later.
        for f in ep.files() {
            if let Some(wq) = f.ops.wait_queue() {
                wq.add(t.tid);
            }
        }
        // Linux's ep_poll fails with EINTR, never a restart: also after
        // a stop and continue, and whatever SA_RESTART says.
        sched::wait(t, deadline).map_err(|_| Errno::EINTR)?;
    }
}

/// eventfd, eventfd2
pub fn sys_eventfd2(t: &Arc<Task>, init: u32, flags: u32) -> KResult<u64> {
    const EFD_SEMAPHORE: u32 = 1;
    if flags & !(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = File::new(
        EventFd::new(init as u64, flags & EFD_SEMAPHORE != 0),
        None,
        None,
        O_RDWR | (flags & O_NONBLOCK),
    );
    let nofile = t.nofile();
    Ok(lock(&t.files()).install(f, flags & O_CLOEXEC != 0, nofile)? as u64)
}
