//! ptrace inside the guest (issue 15): tracer and tracee programs
//! compared with the native run.

mod common;

use common::*;

#[test]
fn ptrace_matches_native() {
    compare_with_native("ptrace", "ptrace done");
}

/// The host's strace (dynamic, brought along with its libraries) traces
/// a busybox pipeline in the guest: the syscalls of the shell and of its
/// forked children land in the trace file.
#[test]
fn strace_traces_a_pipeline() {
    let strace = std::path::Path::new("/usr/bin/strace");
    if !strace.is_file() {
        eprintln!("no /usr/bin/strace on the host: skipped");
        return;
    }
    let initrd = build_initramfs("ptrace-strace", &[(strace, "/bin/strace")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (out, status) = g.run_status_timeout(
        "strace -f -o /tmp/s sh -c 'echo hi | cat'",
        std::time::Duration::from_secs(120),
    );
    assert_eq!(status, 0, "strace failed:\n{out}");
    assert!(
        out.contains("hi"),
        "the pipeline's output is missing:\n{out}"
    );
    let trace = g.run("cat /tmp/s");
    // (A call another tracee's interrupts shows as "<unfinished ...>".)
    for want in ["execve(", "pipe", "write(1, \"hi\\n\", 3", "exit_group("] {
        assert!(trace.contains(want), "no {want} in the trace:\n{trace}");
    }
    assert!(
        ["clone(", "fork(", "vfork(", "clone3("]
            .iter()
            .any(|c| trace.contains(c)),
        "no fork in the trace:\n{trace}"
    );
}
