//! POSIX message queue syscalls: mq_open, mq_unlink, mq_timedsend,
//! mq_timedreceive, mq_notify, mq_getsetattr. Argument decoding, access
//! modes and sleeping; the queues themselves are `crate::ipc::mqueue`'s.

use super::errno::{Errno, KResult};
use super::sched;
use super::sys_fs::fd_file;
use super::task::{lock, Task};
use super::time;
use crate::abi::{self, ipc::MqAttr, signal::Sigevent, time::Timespec};
use crate::fs::file::{File, O_ACCMODE, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY};
use crate::ipc::mqueue::{self, MqFile, Notify, Queue, MQ_PRIO_MAX, SIGEV_NONE, SIGEV_SIGNAL};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The queue name the caller passed (glibc has already dropped the '/').
fn read_name(t: &Task, addr: u64) -> KResult<String> {
    let name = t.mm().read_cstr(addr, 4096)?;
    mqueue::check_name(&name)?;
    Ok(name)
}

/// The queue open as `fd` and its file; EBADF for any other file.
fn queue(t: &Task, fd: i32) -> KResult<(Arc<File>, Arc<Queue>)> {
    let f = fd_file(t, fd).map_err(|_| Errno::EBADF)?;
    let mq = f
        .ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<MqFile>().ok())
        .ok_or(Errno::EBADF)?;
    Ok((f, mq.q.clone()))
}

/// The kernel deadline for an absolute CLOCK_REALTIME timespec at `addr`
/// (0: none).
fn deadline(t: &Task, addr: u64) -> KResult<Option<i64>> {
    if addr == 0 {
        return Ok(None);
    }
    let abs = abi::read_val::<Timespec>(&t.mm(), addr)?.to_ns()?;
    // Realtime → monotonic at this instant; a clock step later does not
    // move the deadline (Linux re-arms on clock_settime; close enough).
    let left = abs.saturating_sub(time::realtime_ns());
    Ok(Some(time::monotonic_ns().saturating_add(left)))
}

fn expired(d: Option<i64>) -> bool {
    d.is_some_and(|d| time::monotonic_ns() >= d)
}

/// mq_open(name, oflag, mode, attr)
pub fn sys_mq_open(t: &Arc<Task>, name: u64, oflag: u32, mode: u32, attr: u64) -> KResult<u64> {
    let name = read_name(t, name)?;
    let c = t.creds();
    let acc = oflag & O_ACCMODE;
    let create = if oflag & O_CREAT != 0 {
        let a = if attr != 0 {
            let a: MqAttr = abi::read_val(&t.mm(), attr)?;
            Some((a.mq_maxmsg, a.mq_msgsize))
        } else {
            None
        };
        let umask = t.fs().umask;
        Some((mode & 0o777 & !umask, a))
    } else {
        None
    };
    // The attributes are checked only when a queue is made.
    let (q, created) = match create {
        Some((m, a)) => match mqueue::lookup_or_create(&name, &c, None) {
            Ok(found) => found,
            Err(_) => mqueue::lookup_or_create(&name, &c, Some((m, mqueue::new_attrs(&c, a)?)))?,
        },
        None => mqueue::lookup_or_create(&name, &c, None)?,
    };
    if !created {
        if oflag & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
            return Err(Errno::EEXIST);
        }
        let want = match acc {
            O_RDONLY => 4,
            O_WRONLY => 2,
            O_RDWR => 6,
            _ => return Err(Errno::EINVAL),
        };
        if !lock(&q.st).permits(&c, want) {
            return Err(Errno::EACCES);
        }
    }
    let f = MqFile::open(q, acc | (oflag & O_NONBLOCK));
    let nofile = t.nofile();
    // Queue descriptors are always close-on-exec on Linux.
    Ok(lock(&t.files()).install(f, true, nofile)? as u64)
}

/// mq_unlink(name)
pub fn sys_mq_unlink(t: &Arc<Task>, name: u64) -> KResult<u64> {
    let name = read_name(t, name)?;
    mqueue::unlink(&name, &t.creds())?;
    Ok(0)
}

/// mq_timedsend(mqd, msg, len, prio, abs_timeout)
pub fn sys_mq_timedsend(
    t: &Arc<Task>,
    fd: i32,
    msg: u64,
    len: u64,
    prio: u32,
    timeout: u64,
) -> KResult<u64> {
    if prio >= MQ_PRIO_MAX {
        return Err(Errno::EINVAL);
    }
    let d = deadline(t, timeout)?;
    let (f, q) = queue(t, fd)?;
    let acc = f.flags.load(Ordering::Relaxed) & O_ACCMODE;
    if acc != O_WRONLY && acc != O_RDWR {
        return Err(Errno::EBADF);
    }
    if len > lock(&q.st).msgsize as u64 {
        return Err(Errno::EMSGSIZE);
    }
    let data = t.mm().read_vec(msg, len as usize)?;
    let mut signalled = None;
    loop {
        let mut st = lock(&q.st);
        if !st.full() {
            st.push(prio, data, t.tgid(), t.creds().uid);
            break;
        }
        if mqueue::nonblock(&f) {
            return Err(Errno::EAGAIN);
        }
        // After a signal the queue was looked at once more; then the
        // signal comes before the timeout (Linux's wq_sleep).
        // ERESTARTSYS: SA_RESTART restarts, with the same absolute
        // timeout.
        if let Some(e) = signalled {
            return Err(e);
        }
        if expired(d) {
            return Err(Errno::ETIMEDOUT);
        }
        q.wq.add(t.tid);
        drop(st);
        signalled = sched::wait(t, d).err();
    }
    q.wq.wake_all();
    Ok(0)
}

