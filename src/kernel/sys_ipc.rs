//! System V IPC syscalls (shm*, sem*, msg*): argument decoding only; the
//! objects and their rules are in `crate::ipc`.

use super::errno::KResult;
use super::syscall::Args;
use super::task::Task;
use crate::ipc::{msg, sem, shm};
use std::sync::Arc;

/// shmget, shmat, shmctl, semget, semop, semctl, shmdt, msgget, msgsnd,
/// msgrcv, msgctl, semtimedop.
pub fn dispatch(t: &Arc<Task>, nr: u64, a: &Args) -> KResult<u64> {
    match nr {
        29 => shm::shmget(t, a.i(0), a.u(1), a.i(2)),
        30 => shm::shmat(t, a.i(0), a.u(1), a.i(2)),
        31 => shm::shmctl(t, a.i(0), a.i(1), a.u(2)),
        64 => sem::semget(t, a.i(0), a.i(1), a.i(2)),
        65 => sem::semtimedop(t, a.i(0), a.u(1), a.u(2), 0),
        66 => sem::semctl(t, a.i(0), a.i(1), a.i(2), a.u(3)),
        67 => shm::shmdt(t, a.u(0)),
        68 => msg::msgget(t, a.i(0), a.i(1)),
        69 => msg::msgsnd(t, a.i(0), a.u(1), a.u(2), a.i(3)),
        70 => msg::msgrcv(t, a.i(0), a.u(1), a.u(2), a.i64(3), a.i(4)),
        71 => msg::msgctl(t, a.i(0), a.i(1), a.u(2)),
        _ => sem::semtimedop(t, a.i(0), a.u(1), a.u(2), a.u(3)),
    }
}
