//! System V message queues: msgget, msgsnd, msgrcv, msgctl.
//!
//! Senders wait while a message would overflow the queue's msg_qbytes,
//! receivers while no message matches; both sleep on the queue's wait
//! queue and look again when anything changes. A sleeper whose queue was
//! removed gets EIDRM.

use super::per_ns::PerNs;
use super::{now, Ids, IPC_64, IPC_INFO, IPC_NOWAIT, IPC_RMID};
use super::{IPC_SET, IPC_STAT, MSGMAX, MSGMNB, MSGMNI};
use crate::abi::ipc as abi;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched;
use crate::kernel::task::{Pid, Task};
use crate::kernel::wait::WaitQueue;
use std::collections::VecDeque;
use std::sync::Arc;

pub const MSG_NOERROR: i32 = 0o10000;
pub const MSG_EXCEPT: i32 = 0o20000;
pub const MSG_COPY: i32 = 0o40000;
const MSG_STAT: i32 = 11;
const MSG_INFO: i32 = 12;
const MSG_STAT_ANY: i32 = 13;

pub struct MsgQueue {
    msgs: VecDeque<(i64, Vec<u8>)>,
    cbytes: u64,
    qbytes: u64,
    lspid: Pid,
    lrpid: Pid,
    stime: u64,
    rtime: u64,
    ctime: u64,
    wq: WaitQueue,
}

static MSG: PerNs<Ids<MsgQueue>> = PerNs::new(Ids::new);

/// msgget
pub fn msgget(t: &Arc<Task>, key: i32, flg: i32) -> KResult<u64> {
    let c = t.creds();
    let id = MSG.lock().get_or_create(
        &c,
        key,
        flg,
        MSGMNI.get(),
        |_| Ok(()),
        || {
            Ok(MsgQueue {
                msgs: VecDeque::new(),
                cbytes: 0,
                qbytes: MSGMNB.get(),
                lspid: 0,
                lrpid: 0,
                stime: 0,
                rtime: 0,
                ctime: now(),
                wq: WaitQueue::new(),
            })
        },
    )?;
    Ok(id as u64)
}

/// msgsnd
pub fn msgsnd(t: &Arc<Task>, id: i32, msgp: u64, size: u64, flg: i32) -> KResult<u64> {
    if size > MSGMAX.get() || (size as i64) < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let mtype = mm.read_u64(msgp)? as i64;
    if mtype < 1 {
        return Err(Errno::EINVAL);
    }
    let text = mm.read_vec(msgp + 8, size as usize)?;
    let c = t.creds();
    let mut slept = false;
    loop {
        let mut ids = MSG.lock();
        let (perm, q) = match ids.get(id) {
            Ok(e) => e,
            // Removed while we slept.
            Err(_) if slept => return Err(Errno::EIDRM),
            Err(e) => return Err(e),
        };
        perm.check(&c, 0o222)?;
        // Linux's msg_fits_inqueue: bytes and the message count both
        // bounded by msg_qbytes.
        if q.cbytes + size > q.qbytes || q.msgs.len() as u64 + 1 > q.qbytes {
            if flg & IPC_NOWAIT != 0 {
                return Err(Errno::EAGAIN);
            }
            q.wq.add(t.tid);
            drop(ids);
            // A signal ends the wait before the queue is looked at again
            // unless it was removed (EIDRM first, as Linux's do_msgsnd).
            if sched::wait(t, None).is_err() {
                if MSG.lock().get(id).is_err() {
                    return Err(Errno::EIDRM);
                }
                return Err(INTERRUPTED);
            }
            slept = true;
            continue;
        }
        q.msgs.push_back((mtype, text));
        q.cbytes += size;
        q.lspid = t.tgid();
        q.stime = now();
        q.wq.wake_all();
        return Ok(0);
    }
}

/// A signal ended a msgsnd/msgrcv sleep: Linux's ERESTARTNOHAND, EINTR
/// when a handler runs (whatever SA_RESTART says), restarted after a stop
/// and continue.
const INTERRUPTED: Errno = Errno::ERESTARTNOHAND;

/// Which message msgrcv takes: the index in the queue.
fn pick(msgs: &VecDeque<(i64, Vec<u8>)>, typ: i64, flg: i32) -> Option<usize> {
    if flg & MSG_COPY != 0 {
        return (typ >= 0 && (typ as usize) < msgs.len()).then_some(typ as usize);
    }
    if typ == 0 {
        return (!msgs.is_empty()).then_some(0);
    }
    if typ > 0 {
        let except = flg & MSG_EXCEPT != 0;
        return msgs.iter().position(|(m, _)| (*m == typ) != except);
    }
    // The lowest type at most |typ|, first of its kind.
    let lim = typ.unsigned_abs();
    let mut best: Option<usize> = None;
    for (i, (m, _)) in msgs.iter().enumerate() {
        if (*m as u64) <= lim && best.is_none_or(|b| *m < msgs[b].0) {
            best = Some(i);
        }
    }
    best
}

