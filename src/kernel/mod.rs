//! The kernel proper: tasks, scheduling, signals, time, syscalls.

pub mod acct;
pub mod aio;
pub mod clone3;
pub mod copy_range;
pub mod coredump;
pub mod cputimer;
pub mod cred;
pub mod current;
pub mod direct_io;
pub mod errno;
pub mod exec;
pub mod exit;
pub mod futex;
pub mod futex_robust;
pub mod keys;
pub mod loadavg;
pub mod nproc;
pub mod ns;
pub mod oom;
pub mod panic;
pub mod pidfd;
pub mod pipe_rw;
pub mod posix_timers;
pub mod printk;
pub mod ptrace;
pub mod ptrace_access;
pub mod rlimits;
pub mod rw_full;
pub mod sched;
pub mod seccomp;
pub mod sendfile;
pub mod signal;
pub mod smp;
pub mod splice;
pub mod sys_affinity;
pub mod sys_attr;
pub mod sys_clock;
pub mod sys_cred;
pub mod sys_epoll;
pub mod sys_fs;
pub mod sys_inotify;
pub mod sys_ipc;
pub mod sys_locks;
pub mod sys_mlock;
pub mod sys_mm;
pub mod sys_mount;
pub mod sys_mqueue;
pub mod sys_net;
mod sys_net_inet;
mod sys_net_netlink;
mod sys_net_packet;
mod sys_net_unix;
pub mod sys_poll;
pub mod sys_prio;
pub mod sys_proc;
pub mod sys_process_vm;
pub mod sys_rusage;
pub mod sys_rwf;
pub mod sys_sched;
pub mod sys_signal;
pub mod sys_time;
pub mod sys_timer;
pub mod sys_timerfd;
pub mod sys_xattr;
pub mod syscall;
pub mod task;
#[cfg(test)]
pub mod testing;
#[cfg(test)]
mod tests;
pub mod time;
pub mod vdso;
pub mod wait;

/// Drop all futex waiters (reboot).
pub fn futex_reset() {}
