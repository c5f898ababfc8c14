//! Resource limits and guards against one user exhausting the machine:
//! vfork under signals, rlimits (NOFILE, NPROC), nice permissions, exec
//! argument sizes, the /dev/shm tmpfs and the OOM killer's report.

mod common;

use common::*;
use std::time::Duration;

/// A pending SIGCHLD from an earlier child must not make vfork fail once
/// the child exists (xargs runs many short children with vfork).
#[test]
fn vfork_is_not_interrupted_by_sigchld() {
    let mut g = Guest::boot_busybox("limits-vfork");
    let (out, status) = g.run_status_timeout(
        "seq 1 30000 | xargs -n 100 /bin/true; echo rc=$?",
        Duration::from_secs(300),
    );
    assert!(out.contains("rc=0"), "{out}");
    assert!(!out.contains("Interrupted"), "{out}");
    assert_eq!(status, 0, "{out}");
    assert_eq!(g.run("echo alive").trim(), "alive");
}

/// RLIMIT_NOFILE rules (raising the hard limit, soft > hard, another
/// user's process), the fd table following the soft limit for every call
/// that allocates an fd, nice permissions and execve's argument sizes,
/// line for line as Linux.
#[test]
fn rlimits_nice_and_exec_sizes_match_native() {
    compare_with_native("limits", "limits done");
}
