//! seccomp user notification: a filter installed with
//! SECCOMP_FILTER_FLAG_NEW_LISTENER gives a listener fd, and each syscall
//! it answers SECCOMP_RET_USER_NOTIF for waits until the supervisor
//! holding that fd has received it (SECCOMP_IOCTL_NOTIF_RECV) and
//! answered (NOTIF_SEND: a value, an error, or "run it after all"),
//! possibly after installing fds into the waiting task (NOTIF_ADDFD).
//! Linux's states, checks and errnos (kernel/seccomp.c): container
//! managers emulate mount, mknod or bpf for unprivileged containers
//! this way.

use super::filter::Filter;
use super::Verdict;
use crate::abi::seccomp::*;
use crate::abi::{read_val, write_val};
use crate::fs::file::{File, FileOps, O_CLOEXEC, O_RDWR, POLLHUP, POLLIN, POLLOUT};
use crate::fs::file::{POLLRDNORM, POLLWRNORM};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched;
use crate::kernel::task::{self, lock, Task, Tid};
use crate::kernel::wait::WaitQueue;
use std::sync::{Arc, Mutex};

/// Where a notification is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NState {
    /// Waiting for the supervisor to receive it.
    Init,
    /// Received; waiting for the answer.
    Sent,
    /// Answered (or the listener went away): the task may go on.
    Replied,
}

/// One trapped syscall.
struct Pending {
    id: u64,
    tid: Tid,
    data: SeccompData,
    state: NState,
    val: i64,
    error: i32,
    flags: u32,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    /// Notifications posted and not yet taken by a RECV (Linux's
    /// `request` semaphore: a notification whose task was interrupted
    /// still counts, and the RECV that takes it finds nothing: ENOENT).
    request: u64,
    list: Vec<Pending>,
    /// The listener was closed: USER_NOTIF results fail with ENOSYS.
    closed: bool,
    /// No task and no filter uses the filter any more: POLLHUP.
    orphaned: bool,
    /// SECCOMP_IOCTL_NOTIF_SET_FLAGS (a wake-up hint, kept for reading
    /// back; with one vCPU per process the hand-over is direct anyway).
    flags: u64,
}

/// The notification state of one filter, shared by the filter (which
/// posts) and its listener file (which receives and answers).
pub struct Notif {
    inner: Mutex<Inner>,
    /// The supervisor's side: RECV and poll sleep here.
    listener_wq: Arc<WaitQueue>,
    /// Trapped tasks sleep here for their answer.
    replies: WaitQueue,
    /// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once received, only a
    /// fatal signal ends the wait.
    wait_killable_recv: bool,
}

impl std::fmt::Debug for Notif {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notif")
    }
}

impl Notif {
    pub fn new(wait_killable_recv: bool) -> Arc<Notif> {
        let mut seed = [0u8; 8];
        crate::drivers::char::host_console::host_random(&mut seed);
        Arc::new(Notif {
            inner: Mutex::new(Inner {
                // Ids start at a random number, as Linux's, so that a
                // supervisor cannot guess another filter's ids.
                next_id: u64::from_le_bytes(seed),
                ..Default::default()
            }),
            listener_wq: Arc::new(WaitQueue::new()),
            replies: WaitQueue::new(),
            wait_killable_recv,
        })
    }

    /// Whether a listener is still open (a closed one no longer counts
    /// against a new listener on the same chain).
    pub fn listening(&self) -> bool {
        !lock(&self.inner).closed
    }

    /// The filter lost its last user (Filter's drop).
    pub fn orphaned(&self) {
        lock(&self.inner).orphaned = true;
        self.listener_wq.wake_all();
    }
}

/// The listener fd's open file.
pub struct Listener {
    notif: Arc<Notif>,
}

