//! Open files on ttys: `TtyFile` (a tty opened through its own node or
//! through /dev/console) and `DevTty` (/dev/tty, which becomes the caller's
//! controlling tty when opened).

use super::{jobctl, Kind, Tty};
use crate::fs::file::{File, FileOps, O_NOCTTY};
use crate::fs::fown;
use crate::fs::vfs::Stat;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use crate::kernel::wait::WaitQueue;
use std::sync::Arc;

/// An open tty.
pub struct TtyFile {
    pub tty: Arc<Tty>,
    /// The tty's hangup generation when opened.
    gen: u64,
    /// Opened as /dev/console: exempt from job control and hangup, never
    /// a controlling tty (Linux's redirected console writes).
    pub console: bool,
}

impl TtyFile {
    pub fn new(tty: &Arc<Tty>, console: bool) -> Arc<TtyFile> {
        let gen = tty.get_file();
        Arc::new(TtyFile {
            tty: tty.clone(),
            gen,
            console,
        })
    }

    /// Was the tty hung up since this file was opened?
    pub fn hung_up(&self) -> bool {
        !self.console && self.tty.generation() != self.gen
    }
}

impl Drop for TtyFile {
    fn drop(&mut self) {
        self.tty.put_file();
    }
}

impl FileOps for TtyFile {
    fn read_task(&self, f: &File, t: &Arc<Task>, buf: &mut [u8]) -> KResult<usize> {
        self.tty.read(self, f.nonblocking(), t, buf)
    }
    fn write_task(&self, f: &File, t: &Arc<Task>, buf: &[u8]) -> KResult<usize> {
        let _ = f;
        self.tty.write(self, t, buf)
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        // Writes without a task (kernel internal): no job control.
        if self.hung_up() {
            return Err(Errno::EIO);
        }
        self.tty.write_kernel(buf)
    }
    fn poll(&self, _f: &File) -> u32 {
        self.tty.poll(self)
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.tty.wq.clone())
    }
    fn ioctl(&self, f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        super::ioctl::ioctl(self, f, t, cmd, arg)
    }
    fn opened(&self, f: &File, t: &Arc<Task>) -> KResult<Option<Arc<dyn FileOps>>> {
        if self.tty.kind == Kind::PtyMaster {
            super::pty::set_owner(self.tty.index, t.creds().fsuid);
        }
        let noctty = self.console || self.tty.kind == Kind::PtyMaster || f.flags() & O_NOCTTY != 0;
        if !noctty {
            jobctl::open_acquire(&self.tty, t);
        }
        Ok(None)
    }
    fn is_tty(&self) -> bool {
        true
    }
    fn fasync(&self, f: &Arc<File>, fd: i32, on: bool, t: &Arc<Task>) -> bool {
        if on {
            // Without an owner the signal goes to the foreground process
            // group, or the caller when there is none (tty_fasync).
            let pgrp = self.tty.foreground();
            if pgrp > 0 {
                fown::set_default(t, f, pgrp, fown::F_OWNER_PGRP);
            } else {
                fown::set_default(t, f, t.tgid(), fown::F_OWNER_PID);
            }
        }
        self.tty.fasync.set(f, fd, on);
        true
    }
    fn stat(&self) -> Option<Stat> {
        Some(Stat {
            mode: crate::fs::vfs::S_IFCHR | 0o620,
            rdev: self.tty.rdev,
            nlink: 1,
            blksize: 1024,
            ..Default::default()
        })
    }
}

/// /dev/tty before the open completes: resolved to the caller's
/// controlling tty, ENXIO without one.
pub struct DevTty;

impl FileOps for DevTty {
    fn opened(&self, _f: &File, t: &Arc<Task>) -> KResult<Option<Arc<dyn FileOps>>> {
        let tty = jobctl::ctty_of(t).ok_or(Errno::ENXIO)?;
        Ok(Some(TtyFile::new(&tty, false)))
    }
    fn read(&self, _f: &File, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::ENXIO)
    }
    fn write(&self, _f: &File, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::ENXIO)
    }
}
