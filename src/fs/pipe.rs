//! Pipes and fifos: a bounded byte buffer with reader and writer counts.

use super::file::{
    File, FileOps, O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT,
};
use super::tmpfs::TmpInode;
use super::vfs::{Stat, S_IFIFO};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::wait::WaitQueue;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Default pipe capacity, as Linux.
pub const PIPE_BUF_SIZE: usize = 65536;
/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;

static NEXT_PIPE_INO: AtomicU64 = AtomicU64::new(1 << 32);

struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// Ever had a writer (fifo open semantics).
    capacity: usize,
}

pub struct Pipe {
    state: Mutex<State>,
    pub wq: Arc<WaitQueue>,
    ino: u64,
}

impl Pipe {
    pub fn new() -> Arc<Pipe> {
        Arc::new(Pipe {
            state: Mutex::new(State {
                buf: VecDeque::new(),
                readers: 0,
                writers: 0,
                capacity: PIPE_BUF_SIZE,
            }),
            wq: Arc::new(WaitQueue::new()),
            ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed),
        })
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn readers(&self) -> usize {
        self.lock().readers
    }
}

/// One end of a pipe; dropping the last File of an end closes it.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    read: bool,
    write: bool,
}

impl PipeEnd {
    pub fn new(pipe: &Arc<Pipe>, read: bool, write: bool) -> Arc<PipeEnd> {
        {
            let mut s = pipe.lock();
            if read {
                s.readers += 1;
            }
            if write {
                s.writers += 1;
            }
        }
        pipe.wq.wake_all();
        Arc::new(PipeEnd {
            pipe: pipe.clone(),
            read,
            write,
        })
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        {
            let mut s = self.pipe.lock();
            if self.read {
                s.readers -= 1;
            }
            if self.write {
                s.writers -= 1;
            }
        }
        self.pipe.wq.wake_all();
    }
}

impl FileOps for PipeEnd {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut s = self.pipe.lock();
        if s.buf.is_empty() {
            if s.writers == 0 {
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
        Ok(n)
    }

    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        let mut s = self.pipe.lock();
        if s.readers == 0 {
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

    fn ioctl(
        &self,
        _f: &File,
        t: &Arc<crate::kernel::task::Task>,
        cmd: u32,
        arg: u64,
    ) -> KResult<u64> {
        const FIONREAD: u32 = 0x541b;
        if cmd == FIONREAD {
            let n = self.pipe.lock().buf.len() as u32;
            t.mm().write_u32(arg, n)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn stat(&self) -> Option<Stat> {
        Some(Stat {
            dev: 12,
            ino: self.pipe.ino,
            mode: S_IFIFO | 0o600,
            nlink: 1,
            blksize: 4096,
            ..Default::default()
        })
    }

    fn name(&self) -> Option<String> {
        Some(format!("pipe:[{}]", self.pipe.ino))
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
