//! signalfd: a file from which a thread reads its own pending signals (those
//! in the file's mask) as `struct signalfd_siginfo` records, instead of
//! having them delivered to handlers.
//!
//! As in Linux, the signals read and polled are always the *calling*
//! thread's (its own pending set, then its process's), whoever created the
//! file. A sleeping reader or poller needs no wait queue of its own: any
//! signal sent to a sleeping task wakes it (`signal::signal_wake`), and the
//! read looks again.

use super::file::{File, FileOps, POLLIN};
use crate::abi::signal::SignalfdSiginfo;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched;
use crate::kernel::signal::{
    self, SigInfo, CLD_CONTINUED, CLD_EXITED, SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGKILL, SIGSEGV,
    SIGSTOP, SIGTRAP, SI_KERNEL, SI_TIMER,
};
use crate::kernel::task::Task;
use std::sync::{Arc, Mutex, Weak};

/// Size of `struct signalfd_siginfo`.
pub const SIGINFO_SIZE: usize = core::mem::size_of::<SignalfdSiginfo>();

/// One signalfd file: the set of signals it reads.
pub struct SignalFd {
    mask: Mutex<u64>,
    /// The creating thread: whose signals `poll` reports when no caller is
    /// known (a signalfd watched through a nested epoll).
    owner: Weak<Task>,
}

impl SignalFd {
    pub fn new(mask: u64, owner: &Arc<Task>) -> Arc<SignalFd> {
        Arc::new(SignalFd {
            mask: Mutex::new(Self::clean(mask)),
            owner: Arc::downgrade(owner),
        })
    }

    /// SIGKILL and SIGSTOP are never read through a signalfd.
    fn clean(mask: u64) -> u64 {
        mask & !(signal::bit(SIGKILL) | signal::bit(SIGSTOP))
    }

    /// Replace the mask (signalfd4 on an existing signalfd).
    pub fn set_mask(&self, mask: u64) {
        *self.mask.lock().unwrap_or_else(|e| e.into_inner()) = Self::clean(mask);
    }

    pub fn mask(&self) -> u64 {
        *self.mask.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn readiness(&self, t: &Task) -> u32 {
        if signal::pending_set(t) & self.mask() != 0 {
            POLLIN
        } else {
            0
        }
    }
}

/// `struct signalfd_siginfo` for `info`, filled by the siginfo layout of
/// its code as Linux's signalfd_copyinfo does.
pub fn signalfd_siginfo(info: &SigInfo) -> SignalfdSiginfo {
    let mut s = SignalfdSiginfo {
        ssi_signo: info.signo as u32,
        ssi_errno: info.errno,
        ssi_code: info.code,
        ..bytemuck::Zeroable::zeroed()
    };
    let fault = matches!(info.signo, SIGILL | SIGTRAP | SIGBUS | SIGFPE | SIGSEGV)
        && info.code > 0
        && info.code < SI_KERNEL;
    let child = info.signo == SIGCHLD && (CLD_EXITED..=CLD_CONTINUED).contains(&info.code);
    if fault {
        s.ssi_addr = info.addr;
    } else if info.is_poll() {
        s.ssi_band = info.addr as u32;
        s.ssi_fd = info.status;
    } else {
        s.ssi_pid = info.pid as u32;
        s.ssi_uid = info.uid;
        if child {
            // ssi_status (utime and stime are not accounted)
            s.ssi_status = info.status;
        } else if info.code == SI_TIMER {
            // A POSIX timer: the timer id, the overrun and the sigval.
            s.ssi_pid = 0;
            s.ssi_uid = 0;
            s.ssi_tid = info.pid as u32;
            s.ssi_overrun = info.status as u32;
            s.ssi_int = info.value as i32;
            s.ssi_ptr = info.value;
        } else if info.code < 0 {
            // Queued signals (sigqueue, tkill, timers): ssi_int and ssi_ptr.
            s.ssi_int = info.value as i32;
            s.ssi_ptr = info.value;
        }
    }
    s
}

impl FileOps for SignalFd {
    fn read_task(&self, f: &File, t: &Arc<Task>, buf: &mut [u8]) -> KResult<usize> {
        let max = buf.len() / SIGINFO_SIZE;
        if max == 0 {
            return Err(Errno::EINVAL);
        }
        loop {
            // The mask is read afresh: signalfd4 may change it meanwhile.
            let mask = self.mask();
            let mut n = 0;
            while n < max {
                let Some(info) = signal::dequeue_from(t, mask) else {
                    break;
                };
                crate::abi::write_at(&mut buf[n * SIGINFO_SIZE..], 0, &signalfd_siginfo(&info));
                n += 1;
            }
            if n > 0 {
                return Ok(n * SIGINFO_SIZE);
            }
            if f.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            // Any signal sent to the sleeping task wakes it (the signals
            // read here are blocked, so they do not end the wait); one it
            // would act on ends the read with ERESTARTSYS.
            sched::wait(t, None)?;
        }
    }
    fn poll(&self, _f: &File) -> u32 {
        self.owner.upgrade().map_or(0, |t| self.readiness(&t))
    }
    fn poll_task(&self, _f: &File, t: &Arc<Task>) -> u32 {
        self.readiness(t)
    }
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
    fn name(&self) -> Option<String> {
        Some("anon_inode:[signalfd]".into())
    }
}
