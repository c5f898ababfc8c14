//! sched_setscheduler and friends: scheduling policies and priorities
//! with Linux's validation and permission rules.
//!
//! Policy, priority and the SCHED_DEADLINE parameters are stored per
//! thread, inherited (or reset, with SCHED_RESET_ON_FORK) by children and
//! reported back; the scheduler itself still runs every task round-robin
//! and ignores them.

use super::errno::{Errno, KResult};
use super::task::{self, Task, RLIMIT_NICE};
use crate::abi::{
    self,
    resource::{SchedAttr as AbiSchedAttr, SchedParam},
};
use std::sync::Arc;

pub const SCHED_OTHER: i32 = 0;
pub const SCHED_FIFO: i32 = 1;
pub const SCHED_RR: i32 = 2;
pub const SCHED_BATCH: i32 = 3;
pub const SCHED_IDLE: i32 = 5;
pub const SCHED_DEADLINE: i32 = 6;
const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;
/// sched_attr.sched_flags bits.
const FLAG_RESET_ON_FORK: u64 = 0x01;
const FLAG_KEEP_POLICY: u64 = 0x08;
const FLAG_KEEP_PARAMS: u64 = 0x10;
const FLAG_UTIL_CLAMP: u64 = 0x20 | 0x40;
const FLAG_ALL: u64 = 0x7f;
const ATTR_SIZE_VER0: u32 = 48;
const ATTR_SIZE_VER1: u32 = 56;
const RLIMIT_RTPRIO: usize = 14;
/// SCHED_RR's time slice (Linux's RR_TIMESLICE, 100 ms).
const RR_SLICE_NS: i64 = 100_000_000;
/// What the round-robin scheduler gives everyone else (sched.rs).
const SLICE_NS: i64 = 10_000_000;

/// A thread's scheduling attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedAttr {
    pub policy: i32,
    /// sched_priority: 1..=99 for FIFO/RR, 0 otherwise.
    pub priority: u32,
    pub reset_on_fork: bool,
    /// SCHED_DEADLINE runtime, deadline, period (ns).
    pub dl: (u64, u64, u64),
}

impl SchedAttr {
    /// What a child gets: the same, unless reset-on-fork asks for a
    /// normal policy (and the flag itself is not inherited then).
    pub fn forked(&self) -> SchedAttr {
        if !self.reset_on_fork {
            return *self;
        }
        let mut c = *self;
        if is_rt(c.policy) || c.policy == SCHED_DEADLINE {
            c = SchedAttr::default();
        }
        c.reset_on_fork = false;
        c
    }
}

fn is_rt(p: i32) -> bool {
    p == SCHED_FIFO || p == SCHED_RR
}

fn valid_policy(p: i32) -> bool {
    matches!(
        p,
        SCHED_OTHER | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE
    )
}

/// The thread `pid` names in the caller's pid namespace (0: the
/// caller); ESRCH if there is none.
pub(super) fn target(t: &Arc<Task>, pid: i32) -> KResult<Arc<Task>> {
    if pid == 0 {
        return Ok(t.clone());
    }
    super::ns::pid::find(t, pid)
        .and_then(task::task)
        .ok_or(Errno::ESRCH)
}

