//! getpriority/setpriority: nice values and who may change them.
//!
//! The scheduler does not weigh tasks by nice yet; the value is kept,
//! inherited and reported (/proc/PID/stat) with Linux's permission rules.

use super::errno::{Errno, KResult};
use super::task::{self, Task, RLIMIT_NICE};
use std::sync::Arc;

const PRIO_PROCESS: i32 = 0;
const PRIO_PGRP: i32 = 1;
const PRIO_USER: i32 = 2;

/// The threads `which`/`who` names (`who` 0: the caller's own).
fn targets(t: &Arc<Task>, which: i32, who: i32) -> KResult<Vec<Arc<Task>>> {
    if who < 0 {
        return Err(Errno::ESRCH);
    }
    Ok(match which {
        PRIO_PROCESS => {
            // Numbers are the caller's pid namespace's.
            let tid = if who == 0 {
                Some(t.tid)
            } else {
                super::ns::pid::find(t, who)
            };
            tid.and_then(task::task).into_iter().collect()
        }
        PRIO_PGRP => {
            let pgrp = if who == 0 {
                t.session_and_pgrp().1
            } else {
                super::ns::pid::find(t, who).unwrap_or(0)
            };
            task::all_tasks()
                .into_iter()
                .filter(|x| x.session_and_pgrp().1 == pgrp)
                .collect()
        }
        PRIO_USER => {
            let uid = if who == 0 { t.creds().uid } else { who as u32 };
            task::all_tasks()
                .into_iter()
                .filter(|x| x.creds().uid == uid)
                .collect()
        }
        _ => return Err(Errno::EINVAL),
    })
}

/// getpriority: 20 - nice of the highest-priority match (the raw syscall
/// avoids negative results; glibc converts back).
pub fn sys_getpriority(t: &Arc<Task>, which: i32, who: i32) -> KResult<u64> {
    let best = targets(t, which, who)?
        .iter()
        .map(|x| 20 - x.lock().nice)
        .max()
        .ok_or(Errno::ESRCH)?;
    Ok(best as u64)
}

/// setpriority: EPERM for another user's task without privilege, EACCES
/// for lowering a nice value below what RLIMIT_NICE allows (Linux's
/// set_one_prio and can_nice).
pub fn sys_setpriority(t: &Arc<Task>, which: i32, who: i32, nice: i32) -> KResult<u64> {
    let nice = nice.clamp(-20, 19);
    let me = t.creds();
    let mut res = Err(Errno::ESRCH);
    for p in targets(t, which, who)? {
        let (pc, nice_rlim) = {
            let g = p.tg();
            let g = g.lock();
            (g.creds.clone(), g.rlimits[RLIMIT_NICE].0)
        };
        if pc.uid != me.euid && pc.euid != me.euid && !me.capable(super::caps::CAP_SYS_NICE) {
            res = Err(Errno::EPERM);
            continue;
        }
        let cur = p.lock().nice;
        // RLIMIT_NICE r allows nice values down to 20 - r.
        if nice < cur && nice_rlim < (20 - nice) as u64 && !me.capable(super::caps::CAP_SYS_NICE) {
            res = Err(Errno::EACCES);
            continue;
        }
        if res == Err(Errno::ESRCH) {
            res = Ok(0);
        }
        p.lock().nice = nice;
    }
    res
}
