//! splice, tee and vmsplice: move bytes between a pipe and another file,
//! or between two pipes, without a trip through user memory.
//!
//! Linux moves page references; here the bytes are copied, but the
//! visible behaviour is Linux's (fs/splice.c): the pipe side waits like a
//! pipe read or write (empty input, full output) unless SPLICE_F_NONBLOCK
//! or O_NONBLOCK, a call returns once something moved without waiting for
//! the rest, and 0 means the input pipe has no writer left. Bytes leave a
//! pipe only once the other side took them (`PipeEnd::peek`, then
//! `consume`), so a short write to a socket loses nothing.

use super::errno::{Errno, KResult};
use super::pipe_rw::pipe_of;
use super::rw_full::{self, UserBuf, MAX_RW_COUNT};
use super::signal::{self, SigInfo, SIGPIPE};
use super::sys_fs::{fd_file, read_iovec, remove_privs, write_from, IoWait};
use super::task::Task;
use crate::fs::file::{File, O_APPEND};
use crate::fs::pipe::PipeEnd;
use std::sync::Arc;

const SPLICE_F_NONBLOCK: u32 = 2;
/// MOVE, NONBLOCK, MORE and GIFT: anything else is EINVAL. MOVE, MORE and
/// GIFT are hints with nothing to act on when bytes are copied.
const SPLICE_F_ALL: u32 = 0xf;
/// Linux's UIO_MAXIOV.
const UIO_MAXIOV: u64 = 1024;

/// Sleep on `f`'s wait queue, or EAGAIN when the call must not block.
fn sleep(t: &Task, f: &File, nonblock: bool) -> KResult<()> {
    if nonblock {
        return Err(Errno::EAGAIN);
    }
    IoWait::read(f).wait(t, f)
}

/// Wait until the pipe `p` (open as `f`) holds data: true, or has no
/// writer left and is empty: false (Linux's ipipe_prep).
fn wait_data(t: &Task, f: &File, p: &PipeEnd, nonblock: bool) -> KResult<bool> {
    loop {
        match p.peek(&mut [0u8; 1]) {
            Ok(n) => return Ok(n > 0),
            Err(Errno::EAGAIN) => sleep(t, f, nonblock)?,
            Err(e) => return Err(e),
        }
    }
}

/// Wait until the pipe `p` (open as `f`) has room, and say how much; a
/// pipe without readers is EPIPE with SIGPIPE, as a write.
fn wait_room(t: &Arc<Task>, f: &File, p: &PipeEnd, nonblock: bool) -> KResult<usize> {
    loop {
        match p.room() {
            Ok(n) => return Ok(n),
            Err(Errno::EAGAIN) => sleep(t, f, nonblock)?,
            Err(Errno::EPIPE) => {
                signal::send_to_thread(t, SigInfo::user(SIGPIPE, t.tgid(), signal::SI_USER));
                return Err(Errno::EPIPE);
            }
            Err(e) => return Err(e),
        }
    }
}

/// A file with positions: regular files and block devices. Only these
/// take an offset (Linux: FMODE_PREAD/FMODE_PWRITE, else EINVAL).
fn seekable(f: &File) -> bool {
    rw_full::applies(f)
}

