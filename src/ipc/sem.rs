//! System V semaphores: semget, semop/semtimedop, semctl, and SEM_UNDO
//! adjustments applied when a process exits.
//!
//! A semop that cannot go on records what it waits for (for GETNCNT and
//! GETZCNT) and sleeps; any change to the array wakes every waiter, which
//! tries all its operations again from the start. A waiter whose array
//! was removed meanwhile gets EIDRM.

use super::per_ns::PerNs;
use super::{now, Ids, IPC_64, IPC_INFO, IPC_NOWAIT, IPC_RMID};
use super::{IPC_SET, IPC_STAT, SEMMNI, SEMMNS, SEMMSL, SEMOPM};
use crate::abi::{ipc as abi, time::Timespec, UserSlice};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched;
use crate::kernel::task::{self, Pid, State, Task, Tid};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest semaphore value, and largest undo adjustment.
pub const SEMVMX: i32 = 32767;
const SEMAEM: i32 = SEMVMX;
const SEM_UNDO: i16 = 0x1000;

const GETPID: i32 = 11;
const GETVAL: i32 = 12;
const GETALL: i32 = 13;
const GETNCNT: i32 = 14;
const GETZCNT: i32 = 15;
const SETVAL: i32 = 16;
const SETALL: i32 = 17;
const SEM_STAT: i32 = 18;
const SEM_INFO: i32 = 19;
const SEM_STAT_ANY: i32 = 20;

#[derive(Clone, Copy, Default)]
struct Sem {
    val: i32,
    pid: Pid,
}

/// A task sleeping in semop: on semaphore `num`, for zero or for more.
struct Waiter {
    tid: Tid,
    num: u16,
    zero: bool,
}

pub struct SemSet {
    sems: Vec<Sem>,
    otime: u64,
    ctime: u64,
    waiters: Vec<Waiter>,
}

impl SemSet {
    /// Wake every sleeper: they all look again.
    fn wake_all(&mut self) {
        for w in self.waiters.drain(..) {
            sched::wake(w.tid);
        }
    }
    /// Sleepers still in their semop (one killed in its sleep never takes
    /// itself off the list).
    fn count(&self, num: u16, zero: bool) -> u64 {
        self.waiters
            .iter()
            .filter(|w| w.num == num && w.zero == zero && sleeping_in_semop(w.tid))
            .count() as u64
    }
}

fn sleeping_in_semop(tid: Tid) -> bool {
    task::task(tid).is_some_and(|t| {
        let i = t.lock();
        i.state == State::Blocked && matches!(i.ctx.regs.orig_rax, 65 | 220)
    })
}

struct State_ {
    ids: Ids<SemSet>,
    /// SEM_UNDO adjustments per (process, array).
    undo: BTreeMap<(Pid, i32), Vec<i32>>,
}

static SEM: PerNs<State_> = PerNs::new(|| State_ {
    ids: Ids::new(),
    undo: BTreeMap::new(),
});

/// semget
pub fn semget(t: &Arc<Task>, key: i32, nsems: i32, flg: i32) -> KResult<u64> {
    if nsems < 0 || nsems as u64 > SEMMSL.get() {
        return Err(Errno::EINVAL);
    }
    let c = t.creds();
    let mut st = SEM.lock();
    let total: usize = st.ids.iter().map(|(_, s)| s.sems.len()).sum();
    let id = st.ids.get_or_create(
        &c,
        key,
        flg,
        SEMMNI.get(),
        |s| {
            if nsems as usize > s.sems.len() {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            }
        },
        || {
            if nsems == 0 {
                return Err(Errno::EINVAL);
            }
            if (total + nsems as usize) as u64 > SEMMNS.get() {
                return Err(Errno::ENOSPC);
            }
            Ok(SemSet {
                sems: vec![Sem::default(); nsems as usize],
                otime: 0,
                ctime: now(),
                waiters: Vec::new(),
            })
        },
    )?;
    Ok(id as u64)
}

/// One `struct sembuf`.
#[derive(Clone, Copy)]
struct SemBuf {
    num: u16,
    op: i16,
    flg: i16,
}

/// semop / semtimedop. `timeout` is a guest timespec pointer or 0.
pub fn semtimedop(t: &Arc<Task>, id: i32, sops: u64, nsops: u64, timeout: u64) -> KResult<u64> {
    if nsops < 1 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if nsops > SEMOPM.get() {
        return Err(Errno::E2BIG);
    }
    let ops: Vec<SemBuf> = UserSlice::<abi::Sembuf>::new(sops, nsops as usize)
        .read(&t.mm())?
        .into_iter()
        .map(|b| SemBuf {
            num: b.sem_num,
            op: b.sem_op,
            flg: b.sem_flg,
        })
        .collect();
    let deadline = match timeout {
        0 => None,
        _ => {
            let d = crate::abi::read_val::<Timespec>(&t.mm(), timeout)?.to_ns()?;
            Some(crate::kernel::time::monotonic_ns().saturating_add(d))
        }
    };
    let mut slept = false;
    let mut signalled = None;
    // After a signal the operations are tried once more (Linux reports an
    // operation a waker completed for us, EIDRM, or a timeout first).
    while !attempt(t, id, &ops, deadline, slept)? {
        if let Some(e) = signalled {
            // EINTR whatever SA_RESTART says (the table's restart class); off the
            // waiter list so GETNCNT/GETZCNT no longer count us.
            if let Ok((_, set)) = SEM.lock().ids.get(id) {
                set.waiters.retain(|w| w.tid != t.tid);
            }
            return Err(e);
        }
        signalled = sched::wait(t, deadline).err();
        slept = true;
    }
    Ok(0)
}

