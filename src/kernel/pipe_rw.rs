//! Pipes and fifos from the syscall side. A blocking write goes in whole,
//! sleeping in place as often as the pipe fills; a signal ends the write
//! with the count so far, as Linux's pipe_write. TCP writes use the same
//! loop (`sys_net::stream_socket`). Writes of up to
//! PIPE_BUF bytes stay atomic (`fs::pipe`). Also F_GETPIPE_SZ and
//! F_SETPIPE_SZ.

use super::errno::{Errno, KResult};
use super::rw_full::{UserBuf, MAX_RW_COUNT};
use super::sys_fs::write_from;
use super::task::Task;
use crate::fs::file::File;
use crate::fs::pipe::{PipeEnd, PIPE_BUF_SIZE};
use crate::fs::vfs::{S_IFIFO, S_IFMT};
use std::sync::Arc;

/// Bytes copied from the writer per step: one default pipe's worth.
const CHUNK: usize = PIPE_BUF_SIZE;

/// Whether `f` is a pipe or fifo.
pub fn applies(f: &File) -> bool {
    f.stat().is_ok_and(|st| st.mode & S_IFMT == S_IFIFO)
}

/// write/writev of `count` bytes from `src` to the pipe `f`.
pub fn write(t: &Arc<Task>, f: &File, src: UserBuf, count: usize) -> KResult<u64> {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let count = count.min(MAX_RW_COUNT);
    if count == 0 {
        return Ok(0);
    }
    let mut done = 0;
    let mut buf = vec![0u8; count.min(CHUNK)];
    loop {
        let want = (count - done).min(CHUNK);
        let r = src
            .copy_in(t, done, &mut buf[..want])
            .and_then(|_| write_from(t, f, &buf[..want]));
        match r {
            Ok(n) => {
                done += n as usize;
                if done >= count {
                    return Ok(done as u64);
                }
            }
            // Non-blocking and full, no reader, a fault, a signal while
            // it slept: what went in counts.
            Err(_) if done > 0 => return Ok(done as u64),
            Err(e) => return Err(e),
        }
    }
}

/// The pipe end behind `f`; EBADF if it is no pipe.
pub fn pipe_of(f: &File) -> KResult<Arc<PipeEnd>> {
    f.ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<PipeEnd>().ok())
        .ok_or(Errno::EBADF)
}

/// F_GETPIPE_SZ.
pub fn get_size(f: &File) -> KResult<u64> {
    Ok(pipe_of(f)?.pipe.capacity() as u64)
}

/// F_SETPIPE_SZ (`arg` is an unsigned int, as in Linux).
pub fn set_size(t: &Task, f: &File, arg: u64) -> KResult<u64> {
    let p = pipe_of(f)?;
    Ok(p.pipe
        .set_capacity(arg as u32, t.creds().capable(super::caps::CAP_SYS_RESOURCE))? as u64)
}
