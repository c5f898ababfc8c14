//! Unit tests of signals, futexes, blocking pipes and the scheduler on the fake platform
//! (`super::testing`), without booting.

mod futex;
mod io_wait;
mod kmutex;
mod pipe_rw;
mod sched;
mod signal;

use super::errno::Errno;

/// What rax holds when a syscall fails with `e`.
fn err(e: Errno) -> i64 {
    -(e.0 as i64)
}

/// Syscall numbers the scripts use (x86_64).
mod nr {
    pub const READ: u64 = 0;
    pub const WRITE: u64 = 1;
    pub const RT_SIGACTION: u64 = 13;
    pub const SCHED_YIELD: u64 = 24;
    pub const NANOSLEEP: u64 = 35;
    pub const KILL: u64 = 62;
    pub const FUTEX: u64 = 202;
    pub const TGKILL: u64 = 234;
    pub const PIPE2: u64 = 293;
}
