//! /dev/kmsg (1, 11): the kernel log as records, one per read in the form
//! "prio,seq,usec,-;text"; writes add messages ("<N>" sets the level).

use crate::fs::file::{File, FileOps, POLLIN, POLLOUT, POLLRDNORM};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::printk;
use crate::kernel::wait::WaitQueue;
use std::sync::{Arc, Mutex};

/// An open /dev/kmsg: the next record this reader gets.
pub struct Kmsg {
    seq: Mutex<u64>,
}

pub fn open() -> Arc<dyn FileOps> {
    Arc::new(Kmsg {
        seq: Mutex::new(printk::first_seq()),
    })
}

impl FileOps for Kmsg {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        let mut seq = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        let Some(r) = printk::record_from(*seq) else {
            return Err(Errno::EAGAIN);
        };
        if r.seq > *seq {
            // Records were overwritten before this reader got them.
            *seq = r.seq;
            return Err(Errno::EPIPE);
        }
        let line = r.kmsg_line();
        if buf.len() < line.len() {
            return Err(Errno::EINVAL);
        }
        buf[..line.len()].copy_from_slice(line.as_bytes());
        *seq = r.seq + 1;
        Ok(line.len())
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        let text = String::from_utf8_lossy(buf);
        let (facility, level, msg) = printk::parse_prefix(&text);
        let msg = msg.trim_end_matches('\n');
        if !msg.is_empty() {
            printk::log_store(facility, level, msg);
        }
        Ok(buf.len())
    }
    fn seek(&self, _f: &File, off: i64, whence: u32) -> KResult<u64> {
        if off != 0 {
            return Err(Errno::ESPIPE);
        }
        let mut seq = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        *seq = match whence {
            0 | 3 => printk::first_seq(), // SEEK_SET, SEEK_DATA
            2 => printk::next_seq(),      // SEEK_END
            _ => return Err(Errno::EINVAL),
        };
        Ok(0)
    }
    fn poll(&self, _f: &File) -> u32 {
        let seq = *self.seq.lock().unwrap_or_else(|e| e.into_inner());
        if seq < printk::next_seq() {
            POLLIN | POLLRDNORM | POLLOUT
        } else {
            POLLOUT
        }
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(printk::wait_queue())
    }
}
