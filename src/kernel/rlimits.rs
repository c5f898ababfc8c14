//! Enforcement of the resource limits that bound a process's files, CPU
//! time and memory: RLIMIT_FSIZE on writes and size changes, RLIMIT_CPU
//! (SIGXCPU each second past the soft limit, SIGKILL at the hard one),
//! RLIMIT_AS and RLIMIT_DATA on mapping growth (Linux's may_expand_vm).
//! RLIMIT_NOFILE and RLIMIT_NPROC are checked where fds and tasks are made
//! (`Task::nofile`, `nproc`).
//!
//! Checks are skipped cheaply while no process has ever set a finite limit
//! of that kind (`note_set`): the defaults of these four are infinite.

use super::current;
use super::errno::{Errno, KResult};
use super::signal::{self, SigInfo};
use super::task::{self, Task, RLIM_INFINITY};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

pub const RLIMIT_CPU: usize = 0;
pub const RLIMIT_FSIZE: usize = 1;
pub const RLIMIT_DATA: usize = 2;
pub const RLIMIT_MEMLOCK: usize = 8;
pub const RLIMIT_AS: usize = 9;
const SIGXCPU: i32 = 24;
const SIGXFSZ: i32 = 25;
/// si_code of signals the kernel sends (SI_KERNEL).
const SI_KERNEL: i32 = 0x80;
const NS_PER_SEC: i64 = 1_000_000_000;

/// Bit `r` set: some process has had a finite limit `r` (sticky; it only
/// turns the checks on).
static LIMITED: AtomicU32 = AtomicU32::new(0);

/// setrlimit/prlimit gave a process limits (soft, hard) for `res`.
pub fn note_set(res: usize, soft: u64, hard: u64) {
    if res < 32 && (soft != RLIM_INFINITY || hard != RLIM_INFINITY) {
        LIMITED.fetch_or(1 << res, Relaxed);
    }
}

fn maybe_limited(res: usize) -> bool {
    LIMITED.load(Relaxed) & (1 << res) != 0
}

/// The soft limit `res` of the process making the current syscall
/// (infinite for the kernel itself).
fn current_soft(res: usize) -> u64 {
    if !maybe_limited(res) {
        return RLIM_INFINITY;
    }
    current::tgid()
        .and_then(task::group)
        .map_or(RLIM_INFINITY, |tg| tg.lock().rlimits[res].0)
}

/// SIGXFSZ to the writer, as Linux's send_sig(SIGXFSZ, current, 0). The
/// writer is only known by its process here, so the signal is
/// process-directed.
fn xfsz() {
    if let Some(tgid) = current::tgid() {
        let _ = signal::send_to_process(tgid, SigInfo::user(SIGXFSZ, tgid, super::signal::SI_USER));
    }
}

/// A write of `count` bytes to a regular file at `pos` (Linux's
/// generic_write_check_limits): at or past the limit, SIGXFSZ and EFBIG;
/// otherwise the count cut to end at the limit (a short write).
/// `is_reg` says whether the file is a regular one (asked only when a
/// limit is set): other files have no size limit.
pub fn fsize_write(pos: u64, count: usize, is_reg: impl FnOnce() -> bool) -> KResult<usize> {
    if count == 0 {
        return Ok(0);
    }
    let limit = current_soft(RLIMIT_FSIZE);
    if limit == RLIM_INFINITY || !is_reg() {
        return Ok(count);
    }
    if pos >= limit {
        xfsz();
        return Err(Errno::EFBIG);
    }
    Ok(count.min((limit - pos).min(usize::MAX as u64) as usize))
}

/// A regular file growing from `old` to `new` bytes by truncate or
/// fallocate (Linux's inode_newsize_ok): past the limit, SIGXFSZ and
/// EFBIG. Shrinking is always allowed.
pub fn fsize_grow(old: u64, new: u64) -> KResult<()> {
    if new <= old {
        return Ok(());
    }
    let limit = current_soft(RLIMIT_FSIZE);
    if limit != RLIM_INFINITY && new > limit {
        xfsz();
        return Err(Errno::EFBIG);
    }
    Ok(())
}

/// A process's RLIMIT_AS and RLIMIT_DATA for the address-space checks,
/// in pages (infinite: u64::MAX). Read before taking the mm's lock.
#[derive(Clone, Copy)]
pub struct VmLimits {
    as_pages: u64,
    data_pages: u64,
    data_max_pages: u64,
    data_bytes: u64,
}

