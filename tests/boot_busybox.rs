//! Boot the default busybox initramfs and drive the shell over the console.
//! Each test boots its own guest from its own initramfs.

mod common;

use common::*;
use std::time::Duration;

fn boot(name: &str) -> Guest {
    Guest::boot_busybox(name)
}

#[test]
fn boots_to_a_prompt() {
    let initrd = build_initramfs("prompt", &[]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    // "/ # " with busybox's fancy prompt, "# " without.
    g.expect("# ", BOOT_TIMEOUT);
    let (out, status) = g.run_status("echo ready");
    assert_eq!(out.trim(), "ready");
    assert_eq!(status, 0);
}

#[test]
fn pipe_between_builtins_and_applets() {
    let mut g = boot("pipe");
    assert_eq!(g.run("echo hi | cat").trim(), "hi");
}

#[test]
fn bin_has_all_applets() {
    let mut g = boot("lsbin");
    let out = g.run("ls /bin | wc -l");
    let n: u32 = out
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("`ls /bin | wc -l` printed {:?}", out));
    assert!(n > 100, "only {} entries in /bin", n);
}

#[test]
fn background_job_and_wait() {
    let mut g = boot("bgwait");
    let out = g.run("(sleep 1; echo bg) & wait");
    assert!(out.lines().any(|l| l.trim() == "bg"), "output: {:?}", out);
}

#[test]
fn killed_by_sigterm_is_143() {
    let mut g = boot("sigterm");
    let out = g.run("sh -c 'kill -TERM $$'; echo $?");
    // The shell may print "Terminated" first.
    assert_eq!(
        out.lines().last().map(str::trim),
        Some("143"),
        "output: {:?}",
        out
    );
}

#[test]
fn trap_runs_on_signal() {
    let mut g = boot("trap");
    let out = g.run("trap 'echo got' USR1; kill -USR1 $$");
    assert!(out.lines().any(|l| l.trim() == "got"), "output: {:?}", out);
}

#[test]
fn busy_loop_does_not_starve_the_shell() {
    let mut g = boot("busyloop");
    g.run("while :; do :; done &");
    assert_eq!(g.run("echo alive").trim(), "alive");
    let (_, status) = g.run_status("kill $!");
    assert_eq!(status, 0);
    // The loop is gone: the shell reaps it and still answers.
    assert_eq!(
        g.run("wait; echo reaped").lines().last().map(str::trim),
        Some("reaped")
    );
}

#[test]
fn segfault_is_reported_and_shell_survives() {
    let dir = test_dir("segv-build");
    let src = dir.join("nullderef.c");
    std::fs::write(&src, "int main(void) { return *(volatile int *)0; }\n").unwrap();
    let bin = dir.join("nullderef");
    compile_c(&src, &bin, &["-static"]);
    let initrd = build_initramfs("segv", &[(bin.as_path(), "/bin/nullderef")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (out, status) = g.run_status("/bin/nullderef");
    assert!(out.contains("Segmentation fault"), "output: {:?}", out);
    assert_eq!(status, 128 + 11);
    assert_eq!(g.run("echo still here").trim(), "still here");
}

#[test]
fn poweroff_exits_zero() {
    let mut g = boot("poweroff");
    g.send("poweroff -f\n");
    let status = g.wait_exit(Duration::from_secs(60)).unwrap_or_else(|| {
        panic!(
            "vmlinux still running after poweroff -f; output:\n{}",
            g.output()
        )
    });
    assert!(
        status.success(),
        "vmlinux exited with {:?}; output:\n{}",
        status,
        g.output()
    );
}

#[test]
fn fifos_wait_for_the_other_side() {
    let mut g = boot("fifo");
    g.run("mkfifo /tmp/f");
    // Reader first, then writer; and writer first, then reader.
    assert_eq!(
        g.run("cat /tmp/f & sleep 0.2; echo one > /tmp/f; wait")
            .trim(),
        "one"
    );
    assert_eq!(
        g.run("(echo two > /tmp/f &); sleep 0.2; cat /tmp/f").trim(),
        "two"
    );
}
