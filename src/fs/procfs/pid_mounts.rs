//! /proc/PID/mounts and /proc/PID/mountinfo as open files: the text as it
//! was at open, and a poll that tells of mount changes (Linux's
//! mounts_poll): always readable, and POLLERR|POLLPRI once after each
//! change of the mounts the file shows. libmount's monitor (systemd's
//! mount units) and findmnt --poll watch mountinfo this way.

use super::Snapshot;
use crate::fs::file::{File, FileOps, POLLERR, POLLIN, POLLPRI, POLLRDNORM};
use crate::fs::mount;
use crate::kernel::errno::KResult;
use crate::kernel::wait::WaitQueue;
use std::sync::{Arc, Mutex};

type Gen = Arc<dyn Fn() -> KResult<String> + Send + Sync>;

pub(super) struct MountsFile {
    shown: Snapshot,
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
        shown: Snapshot(now.clone().into_bytes()),
        text,
        seen: Mutex::new((gen, now)),
    }))
}

impl FileOps for MountsFile {
    fn read(&self, f: &File, buf: &mut [u8]) -> KResult<usize> {
        self.shown.read(f, buf)
    }
    fn pread(&self, f: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        self.shown.pread(f, buf, off)
    }
    fn seek(&self, f: &File, off: i64, whence: u32) -> KResult<u64> {
        self.shown.seek(f, off, whence)
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
