//! Hostile guests: programs that try to get from the guest to the host, as
//! an unprivileged guest user and as guest root. The host must stay
//! untouched (a proof file that escaped code would create never appears)
//! and the kernel must keep serving. See docs/security.md.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const ATTACKS: &[&str] = &["mremap", "mmap", "data", "jump", "race", "fds", "signals"];

fn hostile_initrd(name: &str) -> PathBuf {
    let dir = test_dir(&format!("{name}-build"));
    let bin = dir.join("hostile");
    compile_c(
        &repo_root().join("tests/guest/hostile.c"),
        &bin,
        &["-static", "-pthread"],
    );
    build_initramfs(name, &[(bin.as_path(), "/bin/hostile")])
}

/// A host path that code escaping the guest would create, in a directory
/// anyone may write (so an escape as any host user would show).
fn proof_path(name: &str) -> PathBuf {
    let dir = test_dir(name);
    let mut perm = std::fs::metadata(&dir).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o777);
    std::fs::set_permissions(&dir, perm).unwrap();
    dir.join("proof")
}

fn assert_untouched(proof: &Path, what: &str, out: &str) {
    assert!(
        !proof.exists(),
        "{what}: the host proof file {} appeared: guest code ran on the host\n{out}",
        proof.display()
    );
}

fn as_user(user: &str, cmd: &str) -> String {
    if user == "root" {
        cmd.to_string()
    } else {
        format!("su -s /bin/sh {user} -c '{cmd}'")
    }
}

#[test]
fn escape_attempts_fail_as_user_and_as_root() {
    let initrd = hostile_initrd("hostile");
    let proof = proof_path("hostile-proof");
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    for user in ["nobody", "root"] {
        for attack in ATTACKS {
            let cmd = as_user(user, &format!("/bin/hostile {} {attack}", proof.display()));
            let (out, status) = g.run_status_timeout(&cmd, Duration::from_secs(180));
            let what = format!("{attack} as {user}");
            assert!(
                out.contains(&format!("hostile {attack} done")),
                "{what}: did not finish\n{out}"
            );
            assert!(!out.contains("SUCCEEDED"), "{what}\n{out}");
            assert!(out.contains("ATTACK "), "{what}: no attack ran\n{out}");
            assert_eq!(status, 0, "{what}\n{out}");
            assert_untouched(&proof, &what, &out);
            assert_eq!(g.run("echo still serving").trim(), "still serving");
        }
    }
    assert!(!g.output().contains("Kernel panic"), "{}", g.output());
    g.send("poweroff -f\n");
    g.wait_exit(Duration::from_secs(60)).expect("poweroff");
}

/// A clone whose exit signal is not a signal (here 127) used to index past
/// the signal table when the child exited and panic the kernel. Linux
/// creates the child and sends nothing when it exits.
#[test]
fn clone_with_an_invalid_exit_signal_is_harmless() {
    let dir = test_dir("badsig-build");
    let src = dir.join("badsig.c");
    std::fs::write(
        &src,
        r#"#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    for (int sig = 65; sig < 256; sig += 31) {
        long pid = syscall(SYS_clone, (long)sig, 0L, 0L, 0L, 0L);
        if (pid == 0)
            _exit(7);
        int st = 0;
        long w = waitpid(pid, &st, __WALL);
        printf("sig %d: clone %s, waited %s, status %d\n", sig, pid > 0 ? "ok" : "failed",
               w == pid ? "ok" : "failed", WEXITSTATUS(st));
    }
    return 0;
}
"#,
    )
    .unwrap();
    let bin = dir.join("badsig");
    compile_c(&src, &bin, &["-static"]);
    let initrd = build_initramfs("badsig", &[(bin.as_path(), "/bin/badsig")]);
    for extra in [&[][..], &["quiet"][..]] {
        let mut g = Guest::boot_initramfs(&initrd, extra);
        g.wait_prompt();
        let out = g.run("su -s /bin/sh nobody -c /bin/badsig");
        for sig in [65, 96, 127, 158, 189, 220, 251] {
            assert!(
                out.contains(&format!("sig {sig}: clone ok, waited ok, status 7")),
                "{out}\n{}",
                g.output()
            );
        }
        assert_eq!(g.run("echo still serving").trim(), "still serving");
        g.send("poweroff -f\n");
        let st = g.wait_exit(Duration::from_secs(60)).expect("poweroff");
        assert_eq!(st.code(), Some(0), "{}", g.output());
    }
}

