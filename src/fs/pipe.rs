//! Pipes and fifos: a bounded byte buffer with reader and writer counts.

use super::file::{
    File, FileOps, O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT,
};
use super::fown::{FasyncList, POLL_IN, POLL_OUT};
use super::tmpfs::TmpInode;
use super::vfs::{Inode, Stat, S_IFIFO};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::wait::WaitQueue;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Default pipe capacity, as Linux.
pub const PIPE_BUF_SIZE: usize = 65536;
/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
/// /proc/sys/fs/pipe-max-size: the largest F_SETPIPE_SZ without
/// CAP_SYS_RESOURCE.
pub const PIPE_MAX_SIZE: usize = 1 << 20;

static NEXT_PIPE_INO: AtomicU64 = AtomicU64::new(1 << 32);

struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// Ends of each kind ever opened: a fifo end that has not seen the
    /// other side yet waits for it (the open-blocks semantics of Linux,
    /// applied at the first read or write).
    readers_opened: u64,
    writers_opened: u64,
    capacity: usize,
}

pub struct Pipe {
    state: Mutex<State>,
    pub wq: Arc<WaitQueue>,
    ino: u64,
    /// O_ASYNC read ends (SIGIO with POLL_IN on writes) and write ends
    /// (POLL_OUT on reads), as Linux's fasync_readers/fasync_writers.
    async_readers: FasyncList,
    async_writers: FasyncList,
}

impl Pipe {
    pub fn new() -> Arc<Pipe> {
        Arc::new(Pipe {
            state: Mutex::new(State {
                buf: VecDeque::new(),
                readers: 0,
                writers: 0,
                readers_opened: 0,
                writers_opened: 0,
                capacity: PIPE_BUF_SIZE,
            }),
            wq: Arc::new(WaitQueue::new()),
            ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed),
            async_readers: FasyncList::new(),
            async_writers: FasyncList::new(),
        })
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn readers(&self) -> usize {
        self.lock().readers
    }
    /// F_GETPIPE_SZ.
    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }
    /// F_SETPIPE_SZ: the size rounded up to a power-of-two number of pages
    /// (at least one); growing past PIPE_MAX_SIZE needs `privileged`; EBUSY
    /// if what the pipe holds would not fit. Returns the new size.
    pub fn set_capacity(&self, size: u32, privileged: bool) -> KResult<usize> {
        if size > 1 << 31 {
            return Err(Errno::EINVAL);
        }
        let size = (size as usize).max(PIPE_BUF).next_power_of_two();
        let mut s = self.lock();
        if size > s.capacity && size > PIPE_MAX_SIZE && !privileged {
            return Err(Errno::EPERM);
        }
        if s.buf.len() > size {
            return Err(Errno::EBUSY);
        }
        s.capacity = size;
        drop(s);
        self.wq.wake_all();
        Ok(size)
    }
}

/// One end of a pipe; dropping the last File of an end closes it.
pub struct PipeEnd {
    pub pipe: Arc<Pipe>,
    read: bool,
    write: bool,
    /// The other side's "ever opened" count when this end was opened.
    peers_at_open: u64,
}

impl PipeEnd {
    pub fn new(pipe: &Arc<Pipe>, read: bool, write: bool) -> Arc<PipeEnd> {
        {
            let mut s = pipe.lock();
            if read {
                s.readers += 1;
                s.readers_opened += 1;
            }
            if write {
                s.writers += 1;
                s.writers_opened += 1;
            }
        }
        pipe.wq.wake_all();
        let s = pipe.lock();
        // The other side counts as seen if it is there now or opens later:
        // remember its "ever opened" count, one less if it is present.
        let peers_at_open = match (read, write) {
            (true, false) => s.writers_opened - (s.writers > 0) as u64,
            (false, true) => s.readers_opened - (s.readers > 0) as u64,
            _ => 0,
        };
        drop(s);
        Arc::new(PipeEnd {
            pipe: pipe.clone(),
            read,
            write,
            peers_at_open,
        })
    }
}

impl PipeEnd {
    /// Whether this end reads or writes the same pipe as `other`.
    pub fn same_pipe(&self, other: &PipeEnd) -> bool {
        Arc::ptr_eq(&self.pipe, &other.pipe)
    }