/// One semop attempt with the array locked: Ok(true) when done, Ok(false)
/// when queued on the array to sleep (the caller drops the lock first).
/// `slept`: a missing array was removed while we slept (EIDRM).
fn attempt(t: &Task, id: i32, ops: &[SemBuf], deadline: Option<i64>, slept: bool) -> KResult<bool> {
    let c = t.creds();
    let tgid = t.tgid();
    let mut st = SEM.lock();
    let st = &mut *st;
    let (perm, set) = match st.ids.get(id) {
        Ok(e) => e,
        // Removed while we slept.
        Err(_) if slept => return Err(Errno::EIDRM),
        Err(e) => return Err(e),
    };
    set.waiters.retain(|w| w.tid != t.tid);
    let max = ops.iter().map(|o| o.num).max().unwrap_or(0);
    if max as usize >= set.sems.len() {
        return Err(Errno::EFBIG);
    }
    let alter = ops.iter().any(|o| o.op != 0);
    perm.check(&c, if alter { 0o222 } else { 0o444 })?;
    let undo = ops.iter().any(|o| o.flg & SEM_UNDO != 0);
    let mut vals: Vec<i32> = set.sems.iter().map(|s| s.val).collect();
    let mut adj = match st.undo.get(&(tgid, id)) {
        Some(a) => a.clone(),
        None => vec![0; vals.len()],
    };
    for o in ops {
        let n = o.num as usize;
        let v = vals[n];
        let blocked = if o.op == 0 {
            v != 0
        } else {
            v + (o.op as i32) < 0
        };
        if blocked {
            if o.flg as i32 & IPC_NOWAIT != 0 {
                return Err(Errno::EAGAIN);
            }
            if deadline.is_some_and(|d| crate::kernel::time::monotonic_ns() >= d) {
                return Err(Errno::EAGAIN);
            }
            set.waiters.push(Waiter {
                tid: t.tid,
                num: o.num,
                zero: o.op == 0,
            });
            return Ok(false);
        }
        let r = v + o.op as i32;
        if r > SEMVMX {
            return Err(Errno::ERANGE);
        }
        if o.flg & SEM_UNDO != 0 {
            let a = adj[n] - o.op as i32;
            if !(-SEMAEM - 1..=SEMAEM).contains(&a) {
                return Err(Errno::ERANGE);
            }
            adj[n] = a;
        }
        vals[n] = r;
    }
    for (s, v) in set.sems.iter_mut().zip(&vals) {
        s.val = *v;
    }
    for o in ops {
        set.sems[o.num as usize].pid = tgid;
    }
    set.otime = now();
    if alter {
        set.wake_all();
    }
    if undo {
        st.undo.insert((tgid, id), adj);
    }
    Ok(true)
}

/// A process exits: apply its SEM_UNDO adjustments (clamped to the valid
/// range, as Linux's exit_sem) and wake whoever that lets go on.
pub fn exit(tgid: Pid) {
    // Its IPC namespace may be gone from view by now: every namespace's
    // table is looked at.
    for key in SEM.keys() {
        exit_in(tgid, key);
    }
}

fn exit_in(tgid: Pid, key: u64) {
    let mut st = SEM.lock_in(key);
    let st = &mut *st;
    let mine: Vec<(i32, Vec<i32>)> = st
        .undo
        .iter()
        .filter(|((p, _), _)| *p == tgid)
        .map(|((_, id), a)| (*id, a.clone()))
        .collect();
    for (id, adj) in mine {
        st.undo.remove(&(tgid, id));
        let Ok((_, set)) = st.ids.get(id) else {
            continue;
        };
        for (s, a) in set.sems.iter_mut().zip(adj) {
            if a != 0 {
                s.val = (s.val + a).clamp(0, SEMVMX);
                s.pid = tgid;
            }
        }
        set.wake_all();
    }
}