/// A new listener file for `notif`, installed close-on-exec in `t`'s
/// table: the fd seccomp(2) returns.
pub fn install_listener(t: &Task, notif: &Arc<Notif>) -> KResult<i32> {
    let f = File::new(
        Arc::new(Listener {
            notif: notif.clone(),
        }),
        None,
        None,
        O_RDWR,
    );
    let nofile = t.nofile();
    lock(&t.files()).install(f, true, nofile)
}

impl Drop for Listener {
    /// Last close: every task still waiting gets ENOSYS, and later
    /// USER_NOTIF results fail at once with ENOSYS (Linux's
    /// seccomp_notify_detach).
    fn drop(&mut self) {
        {
            let mut g = lock(&self.notif.inner);
            g.closed = true;
            for p in g.list.iter_mut().filter(|p| p.state != NState::Replied) {
                p.state = NState::Replied;
                p.error = -(Errno::ENOSYS.0);
                p.val = 0;
                p.flags = 0;
            }
        }
        self.notif.replies.wake_all();
    }
}

impl FileOps for Listener {
    fn poll(&self, _f: &File) -> u32 {
        let g = lock(&self.notif.inner);
        let mut ev = 0;
        for p in &g.list {
            match p.state {
                NState::Init => ev |= POLLIN | POLLRDNORM,
                NState::Sent => ev |= POLLOUT | POLLWRNORM,
                NState::Replied => {}
            }
        }
        if g.orphaned {
            ev |= POLLHUP;
        }
        ev
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.notif.listener_wq.clone())
    }
    fn ioctl(&self, _f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        match cmd {
            SECCOMP_IOCTL_NOTIF_RECV => self.recv(t, arg),
            SECCOMP_IOCTL_NOTIF_SEND => self.send(t, arg),
            SECCOMP_IOCTL_NOTIF_ID_VALID | SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR => {
                let id: u64 = read_val(&t.mm(), arg)?;
                let g = lock(&self.notif.inner);
                match g.list.iter().find(|p| p.id == id) {
                    Some(p) if p.state == NState::Sent => Ok(0),
                    _ => Err(Errno::ENOENT),
                }
            }
            SECCOMP_IOCTL_NOTIF_SET_FLAGS => {
                if arg & !SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP != 0 {
                    return Err(Errno::EINVAL);
                }
                lock(&self.notif.inner).flags = arg;
                Ok(0)
            }
            // ADDFD may grow: match it whatever its size and direction.
            c if c & IOC_NR_TYPE == SECCOMP_IOCTL_NOTIF_ADDFD & IOC_NR_TYPE => {
                self.addfd(t, arg, ((c >> 16) & 0x3fff) as usize)
            }
            _ => Err(Errno::EINVAL),
        }
    }
    fn name(&self) -> Option<String> {
        Some("anon_inode:seccomp notify".into())
    }
}

/// The type and number bits of an ioctl command.
const IOC_NR_TYPE: u32 = 0xffff;

impl Listener {
    /// NOTIF_RECV: the oldest notification not yet received, after
    /// waiting for one. The buffer must be zeroed (room for extensions).
    fn recv(&self, t: &Arc<Task>, arg: u64) -> KResult<u64> {
        let mm = t.mm();
        let buf: SeccompNotif = read_val(&mm, arg)?;
        if bytemuck::bytes_of(&buf).iter().any(|&b| b != 0) {
            return Err(Errno::EINVAL);
        }
        let n = &self.notif;
        let (id, tid, data) = loop {
            n.listener_wq.add(t.tid);
            {
                let mut g = lock(&n.inner);
                if g.request > 0 {
                    g.request -= 1;
                    let p = g
                        .list
                        .iter_mut()
                        .find(|p| p.state == NState::Init)
                        .ok_or(Errno::ENOENT)?;
                    p.state = NState::Sent;
                    break (p.id, p.tid, p.data);
                }
            }
            sched::wait(t, None)?;
        };
        // Supervisors polling for POLLOUT: there is one to answer now.
        n.listener_wq.wake_all();
        let out = SeccompNotif {
            id,
            // The thread's id as the supervisor's pid namespace numbers it.
            pid: crate::kernel::ns::pid::vnr(t, tid) as u32,
            flags: 0,
            data,
        };
        if let Err(e) = write_val(&mm, arg, &out) {
            // Put it back for the next RECV, as Linux does.
            let mut g = lock(&n.inner);
            if let Some(p) = g.list.iter_mut().find(|p| p.id == id) {
                p.state = NState::Init;
                g.request += 1;
            }
            return Err(e);
        }
        Ok(0)
    }

