//! Linux native AIO (io_setup, io_submit, io_getevents, io_pgetevents,
//! io_cancel, io_destroy). Each context has its completion ring mapped
//! in the process's memory, laid out as Linux's struct aio_ring (libaio
//! reads it). Reads, writes and syncs run inside io_submit, as Linux
//! does for files without async support (a read from an empty pipe
//! sleeps in io_submit there too); IOCB_CMD_POLL stays pending until the
//! file is ready, checked whenever the context is waited on.

use crate::abi::aio::*;
use crate::abi::{read_val, time::Timespec, write_val};
use crate::fs::file::{File, POLLERR, POLLHUP, POLLIN, POLLOUT};

const POLLRDNORM: u32 = 0x040;
const POLLWRNORM: u32 = 0x100;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use crate::kernel::wait::WaitQueue;
use crate::kernel::{sched, sys_fs, sys_mm, time};
use crate::mm::frame::PAGE_SIZE;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// fs.aio-max-nr: events all contexts may ask for together.
const AIO_MAX_NR: u64 = 65536;

/// An IOCB_CMD_POLL waiting for its file.
struct Pending {
    obj: u64,
    data: u64,
    file: Arc<File>,
    events: u32,
    resfd: Option<Arc<File>>,
}

struct Ctx {
    /// The ring's address, which is also the context id.
    ring: u64,
    ring_len: u64,
    /// Events the ring holds.
    nr: u32,
    /// Requests that may be in flight or unreaped at once.
    max_reqs: u32,
    /// What it counts against aio-max-nr.
    charged: u64,
    wq: Arc<WaitQueue>,
    pending: Mutex<Vec<Pending>>,
}

/// Contexts by (address space, id).
static CTXS: Mutex<Option<HashMap<(usize, u64), Arc<Ctx>>>> = Mutex::new(None);
static AIO_NR: Mutex<u64> = Mutex::new(0);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn ctx_of(t: &Task, id: u64) -> KResult<Arc<Ctx>> {
    let key = (t.mm().id(), id);
    lock(&CTXS)
        .as_ref()
        .and_then(|m| m.get(&key).cloned())
        .ok_or(Errno::EINVAL)
}

/// io_setup: a context for `nr_events` requests, its id written to
/// `ctxp` (which must hold 0). EINVAL for 0 or too many events, EAGAIN
/// past aio-max-nr.
pub fn sys_io_setup(t: &Arc<Task>, nr_events: u32, ctxp: u64) -> KResult<u64> {
    let old: u64 = read_val(&t.mm(), ctxp)?;
    if old != 0 || nr_events == 0 {
        return Err(Errno::EINVAL);
    }
    let max_reqs = nr_events;
    let ncpus = crate::arch::cpu::ncpus() as u64;
    let want = (nr_events as u64).max(ncpus * 4) * 2;
    if want > 0x1000_0000 / 32 {
        return Err(Errno::EINVAL);
    }
    if max_reqs as u64 > AIO_MAX_NR {
        return Err(Errno::EAGAIN);
    }
    {
        let mut n = lock(&AIO_NR);
        if *n + want > AIO_MAX_NR * 2 {
            return Err(Errno::EAGAIN);
        }
        *n += want;
    }
    let pages = (32 + want * 32).div_ceil(PAGE_SIZE);
    let ring_len = pages * PAGE_SIZE;
    let nr = ((ring_len - 32) / 32) as u32;
    const PROT_RW: u32 = 3;
    const MAP_SHARED_ANON: u32 = 0x01 | 0x20;
    let undo = |e| {
        *lock(&AIO_NR) -= want;
        e
    };
    let ring = sys_mm::sys_mmap(t, 0, ring_len, PROT_RW, MAP_SHARED_ANON, -1, 0).map_err(undo)?;
    let header = AioRing {
        id: 0,
        nr,
        head: 0,
        tail: 0,
        magic: AIO_RING_MAGIC,
        compat_features: 1,
        incompat_features: 0,
        header_length: 32,
    };
    let mm = t.mm();
    if let Err(e) = write_val(&mm, ring, &header).and_then(|_| write_val(&mm, ctxp, &ring)) {
        let _ = sys_mm::sys_munmap(t, ring, ring_len);
        return Err(undo(e));
    }
    let ctx = Arc::new(Ctx {
        ring,
        ring_len,
        nr,
        max_reqs,
        charged: want,
        wq: Arc::new(WaitQueue::new()),
        pending: Mutex::new(Vec::new()),
    });
    lock(&CTXS)
        .get_or_insert_with(HashMap::new)
        .insert((mm.id(), ring), ctx);
    Ok(0)
}

