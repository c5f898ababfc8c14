//! Restartable sequences (rseq, syscall 334): a thread registers a
//! `struct rseq` in its memory; before it returns to user space after the
//! registration, after being scheduled out (which covers a move to another
//! vCPU) and when a signal handler is set up, the kernel writes the CPU it
//! runs on there and, if the thread was inside the critical section it
//! published (`rseq_cs`) and was scheduled out or signalled meanwhile,
//! moves its instruction pointer to the section's abort handler. As
//! Linux's kernel/rseq.c, a bad descriptor or an unwritable area is
//! SIGSEGV.

use super::errno::{Errno, KResult};
use super::task::Task;
use crate::abi::rseq::*;
use crate::abi::{read_val, write_val};
use crate::mm::TASK_SIZE;
use std::sync::Arc;

/// A thread's registration (Linux's task_struct rseq, rseq_len, rseq_sig
/// and rseq_event_mask, plus TIF_NOTIFY_RESUME).
#[derive(Clone, Copy, Debug)]
pub struct Rseq {
    pub addr: u64,
    pub len: u32,
    pub sig: u32,
    /// Preempted, migrated or signalled since the last check: a critical
    /// section the thread is in must restart.
    pub event: bool,
    /// The area must be brought up to date before the thread returns to
    /// user space.
    pub notify: bool,
}

/// rseq(rseq, rseq_len, flags, sig), in Linux's order of checks.
pub fn sys_rseq(t: &Arc<Task>, addr: u64, len: u64, flags: u64, sig: u64) -> KResult<u64> {
    let (len, flags, sig) = (len as u32, flags as u32, sig as u32);
    let cur = t.lock().rseq;
    if flags & RSEQ_FLAG_UNREGISTER != 0 {
        if flags & !RSEQ_FLAG_UNREGISTER != 0 {
            return Err(Errno::EINVAL);
        }
        let Some(r) = cur.filter(|r| r.addr == addr) else {
            return Err(Errno::EINVAL);
        };
        if len != r.len {
            return Err(Errno::EINVAL);
        }
        if sig != r.sig {
            return Err(Errno::EPERM);
        }
        reset_area(t, addr)?;
        t.lock().rseq = None;
        return Ok(0);
    }
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(r) = cur {
        if r.addr != addr || r.len != len {
            return Err(Errno::EINVAL);
        }
        if r.sig != sig {
            return Err(Errno::EPERM);
        }
        return Err(Errno::EBUSY);
    }
    // At least the original struct (which holds every field this kernel
    // fills), at the struct's alignment.
    if len < ORIG_RSEQ_SIZE || addr % RSEQ_ALIGN != 0 {
        return Err(Errno::EINVAL);
    }
    // access_ok: the range is below the top of user space (the pages are
    // looked at only on the way back to user space).
    if addr.checked_add(len as u64).is_none_or(|e| e > TASK_SIZE) {
        return Err(Errno::EFAULT);
    }
    t.lock().rseq = Some(Rseq {
        addr,
        len,
        sig,
        event: false,
        notify: true,
    });
    Ok(0)
}

/// Unregistration leaves the area saying "no CPU".
fn reset_area(t: &Arc<Task>, addr: u64) -> KResult<()> {
    let mm = t.mm();
    let cpu = RseqCpu {
        cpu_id_start: 0,
        cpu_id: RSEQ_CPU_ID_UNINITIALIZED,
    };
    write_val(&mm, addr + OFF_CPU_ID_START, &cpu)?;
    write_val(&mm, addr + OFF_NODE_ID, &RseqNode::default())
}

/// The task's kernel context is about to run again after it was
/// scheduled out (Linux's rseq_preempt and rseq_migrate).
pub fn scheduled_in(t: &Task) {
    if let Some(r) = t.lock().rseq.as_mut() {
        r.event = true;
        r.notify = true;
    }
}

/// On the way back to user space: bring the area up to date if needed
/// (Linux's rseq_handle_notify_resume). False if that failed and a
/// SIGSEGV is now pending.
pub fn resume(t: &Arc<Task>) -> bool {
    let r = {
        let mut i = t.lock();
        match i.rseq.as_mut() {
            Some(r) if r.notify => {
                r.notify = false;
                *r
            }
            _ => return true,
        }
    };
    if update(t, r).is_err() {
        super::signal::force_sigsegv(t, 0);
        return false;
    }
    true
}

