//! poll, ppoll, select, pselect6: wait for readiness on several files.

use super::errno::{Errno, KResult};
use super::sched;
use super::task::{lock, RestartBlock, Task};
use super::time;
use crate::abi::{
    self,
    poll::{PollFd, SigsetArg},
    time::{Timespec, Timeval},
    UserSlice,
};
use crate::fs::file::{File, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI};
use std::sync::Arc;

/// The absolute deadline of a relative timeout, computed once when the
/// call starts (a wait that is woken early goes on to the same one).
fn deadline(timeout_ns: Option<i64>) -> Option<i64> {
    timeout_ns.map(|ns| time::monotonic_ns().saturating_add(ns.max(0)))
}

/// Queue `t` on the wait queues of `files` and sleep until one of them
/// wakes it, the deadline passes or a signal comes (ERESTARTSYS, which
/// the syscall's restart class turns into what the guest sees).
/// Entries left on queues that did not fire only cause a spurious wake-up
/// later, which every sleeper tolerates. Each file comes with its queue's
/// wake count from before it was polled: a queue woken since (another
/// vCPU made the file ready after the look) means look again instead.
fn sleep_on(t: &Task, files: &[(Arc<File>, Option<u64>)], dl: Option<i64>) -> Result<(), Errno> {
    let mut woken = false;
    for (f, seen) in files {
        if let Some(wq) = f.ops.wait_queue() {
            wq.add(t.tid);
            woken |= Some(wq.wakes()) != *seen;
        }
    }
    if woken {
        return Ok(());
    }
    sched::wait(t, dl)
}

/// `f` with its queue's wake count now, before it is polled.
fn watched(f: Arc<File>) -> (Arc<File>, Option<u64>) {
    let seen = f.ops.wait_queue().map(|q| q.wakes());
    (f, seen)
}

fn timed_out(dl: Option<i64>) -> bool {
    dl.is_some_and(|d| time::monotonic_ns() >= d)
}