/// Every host process that holds a guest address space runs with
/// no_new_privs, a seccomp filter, no capabilities and no file descriptor
/// but guest physical memory.
#[test]
fn guest_host_processes_are_confined() {
    let mut g = Guest::boot_busybox("confined");
    g.run("sleep 30 &");
    g.run("sleep 31 &");
    let procs = host_descendants(g.pid());
    assert!(procs.len() >= 3, "zygote, shell and two sleeps: {procs:?}");
    for p in &procs {
        let dir = Path::new("/proc").join(p.pid.to_string());
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue; // gone meanwhile
        };
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .map(|l| l[name.len()..].trim().to_string())
                .unwrap_or_default()
        };
        assert_eq!(field("NoNewPrivs:"), "1", "pid {}:\n{status}", p.pid);
        assert_eq!(field("Seccomp:"), "2", "pid {}:\n{status}", p.pid);
        assert_eq!(field("CapEff:"), "0000000000000000", "{status}");
        assert_eq!(field("CapPrm:"), "0000000000000000", "{status}");
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            // Started as root: the stub dropped its bounding set too.
            assert_eq!(field("CapBnd:"), "0000000000000000", "{status}");
        }
        let fds: Vec<String> = std::fs::read_dir(dir.join("fd"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(fds, vec!["3".to_string()], "pid {}", p.pid);
        let link = std::fs::read_link(dir.join("fd/3")).unwrap_or_default();
        assert!(
            link.to_string_lossy().contains("ruml-physmem"),
            "{}",
            link.display()
        );
        // The stub's data area is closed while guest code runs.
        let maps = std::fs::read_to_string(dir.join("maps")).unwrap_or_default();
        let data = maps
            .lines()
            .find(|l| l.starts_with("7ff000001000-"))
            .unwrap_or_else(|| panic!("no stub data area:\n{maps}"));
        assert!(data.contains(" ---s "), "{data}");
    }
    g.send("poweroff -f\n");
    g.wait_exit(Duration::from_secs(60)).expect("poweroff");
}

/// The test hook RUML_TEST_HOST_SYSCALL=1 runs one raw host system call
/// from the stub's own syscall instruction: what a guest that somehow got
/// that far could do. The host's seccomp filter kills the process instead.
#[test]
fn a_raw_host_syscall_kills_the_process() {
    let initrd = hostile_initrd("hostcall");
    let proof = proof_path("hostcall-proof");
    let initrd_arg = format!("initrd={}", initrd.display());
    let mut g = Guest::boot_with_env(
        &["mem=256M", &initrd_arg],
        &[("RUML_TEST_HOST_SYSCALL", "1")],
    );
    g.wait_prompt();
    for user in ["nobody", "root"] {
        for call in ["open", "mmap-stub", "mmap-anon", "getpid"] {
            let cmd = as_user(
                user,
                &format!("/bin/hostile {} hostcall {call}", proof.display()),
            );
            let (out, status) = g.run_status(&cmd);
            let what = format!("{call} as {user}");
            assert!(!out.contains("SUCCEEDED"), "{what}\n{out}");
            assert!(out.contains("Bad system call"), "{what}\n{out}");
            assert_eq!(status, 128 + 31, "{what}\n{out}");
            assert_untouched(&proof, &what, &out);
        }
    }
    assert_eq!(g.run("echo still serving").trim(), "still serving");
    g.send("poweroff -f\n");
    g.wait_exit(Duration::from_secs(60)).expect("poweroff");
    // Without the hook the magic number is just an unknown system call.
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let out = g.run(&format!(
        "/bin/hostile {} hostcall getpid; echo rc=$?",
        proof.display()
    ));
    assert!(out.contains("refused") && out.contains("rc=0"), "{out}");
    g.send("poweroff -f\n");
    g.wait_exit(Duration::from_secs(60)).expect("poweroff");
}

/// vmlinux started by an unprivileged host user (here uid 65534 through
/// setpriv, when the tests run as root) boots, confines its host processes
/// the same way, and the escape attempts fail the same way.
#[test]
fn an_unprivileged_host_user_gets_the_same_boundary() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: the tests already run unprivileged, which the others cover");
        return;
    }
    let initrd = hostile_initrd("unpriv");
    let proof = proof_path("unpriv-proof");
    let initrd_arg = format!("initrd={}", initrd.display());
    let mut g = boot_unprivileged(&["mem=256M", &initrd_arg]);
    g.wait_prompt();
    for user in ["nobody", "root"] {
        for attack in ["mremap", "mmap", "data", "jump"] {
            let cmd = as_user(user, &format!("/bin/hostile {} {attack}", proof.display()));
            let (out, status) = g.run_status_timeout(&cmd, Duration::from_secs(180));
            let what = format!("{attack} as {user}, unprivileged host user");
            assert!(
                out.contains(&format!("hostile {attack} done")),
                "{what}\n{out}"
            );
            assert!(!out.contains("SUCCEEDED"), "{what}\n{out}");
            assert_eq!(status, 0, "{what}\n{out}");
            assert_untouched(&proof, &what, &out);
        }
    }
    g.run("sleep 30 &");
    assert_confined_unprivileged(g.pid(), 2);
    assert_eq!(g.run("echo still serving").trim(), "still serving");
    g.send("poweroff -f\n");
    let st = g.wait_exit(Duration::from_secs(60)).expect("poweroff");
    assert_eq!(st.code(), Some(0), "{}", g.output());
}