/// io_destroy: pending polls are dropped and the ring unmapped.
pub fn sys_io_destroy(t: &Arc<Task>, id: u64) -> KResult<u64> {
    let key = (t.mm().id(), id);
    let ctx = lock(&CTXS)
        .as_mut()
        .and_then(|m| m.remove(&key))
        .ok_or(Errno::EINVAL)?;
    lock(&ctx.pending).clear();
    *lock(&AIO_NR) -= ctx.charged;
    ctx.wq.wake_all();
    let _ = sys_mm::sys_munmap(t, ctx.ring, ctx.ring_len);
    Ok(0)
}

/// Events in the ring not yet reaped.
fn ring_used(t: &Task, c: &Ctx) -> KResult<u32> {
    let mm = t.mm();
    let head: u32 = read_val(&mm, c.ring + RING_HEAD)?;
    let tail: u32 = read_val(&mm, c.ring + RING_TAIL)?;
    Ok((tail % c.nr + c.nr - head % c.nr) % c.nr)
}

/// Put a completion in the ring, signal its eventfd and wake waiters.
fn complete(t: &Task, c: &Ctx, obj: u64, data: u64, res: i64, resfd: Option<&Arc<File>>) {
    let mm = t.mm();
    let tail = read_val::<u32>(&mm, c.ring + RING_TAIL).unwrap_or(0) % c.nr;
    let ev = IoEvent {
        data,
        obj,
        res,
        res2: 0,
    };
    let _ = write_val(&mm, c.ring + 32 + tail as u64 * 32, &ev);
    let _ = write_val(&mm, c.ring + RING_TAIL, &((tail + 1) % c.nr));
    if let Some(f) = resfd {
        let _ = f.ops.write(f, bytemuck::bytes_of(&1u64));
    }
    c.wq.wake_all();
}

/// Complete the pending polls whose files are ready now. Their result is
/// what Linux's wake-up key would carry (pipes and sockets wake readers
/// with POLLIN|POLLRDNORM, writers with POLLOUT|POLLWRNORM), not only
/// the events asked for, as Linux's aio_poll_wake.
fn check_pending(t: &Task, c: &Ctx) {
    let ready: Vec<(Pending, u32)> = {
        let mut p = lock(&c.pending);
        let mut out = Vec::new();
        let mut i = 0;
        while i < p.len() {
            let mask = p[i].file.ops.poll(&p[i].file) & p[i].events;
            if mask != 0 {
                out.push((p.remove(i), mask));
            } else {
                i += 1;
            }
        }
        out
    };
    for (p, mask) in ready {
        let mut key = mask;
        if mask & POLLIN != 0 {
            key |= POLLRDNORM;
        }
        if mask & POLLOUT != 0 {
            key |= POLLWRNORM;
        }
        complete(t, c, p.obj, p.data, key as i64, p.resfd.as_ref());
    }
}

fn is_seekable(f: &File) -> bool {
    use crate::fs::vfs::{S_IFBLK, S_IFDIR, S_IFMT, S_IFREG};
    f.stat()
        .map(|s| matches!(s.mode & S_IFMT, S_IFREG | S_IFBLK | S_IFDIR))
        .unwrap_or(false)
}

/// An I/O result as the event's res: bytes, or minus the errno (an
/// interrupted sleep is EINTR).
fn res_of(r: KResult<u64>) -> i64 {
    match r {
        Ok(n) => n as i64,
        Err(e) if e.0 >= 512 => -(Errno::EINTR.0 as i64),
        Err(e) => -(e.0 as i64),
    }
}

