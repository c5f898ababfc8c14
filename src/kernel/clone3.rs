//! clone3(2): reads and checks struct clone_args in Linux's order
//! (copy_clone_args_from_user, then clone3_args_valid), then makes the
//! child through clone's common path (`sys_proc::do_clone`).

use super::errno::{Errno, KResult};
use super::signal::NSIG;
use super::sys_proc::{do_clone, CloneReq, CLONE_CLEAR_SIGHAND};
use super::task::Task;
use crate::abi::sched::{read_ext_struct, CloneArgs, CLONE_ARGS_SIZE_VER0, CLONE_ARGS_SIZE_VER2};
use std::sync::Arc;

const CLONE_SIGHAND: u64 = 0x800;
const CLONE_PARENT: u64 = 0x8000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_DETACHED: u64 = 0x40_0000;
const CLONE_NEWTIME: u64 = 0x80;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// The exit-signal byte of legacy clone's flags.
const CSIGNAL: u64 = 0xff;
/// Linux's MAX_PID_NS_LEVEL: the longest set_tid array.
const MAX_PID_NS_LEVEL: u64 = 32;
const PAGE_SIZE: usize = 4096;

/// clone3
pub fn sys_clone3(t: &Arc<Task>, uargs: u64, size: usize) -> KResult<u64> {
    let req = read_args(t, uargs, size)?;
    do_clone(t, &req)
}

/// copy_clone_args_from_user and clone3_args_valid: the request, or the
/// errno of the first check that fails.
fn read_args(t: &Task, uargs: u64, size: usize) -> KResult<CloneReq> {
    if size > PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let a: CloneArgs = read_ext_struct(&mm, uargs, size)?;
    if a.set_tid_size > MAX_PID_NS_LEVEL {
        return Err(Errno::EINVAL);
    }
    if (a.set_tid == 0) != (a.set_tid_size == 0) {
        return Err(Errno::EINVAL);
    }
    if a.exit_signal & !CSIGNAL != 0 || a.exit_signal > NSIG as u64 {
        return Err(Errno::EINVAL);
    }
    if a.flags & CLONE_INTO_CGROUP != 0
        && (a.cgroup > i32::MAX as u64 || size < CLONE_ARGS_SIZE_VER2)
    {
        return Err(Errno::EINVAL);
    }
    let set_tid = if a.set_tid != 0 {
        Some(crate::abi::UserSlice::<i32>::new(a.set_tid, a.set_tid_size as usize).read(&mm)?)
    } else {
        None
    };
    // clone3_args_valid
    let legacy = 0xffff_ffffu64;
    if a.flags & !(legacy | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0 {
        return Err(Errno::EINVAL);
    }
    // Bits clone3 keeps free: CLONE_DETACHED and the exit-signal byte
    // (but CLONE_NEWTIME, which lives there).
    if a.flags & (CLONE_DETACHED | (CSIGNAL & !CLONE_NEWTIME)) != 0 {
        return Err(Errno::EINVAL);
    }
    if a.flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) == CLONE_SIGHAND | CLONE_CLEAR_SIGHAND {
        return Err(Errno::EINVAL);
    }
    if a.flags & (CLONE_THREAD | CLONE_PARENT) != 0 && a.exit_signal != 0 {
        return Err(Errno::EINVAL);
    }
    let stack = child_stack(a.stack, a.stack_size)?;
    // With both, the pidfd and the tid may not share one location.
    const CLONE_PIDFD: u64 = 0x1000;
    const CLONE_PARENT_SETTID: u64 = 0x10_0000;
    if a.flags & CLONE_PIDFD != 0 && a.flags & CLONE_PARENT_SETTID != 0 && a.pidfd == a.parent_tid {
        return Err(Errno::EINVAL);
    }
    // This kernel has one level of pids: a longer set_tid names levels
    // that do not exist (Linux's alloc_pid: set_tid_size > level + 1).
    if set_tid.as_ref().is_some_and(|v| v.len() > 1) {
        return Err(Errno::EINVAL);
    }
    Ok(CloneReq {
        flags: a.flags,
        exit_signal: a.exit_signal as i32,
        stack,
        ptid: a.parent_tid,
        ctid: a.child_tid,
        tls: a.tls,
        pidfd: a.pidfd,
        set_tid: set_tid.map(|v| v[0]),
        cgroup: (a.flags & CLONE_INTO_CGROUP != 0).then_some(a.cgroup as i32),
    })
}

/// clone3_stack_valid: no stack and no size, or a stack whose whole
/// range is user memory; the child starts at its top (stacks grow down).
fn child_stack(stack: u64, size: u64) -> KResult<u64> {
    if stack == 0 {
        return if size > 0 { Err(Errno::EINVAL) } else { Ok(0) };
    }
    let top = stack.checked_add(size).ok_or(Errno::EINVAL)?;
    if size == 0 || top > crate::mm::TASK_SIZE {
        return Err(Errno::EINVAL);
    }
    Ok(top)
}