impl VmLimits {
    pub const NONE: VmLimits = VmLimits {
        as_pages: u64::MAX,
        data_pages: u64::MAX,
        data_max_pages: u64::MAX,
        data_bytes: u64::MAX,
    };

    pub fn of(t: &Task) -> VmLimits {
        if !maybe_limited(RLIMIT_AS) && !maybe_limited(RLIMIT_DATA) {
            return VmLimits::NONE;
        }
        let r = t.tg().lock().rlimits;
        let pages = |v: u64| {
            if v == RLIM_INFINITY {
                u64::MAX
            } else {
                v >> 12
            }
        };
        VmLimits {
            as_pages: pages(r[RLIMIT_AS].0),
            data_pages: pages(r[RLIMIT_DATA].0),
            data_max_pages: pages(r[RLIMIT_DATA].1),
            data_bytes: r[RLIMIT_DATA].0,
        }
    }

    /// Linux's check_data_rlimit for brk: a heap of `heap_bytes` plus the
    /// data segment's `data_seg_bytes` may not exceed RLIMIT_DATA.
    pub fn brk_ok(&self, heap_bytes: u64, data_seg_bytes: u64) -> bool {
        self.data_pages == u64::MAX || heap_bytes.saturating_add(data_seg_bytes) <= self.data_bytes
    }

    /// May an address space with `total` pages mapped, `data` of them
    /// private writable non-stack, grow by `npages` of a mapping that
    /// `is_data` (Linux's may_expand_vm, RLIMIT_DATA as since 4.7)?
    pub fn may_expand(&self, total: u64, data: u64, is_data: bool, npages: u64) -> bool {
        if total.saturating_add(npages) > self.as_pages {
            return false;
        }
        !is_data || self.data_may_grow(data, npages)
    }

    /// May `data` private writable pages grow by `npages` (RLIMIT_DATA)?
    pub fn data_may_grow(&self, data: u64, npages: u64) -> bool {
        let want = data.saturating_add(npages);
        // Linux lets a zero soft limit pass up to the hard limit (for
        // Valgrind).
        want <= self.data_pages || (self.data_pages == 0 && want <= self.data_max_pages)
    }
}

/// How long `t` may run before its process's CPU time reaches its soft
/// RLIMIT_CPU (for the scheduler's timer), if it has one.
pub fn cpu_budget(t: &Task) -> Option<i64> {
    if !maybe_limited(RLIMIT_CPU) {
        return None;
    }
    let tg = t.tg();
    let (soft, hard) = tg.lock().rlimits[RLIMIT_CPU];
    let next = soft.min(hard);
    if next == RLIM_INFINITY {
        return None;
    }
    let used = cpu_used(&tg);
    if hard != RLIM_INFINITY && used >= secs_ns(hard) {
        // Past the hard limit `cpu_check` sends SIGKILL and, as Linux's
        // check_process_timers, nothing more: a process that survives it
        // (init) must not get a budget of 0, which would stop it at once
        // on every entry, before it ever ran (a vCPU spinning forever).
        return None;
    }
    Some((secs_ns(next) - used).max(0))
}

fn secs_ns(s: u64) -> i64 {
    (s.min((i64::MAX / NS_PER_SEC) as u64) as i64) * NS_PER_SEC
}

fn cpu_used(tg: &task::ThreadGroup) -> i64 {
    let u = super::acct::process_usage(tg);
    u.utime + u.stime
}

/// The guest of `t` came back: past the hard RLIMIT_CPU the process gets
/// SIGKILL; past the soft one SIGXCPU, and the soft limit moves a second
/// on (up to the hard one) so the next comes a second later, as Linux's
/// check_process_timers.
pub fn cpu_check(t: &Task) {
    if !maybe_limited(RLIMIT_CPU) {
        return;
    }
    let tg = t.tg();
    let (soft, hard) = tg.lock().rlimits[RLIMIT_CPU];
    if soft == RLIM_INFINITY {
        return;
    }
    let used = cpu_used(&tg);
    let signo = if hard != RLIM_INFINITY && used >= secs_ns(hard) {
        signal::SIGKILL
    } else if used >= secs_ns(soft) {
        let mut g = tg.lock();
        if g.rlimits[RLIMIT_CPU].0 == soft && soft < hard {
            g.rlimits[RLIMIT_CPU].0 = soft + 1;
        }
        SIGXCPU
    } else {
        return;
    };
    let _ = signal::send_to_process(
        tg.tgid,
        SigInfo {
            signo,
            code: SI_KERNEL,
            ..Default::default()
        },
    );
}
