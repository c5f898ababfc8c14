//! Page faults that sleep for the disk without the address space's lock
//! (Linux's FAULT_FLAG_ALLOW_RETRY and VM_FAULT_RETRY). A fault on a file
//! page that is not in the page cache notes the file and page, lets the
//! mm lock go, reads the page while the task sleeps ('D'; the vCPU runs
//! others, and other threads may map, unmap or fault in this address
//! space), then takes the lock again and handles the fault from the
//! start: the VMA is looked up afresh, so a mapping removed meanwhile
//! gives SIGSEGV as it would have before the fault.

use super::{FaultError, Mm};
use crate::kernel::errno::Errno;
use crate::kernel::task::{State, Task};

/// Reads without the lock before the fault is handled under it anyway
/// (the page keeps leaving the cache, or the file keeps changing): the
/// last try reads under the lock as a fault that cannot sleep does.
const MAX_FAULT_RETRIES: u32 = 4;

impl Mm {
    /// Resolve task `t`'s fault at `addr` (`code`: the host's si_code),
    /// sleeping without any lock when a file page must come from a disk.
    /// Ok(true) when it slept for the disk (a major fault). Ok also when
    /// `t` was killed during that sleep (it runs no more).
    pub fn fault(&self, t: &Task, addr: u64, code: i32) -> Result<bool, FaultError> {
        let mut major = false;
        for _ in 0..MAX_FAULT_RETRIES {
            let (inode, idx) = {
                let mut m = self.lock();
                match m.fault_needs_read(addr) {
                    Some(need) => need,
                    None => return m.handle_fault(addr, code).map(|()| major),
                }
            };
            major = true;
            // The mm lock is let go here: the read may sleep.
            match inode.read_page_sleeping(idx, t) {
                Ok(()) => {}
                Err(Errno::ENOMEM) => return Err(FaultError::Oom),
                // A page that cannot be read is SIGBUS, as Linux's
                // filemap_fault reports a read error.
                Err(_) => return Err(FaultError::Bus),
            }
            if t.state() == State::Dead {
                return Ok(true);
            }
        }
        self.lock().handle_fault(addr, code).map(|()| major)
    }
}
