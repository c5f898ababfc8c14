//! Open block device nodes (/dev/ubda...): positional reads and writes of
//! the raw device, seeking relative to its size, and the size ioctls.

use super::BlockDevice;
use crate::fs::file::{File, FileOps, O_ACCMODE, O_RDONLY};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use std::sync::Arc;

pub struct BlockFile {
    pub dev: Arc<dyn BlockDevice>,
}

/// Open device `rdev`; writers of a read-only device get EROFS.
pub fn open(rdev: u64, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let dev = super::by_rdev(rdev).ok_or(Errno::ENXIO)?;
    if flags & O_ACCMODE != O_RDONLY && dev.read_only() {
        return Err(Errno::EROFS);
    }
    Ok(Arc::new(BlockFile { dev }))
}

impl BlockFile {
    fn clamp(&self, off: u64, len: usize) -> usize {
        self.dev.size().saturating_sub(off).min(len as u64) as usize
    }
}

impl FileOps for BlockFile {
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
    fn pread(&self, _f: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        let n = self.clamp(off, buf.len());
        if n > 0 {
            self.dev.read_at(off, &mut buf[..n])?;
        }
        Ok(n)
    }
    fn pwrite(&self, _f: &File, buf: &[u8], off: u64) -> KResult<usize> {
        if self.dev.read_only() {
            return Err(Errno::EROFS);
        }
        let n = self.clamp(off, buf.len());
        if n == 0 && !buf.is_empty() {
            return Err(Errno::ENOSPC);
        }
        self.dev.write_at(off, &buf[..n])?;
        Ok(n)
    }
    fn seek(&self, f: &File, off: i64, whence: u32) -> KResult<u64> {
        let mut pos = f.lock_pos();
        let base: i64 = match whence {
            0 => 0,
            1 => *pos as i64,
            2 => self.dev.size() as i64,
            _ => return Err(Errno::EINVAL),
        };
        let new = base.checked_add(off).ok_or(Errno::EINVAL)?;
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(new as u64)
    }
    fn ioctl(&self, _f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        const BLKROGET: u32 = 0x125e;
        const BLKGETSIZE: u32 = 0x1260;
        const BLKFLSBUF: u32 = 0x1261;
        const BLKSSZGET: u32 = 0x1268;
        const BLKBSZGET: u32 = 0x8008_1270;
        const BLKGETSIZE64: u32 = 0x8008_1272;
        const BLKPBSZGET: u32 = 0x127b;
        let mm = t.mm();
        match cmd {
            BLKGETSIZE64 => mm.write_u64(arg, self.dev.size())?,
            BLKGETSIZE => mm.write_u64(arg, self.dev.size() / super::SECTOR_SIZE)?,
            BLKSSZGET | BLKPBSZGET => mm.write(arg, &512u32.to_le_bytes())?,
            BLKBSZGET => mm.write(arg, &4096u32.to_le_bytes())?,
            BLKROGET => mm.write(arg, &(self.dev.read_only() as u32).to_le_bytes())?,
            BLKFLSBUF => self.dev.flush()?,
            _ => return Err(Errno::ENOTTY),
        }
        Ok(0)
    }
    fn name(&self) -> Option<String> {
        Some(format!("/dev/{}", self.dev.name()))
    }
}
