//! Reads and writes of regular files and block devices complete in full
//! (up to Linux's MAX_RW_COUNT), moved in bounded chunks so that one call
//! never holds more than `CHUNK` bytes of kernel buffer.
//!
//! Pipes, sockets and terminals are not handled here: they may return
//! short counts, and pipes finish blocking writes in `pipe_rw`.

use super::errno::KResult;
use super::task::Task;
use crate::fs::file::File;
use crate::fs::vfs::{S_IFBLK, S_IFMT, S_IFREG};

/// Linux's MAX_RW_COUNT: the most one read or write moves (INT_MAX
/// rounded down to a page).
pub const MAX_RW_COUNT: usize = 0x7fff_f000;
/// Kernel buffer per step: I/O larger than this goes in several steps.
const CHUNK: usize = 1 << 20;

/// Whether I/O on `f` completes in full: regular files and block devices.
pub fn applies(f: &File) -> bool {
    f.inode
        .as_ref()
        .is_some_and(|i| matches!(i.stat().mode & S_IFMT, S_IFREG | S_IFBLK))
}

/// Guest memory one transfer reads from or writes to.
#[derive(Clone, Copy)]
pub enum UserBuf<'a> {
    /// One buffer at this address.
    Flat(u64),
    /// An iovec list of (base, length).
    Iov(&'a [(u64, usize)]),
}

impl UserBuf<'_> {
    /// The pieces of guest memory that make up bytes `off..off+len`.
    fn pieces(&self, off: usize, len: usize) -> Vec<(u64, usize)> {
        match *self {
            UserBuf::Flat(a) => vec![(a + off as u64, len)],
            UserBuf::Iov(iov) => {
                let (mut skip, mut left, mut v) = (off, len, Vec::new());
                for &(base, l) in iov {
                    if left == 0 {
                        break;
                    }
                    if skip >= l {
                        skip -= l;
                        continue;
                    }
                    let n = (l - skip).min(left);
                    v.push((base + skip as u64, n));
                    skip = 0;
                    left -= n;
                }
                v
            }
        }
    }

    pub fn copy_out(&self, t: &Task, off: usize, data: &[u8]) -> KResult<()> {
        let mm = t.mm();
        let mut at = 0;
        for (a, n) in self.pieces(off, data.len()) {
            mm.write(a, &data[at..at + n])?;
            at += n;
        }
        Ok(())
    }

    pub fn copy_in(&self, t: &Task, off: usize, buf: &mut [u8]) -> KResult<()> {
        let mm = t.mm();
        let mut at = 0;
        for (a, n) in self.pieces(off, buf.len()) {
            mm.read(a, &mut buf[at..at + n])?;
            at += n;
        }
        Ok(())
    }
}

/// Read `count` bytes into `dst`: `step(chunk, done)` reads the next
/// chunk, `done` bytes into the transfer. Stops at a short step (end of
/// file or device). An error after some bytes moved ends the call with
/// the count so far, as Linux does.
pub fn read(
    t: &Task,
    dst: UserBuf,
    count: usize,
    mut step: impl FnMut(&mut [u8], usize) -> KResult<usize>,
) -> KResult<u64> {
    let count = count.min(MAX_RW_COUNT);
    let mut buf = vec![0u8; count.min(CHUNK)];
    let mut done = 0;
    loop {
        let want = (count - done).min(CHUNK);
        let r = step(&mut buf[..want], done).and_then(|n| {
            dst.copy_out(t, done, &buf[..n])?;
            Ok(n)
        });
        match r {
            Ok(n) => {
                done += n;
                if n < want || done == count {
                    return Ok(done as u64);
                }
            }
            Err(_) if done > 0 => return Ok(done as u64),
            Err(e) => return Err(e),
        }
    }
}

/// Write `count` bytes from `src`: `step(chunk, done)` writes the next
/// chunk. Stops at a short step (a full disk); an error after some bytes
/// went in ends the call with the count so far.
pub fn write(
    t: &Task,
    src: UserBuf,
    count: usize,
    mut step: impl FnMut(&[u8], usize) -> KResult<usize>,
) -> KResult<u64> {
    let count = count.min(MAX_RW_COUNT);
    let mut buf = vec![0u8; count.min(CHUNK)];
    let mut done = 0;
    loop {
        let want = (count - done).min(CHUNK);
        let r = src
            .copy_in(t, done, &mut buf[..want])
            .and_then(|_| step(&buf[..want], done));
        match r {
            Ok(n) => {
                done += n;
                if n < want || done == count {
                    return Ok(done as u64);
                }
            }
            Err(_) if done > 0 => return Ok(done as u64),
            Err(e) => return Err(e),
        }
    }
}
