//! copy_file_range: copy bytes between two regular files inside the kernel.
//!
//! The checks follow Linux 6.x (generic_copy_file_checks and
//! vfs_copy_file_range) in their order, so that a call with several
//! faults fails with the same errno: directories (EISDIR), other
//! non-regular files (EINVAL), open modes and O_APPEND (EBADF), files on
//! different filesystems (EXDEV), offset wrap (EOVERFLOW), then the copy is
//! shortened to the input's end and an overlap within one file is EINVAL.

use super::errno::{Errno, KResult};
use super::rw_full::MAX_RW_COUNT;
use super::sys_fs::{fd_file, remove_privs};
use super::task::Task;
use crate::fs::file::{File, O_APPEND};
use std::sync::Arc;

/// Bytes moved per step: the kernel buffer never grows past this.
const CHUNK: usize = 1 << 20;

/// Where one side reads or writes: `*ptr` in guest memory, or the file
/// position.
fn start(t: &Task, f: &File, ptr: u64) -> KResult<i64> {
    if ptr != 0 {
        Ok(t.mm().read_u64(ptr)? as i64)
    } else {
        Ok(*f.lock_pos() as i64)
    }
}

fn finish(t: &Task, f: &File, ptr: u64, pos: u64) -> KResult<()> {
    if ptr != 0 {
        t.mm().write_u64(ptr, pos)
    } else {
        *f.lock_pos() = pos;
        Ok(())
    }
}

/// copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)
pub fn sys_copy_file_range(
    t: &Arc<Task>,
    fd_in: i32,
    off_in: u64,
    fd_out: i32,
    off_out: u64,
    len: usize,
    flags: u32,
) -> KResult<u64> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let inf = fd_file(t, fd_in)?;
    let outf = fd_file(t, fd_out)?;
    let pos_in = start(t, &inf, off_in)?;
    let pos_out = start(t, &outf, off_out)?;
    let (sin, sout) = (inf.stat()?, outf.stat()?);
    if sin.is_dir() || sout.is_dir() {
        return Err(Errno::EISDIR);
    }
    if !sin.is_reg() || !sout.is_reg() {
        return Err(Errno::EINVAL);
    }
    if !inf.readable() || !outf.writable() || outf.flags() & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    // Linux ≥ 5.19 copies across superblocks only through a filesystem's
    // own copy_file_range; none here has one, so a different device is
    // EXDEV as on tmpfs or ext4.
    if sin.dev != sout.dev {
        return Err(Errno::EXDEV);
    }
    let mut count = len.min(MAX_RW_COUNT) as i64;
    // Linux adds the u64 count to the offsets as unsigned numbers: a
    // negative offset wraps here and is EOVERFLOW, not EINVAL.
    let wraps = |p: i64| (p as u64).checked_add(count as u64).is_none();
    if wraps(pos_in) || wraps(pos_out) {
        return Err(Errno::EOVERFLOW);
    }
    // A copy from at or past the end moves nothing; a negative offset
    // compares below the size and is refused next.
    let size_in = sin.size as i64;
    count = if pos_in >= size_in {
        0
    } else {
        count.min(size_in - pos_in)
    };
    let same = sin.ino == sout.ino;
    if same && pos_out + count > pos_in && pos_out < pos_in + count {
        return Err(Errno::EINVAL);
    }
    if pos_in < 0 || pos_out < 0 {
        return Err(Errno::EINVAL);
    }
    if count == 0 {
        return Ok(0);
    }
    remove_privs(t, &outf)?;
    let done = copy(&inf, pos_in as u64, &outf, pos_out as u64, count as usize)?;
    if done > 0 {
        finish(t, &inf, off_in, pos_in as u64 + done)?;
        finish(t, &outf, off_out, pos_out as u64 + done)?;
    }
    Ok(done)
}

/// Copy `count` bytes; stops early at a short read (the file shrank) or a
/// short write (a full disk). An error after some bytes ends the copy with
/// the count so far, as Linux's splice-based fallback.
fn copy(inf: &File, pin: u64, outf: &File, pout: u64, count: usize) -> KResult<u64> {
    let mut buf = vec![0u8; count.min(CHUNK)];
    let mut done = 0usize;
    while done < count {
        let want = (count - done).min(CHUNK);
        let r = inf
            .ops
            .pread(inf, &mut buf[..want], pin + done as u64)
            .and_then(|got| outf.ops.pwrite(outf, &buf[..got], pout + done as u64));
        match r {
            Ok(0) => break,
            Ok(n) => {
                done += n;
                if n < want {
                    break;
                }
            }
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done as u64)
}