/// semctl
pub fn semctl(t: &Arc<Task>, id: i32, num: i32, cmd: i32, arg: u64) -> KResult<u64> {
    let cmd = cmd & !IPC_64;
    let c = t.creds();
    let mm = t.mm();
    match cmd {
        IPC_INFO | SEM_INFO => {
            let (max, used, total) = {
                let st = SEM.lock();
                let total: usize = st.ids.iter().map(|(_, s)| s.sems.len()).sum();
                (st.ids.max_idx(), st.ids.len(), total)
            };
            let mut v = abi::Seminfo {
                semmap: SEMMNS.get() as i32,
                semmni: SEMMNI.get() as i32,
                semmns: SEMMNS.get() as i32,
                semmnu: SEMMNS.get() as i32,
                semmsl: SEMMSL.get() as i32,
                semopm: SEMOPM.get() as i32,
                semume: SEMOPM.get() as i32,
                semusz: 20,
                semvmx: SEMVMX,
                semaem: SEMAEM,
            };
            if cmd == SEM_INFO {
                // Linux reuses two fields for the usage counts.
                v.semusz = used as i32;
                v.semaem = total as i32;
            }
            crate::abi::write_val(&mm, arg, &v)?;
            Ok(max as u64)
        }
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let mut b = abi::SemidDs::default();
            let ret = {
                let mut st = SEM.lock();
                let (perm, set) = if cmd == IPC_STAT {
                    st.ids.get(id)?
                } else {
                    st.ids.at(id)?
                };
                if cmd != SEM_STAT_ANY {
                    perm.check(&c, 0o444)?;
                }
                b.sem_perm = perm.encode();
                b.sem_otime = set.otime;
                b.sem_ctime = set.ctime;
                b.sem_nsems = set.sems.len() as u64;
                super::stat_ret(cmd != IPC_STAT, perm)
            };
            crate::abi::write_val(&mm, arg, &b)?;
            Ok(ret)
        }
        IPC_SET => {
            let b: abi::Ipc64Perm = crate::abi::read_val(&mm, arg)?;
            let mut st = SEM.lock();
            let (perm, set) = st.ids.get(id)?;
            perm.check_owner(&c)?;
            perm.set_from(&b);
            set.ctime = now();
            Ok(0)
        }
        IPC_RMID => {
            let mut st = SEM.lock();
            let (perm, _) = st.ids.get(id)?;
            perm.check_owner(&c)?;
            if let Some((_, mut set)) = st.ids.remove(id) {
                set.wake_all();
            }
            st.undo.retain(|(_, i), _| *i != id);
            Ok(0)
        }
        GETVAL | GETPID | GETNCNT | GETZCNT => {
            let mut st = SEM.lock();
            let (perm, set) = st.ids.get(id)?;
            perm.check(&c, 0o444)?;
            let s = usize::try_from(num)
                .ok()
                .and_then(|n| set.sems.get(n))
                .ok_or(Errno::EINVAL)?;
            Ok(match cmd {
                GETVAL => s.val as u64,
                GETPID => s.pid as u64,
                GETNCNT => set.count(num as u16, false),
                _ => set.count(num as u16, true),
            })
        }
        GETALL => {
            let v: Vec<u16> = {
                let mut st = SEM.lock();
                let (perm, set) = st.ids.get(id)?;
                perm.check(&c, 0o444)?;
                set.sems.iter().map(|s| s.val as u16).collect()
            };
            UserSlice::new(arg, v.len()).write(&mm, &v)?;
            Ok(0)
        }
        SETVAL => {
            let val = arg as i32;
            if !(0..=SEMVMX).contains(&val) {
                return Err(Errno::ERANGE);
            }
            let mut st = SEM.lock();
            let st = &mut *st;
            let (perm, set) = st.ids.get(id)?;
            let n = usize::try_from(num)
                .ok()
                .filter(|&n| n < set.sems.len())
                .ok_or(Errno::EINVAL)?;
            perm.check(&c, 0o222)?;
            set.sems[n] = Sem { val, pid: t.tgid() };
            set.ctime = now();
            set.wake_all();
            // A value set by hand makes old adjustments meaningless.
            for ((_, i), a) in st.undo.iter_mut() {
                if *i == id {
                    a[n] = 0;
                }
            }
            Ok(0)
        }
        SETALL => {
            let n = {
                let mut st = SEM.lock();
                let (perm, set) = st.ids.get(id)?;
                perm.check(&c, 0o222)?;
                set.sems.len()
            };
            let vals: Vec<i32> = UserSlice::<u16>::new(arg, n)
                .read(&mm)?
                .into_iter()
                .map(i32::from)
                .collect();
            if vals.iter().any(|&v| v > SEMVMX) {
                return Err(Errno::ERANGE);
            }
            let mut st = SEM.lock();
            let st = &mut *st;
            let (_, set) = st.ids.get(id)?;
            for (s, v) in set.sems.iter_mut().zip(vals) {
                *s = Sem {
                    val: v,
                    pid: t.tgid(),
                };
            }
            set.ctime = now();
            set.wake_all();
            st.undo.retain(|(_, i), _| *i != id);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Forget every array and undo list (reboot).
pub fn reset() {
    SEM.take_all();
}

/// /proc/sysvipc/sem
pub fn proc_text() -> String {
    let mut out = String::from(
        "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
    );
    for (p, s) in SEM.lock().ids.iter() {
        out += &format!(
            "{:10} {:10}  {:4o} {:10} {:5} {:5} {:5} {:5} {:10} {:10}\n",
            p.key,
            p.id,
            p.mode & 0o777,
            s.sems.len(),
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            s.otime,
            s.ctime
        );
    }
    out
}