/// One iocb, with Linux's submit-time checks (io_submit_one); the I/O's
/// own result goes to the ring.
fn submit_one(t: &Arc<Task>, c: &Ctx, user: u64) -> KResult<()> {
    let mm = t.mm();
    let cb: Iocb = read_val(&mm, user)?;
    if cb.aio_reserved2 != 0 || (cb.aio_nbytes as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if lock(&c.pending).len() as u32 + ring_used(t, c)? >= c.max_reqs {
        return Err(Errno::EAGAIN);
    }
    let f = sys_fs::fd_file(t, cb.aio_fildes as i32)?;
    let resfd = if cb.aio_flags & IOCB_FLAG_RESFD != 0 {
        let e = sys_fs::fd_file(t, cb.aio_resfd as i32)?;
        if e.ops.name().as_deref() != Some("anon_inode:[eventfd]") {
            return Err(Errno::EINVAL);
        }
        Some(e)
    } else {
        None
    };
    write_val(&mm, user + 8, &0u32)?;
    let fd = cb.aio_fildes as i32;
    let off = cb.aio_offset;
    let seekable = is_seekable(&f);
    let n = cb.aio_nbytes as usize;
    let rw = |write: bool| -> KResult<()> {
        let ok = if write { f.writable() } else { f.readable() };
        if !ok {
            return Err(Errno::EBADF);
        }
        if seekable && off < 0 {
            return Err(Errno::EINVAL);
        }
        Ok(())
    };
    let res = match cb.aio_lio_opcode {
        IOCB_CMD_PREAD => {
            rw(false)?;
            res_of(if seekable {
                sys_fs::sys_pread64(t, fd, cb.aio_buf, n, off)
            } else {
                sys_fs::sys_read(t, fd, cb.aio_buf, n)
            })
        }
        IOCB_CMD_PWRITE => {
            rw(true)?;
            res_of(if seekable {
                sys_fs::sys_pwrite64(t, fd, cb.aio_buf, n, off)
            } else {
                sys_fs::sys_write(t, fd, cb.aio_buf, n)
            })
        }
        IOCB_CMD_PREADV | IOCB_CMD_PWRITEV => {
            let write = cb.aio_lio_opcode == IOCB_CMD_PWRITEV;
            rw(write)?;
            let cnt = i32::try_from(n).map_err(|_| Errno::EINVAL)?;
            let pos = seekable.then_some(off);
            res_of(if write {
                sys_fs::sys_writev(t, fd, cb.aio_buf, cnt, pos)
            } else {
                sys_fs::sys_readv(t, fd, cb.aio_buf, cnt, pos)
            })
        }
        IOCB_CMD_FSYNC | IOCB_CMD_FDSYNC => {
            if cb.aio_buf != 0 || off != 0 || n != 0 || cb.aio_rw_flags != 0 {
                return Err(Errno::EINVAL);
            }
            if !seekable {
                return Err(Errno::EINVAL);
            }
            res_of(sys_fs::sys_fsync(t, fd))
        }
        IOCB_CMD_POLL => {
            if cb.aio_buf > 0xffff || off != 0 || n != 0 || cb.aio_rw_flags != 0 {
                return Err(Errno::EINVAL);
            }
            let events = cb.aio_buf as u32 | POLLERR | POLLHUP;
            let mask = f.ops.poll(&f) & events;
            if mask == 0 {
                lock(&c.pending).push(Pending {
                    obj: user,
                    data: cb.aio_data,
                    file: f,
                    events,
                    resfd,
                });
                c.wq.wake_all();
                return Ok(());
            }
            mask as i64
        }
        _ => return Err(Errno::EINVAL),
    };
    complete(t, c, user, cb.aio_data, res, resfd.as_ref());
    Ok(())
}

/// io_submit: how many of the `nr` iocbs were queued, or the first one's
/// error if none was.
pub fn sys_io_submit(t: &Arc<Task>, id: u64, nr: i64, iocbpp: u64) -> KResult<u64> {
    if nr < 0 {
        return Err(Errno::EINVAL);
    }
    let c = ctx_of(t, id)?;
    let nr = nr.min(c.nr as i64) as u64;
    let mut done = 0;
    for i in 0..nr {
        let r = read_val::<u64>(&t.mm(), iocbpp + i * 8).and_then(|p| submit_one(t, &c, p));
        if let Err(e) = r {
            if done == 0 {
                return Err(e);
            }
            break;
        }
        done += 1;
    }
    Ok(done)
}

/// Move up to `max` events from the ring to `out`.
fn reap(t: &Task, c: &Ctx, out: u64, max: u64) -> KResult<u64> {
    let mm = t.mm();
    let mut head = read_val::<u32>(&mm, c.ring + RING_HEAD)? % c.nr;
    let tail = read_val::<u32>(&mm, c.ring + RING_TAIL)? % c.nr;
    let mut n = 0;
    while n < max && head != tail {
        let ev: IoEvent = read_val(&mm, c.ring + 32 + head as u64 * 32)?;
        write_val(&mm, out + n * 32, &ev)?;
        head = (head + 1) % c.nr;
        n += 1;
    }
    write_val(&mm, c.ring + RING_HEAD, &head)?;
    Ok(n)
}

/// The wait shared by io_getevents and io_pgetevents: at least `min_nr`
/// and at most `nr` events, or fewer at the timeout. `Err(ERESTARTSYS)`
/// when a signal came before any event.
fn get_events(t: &Arc<Task>, id: u64, min_nr: i64, nr: i64, out: u64, ts: u64) -> KResult<u64> {
    let timeout = if ts != 0 {
        let v: Timespec = read_val(&t.mm(), ts)?;
        Some(
            v.tv_sec
                .saturating_mul(1_000_000_000)
                .saturating_add(v.tv_nsec),
        )
    } else {
        None
    };
    let c = ctx_of(t, id)?;
    if min_nr < 0 || nr < 0 || min_nr > nr {
        return Err(Errno::EINVAL);
    }
    let dl = timeout.map(|ns| time::monotonic_ns().saturating_add(ns.max(0)));
    let mut got = 0u64;
    loop {
        check_pending(t, &c);
        got += reap(t, &c, out + got * 32, nr as u64 - got)?;
        if got >= min_nr as u64 || dl.is_some_and(|d| time::monotonic_ns() >= d) {
            return Ok(got);
        }
        if ctx_of(t, id).is_err() {
            return Ok(got);
        }
        c.wq.add(t.tid);
        for p in lock(&c.pending).iter() {
            if let Some(q) = p.file.ops.wait_queue() {
                q.add(t.tid);
            }
        }
        check_pending(t, &c);
        if ring_used(t, &c)? > 0 {
            continue;
        }
        if let Err(e) = sched::wait(t, dl) {
            if got > 0 {
                return Ok(got);
            }
            return Err(e);
        }
    }
}

/// io_getevents: EINTR (never restarted) when a signal comes first.
pub fn sys_io_getevents(
    t: &Arc<Task>,
    id: u64,
    min_nr: i64,
    nr: i64,
    out: u64,
    ts: u64,
) -> KResult<u64> {
    get_events(t, id, min_nr, nr, out, ts).map_err(|e| {
        if e == Errno::ERESTARTSYS {
            Errno::EINTR
        } else {
            e
        }
    })
}

/// io_pgetevents: io_getevents with a signal mask for the wait
/// (restarted only when no handler runs, as Linux).
pub fn sys_io_pgetevents(
    t: &Arc<Task>,
    id: u64,
    min_nr: i64,
    nr: i64,
    out: u64,
    ts: u64,
    usig: u64,
) -> KResult<u64> {
    if usig != 0 {
        let s: AioSigset = read_val(&t.mm(), usig)?;
        crate::kernel::sys_poll::temp_mask(t, s.sigmask, s.sigsetsize as usize)?;
    }
    get_events(t, id, min_nr, nr, out, ts).map_err(|e| {
        if e == Errno::ERESTARTSYS {
            Errno::ERESTARTNOHAND
        } else {
            e
        }
    })
}

/// io_cancel: a pending poll is cancelled and its event (res 0) goes to
/// the ring; the call says EINPROGRESS, as Linux. Requests already done
/// or unknown: EINVAL.
pub fn sys_io_cancel(t: &Arc<Task>, id: u64, iocb: u64, _result: u64) -> KResult<u64> {
    let key: u32 = read_val(&t.mm(), iocb + 8)?;
    if key != 0 {
        return Err(Errno::EINVAL);
    }
    let c = ctx_of(t, id)?;
    let p = {
        let mut p = lock(&c.pending);
        let i = p.iter().position(|x| x.obj == iocb).ok_or(Errno::EINVAL)?;
        p.remove(i)
    };
    complete(t, &c, p.obj, p.data, 0, p.resfd.as_ref());
    Err(Errno::EINPROGRESS)
}
