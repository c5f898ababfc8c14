//! /proc/PID/oom_score_adj: the process's OOM badness adjustment, -1000
//! to 1000, with Linux's rule that only CAP_SYS_RESOURCE may go below the
//! floor a privileged writer last set (__set_oom_adj). The value is kept,
//! inherited and shown (also in the OOM killer's report); the OOM killer
//! here kills the faulting process, so it does not weigh it.

use super::pid::group_task;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Pid;

const OOM_SCORE_ADJ_MIN: i32 = -1000;
const OOM_SCORE_ADJ_MAX: i32 = 1000;

pub(super) fn show(pid: Pid) -> KResult<String> {
    let v = group_task(pid)?.tg().lock().oom_score_adj.0;
    Ok(format!("{v}\n"))
}

/// A write: a decimal integer in range (EINVAL otherwise); below the
/// floor without CAP_SYS_RESOURCE EACCES; a privileged writer moves the
/// floor to the new value.
pub(super) fn set(pid: Pid, text: &str) -> KResult<()> {
    let v: i32 = text.parse().map_err(|_| Errno::EINVAL)?;
    if !(OOM_SCORE_ADJ_MIN..=OOM_SCORE_ADJ_MAX).contains(&v) {
        return Err(Errno::EINVAL);
    }
    let privileged =
        crate::kernel::current::with_creds(|c| c.capable(crate::kernel::caps::CAP_SYS_RESOURCE));
    let tg = group_task(pid)?.tg();
    let mut g = tg.lock();
    let (_, floor) = g.oom_score_adj;
    if (v as i16) < floor && !privileged {
        return Err(Errno::EACCES);
    }
    g.oom_score_adj = (v as i16, if privileged { v as i16 } else { floor });
    Ok(())
}
