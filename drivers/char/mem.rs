//! Memory character devices (major 1): null, zero, full, random, urandom.

use super::host_console::host_random;
use crate::fs::file::{File, FileOps};
use crate::kernel::errno::{Errno, KResult};
use std::sync::Arc;

struct Null;
struct Zero;
struct Full;
struct Random;

impl FileOps for Null {
    fn read(&self, _f: &File, _buf: &mut [u8]) -> KResult<usize> {
        Ok(0)
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        Ok(buf.len())
    }
    fn pread(&self, _f: &File, _buf: &mut [u8], _o: u64) -> KResult<usize> {
        Ok(0)
    }
    fn pwrite(&self, _f: &File, buf: &[u8], _o: u64) -> KResult<usize> {
        Ok(buf.len())
    }
    fn seek(&self, _f: &File, _off: i64, _w: u32) -> KResult<u64> {
        Ok(0)
    }
}

impl FileOps for Zero {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        Ok(buf.len())
    }
    fn seek(&self, _f: &File, _off: i64, _w: u32) -> KResult<u64> {
        Ok(0)
    }
}

impl FileOps for Full {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _f: &File, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::ENOSPC)
    }
    fn seek(&self, _f: &File, _off: i64, _w: u32) -> KResult<u64> {
        Ok(0)
    }
}

impl FileOps for Random {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        host_random(buf);
        Ok(buf.len())
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        Ok(buf.len())
    }
    fn seek(&self, _f: &File, _off: i64, _w: u32) -> KResult<u64> {
        Ok(0)
    }
}

pub fn open(minor: u32) -> KResult<Arc<dyn FileOps>> {
    Ok(match minor {
        3 => Arc::new(Null),
        5 => Arc::new(Zero),
        7 => Arc::new(Full),
        8 | 9 => Arc::new(Random),
        _ => return Err(Errno::ENXIO),
    })
}