/// The offset a non-pipe side starts at: `*ptr`, or the file position.
fn start(t: &Task, f: &File, ptr: u64) -> KResult<u64> {
    let pos = if ptr != 0 {
        if !seekable(f) {
            return Err(Errno::EINVAL);
        }
        t.mm().read_u64(ptr)?
    } else {
        *f.lock_pos()
    };
    // rw_verify_area: a negative offset is EINVAL.
    if (pos as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(pos)
}

fn finish(t: &Task, f: &File, ptr: u64, pos: u64) -> KResult<()> {
    if ptr != 0 {
        t.mm().write_u64(ptr, pos)
    } else {
        if seekable(f) {
            *f.lock_pos() = pos;
        }
        Ok(())
    }
}

/// splice(fd_in, off_in, fd_out, off_out, len, flags)
pub fn sys_splice(
    t: &Arc<Task>,
    fd_in: i32,
    off_in: u64,
    fd_out: i32,
    off_out: u64,
    len: usize,
    flags: u32,
) -> KResult<u64> {
    // Linux looks at len before anything else.
    if len == 0 {
        return Ok(0);
    }
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let inf = fd_file(t, fd_in)?;
    let outf = fd_file(t, fd_out)?;
    let ip = pipe_of(&inf).ok();
    let op = pipe_of(&outf).ok();
    if (ip.is_some() && off_in != 0) || (op.is_some() && off_out != 0) {
        return Err(Errno::ESPIPE);
    }
    if !inf.readable() || !outf.writable() {
        return Err(Errno::EBADF);
    }
    let len = len.min(MAX_RW_COUNT);
    let nb = flags & SPLICE_F_NONBLOCK != 0;
    match (ip, op) {
        (Some(ip), Some(op)) => {
            if ip.same_pipe(&op) {
                return Err(Errno::EINVAL);
            }
            let nb = nb || inf.nonblocking() || outf.nonblocking();
            pipe_to_pipe(t, (&inf, &ip), (&outf, &op), len, nb, true)
        }
        (Some(ip), None) => {
            let pos = start(t, &outf, off_out)?;
            if outf.flags() & O_APPEND != 0 {
                return Err(Errno::EINVAL);
            }
            let nb = nb || inf.nonblocking();
            if !wait_data(t, &inf, &ip, nb)? {
                return Ok(0);
            }
            let mut buf = vec![0u8; len.min(ip.pipe.capacity())];
            let n = ip.peek(&mut buf)?;
            let w = if seekable(&outf) {
                remove_privs(t, &outf)?;
                let w = outf.ops.pwrite(&outf, &buf[..n], pos)?;
                finish(t, &outf, off_out, pos + w as u64)?;
                w
            } else {
                write_from(t, &outf, &buf[..n])? as usize
            };
            ip.consume(w);
            Ok(w as u64)
        }
        (None, Some(op)) => {
            let pos = start(t, &inf, off_in)?;
            let nb = nb || outf.nonblocking();
            let room = wait_room(t, &outf, &op, nb)?;
            let mut buf = vec![0u8; len.min(room)];
            let n = if seekable(&inf) {
                let n = inf.ops.pread(&inf, &mut buf, pos)?;
                finish(t, &inf, off_in, pos + n as u64)?;
                n
            } else {
                read_once(t, &inf, &mut buf, nb)?
            };
            // Nothing else ran since `room` unless the read above slept
            // (a socket); bytes a second writer squeezed in meanwhile
            // could then not all fit, as no pipe write is atomic here.
            Ok(op.push(&buf[..n]) as u64)
        }
        (None, None) => Err(Errno::EINVAL),
    }
}

/// One read of a file without positions (socket, tty, device), sleeping
/// while there is nothing unless `nonblock`.
fn read_once(t: &Arc<Task>, f: &File, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
    let mut w = IoWait::read(f);
    loop {
        match f.ops.read_task(f, t, buf) {
            Err(Errno::EAGAIN) if !nonblock => w.wait(t, f)?,
            r => return r,
        }
    }
}

/// Move (splice) or copy (tee, `consume` false) up to `len` bytes from
/// one pipe to another: wait for data, then for room, then move what
/// both allow (Linux's splice_pipe_to_pipe and link_pipe).
fn pipe_to_pipe(
    t: &Arc<Task>,
    (inf, ip): (&File, &PipeEnd),
    (outf, op): (&File, &PipeEnd),
    len: usize,
    nb: bool,
    consume: bool,
) -> KResult<u64> {
    loop {
        let data = wait_data(t, inf, ip, nb)?;
        let room = wait_room(t, outf, op, nb)?;
        if !data {
            return Ok(0);
        }
        let mut buf = vec![0u8; len.min(room)];
        let n = match ip.peek(&mut buf) {
            // Drained by another reader while this one waited for room.
            Err(Errno::EAGAIN) => continue,
            r => r?,
        };
        let n = op.push(&buf[..n]);
        if consume {
            ip.consume(n);
        }
        return Ok(n as u64);
    }
}

/// tee(fd_in, fd_out, len, flags)
pub fn sys_tee(t: &Arc<Task>, fd_in: i32, fd_out: i32, len: usize, flags: u32) -> KResult<u64> {
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let inf = fd_file(t, fd_in)?;
    let outf = fd_file(t, fd_out)?;
    if !inf.readable() || !outf.writable() {
        return Err(Errno::EBADF);
    }
    match (pipe_of(&inf), pipe_of(&outf)) {
        (Ok(ip), Ok(op)) if !ip.same_pipe(&op) => {
            let nb = flags & SPLICE_F_NONBLOCK != 0 || inf.nonblocking() || outf.nonblocking();
            pipe_to_pipe(
                t,
                (&inf, &ip),
                (&outf, &op),
                len.min(MAX_RW_COUNT),
                nb,
                false,
            )
        }
        _ => Err(Errno::EINVAL),
    }
}

/// vmsplice(fd, iov, nr_segs, flags): user memory into a pipe's write
/// end, or (as Linux allows) out of a read end. Either way it moves what
/// fits or what is there once the pipe is ready, not the whole vector.
pub fn sys_vmsplice(t: &Arc<Task>, fd: i32, iov: u64, nr_segs: u64, flags: u32) -> KResult<u64> {
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let f = fd_file(t, fd)?;
    // An end open for writing is written to (vmsplice_type).
    let write = f.writable();
    if !write && !f.readable() {
        return Err(Errno::EBADF);
    }
    if nr_segs > UIO_MAXIOV {
        return Err(Errno::EINVAL);
    }
    let iov = read_iovec(t, iov, nr_segs as i32)?;
    // import_iovec: a length above SSIZE_MAX is EINVAL; the total is
    // capped at MAX_RW_COUNT.
    if iov.iter().any(|&(_, l)| l > isize::MAX as usize) {
        return Err(Errno::EINVAL);
    }
    let total = iov
        .iter()
        .fold(0usize, |a, &(_, l)| a.saturating_add(l))
        .min(MAX_RW_COUNT);
    if total == 0 {
        return Ok(0);
    }
    let p = pipe_of(&f)?;
    // Unlike splice, vmsplice ignores O_NONBLOCK: only the flag counts.
    let nb = flags & SPLICE_F_NONBLOCK != 0;
    let user = UserBuf::Iov(&iov);
    if write {
        let room = wait_room(t, &f, &p, nb)?;
        let mut buf = vec![0u8; total.min(room)];
        user.copy_in(t, 0, &mut buf)?;
        Ok(p.push(&buf) as u64)
    } else {
        if !wait_data(t, &f, &p, nb)? {
            return Ok(0);
        }
        let mut buf = vec![0u8; total.min(p.pipe.capacity())];
        let n = p.peek(&mut buf)?;
        user.copy_out(t, 0, &buf[..n])?;
        p.consume(n);
        Ok(n as u64)
    }
}
