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

/// The host's gdb (with its libraries) debugs a program in the guest:
/// a breakpoint in a function is hit (the breakpoint is written into
/// read-only text), the backtrace names its caller, and the program runs
/// on to its end.
#[test]
fn gdb_breaks_and_backtraces() {
    gdb_debugs(false);
}

/// The same with a PIE: gdb finds its load address through AT_ENTRY and
/// AT_PHDR in /proc/PID/auxv.
#[test]
fn gdb_breaks_and_backtraces_pie() {
    gdb_debugs(true);
}

fn gdb_debugs(pie: bool) {
    let gdb = std::path::Path::new("/usr/bin/gdb");
    if !gdb.is_file() {
        eprintln!("no /usr/bin/gdb on the host: skipped");
        return;
    }
    let tag = if pie { "ptrace-gdb-pie" } else { "ptrace-gdb" };
    let dir = test_dir(&format!("{tag}-build"));
    let prog = dir.join("gdbprog");
    compile_c(
        &repo_root().join("tests/guest/gdbprog.c"),
        &prog,
        &["-g", "-O0", if pie { "-pie" } else { "-no-pie" }],
    );
    // gdb embeds Python: its startup needs the encodings package and
    // the stdlib's landmark (os.py); the rest of its modules are frozen.
    let py = std::path::Path::new("/usr/lib/python3.11");
    let pystage = dir.join("python3.11");
    let _ = std::fs::remove_dir_all(&pystage);
    std::fs::create_dir_all(&pystage).unwrap();
    let cp = std::process::Command::new("cp")
        .arg("-r")
        .arg(py.join("encodings"))
        .arg(py.join("os.py"))
        .arg(&pystage)
        .status()
        .unwrap();
    assert!(cp.success(), "copying Python's encodings");
    let initrd = build_initramfs(
        tag,
        &[
            (gdb, "/bin/gdb"),
            (&prog, "/bin/gdbprog"),
            (&pystage, "/usr/lib/python3.11"),
        ],
    );
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (out, status) = g.run_status_timeout(
        "gdb -nx -batch -ex 'break square' -ex run -ex bt -ex continue /bin/gdbprog 2>&1",
        std::time::Duration::from_secs(300),
    );
    assert_eq!(status, 0, "gdb failed:\n{out}");
    for want in [
        // (Without gdb's Python modules, exception notes may share the
        // breakpoint's line.)
        "square (x=7) at",
        "in main () at",
        "gdbprog result 49",
        "exited normally",
    ] {
        assert!(out.contains(want), "no {want:?} in gdb's output:\n{out}");
    }
}
