//! The guest vDSO: glibc reads the clocks without trapping into ruml, the
//! values agree with the system calls', and the vvar data page stays
//! read-only by every path (tests/guest/vdso.c, vdso_traps.c).

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn vdso_matches_native() {
    compare_with_native("vdso", "vdso done");
}

/// Build tests/guest/NAME.c, boot it with `env` for vmlinux and run it;
/// returns the guest's output and the binary (never run natively here:
/// vdso_traps sets the clock).
fn run_in_guest(name: &str, tag: &str, env: &[(&str, &str)]) -> (String, std::path::PathBuf) {
    let dir = test_dir(&format!("{name}-{tag}-build"));
    let bin = dir.join(name);
    compile_c(
        &repo_root().join(format!("tests/guest/{name}.c")),
        &bin,
        &[],
    );
    let guest_path = format!("/bin/{name}");
    let initrd = build_initramfs(&format!("{name}-{tag}"), &[(bin.as_path(), &guest_path)]);
    let initrd_arg = format!("initrd={}", initrd.display());
    let mut g = Guest::boot_with_env(&["mem=256M", &initrd_arg], env);
    g.wait_prompt();
    let (out, status) = g.run_status_timeout(&guest_path, Duration::from_secs(120));
    assert_eq!(status, 0, "{name} in the guest:\n{out}");
    (out, bin)
}

/// On a host whose TSC cannot be trusted the vDSO makes every call a
/// system call; the program sees the same.
#[test]
fn vdso_without_tsc_falls_back_to_system_calls() {
    let (guest, bin) = run_in_guest("vdso", "notsc", &[("RUML_NO_VDSO_TSC", "1")]);
    let native = Command::new(&bin).output().expect("running natively");
    let native = String::from_utf8_lossy(&native.stdout);
    let want: Vec<&str> = native.lines().collect();
    let got: Vec<&str> = guest.lines().map(str::trim_end).collect();
    assert_eq!(want, got);
}

/// Count the clock system calls ruml's syscall trace records while
/// vdso_traps runs 2000 rounds of clock_gettime, gettimeofday and time.
fn clock_syscalls(env_extra: &[(&str, &str)]) -> (usize, usize, usize, String) {
    let tag = if env_extra.is_empty() { "tsc" } else { "notsc" };
    let log = test_dir(&format!("vdso-traps-log-{tag}")).join("trace.log");
    let log_s = log.display().to_string();
    let mut env = vec![
        ("RUML_LOG", "ruml::kernel::syscall=trace"),
        ("RUML_LOG_FILE", log_s.as_str()),
    ];
    env.extend_from_slice(env_extra);
    let (out, _) = run_in_guest("vdso_traps", tag, &env);
    assert!(out.contains("vdso_traps done"), "{out}");
    let text = std::fs::read_to_string(&log).expect("trace log");
    let count = |call: &str| text.lines().filter(|l| l.contains(call)).count();
    (
        count("] clock_gettime("),
        count("] gettimeofday("),
        count("] time("),
        out,
    )
}

#[test]
fn clock_reads_do_not_trap() {
    let (clock, tod, time, out) = clock_syscalls(&[]);
    // The five direct syscalls prove the trace counts; glibc's 6000
    // reads must not show (a few from busybox and startup may).
    assert!(
        (5..100).contains(&clock) && tod < 100 && time < 100,
        "clock_gettime {clock}, gettimeofday {tod}, time {time} traps"
    );
    // A debugger may patch the vDSO's text (a private copy), and a
    // program may unmap the data page.
    assert!(out.contains("mprotect vdso writable: 0"), "{out}");
    assert!(out.contains("vdso text written: 1"), "{out}");
    assert!(out.contains("munmap vvar: 0"), "{out}");
    // Setting the wall clock moves the vDSO's at once.
    assert!(out.contains("clock_settime: 0"), "{out}");
    assert!(out.contains("vDSO follows: 1"), "{out}");
}

/// The counting above does see traps: without a usable TSC every read
/// is a system call.
#[test]
fn clock_reads_trap_without_tsc() {
    let (clock, tod, time, _) = clock_syscalls(&[("RUML_NO_VDSO_TSC", "1")]);
    assert!(
        clock >= 4000 && tod >= 2000 && time >= 2000,
        "clock_gettime {clock}, gettimeofday {tod}, time {time} traps"
    );
}