    /// NOTIF_SEND: answer a received notification, once.
    fn send(&self, t: &Arc<Task>, arg: u64) -> KResult<u64> {
        let resp: SeccompNotifResp = read_val(&t.mm(), arg)?;
        if resp.flags & !SECCOMP_USER_NOTIF_FLAG_CONTINUE != 0 {
            return Err(Errno::EINVAL);
        }
        if resp.flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE != 0 && (resp.error != 0 || resp.val != 0)
        {
            return Err(Errno::EINVAL);
        }
        {
            let mut g = lock(&self.notif.inner);
            let p = g
                .list
                .iter_mut()
                .find(|p| p.id == resp.id)
                .ok_or(Errno::ENOENT)?;
            if p.state != NState::Sent {
                return Err(Errno::EINPROGRESS);
            }
            p.state = NState::Replied;
            p.error = resp.error;
            p.val = resp.val;
            p.flags = resp.flags;
        }
        self.notif.replies.wake_all();
        Ok(0)
    }

    /// NOTIF_ADDFD: put a duplicate of the supervisor's `srcfd` into the
    /// waiting task's fd table (at `newfd` with SETFD, replacing what is
    /// there); with SEND, that fd number is also the syscall's answer.
    /// Linux has the target install it when it wakes; here the target
    /// sleeps in its wait and its table is changed for it, which is the
    /// same to both sides.
    fn addfd(&self, t: &Arc<Task>, arg: u64, size: usize) -> KResult<u64> {
        if !(SECCOMP_NOTIFY_ADDFD_SIZE_VER0..4096).contains(&size) {
            return Err(Errno::EINVAL);
        }
        let mm = t.mm();
        let a: SeccompNotifAddfd = read_val(&mm, arg)?;
        if size > SECCOMP_NOTIFY_ADDFD_SIZE_VER0 {
            // A newer caller's extra fields must be zero (copy_struct_from_user).
            let mut rest = vec![0u8; size - SECCOMP_NOTIFY_ADDFD_SIZE_VER0];
            mm.read(arg + SECCOMP_NOTIFY_ADDFD_SIZE_VER0 as u64, &mut rest)?;
            if rest.iter().any(|&b| b != 0) {
                return Err(Errno::E2BIG);
            }
        }
        if a.newfd_flags & !O_CLOEXEC != 0 {
            return Err(Errno::EINVAL);
        }
        if a.flags & !(SECCOMP_ADDFD_FLAG_SETFD | SECCOMP_ADDFD_FLAG_SEND) != 0 {
            return Err(Errno::EINVAL);
        }
        let setfd = a.flags & SECCOMP_ADDFD_FLAG_SETFD != 0;
        if a.newfd != 0 && !setfd {
            return Err(Errno::EINVAL);
        }
        let file = lock(&t.files()).get(a.srcfd as i32)?;
        let target = {
            let g = lock(&self.notif.inner);
            let p = g.list.iter().find(|p| p.id == a.id).ok_or(Errno::ENOENT)?;
            if p.state != NState::Sent {
                return Err(Errno::EINPROGRESS);
            }
            p.tid
        };
        let target = task::task(target).ok_or(Errno::ENOENT)?;
        let cloexec = a.newfd_flags & O_CLOEXEC != 0;
        let nofile = target.nofile();
        let files = target.files();
        let fd = if setfd {
            let prev = lock(&files).install_at(a.newfd as i32, file, cloexec, nofile)?;
            if let Some(p) = &prev {
                crate::fs::locks::posix_close(&target, &p.file);
            }
            drop(prev);
            a.newfd as i32
        } else {
            lock(&files).install(file, cloexec, nofile)?
        };
        if a.flags & SECCOMP_ADDFD_FLAG_SEND != 0 {
            {
                let mut g = lock(&self.notif.inner);
                if let Some(p) = g.list.iter_mut().find(|p| p.id == a.id) {
                    if p.state == NState::Sent {
                        p.state = NState::Replied;
                        p.error = 0;
                        p.val = fd as i64;
                        p.flags = 0;
                    }
                }
            }
            self.notif.replies.wake_all();
        }
        Ok(fd as u64)
    }
}