/// Poll the `n` pollfds at `addr` until one is ready, the deadline `dl`
/// passes, or at once if `zero` (a zero timeout).
fn do_poll(t: &Arc<Task>, addr: u64, n: u32, zero: bool, dl: Option<i64>) -> KResult<u64> {
    if n > 4096 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let fds = UserSlice::<PollFd>::new(addr, n as usize);
    let mut out = fds.read(&mm)?;
    let table = t.files();
    loop {
        let mut ready = 0u64;
        let mut files = Vec::new();
        for p in out.iter_mut() {
            let fd = p.fd;
            let events = p.events as u16 as u32;
            let rev = if fd < 0 {
                0
            } else {
                // Bound first: the table guard must not live on while
                // the file is polled.
                let got = lock(&table).get(fd);
                match got {
                    Ok(f) => {
                        let (f, seen) = watched(f);
                        let r = f.ops.poll_task(&f, t) & (events | POLLERR | POLLHUP);
                        files.push((f, seen));
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
        if ready > 0 || zero || timed_out(dl) {
            fds.write(&mm, &out)?;
            return Ok(ready);
        }
        sleep_on(t, &files, dl)?;
    }
}

/// poll
pub fn sys_poll(t: &Arc<Task>, fds: u64, n: u32, timeout_ms: i64) -> KResult<u64> {
    let to = (timeout_ms >= 0).then_some(timeout_ms * 1_000_000);
    poll_restartable(t, fds, n, to == Some(0), deadline(to))
}

/// restart_syscall for a poll a signal without a handler interrupted.
pub fn restart_poll(t: &Arc<Task>, fds: u64, n: u32, dl: Option<i64>) -> KResult<u64> {
    poll_restartable(t, fds, n, false, dl)
}

/// An interrupted poll keeps its deadline for restart_syscall (Linux's
/// do_restart_poll): restarted without a handler it goes on to the same
/// end; a handler makes it EINTR.
fn poll_restartable(t: &Arc<Task>, fds: u64, n: u32, zero: bool, dl: Option<i64>) -> KResult<u64> {
    let r = do_poll(t, fds, n, zero, dl);
    if r == Err(Errno::ERESTARTSYS) {
        t.lock().restart_block = Some(RestartBlock::Poll {
            fds,
            nfds: n,
            deadline: dl,
        });
        return Err(Errno::ERESTART_RESTARTBLOCK);
    }
    r
}

fn read_timespec(t: &Task, addr: u64) -> KResult<i64> {
    abi::read_val::<Timespec>(&t.mm(), addr)?.to_ns()
}

/// Install a temporary signal mask for the duration of the call.
/// The mask saved here is put back on the way out to user mode (after
/// the handler of a signal that ended the wait, as Linux's
/// restore_saved_sigmask): `signal::deliver`.
pub(crate) fn temp_mask(t: &Task, sigmask: u64, size: usize) -> KResult<()> {
    if sigmask == 0 {
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
) -> KResult<u64> {
    let to = if ts == 0 {
        None
    } else {
        Some(read_timespec(t, ts)?)
    };
    temp_mask(t, sigmask, size)?;
    let dl = deadline(to);
    let r = do_poll(t, fds, n, to == Some(0), dl);
    write_time_left(t, ts, to, dl, false, r)
}

/// select, pselect6 and ppoll write the time left back to their timeout
/// (Linux's poll_select_finish), so that a call restarted from its
/// registers goes on from where the interrupted one stopped; a zero
/// timeout is left alone. `timeval`: select's microseconds.
fn write_time_left(
    t: &Task,
    addr: u64,
    to: Option<i64>,
    dl: Option<i64>,
    timeval: bool,
    r: KResult<u64>,
) -> KResult<u64> {
    let (Some(to), Some(dl)) = (to, dl) else {
        return r;
    };
    if to == 0 {
        return r;
    }
    let left = (dl - time::monotonic_ns()).max(0);
    let ts = abi::time::Timespec::from_ns(left);
    let written = if timeval {
        let tv = Timeval {
            tv_sec: ts.tv_sec,
            tv_usec: ts.tv_nsec / 1000,
        };
        abi::write_val(&t.mm(), addr, &tv)
    } else {
        abi::write_val(&t.mm(), addr, &ts)
    };
    if written.is_err() && r == Err(Errno::ERESTARTSYS) {
        // Cannot say how long is left: not restarted (Linux's sticky
        // timeout fallback).
        return Err(Errno::EINTR);
    }
    r
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
    if let Some(arg6) = pselect {
        if arg6 != 0 {
            let a: SigsetArg = abi::read_val(&t.mm(), arg6)?;
            temp_mask(t, a.ss, a.ss_len as usize)?;
        }
    }
    let dl = deadline(to);
    let res = do_select(t, nfds, [r, w, e], to == Some(0), dl);
    write_time_left(t, tmo, to, dl, pselect.is_none(), res)
}

/// Wait until one of the fds in the `sets` (read, write, except) is
/// ready, `dl` passes, or at once if `zero`; write back the ready sets.
fn do_select(
    t: &Arc<Task>,
    nfds: i32,
    sets: [u64; 3],
    zero: bool,
    dl: Option<i64>,
) -> KResult<u64> {
    let [r, w, e] = sets;
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
    let table = t.files();
    loop {
        let mut ro = vec![0u8; bytes];
        let mut wo = vec![0u8; bytes];
        let mut eo = vec![0u8; bytes];
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
            let (f, seen) = watched(lock(&table).get(fd as i32).map_err(|_| Errno::EBADF)?);
            let ev = f.ops.poll_task(&f, t);
            files.push((f, seen));
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
        if ready > 0 || zero || timed_out(dl) {
            for (a, v) in [(r, &ro), (w, &wo), (e, &eo)] {
                if a != 0 {
                    mm.write(a, v)?;
                }
            }
            return Ok(ready);
        }
        sleep_on(t, &files, dl)?;
    }
}