    /// Copy up to `buf.len()` buffered bytes without taking them out of
    /// the pipe (tee, and splice, which consumes only what the other side
    /// took). Same answers as `read`: 0 at end of file, EAGAIN while empty
    /// with a writer.
    pub fn peek(&self, buf: &mut [u8]) -> KResult<usize> {
        let s = self.pipe.lock();
        if s.buf.is_empty() {
            if s.writers == 0 && s.writers_opened > self.peers_at_open {
                return Ok(0);
            }
            return Err(Errno::EAGAIN);
        }
        let n = buf.len().min(s.buf.len());
        for (d, b) in buf.iter_mut().zip(s.buf.iter()) {
            *d = *b;
        }
        Ok(n)
    }

    /// Drop the first `n` buffered bytes (after `peek`), waking writers.
    pub fn consume(&self, n: usize) {
        let mut s = self.pipe.lock();
        let n = n.min(s.buf.len());
        s.buf.drain(..n);
        drop(s);
        self.pipe.wq.wake_all();
        self.pipe.async_writers.kill(POLL_OUT);
    }

    /// Free room for a writer: EPIPE without readers, EAGAIN while full
    /// (or while a fifo writer waits for its first reader).
    pub fn room(&self) -> KResult<usize> {
        let s = self.pipe.lock();
        if s.readers == 0 {
            if s.readers_opened == self.peers_at_open {
                return Err(Errno::EAGAIN);
            }
            return Err(Errno::EPIPE);
        }
        match s.capacity - s.buf.len() {
            0 => Err(Errno::EAGAIN),
            n => Ok(n),
        }
    }

    /// Append `data`, which must fit in `room` (splice and vmsplice fill
    /// what fits, without write's PIPE_BUF all-or-nothing rule).
    pub fn push(&self, data: &[u8]) -> usize {
        let mut s = self.pipe.lock();
        let n = data.len().min(s.capacity - s.buf.len());
        s.buf.extend(&data[..n]);
        drop(s);
        self.pipe.wq.wake_all();
        self.pipe.async_readers.kill(POLL_IN);
        n
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let one_side_left = {
            let mut s = self.pipe.lock();
            if self.read {
                s.readers -= 1;
            }
            if self.write {
                s.writers -= 1;
            }
            (s.readers == 0) != (s.writers == 0)
        };
        self.pipe.wq.wake_all();
        // The last reader or writer went but not the other side: tell
        // both kinds of O_ASYNC ends, as Linux's pipe_release.
        if one_side_left {
            self.pipe.async_readers.kill(POLL_IN);
            self.pipe.async_writers.kill(POLL_OUT);
        }
    }
}

