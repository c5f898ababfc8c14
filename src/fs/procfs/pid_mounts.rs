//! /proc/PID/mounts and /proc/PID/mountinfo as open files: the text as it
//! is when a read starts at offset 0 (Linux's seq_file starts over
//! there: a reader that rewinds sees the mounts made since, as systemd's
//! bind_remount_recursive does with one mountinfo stream), kept for the
//! reads that continue it; and a poll that tells of mount changes
//! (Linux's mounts_poll): always readable, and POLLERR|POLLPRI once after
//! each change of the mounts the file shows. libmount's monitor
//! (systemd's mount units) and findmnt --poll watch mountinfo this way.

use super::Snapshot;
use crate::fs::file::{File, FileOps, POLLERR, POLLIN, POLLPRI, POLLRDNORM};
use crate::fs::mount;
use crate::kernel::errno::KResult;
use crate::kernel::wait::WaitQueue;
use std::sync::{Arc, Mutex};

type Gen = Arc<dyn Fn() -> KResult<String> + Send + Sync>;

pub(super) struct MountsFile {
    /// The text the reads since the last one at offset 0 are reading.
    shown: Mutex<Snapshot>,
    text: Gen,
    /// The table generation and the text last seen by poll (at first,
    /// those of the open): a new text since is an event (Linux compares
    /// the namespace's event counter with the one the file last saw).
    seen: Mutex<(u32, String)>,
}

/// Open the file whose text `text` makes.
pub(super) fn open(text: Gen) -> KResult<Arc<dyn FileOps>> {
    let gen = mount::generation();
    let now = text()?;
    Ok(Arc::new(MountsFile {
        shown: Mutex::new(Snapshot(now.clone().into_bytes())),
        text,
        seen: Mutex::new((gen, now)),
    }))
}

impl MountsFile {
    /// The text to read at `off`: made afresh at offset 0. A process gone
    /// since the open leaves the old text.
    fn shown_at(&self, off: u64) -> std::sync::MutexGuard<'_, Snapshot> {
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if off == 0 {
            if let Ok(now) = (self.text)() {
                *shown = Snapshot(now.into_bytes());
            }
        }
        shown
    }
}

impl FileOps for MountsFile {
    fn read(&self, f: &File, buf: &mut [u8]) -> KResult<usize> {
        // The position first: taking it may sleep, the text's lock may not.
        let mut pos = f.lock_pos();
        let n = self.shown_at(*pos).pread(f, buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn pread(&self, f: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        self.shown_at(off).pread(f, buf, off)
    }
    fn seek(&self, f: &File, off: i64, whence: u32) -> KResult<u64> {
        let len = self.shown_at(u64::MAX).0.len() as i64;
        let mut pos = f.lock_pos();
        let base = match whence {
            0 => 0,
            1 => *pos as i64,
            2 => len,
            _ => return Err(crate::kernel::errno::Errno::EINVAL),
        };
        let n = base
            .checked_add(off)
            .filter(|n| *n >= 0)
            .ok_or(crate::kernel::errno::Errno::EINVAL)?;
        *pos = n as u64;
        Ok(n as u64)
    }
    fn has_poll(&self) -> bool {
        true
    }
    fn poll(&self, _f: &File) -> u32 {
        let mut ev = POLLIN | POLLRDNORM;
        let gen = mount::generation();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.0 != gen {
            seen.0 = gen;
            // The process may be gone: then nothing changes any more.
            if let Ok(now) = (self.text)() {
                if now != seen.1 {
                    seen.1 = now;
                    ev |= POLLERR | POLLPRI;
                }
            }
        }
        ev
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(mount::events())
    }
}
