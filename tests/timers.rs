//! Timers and clocks: ITIMER_VIRTUAL/PROF firing from CPU time, setting
//! the guest's wall clock (never the host's), and the sched_* policy
//! calls' validation, compared with a native run.

mod common;

use common::*;
use std::time::Duration;

/// CPU-time itimers fire in a busy loop and re-arm; clock_settime,
/// settimeofday and adjtimex validate as Linux (EINVAL, EPERM, EFAULT);
/// sched_* store and report policies with Linux's errnos.
#[test]
fn timers_clocks_and_sched_match_native() {
    compare_with_native("timers", "timers done");
}

/// Setting the clock in the guest moves every reader of the guest's
/// CLOCK_REALTIME (clock_gettime, gettimeofday, time, file timestamps)
/// and leaves the host's clock alone.
#[test]
fn settime_moves_only_the_guest_clock() {
    let dir = test_dir("timers-set-build");
    let bin = dir.join("timers");
    compile_c(
        &repo_root().join("tests/guest/timers.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("timers-set", &[(bin.as_path(), "/bin/timers")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (out, status) = g.run_status_timeout("/bin/timers set", Duration::from_secs(120));
    for line in [
        "clock_settime 2033: ok",
        "clock_gettime near: 1",
        "gettimeofday near: 1",
        "time near: 1",
        "mtime near: 1",
        "adjtimex setoffset: ok",
        "stepped back: 1",
        "settimeofday: ok",
        "time after settimeofday: 1",
        "set done",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    assert_eq!(status, 0, "{out}");
    // The host's clock is where it was (2033 and 2017 are both far away).
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((1_600_000_000..2_000_000_000).contains(&host), "{host}");
    assert_eq!(g.run("echo alive").trim(), "alive");
}

/// timerfd: errnos of create/settime/gettime, one-shot and periodic
/// expiration counts, blocking and non-blocking reads, poll and epoll
/// readiness, TFD_TIMER_ABSTIME and TFD_TIMER_CANCEL_ON_SET.
#[test]
fn timerfd_matches_native() {
    compare_with_native("timerfd", "timerfd done");
}

/// POSIX timers: errnos, SI_TIMER siginfo (timer id, sigval, overrun),
/// one queued signal with overruns, SIGEV_NONE and SIGEV_THREAD_ID,
/// TIMER_ABSTIME, a CPU-time clock, no timers across fork and exec.
#[test]
fn posix_timers_match_native() {
    compare_with_native("ptimers", "ptimers done");
}