impl FileOps for PipeEnd {
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }

    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut s = self.pipe.lock();
        if s.buf.is_empty() {
            // EOF once a writer has come and gone; before any writer (a
            // fifo opened first by its reader), wait for one.
            if s.writers == 0 && s.writers_opened > self.peers_at_open {
                return Ok(0);
            }
            return Err(Errno::EAGAIN);
        }
        let n = buf.len().min(s.buf.len());
        for (i, b) in s.buf.drain(..n).enumerate() {
            buf[i] = b;
        }
        drop(s);
        self.pipe.wq.wake_all();
        self.pipe.async_writers.kill(POLL_OUT);
        Ok(n)
    }

    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        let mut s = self.pipe.lock();
        if s.readers == 0 {
            // A fifo writer that never saw a reader waits for one.
            if s.readers_opened == self.peers_at_open {
                return Err(Errno::EAGAIN);
            }
            return Err(Errno::EPIPE);
        }
        let room = s.capacity - s.buf.len();
        // Small writes are atomic: all or nothing.
        if room == 0 || (buf.len() <= PIPE_BUF && room < buf.len()) {
            return Err(Errno::EAGAIN);
        }
        let n = buf.len().min(room);
        s.buf.extend(&buf[..n]);
        drop(s);
        self.pipe.wq.wake_all();
        self.pipe.async_readers.kill(POLL_IN);
        Ok(n)
    }

    fn poll(&self, _f: &File) -> u32 {
        let s = self.pipe.lock();
        let mut ev = 0;
        if self.read {
            if !s.buf.is_empty() {
                ev |= POLLIN;
            }
            if s.writers == 0 {
                ev |= POLLHUP;
            }
        }
        if self.write {
            if s.capacity - s.buf.len() >= PIPE_BUF {
                ev |= POLLOUT;
            }
            if s.readers == 0 {
                ev |= POLLERR;
            }
        }
        ev
    }

    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.pipe.wq.clone())
    }

    fn fasync(
        &self,
        f: &Arc<File>,
        fd: i32,
        on: bool,
        _t: &Arc<crate::kernel::task::Task>,
    ) -> bool {
        if self.read {
            self.pipe.async_readers.set(f, fd, on);
        }
        if self.write {
            self.pipe.async_writers.set(f, fd, on);
        }
        true
    }

    fn ioctl(
        &self,
        _f: &File,
        t: &Arc<crate::kernel::task::Task>,
        cmd: u32,
        arg: u64,
    ) -> KResult<u64> {
        if cmd == crate::abi::ioctl::FIONREAD {
            let n = self.pipe.lock().buf.len() as u32;
            t.mm().write_u32(arg, n)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn stat(&self) -> Option<Stat> {
        Some(pipe_stat(self.pipe.ino))
    }

    fn name(&self) -> Option<String> {
        Some(format!("pipe:[{}]", self.pipe.ino))
    }

    fn anon_inode(&self) -> Option<Arc<dyn Inode>> {
        Some(Arc::new(PipeInode {
            pipe: self.pipe.clone(),
        }))
    }
}

/// A pipe as an inode, what /proc/PID/fd/N of a pipe leads to: opening it
/// makes a new end of the same pipe with the open's access mode (Linux's
/// fifo_open on the pipe inode).
struct PipeInode {
    pipe: Arc<Pipe>,
}

impl Inode for PipeInode {
    fn stat(&self) -> Stat {
        pipe_stat(self.pipe.ino)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn open(&self, flags: u32) -> KResult<Option<Arc<dyn FileOps>>> {
        let acc = flags & O_ACCMODE;
        Ok(Some(PipeEnd::new(
            &self.pipe,
            acc != O_WRONLY,
            acc != O_RDONLY,
        )))
    }
}

fn pipe_stat(ino: u64) -> Stat {
    Stat {
        dev: 12,
        ino,
        mode: S_IFIFO | 0o600,
        nlink: 1,
        blksize: 4096,
        ..Default::default()
    }
}

/// Open a named pipe. A reader or writer opening without O_NONBLOCK would
/// wait for the other side in Linux; we let it proceed (the first read sees
/// EOF only once a writer has come and gone).
pub fn open_fifo(node: &Arc<TmpInode>, flags: u32) -> KResult<Arc<dyn FileOps>> {
    open_fifo_in(&node.fifo, flags)
}

/// Open the fifo whose pipe lives in `slot` (any filesystem's named pipe).
pub fn open_fifo_in(
    slot: &std::sync::Mutex<Option<Arc<Pipe>>>,
    flags: u32,
) -> KResult<Arc<dyn FileOps>> {
    let pipe = {
        let mut g = slot.lock().unwrap_or_else(|e| e.into_inner());
        g.get_or_insert_with(Pipe::new).clone()
    };
    let acc = flags & O_ACCMODE;
    if acc == O_WRONLY && flags & O_NONBLOCK != 0 && pipe.readers() == 0 {
        return Err(Errno::ENXIO);
    }
    Ok(PipeEnd::new(&pipe, acc != O_WRONLY, acc != O_RDONLY))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tee's peek leaves the bytes for the next reader; splice's consume
    /// takes exactly what the other side accepted; push fills the free
    /// room without write's all-or-nothing rule for small writes.
    #[test]
    fn peek_consume_room_push() {
        let p = Pipe::new();
        let r = PipeEnd::new(&p, true, false);
        let w = PipeEnd::new(&p, false, true);
        let mut b = [0u8; 8];
        assert_eq!(r.peek(&mut b), Err(Errno::EAGAIN));
        assert_eq!(w.push(b"abcdef"), 6);
        assert_eq!(r.peek(&mut b[..4]), Ok(4));
        assert_eq!(&b[..4], b"abcd");
        assert_eq!(r.peek(&mut b), Ok(6));
        r.consume(2);
        assert_eq!(r.peek(&mut b), Ok(4));
        assert_eq!(&b[..4], b"cdef");
        assert_eq!(w.room(), Ok(PIPE_BUF_SIZE - 4));
        let big = vec![7u8; PIPE_BUF_SIZE];
        assert_eq!(w.push(&big), PIPE_BUF_SIZE - 4);
        assert_eq!(w.room(), Err(Errno::EAGAIN));
        r.consume(PIPE_BUF_SIZE);
        drop(w);
        assert_eq!(r.peek(&mut b), Ok(0));
        let w2 = PipeEnd::new(&p, false, true);
        drop(r);
        assert_eq!(w2.room(), Err(Errno::EPIPE));
        assert!(!w2.same_pipe(&PipeEnd::new(&Pipe::new(), true, false)));
    }
}
