//! /proc/PID/mem: the process's address space as a file, read and
//! written at the offset that is the address (fs/proc/base.c mem_rw).
//! Opening needs the ptrace attach check; the file keeps the address
//! space it was opened on (an exec later does not change what it sees).

use crate::fs::file::{File, FileOps};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Pid;
use crate::mm::Mm;
use std::sync::Arc;

pub(super) struct MemFile {
    mm: Arc<Mm>,
}

/// Open /proc/`pid`/mem for the calling process: EACCES unless it may
/// attach to `pid` (Linux's mm_access with PTRACE_MODE_ATTACH).
pub(super) fn open(pid: Pid) -> KResult<Arc<dyn FileOps>> {
    let caller = crate::kernel::current::tgid().ok_or(Errno::EACCES)?;
    if caller != pid {
        crate::kernel::ptrace_access::check_attach(caller, pid).map_err(|_| Errno::EACCES)?;
    }
    let t = super::pid::group_task(pid)?;
    Ok(Arc::new(MemFile { mm: t.mm() }))
}

impl MemFile {
    /// Copy page by page from `addr`; a fault ends the copy (EIO when
    /// nothing was copied).
    fn rw(
        &self,
        addr: u64,
        len: usize,
        mut each: impl FnMut(&Mm, u64, usize, usize) -> KResult<()>,
    ) -> KResult<usize> {
        let mut done = 0;
        while done < len {
            let a = addr.wrapping_add(done as u64);
            let n = (4096 - (a % 4096) as usize).min(len - done);
            if each(&self.mm, a, done, n).is_err() {
                break;
            }
            done += n;
        }
        if done == 0 && len > 0 {
            return Err(Errno::EIO);
        }
        Ok(done)
    }
}

impl FileOps for MemFile {
    fn pread(&self, _f: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        self.rw(off, buf.len(), |mm, a, at, n| {
            mm.read(a, &mut buf[at..at + n])
        })
    }
    fn pwrite(&self, _f: &File, buf: &[u8], off: u64) -> KResult<usize> {
        // A debugger's write: read-only text too (FOLL_FORCE).
        self.rw(off, buf.len(), |mm, a, at, n| {
            mm.lock().write_force(a, &buf[at..at + n])
        })
    }
    fn read(&self, f: &File, buf: &mut [u8]) -> KResult<usize> {
        let mut pos = f.lock_pos();
        let n = self.pread(f, buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn write(&self, f: &File, buf: &[u8]) -> KResult<usize> {
        let mut pos = f.lock_pos();
        let n = self.pwrite(f, buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn seek(&self, f: &File, off: i64, whence: u32) -> KResult<u64> {
        // Any address, as mem_lseek: SEEK_SET and SEEK_CUR only.
        let mut pos = f.lock_pos();
        let n = match whence {
            0 => off as u64,
            1 => pos.wrapping_add(off as u64),
            _ => return Err(Errno::EINVAL),
        };
        *pos = n;
        Ok(n)
    }
}