/// An unprivileged guest user using up fds, processes, memory, the root
/// tmpfs and /dev/shm gets errors (or its hog is OOM-killed), and the
/// kernel, and root's shell, keep working.
#[test]
fn exhaustion_as_a_user_leaves_the_kernel_serving() {
    let initrd = hostile_initrd("exhaust");
    let proof = proof_path("exhaust-proof");
    let mut g = Guest::boot_initramfs(&initrd, &["mem=128M"]);
    g.wait_prompt();
    let cmd = as_user(
        "nobody",
        &format!("/bin/hostile {} exhaust /tmp /dev/shm", proof.display()),
    );
    let (out, status) = g.run_status_timeout(&cmd, Duration::from_secs(300));
    assert!(
        out.contains("hostile exhaust done"),
        "{out}\n{}",
        g.output()
    );
    assert!(!out.contains("SUCCEEDED"), "{out}");
    for what in ["fds", "pids", "memory", "/tmp", "/dev/shm"] {
        assert!(
            out.contains(&format!("ATTACK exhaust {what}: refused")),
            "{what}: {out}"
        );
    }
    assert_eq!(status, 0, "{out}");
    assert_untouched(&proof, "exhaust", &out);
    // Everything was given back: root can fork, allocate and write again.
    assert_eq!(g.run("echo still serving").trim(), "still serving");
    let out = g.run("dd if=/dev/zero of=/tmp/after bs=1M count=16 2>&1; rm /tmp/after; echo rc=$?");
    assert!(out.contains("rc=0"), "{out}");
    assert!(!g.output().contains("Kernel panic"), "{}", g.output());
    g.send("poweroff -f\n");
    g.wait_exit(Duration::from_secs(60)).expect("poweroff");
}

/// The seccomp platform (`platform=seccomp`): a guest thread that jumps to
/// every `syscall` instruction of the stub with registers of its choice
/// (through the test hook, which sets them and resumes it there), or that
/// scribbles over its request slot and signal stack, gets no host system
/// call: the process is killed or only the handler's own futex and
/// rt_sigreturn run. The existing escape attempts fail the same way.
#[test]
fn seccomp_platform_stub_sites_and_request_slot() {
    let initrd = hostile_initrd("secsites");
    let proof = proof_path("secsites-proof");
    let initrd_arg = format!("initrd={}", initrd.display());
    let mut g = Guest::boot_with_env(
        &["mem=256M", &initrd_arg, "platform=seccomp"],
        &[("RUML_TEST_HOST_SYSCALL", "1")],
    );
    g.wait_prompt();
    for user in ["nobody", "root"] {
        for attack in ["stubsites", "slot", "data", "race", "jump"] {
            let cmd = as_user(user, &format!("/bin/hostile {} {attack}", proof.display()));
            let (out, status) = g.run_status_timeout(&cmd, Duration::from_secs(300));
            let what = format!("{attack} as {user}, seccomp platform");
            assert!(
                out.contains(&format!("hostile {attack} done")),
                "{what}: did not finish\n{out}"
            );
            assert!(!out.contains("SUCCEEDED"), "{what}\n{out}");
            assert!(out.contains("ATTACK "), "{what}: no attack ran\n{out}");
            assert_eq!(status, 0, "{what}\n{out}");
            assert_untouched(&proof, &what, &out);
            assert_eq!(g.run("echo still serving").trim(), "still serving");
            if attack == "stubsites" {
                // Every jump was killed by the filter (the hook is on).
                assert!(
                    out.contains("(105 jumps, 105 killed by SIGSYS)"),
                    "{what}\n{out}"
                );
            }
        }
    }
    assert!(!g.output().contains("Kernel panic"), "{}", g.output());
    g.send("poweroff -f\n");
    g.wait_exit(Duration::from_secs(60)).expect("poweroff");
}
