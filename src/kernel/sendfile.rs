//! sendfile: copy from a file to a file, pipe or socket inside the kernel.
//!
//! A blocking sendfile moves everything it was asked to (up to end of
//! file), sleeping whenever the destination is full, as Linux's
//! do_splice_direct loop: the input offset advances by what was written
//! after every step, and a signal that interrupts a sleep ends the call
//! with the total so far.

use super::errno::{Errno, KResult};
use super::rw_full::{self, MAX_RW_COUNT};
use super::sys_fs::{fd_file, read_into, write_from};
use super::task::Task;
use crate::fs::file::{File, O_APPEND};
use std::sync::Arc;

/// Bytes read from the input per step.
const CHUNK: usize = 1 << 16;

/// sendfile(out_fd, in_fd, offp, count)
pub fn sys_sendfile(
    t: &Arc<Task>,
    out_fd: i32,
    in_fd: i32,
    offp: u64,
    count: usize,
) -> KResult<u64> {
    let inf = fd_file(t, in_fd)?;
    let outf = fd_file(t, out_fd)?;
    if !inf.readable() || !outf.writable() {
        return Err(Errno::EBADF);
    }
    if outf.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    if offp != 0 && (t.mm().read_u64(offp)? as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let count = count.min(MAX_RW_COUNT);
    if !rw_full::applies(&inf) {
        // Not seekable: one read, one write, as before.
        if offp != 0 {
            return Err(Errno::ESPIPE);
        }
        let data = read_into(t, &inf, count.min(CHUNK))?;
        if data.is_empty() {
            return Ok(0);
        }
        return write_from(t, &outf, &data);
    }
    copy_loop(t, &inf, &outf, offp, count)
}

/// Where the input is read from: `*offp` in guest memory, or the file
/// position.
fn in_pos(t: &Arc<Task>, inf: &File, offp: u64) -> KResult<u64> {
    if offp != 0 {
        t.mm().read_u64(offp)
    } else {
        Ok(*inf.lock_pos())
    }
}

fn advance(t: &Arc<Task>, inf: &File, offp: u64, pos: u64) -> KResult<()> {
    if offp != 0 {
        t.mm().write_u64(offp, pos)
    } else {
        *inf.lock_pos() = pos;
        Ok(())
    }
}

fn copy_loop(t: &Arc<Task>, inf: &File, outf: &File, offp: u64, count: usize) -> KResult<u64> {
    let mut done = 0;
    let mut buf = vec![0u8; count.min(CHUNK)];
    while done < count {
        let pos = in_pos(t, inf, offp)?;
        let want = (count - done).min(CHUNK);
        let got = match inf.ops.pread(inf, &mut buf[..want], pos) {
            Ok(n) => n,
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        };
        if got == 0 {
            break; // end of file
        }
        match write_from(t, outf, &buf[..got]) {
            Ok(n) => {
                done += n as usize;
                advance(t, inf, offp, pos + n)?;
            }
            // Non-blocking and full, the peer gone, a fault, a signal
            // while it slept: what went out counts.
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done as u64)
}
