//! POSIX message queues: the named queues, their messages and the
//! notification registration (Linux's ipc/mqueue.c). The syscalls that
//! decode arguments are in `kernel::sys_mqueue`.
//!
//! A queue lives in a name table until mq_unlink; open descriptors hold
//! the queue itself, so an unlinked queue works on until the last close.
//! Senders and receivers that cannot go on sleep on the queue's wait
//! queue and look again when anything changes.

use super::Limit;
use crate::fs::file::{File, FileOps, O_NONBLOCK, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::kernel::caps::{CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_SYS_RESOURCE};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::{self, SigInfo};
use crate::kernel::task::{self, lock, Creds, Pid, State, Tid};
use crate::kernel::wait::WaitQueue;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Priorities are below this (MQ_PRIO_MAX).
pub const MQ_PRIO_MAX: u32 = 32768;
/// What root may ask for beyond the sysctl limits (HARD_MSGMAX,
/// HARD_MSGSIZEMAX).
const HARD_MSGMAX: i64 = 65536;
const HARD_MSGSIZEMAX: i64 = 16 * 1024 * 1024;

/// fs.mqueue.* (Linux's defaults).
pub static QUEUES_MAX: Limit = Limit::new(256);
pub static MSG_MAX: Limit = Limit::new(10);
pub static MSGSIZE_MAX: Limit = Limit::new(8192);
pub static MSG_DEFAULT: Limit = Limit::new(10);
pub static MSGSIZE_DEFAULT: Limit = Limit::new(8192);

pub use crate::abi::signal::{SIGEV_NONE, SIGEV_SIGNAL};

/// si_code of a queue's notification signal.
const SI_MESGQ: i32 = -3;

/// A registered mq_notify request.
#[derive(Clone, Copy)]
pub struct Notify {
    pub tgid: Pid,
    pub how: i32,
    pub signo: i32,
    pub value: u64,
}

/// The queue's mutable state.
pub struct QueueState {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub maxmsg: i64,
    pub msgsize: i64,
    /// priority → messages of that priority, oldest first.
    msgs: BTreeMap<u32, VecDeque<Vec<u8>>>,
    count: usize,
    /// Bytes of all queued messages (QSIZE).
    bytes: u64,
    notify: Option<Notify>,
    /// Tasks sleeping in mq_timedreceive: a notification is only sent
    /// when nobody is waiting to take the message.
    receivers: Vec<Tid>,
}

/// One message queue.
pub struct Queue {
    pub name: String,
    /// Its inode number in the mqueue filesystem.
    pub ino: u64,
    /// When it was made (the times its mqueue-fs file shows).
    pub born: crate::fs::vfs::Timespec,
    pub st: Mutex<QueueState>,
    pub wq: Arc<WaitQueue>,
}

/// The mqueue name space: name (without the leading '/') → queue.
static NAMES: Mutex<BTreeMap<String, Arc<Queue>>> = Mutex::new(BTreeMap::new());

/// Is `tid` still asleep (and so still a waiting receiver)? A receiver
/// killed in its sleep is left in the list; its state says it is gone.
fn asleep(tid: Tid) -> bool {
    task::task(tid).is_some_and(|t| t.lock().state == State::Blocked)
}

impl QueueState {
    pub fn count(&self) -> usize {
        self.count
    }
    pub fn full(&self) -> bool {
        self.count as i64 >= self.maxmsg
    }

    /// Linux's ipc permission rule for the queue's inode: `want` is rwx
    /// bits (4 read, 2 write).
    pub fn permits(&self, c: &Creds, want: u32) -> bool {
        let shift = if c.euid == self.uid {
            6
        } else if c.in_group(self.gid) {
            3
        } else {
            0
        };
        c.capable(CAP_DAC_OVERRIDE) || (self.mode >> shift) & want == want
    }

    /// Queue a message; send the notification if the queue was empty and
    /// nobody waits to receive.
    pub fn push(&mut self, prio: u32, msg: Vec<u8>, sender: Pid, sender_uid: u32) {
        self.bytes += msg.len() as u64;
        self.msgs.entry(prio).or_default().push_back(msg);
        self.count += 1;
        self.receivers.retain(|&tid| asleep(tid));
        if self.count == 1 && self.receivers.is_empty() {
            if let Some(n) = self.notify.take() {
                if n.how == SIGEV_SIGNAL && n.signo != 0 {
                    let info = SigInfo {
                        signo: n.signo,
                        code: SI_MESGQ,
                        pid: sender,
                        uid: sender_uid,
                        value: n.value,
                        ..Default::default()
                    };
                    // The registered process may be gone: nothing to tell.
                    let _ = signal::send_to_process(n.tgid, info);
                }
            }
        }
    }

    /// Take the oldest message of the highest priority.
    pub fn pop(&mut self) -> Option<(u32, Vec<u8>)> {
        let mut e = self.msgs.last_entry()?;
        let prio = *e.key();
        let m = e.get_mut().pop_front()?;
        if e.get().is_empty() {
            e.remove();
        }
        self.count -= 1;
        self.bytes -= m.len() as u64;
        Some((prio, m))
    }

    /// Note `tid` as sleeping in receive (it is dropped on its next run).
    pub fn add_receiver(&mut self, tid: Tid) {
        if !self.receivers.contains(&tid) {
            self.receivers.push(tid);
        }
    }
    pub fn drop_receiver(&mut self, tid: Tid) {
        self.receivers.retain(|&x| x != tid);
    }

    /// The registration, if its process is still there (an exited
    /// process's registration is void, as its close would have removed
    /// it on Linux).
    pub fn notify_owner(&mut self) -> Option<Notify> {
        if self
            .notify
            .is_some_and(|n| task::all_tasks().iter().all(|t| t.tgid() != n.tgid))
        {
            self.notify = None;
        }
        self.notify
    }
    pub fn set_notify(&mut self, n: Option<Notify>) {
        self.notify = n;
    }

    /// The text a read of the queue shows (and its file in the mqueue fs).
    pub fn text(&mut self) -> String {
        let n = self.notify_owner();
        format!(
            "QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n",
            self.bytes,
            n.map_or(0, |n| n.how),
            n.filter(|n| n.how == SIGEV_SIGNAL).map_or(0, |n| n.signo),
            n.map_or(0, |n| n.tgid)
        )
    }
}

/// Check a queue name as the kernel sees it (glibc strips the leading
/// '/'): a single path component.
pub fn check_name(name: &str) -> KResult<()> {
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// The attributes a new queue gets: `attr` (maxmsg, msgsize) checked
/// against the limits, or the defaults.
pub fn new_attrs(c: &Creds, attr: Option<(i64, i64)>) -> KResult<(i64, i64)> {
    let Some((maxmsg, msgsize)) = attr else {
        return Ok((
            MSG_DEFAULT.get().min(MSG_MAX.get()) as i64,
            MSGSIZE_DEFAULT.get().min(MSGSIZE_MAX.get()) as i64,
        ));
    };
    if maxmsg <= 0 || msgsize <= 0 {
        return Err(Errno::EINVAL);
    }
    let (mm, ms) = if c.capable(CAP_SYS_RESOURCE) {
        (HARD_MSGMAX, HARD_MSGSIZEMAX)
    } else {
        (MSG_MAX.get() as i64, MSGSIZE_MAX.get() as i64)
    };
    if maxmsg > mm || msgsize > ms {
        return Err(Errno::EINVAL);
    }
    Ok((maxmsg, msgsize))
}

/// Find `name`, or create it with `create` (uid, gid, mode, attrs) when
/// absent. Returns the queue and whether it was created.
pub fn lookup_or_create(
    name: &str,
    c: &Creds,
    create: Option<(u32, (i64, i64))>,
) -> KResult<(Arc<Queue>, bool)> {
    let mut names = lock(&NAMES);
    if let Some(q) = names.get(name) {
        return Ok((q.clone(), false));
    }
    let Some((mode, (maxmsg, msgsize))) = create else {
        return Err(Errno::ENOENT);
    };
    if names.len() as u64 >= QUEUES_MAX.get() && !c.capable(CAP_SYS_RESOURCE) {
        return Err(Errno::ENOSPC);
    }
    static NEXT_INO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(2);
    let q = Arc::new(Queue {
        name: name.to_string(),
        ino: NEXT_INO.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        born: crate::fs::vfs::Timespec::now(),
        st: Mutex::new(QueueState {
            uid: c.euid,
            gid: c.egid,
            mode,
            maxmsg,
            msgsize,
            msgs: BTreeMap::new(),
            count: 0,
            bytes: 0,
            notify: None,
            receivers: Vec::new(),
        }),
        wq: Arc::new(WaitQueue::new()),
    });
    names.insert(name.to_string(), q.clone());
    Ok((q, true))
}

/// mq_unlink: drop the name (open descriptors keep the queue). Only the
/// owner or root may remove (EACCES for others, as Linux answers).
pub fn unlink(name: &str, c: &Creds) -> KResult<()> {
    let mut names = lock(&NAMES);
    let q = names.get(name).ok_or(Errno::ENOENT)?;
    if !c.capable(CAP_FOWNER) && lock(&q.st).uid != c.euid {
        return Err(Errno::EACCES);
    }
    names.remove(name);
    Ok(())
}

/// The queue named `name`, if any.
pub fn find(name: &str) -> Option<Arc<Queue>> {
    lock(&NAMES).get(name).cloned()
}

/// Every queue, in name order (the mqueue filesystem's directory).
pub fn all() -> Vec<Arc<Queue>> {
    lock(&NAMES).values().cloned().collect()
}

/// Drop the name `name` (rm in the mqueue filesystem, whose directory
/// rules the VFS has checked).
pub fn remove(name: &str) -> KResult<()> {
    lock(&NAMES).remove(name).map(|_| ()).ok_or(Errno::ENOENT)
}

/// Forget every queue (reboot).
pub fn reset() {
    lock(&NAMES).clear();
}

/// An open queue descriptor's operations.
pub struct MqFile {
    pub q: Arc<Queue>,
}

impl MqFile {
    pub fn open(q: Arc<Queue>, flags: u32) -> Arc<File> {
        File::new(Arc::new(MqFile { q }), None, None, flags)
    }
}

impl FileOps for MqFile {
    /// read(2) of a queue descriptor shows its status line, as Linux.
    fn read(&self, f: &File, buf: &mut [u8]) -> KResult<usize> {
        let text = lock(&self.q.st).text();
        let mut pos = f.lock_pos();
        let start = (*pos as usize).min(text.len());
        let n = buf.len().min(text.len() - start);
        buf[..n].copy_from_slice(&text.as_bytes()[start..start + n]);
        *pos += n as u64;
        Ok(n)
    }
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
    /// Any close of the queue by the process registered for notification
    /// cancels the registration, as Linux's mqueue_flush_file.
    fn flush(&self, _f: &File, t: &crate::kernel::task::Task) {
        let mut st = lock(&self.q.st);
        if st.notify_owner().is_some_and(|n| n.tgid == t.tgid()) {
            st.set_notify(None);
        }
    }
    fn poll(&self, _f: &File) -> u32 {
        let st = lock(&self.q.st);
        let mut ev = 0;
        if st.count > 0 {
            ev |= POLLIN | POLLRDNORM;
        }
        if !st.full() {
            ev |= POLLOUT | POLLWRNORM;
        }
        ev
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.q.wq.clone())
    }
    /// /proc/PID/fd shows the queue's path in the mqueue fs, as Linux.
    fn name(&self) -> Option<String> {
        Some(format!("/{}", self.q.name))
    }
}

/// Is O_NONBLOCK set on the open description?
pub fn nonblock(f: &File) -> bool {
    f.flags.load(std::sync::atomic::Ordering::Relaxed) & O_NONBLOCK != 0
}