/// mq_timedreceive(mqd, msg, len, prio_ptr, abs_timeout)
pub fn sys_mq_timedreceive(
    t: &Arc<Task>,
    fd: i32,
    msg: u64,
    len: u64,
    prio_ptr: u64,
    timeout: u64,
) -> KResult<u64> {
    let d = deadline(t, timeout)?;
    let (f, q) = queue(t, fd)?;
    let acc = f.flags.load(Ordering::Relaxed) & O_ACCMODE;
    if acc != O_RDONLY && acc != O_RDWR {
        return Err(Errno::EBADF);
    }
    let mut signalled = None;
    let (prio, data) = loop {
        let mut st = lock(&q.st);
        st.drop_receiver(t.tid);
        if len < st.msgsize as u64 {
            return Err(Errno::EMSGSIZE);
        }
        if let Some(m) = st.pop() {
            break m;
        }
        if mqueue::nonblock(&f) {
            return Err(Errno::EAGAIN);
        }
        // As in send: a signal, then the timeout, after one more look.
        if let Some(e) = signalled {
            return Err(e);
        }
        if expired(d) {
            return Err(Errno::ETIMEDOUT);
        }
        st.add_receiver(t.tid);
        q.wq.add(t.tid);
        drop(st);
        signalled = sched::wait(t, d).err();
    };
    // Senders may go on now.
    q.wq.wake_all();
    // Copied out with the queue unlocked; a bad buffer loses the
    // message, as on Linux.
    let mm = t.mm();
    mm.write(msg, &data)?;
    if prio_ptr != 0 {
        abi::write_val(&mm, prio_ptr, &prio)?;
    }
    Ok(data.len() as u64)
}

/// mq_notify(mqd, sevp): register (or with NULL, drop) this process's
/// notification. SIGEV_THREAD, which glibc builds on a netlink socket,
/// is not supported (EINVAL).
pub fn sys_mq_notify(t: &Arc<Task>, fd: i32, sevp: u64) -> KResult<u64> {
    let req = if sevp != 0 {
        let e: Sigevent = abi::read_val(&t.mm(), sevp)?;
        let (value, signo, how) = (e.sigev_value, e.sigev_signo, e.sigev_notify);
        match how {
            SIGEV_NONE => {}
            SIGEV_SIGNAL if (0..=64).contains(&signo) => {}
            _ => return Err(Errno::EINVAL),
        }
        Some(Notify {
            tgid: t.tgid(),
            how,
            signo,
            value,
        })
    } else {
        None
    };
    let (_, q) = queue(t, fd)?;
    let mut st = lock(&q.st);
    let owner = st.notify_owner();
    match req {
        Some(n) => {
            if owner.is_some() {
                return Err(Errno::EBUSY);
            }
            st.set_notify(Some(n));
        }
        None => {
            if owner.is_some_and(|o| o.tgid == t.tgid()) {
                st.set_notify(None);
            }
        }
    }
    Ok(0)
}

/// mq_getsetattr(mqd, newattr, oldattr): only O_NONBLOCK can change.
pub fn sys_mq_getsetattr(t: &Arc<Task>, fd: i32, new: u64, old: u64) -> KResult<u64> {
    let mm = t.mm();
    let flags = if new != 0 {
        let fl = abi::read_val::<MqAttr>(&mm, new)?.mq_flags;
        if fl & !(O_NONBLOCK as i64) != 0 {
            return Err(Errno::EINVAL);
        }
        Some(fl as u32)
    } else {
        None
    };
    let (f, q) = queue(t, fd)?;
    let b = {
        let st = lock(&q.st);
        let cur = f.flags.load(Ordering::Relaxed) & O_NONBLOCK;
        MqAttr {
            mq_flags: cur as i64,
            mq_maxmsg: st.maxmsg,
            mq_msgsize: st.msgsize,
            mq_curmsgs: st.count() as i64,
            ..Default::default()
        }
    };
    if let Some(fl) = flags {
        if fl & O_NONBLOCK != 0 {
            f.flags.fetch_or(O_NONBLOCK, Ordering::Relaxed);
        } else {
            f.flags.fetch_and(!O_NONBLOCK, Ordering::Relaxed);
        }
    }
    if old != 0 {
        abi::write_val(&mm, old, &b)?;
    }
    Ok(0)
}
