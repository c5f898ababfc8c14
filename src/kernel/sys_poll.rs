//! poll, ppoll, select, pselect6: wait for readiness on several files.

use super::errno::{Errno, KResult};
use super::sched;
use super::task::{lock, Task};
use super::time;
use crate::abi::{
    self,
    poll::{PollFd, SigsetArg},
    time::{Timespec, Timeval},
    UserSlice,
};
use crate::fs::file::{File, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI};
use std::sync::Arc;

/// First call: the deadline from a relative timeout; later calls: the one
/// stored when the task went to sleep.
fn deadline(t: &Task, redo: bool, timeout_ns: Option<i64>) -> Option<i64> {
    if redo {
        return t.lock().deadline;
    }
    timeout_ns.map(|ns| time::monotonic_ns().saturating_add(ns.max(0)))
}

fn sleep_on(t: &Task, files: &[Arc<File>], dl: Option<i64>) -> Errno {
    for f in files {
        if let Some(wq) = f.ops.wait_queue() {
            wq.add(t.tid);
        }
    }
    sched::block(t, dl)
}

fn timed_out(dl: Option<i64>) -> bool {
    dl.is_some_and(|d| time::monotonic_ns() >= d)
}

fn do_poll(t: &Arc<Task>, addr: u64, n: u32, timeout_ns: Option<i64>, redo: bool) -> KResult<u64> {
    if n > 4096 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let fds = UserSlice::<PollFd>::new(addr, n as usize);
    let mut out = fds.read(&mm)?;
    let table = t.files();
    let mut ready = 0u64;
    let mut files = Vec::new();
    for p in out.iter_mut() {
        let fd = p.fd;
        let events = p.events as u16 as u32;
        let rev = if fd < 0 {
            0
        } else {
            match lock(&table).get(fd) {
                Ok(f) => {
                    let r = f.ops.poll_task(&f, t) & (events | POLLERR | POLLHUP);
                    files.push(f);
                    r
                }
                Err(_) => POLLNVAL,
            }
        };
        if rev != 0 {
            ready += 1;
        }
        p.revents = rev as u16 as i16;
    }
    let dl = deadline(t, redo, timeout_ns);
    if ready > 0 || timeout_ns == Some(0) || timed_out(dl) {
        fds.write(&mm, &out)?;
        return Ok(ready);
    }
    Err(sleep_on(t, &files, dl))
}

/// poll
pub fn sys_poll(t: &Arc<Task>, fds: u64, n: u32, timeout_ms: i64, redo: bool) -> KResult<u64> {
    let to = (timeout_ms >= 0).then_some(timeout_ms * 1_000_000);
    do_poll(t, fds, n, to, redo)
}

fn read_timespec(t: &Task, addr: u64) -> KResult<i64> {
    abi::read_val::<Timespec>(&t.mm(), addr)?.to_ns()
}

/// Install a temporary signal mask for the duration of the call.
fn temp_mask(t: &Task, sigmask: u64, size: usize, redo: bool) -> KResult<()> {
    if sigmask == 0 || redo {
        return Ok(());
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let m = t.mm().read_u64(sigmask)?;
    let mut i = t.lock();
    let old = i.sigmask;
    i.saved_mask = Some(old);
    i.sigmask = m & !super::signal::UNBLOCKABLE;
    Ok(())
}

/// ppoll
pub fn sys_ppoll(
    t: &Arc<Task>,
    fds: u64,
    n: u32,
    ts: u64,
    sigmask: u64,
    size: usize,
    redo: bool,
) -> KResult<u64> {
    let to = if ts == 0 {
        None
    } else {
        Some(read_timespec(t, ts)?)
    };
    temp_mask(t, sigmask, size, redo)?;
    do_poll(t, fds, n, to, redo)
}

/// select, pselect6 (`pselect`: Some(arg 6, the mask argument) for
/// pselect6, whose timeout is a timespec).
#[allow(clippy::too_many_arguments)]
pub fn sys_select(
    t: &Arc<Task>,
    nfds: i32,
    r: u64,
    w: u64,
    e: u64,
    tmo: u64,
    redo: bool,
    pselect: Option<u64>,
) -> KResult<u64> {
    if !(0..=1024).contains(&nfds) {
        return Err(Errno::EINVAL);
    }
    let to = if tmo == 0 {
        None
    } else if pselect.is_some() {
        Some(read_timespec(t, tmo)?)
    } else {
        // select normalises an oversized tv_usec rather than refusing it.
        let Timeval {
            tv_sec: s,
            tv_usec: us,
        } = abi::read_val(&t.mm(), tmo)?;
        if s < 0 || us < 0 {
            return Err(Errno::EINVAL);
        }
        Some(
            s.saturating_mul(1_000_000_000)
                .saturating_add(us.saturating_mul(1000)),
        )
    };
    // pselect6's sixth argument points to {const sigset_t *ss; size_t
    // ss_len}: the mask is installed for the wait, as ppoll's.
    if let (Some(arg6), false) = (pselect, redo) {
        if arg6 != 0 {
            let a: SigsetArg = abi::read_val(&t.mm(), arg6)?;
            temp_mask(t, a.ss, a.ss_len as usize, false)?;
        }
    }
    let bytes = (nfds as usize).div_ceil(64) * 8;
    let mm = t.mm();
    let load = |a: u64| -> KResult<Vec<u8>> {
        if a == 0 {
            Ok(vec![0; bytes])
        } else {
            mm.read_vec(a, bytes)
        }
    };
    let (rs, ws, es) = (load(r)?, load(w)?, load(e)?);
    let mut ro = vec![0u8; bytes];
    let mut wo = vec![0u8; bytes];
    let mut eo = vec![0u8; bytes];
    let table = t.files();
    let mut ready = 0u64;
    let mut files = Vec::new();
    for fd in 0..nfds as usize {
        let (byte, bit) = (fd / 8, 1u8 << (fd % 8));
        let want = (
            rs[byte] & bit != 0,
            ws[byte] & bit != 0,
            es[byte] & bit != 0,
        );
        if !(want.0 || want.1 || want.2) {
            continue;
        }
        let f = lock(&table).get(fd as i32).map_err(|_| Errno::EBADF)?;
        let ev = f.ops.poll_task(&f, t);
        files.push(f);
        if want.0 && ev & (POLLIN | POLLHUP | POLLERR) != 0 {
            ro[byte] |= bit;
            ready += 1;
        }
        if want.1 && ev & (POLLOUT | POLLERR) != 0 {
            wo[byte] |= bit;
            ready += 1;
        }
        if want.2 && ev & POLLPRI != 0 {
            eo[byte] |= bit;
            ready += 1;
        }
    }
    let dl = deadline(t, redo, to);
    if ready > 0 || to == Some(0) || timed_out(dl) {
        for (a, v) in [(r, &ro), (w, &wo), (e, &eo)] {
            if a != 0 {
                mm.write(a, v)?;
            }
        }
        return Ok(ready);
    }
    Err(sleep_on(t, &files, dl))
}