/// msgrcv
pub fn msgrcv(t: &Arc<Task>, id: i32, msgp: u64, size: u64, typ: i64, flg: i32) -> KResult<u64> {
    if (size as i64) < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if flg & MSG_COPY != 0 && (flg & MSG_EXCEPT != 0 || flg & IPC_NOWAIT == 0) {
        return Err(Errno::EINVAL);
    }
    let c = t.creds();
    let mut slept = false;
    let mut signalled = false;
    let (mtype, text) = loop {
        let mut ids = MSG.lock();
        let (perm, q) = match ids.get(id) {
            Ok(e) => e,
            // Removed while we slept.
            Err(_) if slept => return Err(Errno::EIDRM),
            Err(e) => return Err(e),
        };
        perm.check(&c, 0o444)?;
        let Some(i) = pick(&q.msgs, typ, flg) else {
            if flg & IPC_NOWAIT != 0 {
                return Err(Errno::ENOMSG);
            }
            // After a signal the queue was looked at once more (a message
            // that came with it is taken, as Linux's pipelined receive).
            if signalled {
                return Err(INTERRUPTED);
            }
            q.wq.add(t.tid);
            drop(ids);
            signalled = sched::wait(t, None).is_err();
            slept = true;
            continue;
        };
        if q.msgs[i].1.len() as u64 > size && flg & MSG_NOERROR == 0 {
            return Err(Errno::E2BIG);
        }
        if flg & MSG_COPY != 0 {
            break q.msgs[i].clone();
        }
        let m = q.msgs.remove(i).unwrap();
        q.cbytes -= m.1.len() as u64;
        q.lrpid = t.tgid();
        q.rtime = now();
        q.wq.wake_all();
        break m;
    };
    // Copied out with the queue unlocked; a bad buffer loses the message,
    // as on Linux.
    let n = text.len().min(size as usize);
    let mm = t.mm();
    mm.write_u64(msgp, mtype as u64)?;
    mm.write(msgp + 8, &text[..n])?;
    Ok(n as u64)
}

/// msgctl
pub fn msgctl(t: &Arc<Task>, id: i32, cmd: i32, buf: u64) -> KResult<u64> {
    let cmd = cmd & !IPC_64;
    let c = t.creds();
    let mm = t.mm();
    match cmd {
        IPC_INFO | MSG_INFO => {
            let (max, used, msgs, bytes) = {
                let ids = MSG.lock();
                let msgs: usize = ids.iter().map(|(_, q)| q.msgs.len()).sum();
                let bytes: u64 = ids.iter().map(|(_, q)| q.cbytes).sum();
                (ids.max_idx(), ids.len(), msgs, bytes)
            };
            let mnb = MSGMNB.get() as u32;
            let mut v = abi::Msginfo {
                msgpool: ((MSGMNI.get() as u32).saturating_mul(mnb) / 1024) as i32,
                msgmap: mnb as i32,
                msgmax: MSGMAX.get() as i32,
                msgmnb: mnb as i32,
                msgmni: MSGMNI.get() as i32,
                msgssz: 16,
                msgtql: mnb as i32,
                msgseg: 0xffff,
                _pad: 0,
            };
            if cmd == MSG_INFO {
                // Linux reuses three fields for the usage counts.
                v.msgpool = used as i32;
                v.msgmap = msgs as i32;
                v.msgtql = bytes as i32;
            }
            crate::abi::write_val(&mm, buf, &v)?;
            Ok(max as u64)
        }
        IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
            let mut b = abi::MsqidDs::default();
            let ret = {
                let mut ids = MSG.lock();
                let (perm, q) = if cmd == IPC_STAT {
                    ids.get(id)?
                } else {
                    ids.at(id)?
                };
                if cmd != MSG_STAT_ANY {
                    perm.check(&c, 0o444)?;
                }
                b.msg_perm = perm.encode();
                b.msg_stime = q.stime;
                b.msg_rtime = q.rtime;
                b.msg_ctime = q.ctime;
                b.msg_cbytes = q.cbytes;
                b.msg_qnum = q.msgs.len() as u64;
                b.msg_qbytes = q.qbytes;
                b.msg_lspid = q.lspid as i32;
                b.msg_lrpid = q.lrpid as i32;
                super::stat_ret(cmd != IPC_STAT, perm)
            };
            crate::abi::write_val(&mm, buf, &b)?;
            Ok(ret)
        }
        IPC_SET => {
            let b: abi::MsqidDs = crate::abi::read_val(&mm, buf)?;
            let qbytes = b.msg_qbytes;
            let mut ids = MSG.lock();
            let (perm, q) = ids.get(id)?;
            perm.check_owner(&c)?;
            if qbytes > MSGMNB.get() && !c.capable(crate::kernel::caps::CAP_SYS_RESOURCE) {
                return Err(Errno::EPERM);
            }
            perm.set_from(&b.msg_perm);
            q.qbytes = qbytes;
            q.ctime = now();
            // A bigger queue may let senders go on.
            q.wq.wake_all();
            Ok(0)
        }
        IPC_RMID => {
            let mut ids = MSG.lock();
            let (perm, _) = ids.get(id)?;
            perm.check_owner(&c)?;
            if let Some((_, q)) = ids.remove(id) {
                q.wq.wake_all();
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Forget every queue (reboot).
pub fn reset() {
    MSG.take_all();
}

/// /proc/sysvipc/msg
pub fn proc_text() -> String {
    let mut out = String::from("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n");
    for (p, q) in MSG.lock().iter() {
        out += &format!(
            "{:10} {:10}  {:4o}  {:10} {:10} {:5} {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10}\n",
            p.key,
            p.id,
            p.mode & 0o777,
            q.cbytes,
            q.msgs.len(),
            q.lspid,
            q.lrpid,
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            q.stime,
            q.rtime,
            q.ctime
        );
    }
    out
}