/// How a trapped task's wait ended.
enum Outcome {
    Answered { val: i64, error: i32, flags: u32 },
    Interrupted,
}

/// SECCOMP_RET_USER_NOTIF from filter `matched`: post the syscall to its
/// listener and wait for the answer. Without a listener (none was asked
/// for, or it was closed) the call fails with ENOSYS.
pub fn user_notification(t: &Arc<Task>, matched: &Arc<Filter>, data: &SeccompData) -> Verdict {
    let Some(n) = matched.notif.clone() else {
        super::set_result(t, Errno::ENOSYS);
        return Verdict::Skip;
    };
    let id = {
        let mut g = lock(&n.inner);
        if g.closed {
            drop(g);
            super::set_result(t, Errno::ENOSYS);
            return Verdict::Skip;
        }
        let id = g.next_id;
        g.next_id = g.next_id.wrapping_add(1);
        g.list.push(Pending {
            id,
            tid: t.tid,
            data: *data,
            state: NState::Init,
            val: 0,
            error: 0,
            flags: 0,
        });
        g.request += 1;
        id
    };
    n.listener_wq.wake_all();
    let state_of = |g: &Inner| g.list.iter().find(|p| p.id == id).map(|p| p.state);
    let outcome = loop {
        n.replies.add(t.tid);
        let state = {
            let g = lock(&n.inner);
            match g.list.iter().find(|p| p.id == id) {
                Some(p) if p.state == NState::Replied => {
                    break Outcome::Answered {
                        val: p.val,
                        error: p.error,
                        flags: p.flags,
                    }
                }
                Some(p) => p.state,
                None => break Outcome::Interrupted,
            }
        };
        if n.wait_killable_recv && state == NState::Sent {
            if !sched::wait_killable(t, None) {
                break Outcome::Interrupted;
            }
        } else if sched::wait(t, None).is_err() {
            // Received meanwhile: from now on only a fatal signal counts.
            if n.wait_killable_recv && state_of(&lock(&n.inner)) == Some(NState::Sent) {
                continue;
            }
            break Outcome::Interrupted;
        }
    };
    lock(&n.inner).list.retain(|p| p.id != id);
    // Supervisors polling: the notification is gone.
    n.listener_wq.wake_all();
    match outcome {
        Outcome::Answered { flags, .. } if flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE != 0 => {
            Verdict::Run
        }
        Outcome::Answered { val, error, .. } => {
            // Linux's syscall_set_return_value: the error if there is one
            // (the supervisor gives it negative), else the value.
            t.lock().ctx.regs.rax = if error != 0 {
                error as i64 as u64
            } else {
                val as u64
            };
            Verdict::Skip
        }
        Outcome::Interrupted => {
            // The signal's handling decides: restart (SA_RESTART, or no
            // handler) with a fresh notification, or EINTR.
            let mut i = t.lock();
            i.ctx.regs.rax = (-(Errno::ERESTARTSYS.0 as i64)) as u64;
            i.restart_check = true;
            Verdict::Skip
        }
    }
}