/// A handler for `sig` is about to be set up: the signal aborts a
/// critical section it interrupted (Linux's rseq_signal_deliver).
pub fn signal_deliver(t: &Arc<Task>, sig: i32) {
    let r = {
        let mut i = t.lock();
        match i.rseq.as_mut() {
            Some(r) => {
                r.event = true;
                *r
            }
            None => return,
        }
    };
    if update(t, r).is_err() {
        super::signal::force_sigsegv(t, sig);
    }
}

/// Abort the critical section the task is in, then write the CPU ids.
fn update(t: &Arc<Task>, r: Rseq) -> KResult<()> {
    ip_fixup(t, r)?;
    let mm = t.mm();
    let cpu = super::smp::task_cpu(t.tid) as u32;
    write_val(
        &mm,
        r.addr + OFF_CPU_ID_START,
        &RseqCpu {
            cpu_id_start: cpu,
            cpu_id: cpu,
        },
    )?;
    // One NUMA node; the threads of a process run one at a time (they
    // share one host process traced by one vCPU), so 0 is a concurrency
    // id no other running thread of the mm holds.
    write_val(&mm, r.addr + OFF_NODE_ID, &RseqNode::default())
}

/// Move the IP to the abort handler if it is inside the published
/// critical section and an event happened since the last check.
fn ip_fixup(t: &Arc<Task>, r: Rseq) -> KResult<()> {
    let mm = t.mm();
    let ptr: u64 = read_val(&mm, r.addr + OFF_RSEQ_CS)?;
    if ptr == 0 {
        return Ok(());
    }
    let cs = read_cs(t, r, ptr)?;
    let ip = t.lock().ctx.regs.rip;
    if ip.wrapping_sub(cs.start_ip) >= cs.post_commit_offset {
        // Not inside: a stale descriptor is forgotten.
        return write_val(&mm, r.addr + OFF_RSEQ_CS, &0u64);
    }
    if cs.flags & RSEQ_CS_NO_RESTART_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let flags: u32 = read_val(&mm, r.addr + OFF_FLAGS)?;
    if flags & RSEQ_CS_NO_RESTART_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let event = {
        let mut i = t.lock();
        i.rseq
            .as_mut()
            .map(|x| std::mem::replace(&mut x.event, false))
            .unwrap_or(false)
    };
    if !event {
        return Ok(());
    }
    write_val(&mm, r.addr + OFF_RSEQ_CS, &0u64)?;
    log::trace!(
        "rseq: task {} aborts at {:#x} -> {:#x}",
        t.tid,
        ip,
        cs.abort_ip
    );
    t.lock().ctx.regs.rip = cs.abort_ip;
    Ok(())
}

/// Read and validate the descriptor at `ptr` (Linux's rseq_get_rseq_cs):
/// in user space, version 0, the abort handler outside the section and
/// preceded by the registered signature.
fn read_cs(t: &Arc<Task>, r: Rseq, ptr: u64) -> KResult<RseqCs> {
    if ptr >= TASK_SIZE {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let cs: RseqCs = read_val(&mm, ptr)?;
    let end = cs.start_ip.wrapping_add(cs.post_commit_offset);
    if cs.start_ip >= TASK_SIZE || end >= TASK_SIZE || cs.abort_ip >= TASK_SIZE || cs.version > 0 {
        return Err(Errno::EINVAL);
    }
    if end < cs.start_ip {
        return Err(Errno::EINVAL);
    }
    if cs.abort_ip.wrapping_sub(cs.start_ip) < cs.post_commit_offset {
        return Err(Errno::EINVAL);
    }
    let sig: u32 = read_val(&mm, cs.abort_ip.wrapping_sub(4))?;
    if sig != r.sig {
        log::debug!(
            "rseq: task {}: signature {:#x} before abort_ip {:#x}, expected {:#x}",
            t.tid,
            sig,
            cs.abort_ip,
            r.sig
        );
        return Err(Errno::EINVAL);
    }
    Ok(cs)
}

/// fork keeps the registration (the child has a copy of the area at the
/// same address); a thread or another CLONE_VM child starts without.
pub fn for_child(parent: Option<Rseq>, clone_vm: bool) -> Option<Rseq> {
    if clone_vm {
        return None;
    }
    parent.map(|r| Rseq {
        event: true,
        notify: true,
        ..r
    })
}
