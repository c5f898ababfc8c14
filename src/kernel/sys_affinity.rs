//! sched_setaffinity and sched_getaffinity: the vCPUs a task may run on
//! (kept and applied by `smp`).

use super::errno::{Errno, KResult};
use super::sys_sched::target;
use super::task::Task;
use super::{sched, smp, task};
use crate::abi::sched::{read_cpu_mask, write_cpu_mask, CPU_MASK_BYTES};
use std::sync::Arc;

/// Whether `p` is the only live task in its address space (only such a
/// task can move to another vCPU: see `smp`).
pub fn alone_in_mm(p: &Arc<Task>) -> bool {
    let mm = p.mm();
    !task::all_tasks()
        .iter()
        .any(|x| x.tid != p.tid && x.state() != task::State::Dead && Arc::ptr_eq(&x.mm(), &mm))
}

/// sched_setaffinity: as Linux, a shorter user mask is zero-extended and
/// a longer one cut to the kernel's size; the mask must name an online
/// vCPU; another user's task needs CAP_SYS_NICE.
pub fn sys_sched_setaffinity(t: &Arc<Task>, pid: i32, len: usize, uptr: u64) -> KResult<u64> {
    let mask = read_cpu_mask(&t.mm(), uptr, len)?;
    let p = target(t, pid)?;
    let me = t.creds();
    if !me.capable(super::caps::CAP_SYS_NICE) {
        let pc = p.creds();
        if pc.uid != me.euid && pc.euid != me.euid {
            return Err(Errno::EPERM);
        }
    }
    if mask & smp::online_mask() == 0 {
        return Err(Errno::EINVAL);
    }
    if smp::set_affinity(p.tid, mask, alone_in_mm(&p)) {
        if p.tid == t.tid {
            sched::yield_now();
        } else {
            // Running a guest on another vCPU: have it come back and move.
            sched::kick_task(p.tid);
        }
    }
    Ok(0)
}

/// sched_getaffinity: the task's mask; the size written is the kernel's
/// mask size, which `len` must cover and be a multiple of a long.
pub fn sys_sched_getaffinity(t: &Arc<Task>, pid: i32, len: usize, mask: u64) -> KResult<u64> {
    if len * 8 < crate::arch::cpu::ncpus() || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let p = target(t, pid)?;
    write_cpu_mask(&t.mm(), mask, smp::affinity(p.tid))?;
    Ok(CPU_MASK_BYTES as u64)
}