/// sched_get_priority_max
pub fn sys_sched_get_priority_max(policy: i32) -> KResult<u64> {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok(99),
        p if valid_policy(p) => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// sched_get_priority_min
pub fn sys_sched_get_priority_min(policy: i32) -> KResult<u64> {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok(1),
        p if valid_policy(p) => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// A requested change: `policy` None keeps the current one
/// (sched_setparam, SCHED_FLAG_KEEP_POLICY); `nice` only for setattr.
struct Request {
    policy: Option<i32>,
    priority: u32,
    reset_on_fork: bool,
    nice: Option<i32>,
    dl: (u64, u64, u64),
    keep_params: bool,
}

/// Linux's __checkparam_dl, with the default period bounds (100 us ..
/// 2^22 us).
fn valid_dl((runtime, deadline, period): (u64, u64, u64)) -> bool {
    if deadline == 0 || runtime < 1024 || (deadline | period) & (1 << 63) != 0 {
        return false;
    }
    let period = if period == 0 { deadline } else { period };
    period >= deadline && deadline >= runtime && (100_000..=(1u64 << 22) * 1000).contains(&period)
}

/// __sched_setscheduler: validate, check permission, store.
fn apply(t: &Arc<Task>, p: &Arc<Task>, req: Request) -> KResult<u64> {
    let cur = p.lock().sched;
    let policy = req.policy.unwrap_or(cur.policy);
    if !valid_policy(policy) {
        return Err(Errno::EINVAL);
    }
    if req.priority > 99 || is_rt(policy) != (req.priority != 0) {
        return Err(Errno::EINVAL);
    }
    if policy == SCHED_DEADLINE && !req.keep_params && !valid_dl(req.dl) {
        return Err(Errno::EINVAL);
    }
    let me = t.creds();
    if !me.capable(super::caps::CAP_SYS_NICE) {
        let (pc, rl) = {
            let g = p.tg();
            let g = g.lock();
            (g.creds.clone(), g.rlimits)
        };
        let nice_ok = |n: i32| rl[RLIMIT_NICE].0 >= (20 - n) as u64;
        if let Some(n) = req.nice {
            if n < p.lock().nice && !nice_ok(n) {
                return Err(Errno::EPERM);
            }
        }
        if is_rt(policy) {
            let rtprio = rl[RLIMIT_RTPRIO].0;
            if policy != cur.policy && rtprio == 0 {
                return Err(Errno::EPERM);
            }
            if req.priority > cur.priority && req.priority as u64 > rtprio {
                return Err(Errno::EPERM);
            }
        }
        if policy == SCHED_DEADLINE {
            return Err(Errno::EPERM);
        }
        if cur.policy == SCHED_IDLE && policy != SCHED_IDLE && !nice_ok(p.lock().nice) {
            return Err(Errno::EPERM);
        }
        if pc.uid != me.euid && pc.euid != me.euid {
            return Err(Errno::EPERM);
        }
        if cur.reset_on_fork && !req.reset_on_fork {
            return Err(Errno::EPERM);
        }
    }
    let mut i = p.lock();
    if let Some(n) = req.nice {
        if policy != SCHED_DEADLINE && !is_rt(policy) {
            i.nice = n;
        }
    }
    let dl = if policy != SCHED_DEADLINE {
        (0, 0, 0)
    } else if req.keep_params {
        cur.dl
    } else {
        req.dl
    };
    i.sched = SchedAttr {
        policy,
        priority: req.priority,
        reset_on_fork: req.reset_on_fork,
        dl,
    };
    log::debug!("task {}: sched {:?}", p.tid, i.sched);
    Ok(0)
}

/// sched_setscheduler (`policy` None: sched_setparam).
pub fn sys_sched_setscheduler(
    t: &Arc<Task>,
    pid: i32,
    policy: Option<i32>,
    param: u64,
) -> KResult<u64> {
    if policy.is_some_and(|p| p < 0) || param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let prio = abi::read_val::<SchedParam>(&t.mm(), param)?.sched_priority;
    let p = target(t, pid)?;
    let cur = p.lock().sched;
    let (policy, reset) = match policy {
        Some(x) => (Some(x & !SCHED_RESET_ON_FORK), x & SCHED_RESET_ON_FORK != 0),
        None => (None, cur.reset_on_fork),
    };
    if prio < 0 {
        return Err(Errno::EINVAL);
    }
    apply(
        t,
        &p,
        Request {
            policy,
            priority: prio as u32,
            reset_on_fork: reset,
            nice: None,
            dl: (0, 0, 0),
            keep_params: true,
        },
    )
}

/// sched_getscheduler
pub fn sys_sched_getscheduler(t: &Arc<Task>, pid: i32) -> KResult<u64> {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let s = target(t, pid)?.lock().sched;
    let flag = if s.reset_on_fork {
        SCHED_RESET_ON_FORK
    } else {
        0
    };
    Ok((s.policy | flag) as u64)
}

/// sched_getparam
pub fn sys_sched_getparam(t: &Arc<Task>, pid: i32, param: u64) -> KResult<u64> {
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let s = target(t, pid)?.lock().sched;
    t.mm().write_u32(param, s.priority)?;
    Ok(0)
}

/// sched_rr_get_interval: RR's slice for SCHED_RR, 0 for FIFO, and the
/// round-robin slice everyone else gets.
pub fn sys_sched_rr_get_interval(t: &Arc<Task>, pid: i32, ts: u64) -> KResult<u64> {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let s = target(t, pid)?.lock().sched;
    let ns = match s.policy {
        SCHED_FIFO => 0,
        SCHED_RR => RR_SLICE_NS,
        _ => SLICE_NS,
    };
    abi::write_val(&t.mm(), ts, &abi::time::Timespec::from_ns(ns))?;
    Ok(0)
}

/// sched_setattr
pub fn sys_sched_setattr(t: &Arc<Task>, pid: i32, uattr: u64, flags: u32) -> KResult<u64> {
    if uattr == 0 || pid < 0 || flags != 0 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let mut size = mm.read_u32(uattr)?;
    if size == 0 {
        size = ATTR_SIZE_VER0;
    }
    if !(ATTR_SIZE_VER0..=4096).contains(&size) {
        // Tell the caller the size this kernel knows.
        mm.write_u32(uattr, ATTR_SIZE_VER1)?;
        return Err(Errno::E2BIG);
    }
    let b = mm.read_vec(uattr, size as usize)?;
    if b.len() > ATTR_SIZE_VER1 as usize && b[ATTR_SIZE_VER1 as usize..].iter().any(|&x| x != 0) {
        mm.write_u32(uattr, ATTR_SIZE_VER1)?;
        return Err(Errno::E2BIG);
    }
    // A VER0 caller's buffer lacks the clamps: they read as zero.
    let a: AbiSchedAttr = abi::read_at(&b, 0);
    let policy = a.sched_policy as i32;
    let sflags = a.sched_flags;
    let nice = a.sched_nice.clamp(-20, 19);
    let priority = a.sched_priority;
    let dl = (a.sched_runtime, a.sched_deadline, a.sched_period);
    if sflags & FLAG_UTIL_CLAMP != 0 && size < ATTR_SIZE_VER1 {
        return Err(Errno::EINVAL);
    }
    if policy < 0 {
        return Err(Errno::EINVAL);
    }
    let p = target(t, pid)?;
    if sflags & !FLAG_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    apply(
        t,
        &p,
        Request {
            policy: (sflags & FLAG_KEEP_POLICY == 0).then_some(policy),
            priority,
            reset_on_fork: sflags & FLAG_RESET_ON_FORK != 0,
            nice: Some(nice),
            dl,
            keep_params: sflags & FLAG_KEEP_PARAMS != 0,
        },
    )
}

/// sched_getattr
pub fn sys_sched_getattr(
    t: &Arc<Task>,
    pid: i32,
    uattr: u64,
    usize_: u32,
    flags: u32,
) -> KResult<u64> {
    if uattr == 0 || pid < 0 || !(ATTR_SIZE_VER0..=4096).contains(&usize_) || flags != 0 {
        return Err(Errno::EINVAL);
    }
    let p = target(t, pid)?;
    let (s, nice) = {
        let i = p.lock();
        (i.sched, i.nice)
    };
    let size = usize_.min(ATTR_SIZE_VER1);
    let f = if s.reset_on_fork {
        FLAG_RESET_ON_FORK
    } else {
        0
    };
    let nice = if is_rt(s.policy) || s.policy == SCHED_DEADLINE {
        0
    } else {
        nice
    };
    let a = AbiSchedAttr {
        size,
        sched_policy: s.policy as u32,
        sched_flags: f,
        sched_nice: nice,
        sched_priority: s.priority,
        sched_runtime: s.dl.0,
        sched_deadline: s.dl.1,
        sched_period: s.dl.2,
        sched_util_min: 0,
        // SCHED_CAPACITY_SCALE: no clamp.
        sched_util_max: 1024,
    };
    t.mm().write(uattr, &abi::bytes(&a)[..size as usize])?;
    Ok(0)
}
