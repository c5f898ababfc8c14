//! Resource-usage syscalls: getrusage, times, the rusage that wait4 and
//! waitid return, and the CPU-time clocks, all from `kernel::acct`.

use super::acct::{self, Usage};
use super::errno::{Errno, KResult};
use super::task::{self, Task, ThreadGroup};
use crate::abi::{
    self,
    resource::Rusage,
    time::{Timeval, Tms},
};
use std::sync::Arc;

const RUSAGE_SELF: i32 = 0;
const RUSAGE_CHILDREN: i32 = -1;
const RUSAGE_THREAD: i32 = 1;

/// The guest's struct rusage for `u`.
fn rusage_abi(u: &Usage, maxrss_kb: u64) -> Rusage {
    Rusage {
        ru_utime: Timeval::from_ns(u.utime),
        ru_stime: Timeval::from_ns(u.stime),
        ru_maxrss: maxrss_kb as i64,
        ru_minflt: u.minflt as i64,
        ru_majflt: u.majflt as i64,
        ru_nvcsw: u.nvcsw as i64,
        ru_nivcsw: u.nivcsw as i64,
        ..Default::default()
    }
}

/// Peak resident set of the process: what its earlier images left and
/// its current one.
fn self_maxrss_kb(t: &Task, tg: &ThreadGroup) -> u64 {
    let earlier = tg.lock().acct.maxrss_kb;
    earlier.max(t.mm().lock().peak_rss_kb())
}

/// getrusage
pub fn sys_getrusage(t: &Arc<Task>, who: i32, buf: u64) -> KResult<u64> {
    let tg = t.tg();
    let b = match who {
        RUSAGE_SELF => rusage_abi(&acct::process_usage(&tg), self_maxrss_kb(t, &tg)),
        RUSAGE_THREAD => rusage_abi(&t.acct.usage(), self_maxrss_kb(t, &tg)),
        RUSAGE_CHILDREN => {
            let a = tg.lock().acct;
            rusage_abi(&a.children, a.cmaxrss_kb)
        }
        _ => return Err(Errno::EINVAL),
    };
    abi::write_val(&t.mm(), buf, &b)?;
    Ok(0)
}

/// The rusage wait4/waitid report for child `pid` (its own usage and its
/// reaped children's); call before reaping it.
pub fn child_rusage(pid: i32) -> Rusage {
    match task::group(pid) {
        Some(g) => {
            let a = g.lock().acct;
            rusage_abi(
                &acct::usage_with_children(&g),
                a.maxrss_kb.max(a.cmaxrss_kb),
            )
        }
        None => Rusage::default(),
    }
}

/// times
pub fn sys_times(t: &Arc<Task>, buf: u64) -> KResult<u64> {
    if buf != 0 {
        let tg = t.tg();
        let me = acct::process_usage(&tg);
        let ch = tg.lock().acct.children;
        let tk = |ns: i64| acct::ticks(ns) as i64;
        let b = Tms {
            tms_utime: tk(me.utime),
            tms_stime: tk(me.stime),
            tms_cutime: tk(ch.utime),
            tms_cstime: tk(ch.stime),
        };
        abi::write_val(&t.mm(), buf, &b)?;
    }
    Ok(acct::ticks(super::time::uptime_ns()) + 1)
}

const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
/// Dynamic CPU clocks (clock_getcpuclockid, pthread_getcpuclockid):
/// `~pid << 3 | per-thread bit | which`.
const CPUCLOCK_PERTHREAD: i32 = 4;
const CPUCLOCK_VIRT: i32 = 1;

/// The value of a CPU-time clock: the caller's process or thread, or the
/// one a dynamic clock id names (VIRT counts user time only; PROF and
/// SCHED both user and system).
pub fn cpu_clock_ns(t: &Task, clk: i32) -> KResult<i64> {
    let (pid, thread, which) = match clk {
        CLOCK_PROCESS_CPUTIME_ID => (0, false, 2),
        CLOCK_THREAD_CPUTIME_ID => (0, true, 2),
        c if c < 0 => (!(c >> 3), c & CPUCLOCK_PERTHREAD != 0, c & 3),
        _ => return Err(Errno::EINVAL),
    };
    if which == 3 {
        return Err(Errno::EINVAL);
    }
    let u = if thread {
        if pid == 0 || pid == t.tid {
            t.acct.usage()
        } else {
            // Only threads of the caller's own process (as Linux).
            let o = task::task(pid).ok_or(Errno::EINVAL)?;
            if o.tgid() != t.tgid() {
                return Err(Errno::EINVAL);
            }
            o.acct.usage()
        }
    } else {
        let tg = if pid == 0 {
            t.tg()
        } else {
            task::group(pid).ok_or(Errno::EINVAL)?
        };
        acct::process_usage(&tg)
    };
    Ok(if which == CPUCLOCK_VIRT {
        u.utime
    } else {
        u.utime + u.stime
    })
}
