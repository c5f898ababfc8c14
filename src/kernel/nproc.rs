//! How many tasks may exist: kernel.threads-max for everyone, and
//! RLIMIT_NPROC per real user (root exempt), both checked when fork or
//! clone makes a task, as Linux's copy_process. Every guest task is a
//! host thread or process, so this is what stops a fork bomb.

use super::errno::{Errno, KResult};
use super::task::{self, Task, RLIMIT_NPROC, RLIM_INFINITY};
use std::sync::atomic::{AtomicU32, Ordering};

/// Linux's MIN_THREADS and FUTEX_TID_MASK bounds for threads-max.
const MIN_THREADS: u32 = 20;
const MAX_THREADS: u32 = 0x3fff_ffff;

static THREADS_MAX: AtomicU32 = AtomicU32::new(MIN_THREADS);

/// Size threads-max from RAM as Linux's set_max_threads: one task per
/// 32 pages (what its kernel stack and structures would take), so
/// mem=256M allows 2048.
pub fn init(total_frames: u64) {
    let n = (total_frames / 32).clamp(MIN_THREADS as u64, MAX_THREADS as u64);
    THREADS_MAX.store(n as u32, Ordering::Relaxed);
}

/// kernel.threads-max.
pub fn threads_max() -> u32 {
    THREADS_MAX.load(Ordering::Relaxed)
}

/// Write kernel.threads-max (root; EINVAL outside Linux's bounds).
pub fn set_threads_max(n: u32) -> KResult<()> {
    if !(MIN_THREADS..=MAX_THREADS).contains(&n) {
        return Err(Errno::EINVAL);
    }
    THREADS_MAX.store(n, Ordering::Relaxed);
    Ok(())
}

/// May `t` create one more task? EAGAIN at threads-max, or when its real
/// user already has RLIMIT_NPROC tasks (threads included) and is not root.
pub fn may_fork(t: &Task) -> KResult<()> {
    if task::count() as u64 >= threads_max() as u64 {
        return Err(Errno::EAGAIN);
    }
    let (creds, limit) = {
        let g = t.tg();
        let g = g.lock();
        (g.creds.clone(), g.rlimits[RLIMIT_NPROC].0)
    };
    if limit == RLIM_INFINITY
        || creds.uid == 0
        || creds.capable(super::caps::CAP_SYS_ADMIN)
        || creds.capable(super::caps::CAP_SYS_RESOURCE)
    {
        return Ok(());
    }
    // Only unprivileged forks with a finite limit count the user's tasks.
    let mine = task::all_tasks()
        .iter()
        .filter_map(|x| task::group(x.tgid()))
        .filter(|g| g.lock().creds.uid == creds.uid)
        .count() as u64;
    if mine + 1 > limit {
        return Err(Errno::EAGAIN);
    }
    Ok(())
}
