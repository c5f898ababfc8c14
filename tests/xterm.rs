//! `xterm` console channels without an X server: `xterm=FAKE,-T,-e` makes
//! vmlinux run a stand-in terminal emulator (a python script) that runs
//! port-helper on a fresh pty, as xterm would, and types into the window
//! from the pty's master side. Needs uml-utilities' port-helper.

mod common;

use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

const PORT_HELPER: &str = "/usr/lib/uml/port-helper";

/// The stand-in emulator: `FAKE -T TITLE -e PROGRAM ARGS...`. It records
/// its title and port-helper's pid, answers the first shell prompt in its
/// window with a command, and logs the window's output. It leaves vmlinux's
/// process group and ends (killing port-helper) once vmlinux is gone, so a
/// failed test leaves nothing behind.
const FAKE: &str = r##"#!/usr/bin/env python3
import os, pty, select, signal, sys, time
log = os.environ["FAKE_XTERM_DIR"]
a = sys.argv[1:]
assert a[0] == "-T" and a[2] == "-e", a
parent = os.getppid()
os.setsid()
pid, m = pty.fork()
if pid == 0:
    os.execvp(a[3], a[3:])
open(log + "/title", "w").write(a[1])
open(log + "/helper.pid", "w").write(str(pid))
out = open(log + "/window", "ab")
seen, sent = b"", False
end = time.time() + 300
while time.time() < end and os.getppid() == parent:
    r, _, _ = select.select([m], [], [], 0.5)
    if m in r:
        try:
            d = os.read(m, 4096)
        except OSError:
            break
        if not d:
            break
        seen += d
        out.write(d)
        out.flush()
    if not sent and b"# " in seen:
        os.write(m, b"echo hi-from-xterm > /tmp/x\r")
        sent = True
try:
    os.kill(pid, signal.SIGKILL)
except OSError:
    pass
"##;

fn pid_alive(pid: i32) -> bool {
    // A zombie counts as gone: the fake emulator may not reap it.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn xterm_channel_connects_a_window_to_the_line() {
    if !Path::new(PORT_HELPER).exists() {
        eprintln!("skipping: {PORT_HELPER} is missing (Debian package uml-utilities)");
        return;
    }
    // Not "xterm": build_initramfs empties its own test_dir.
    let dir = test_dir("xterm-host");
    let fake = dir.join("fake-xterm");
    std::fs::write(&fake, FAKE).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let initrd = build_initramfs("xterm", &[]);
    let xterm_word = format!("xterm={},-T,-e", fake.display());
    let initrd_word = format!("initrd={}", initrd.display());
    let dir_s = dir.display().to_string();
    let mut g = Guest::boot_with_env(
        &["mem=256M", &initrd_word, "con1=xterm", &xterm_word],
        &[("DISPLAY", ":ruml-test"), ("FAKE_XTERM_DIR", &dir_s)],
    );
    g.wait_prompt();
    assert!(
        !g.output().contains("not connected"),
        "con1 was not connected:\n{}",
        g.output()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("title")).unwrap(),
        "Virtual Console #1"
    );
    // A shell in the window (/dev/tty1); the fake types a command there.
    g.send("setsid sh -c 'exec sh </dev/tty1 >/dev/tty1 2>&1' &\n");
    let (out, _) = g.run_status_timeout(
        "i=0; while [ ! -s /tmp/x ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done; cat /tmp/x",
        Duration::from_secs(180),
    );
    assert!(
        out.contains("hi-from-xterm"),
        "the command typed in the window did not run: {out:?}\nwindow: {:?}",
        std::fs::read_to_string(dir.join("window")).unwrap_or_default()
    );
    // Guest output reaches the window: the shell echoed the command.
    let window = std::fs::read_to_string(dir.join("window")).unwrap_or_default();
    assert!(window.contains("echo hi-from-xterm"), "window: {window:?}");

    // At poweroff vmlinux kills port-helper, which closes the window.
    let helper: i32 = std::fs::read_to_string(dir.join("helper.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(helper), "port-helper {helper} is not running");
    g.send("poweroff -f\n");
    assert!(
        g.wait_exit(RUN_TIMEOUT).is_some(),
        "vmlinux did not power off"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while pid_alive(helper) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!pid_alive(helper), "port-helper {helper} outlived vmlinux");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn xterm_channel_without_a_window_leaves_the_line_unconnected() {
    let dir = test_dir("xterm-fail-host");
    let initrd = build_initramfs("xterm-fail", &[]);
    let initrd_word = format!("initrd={}", initrd.display());
    let missing = format!("xterm={},-T,-e", dir.join("no-such-terminal").display());
    let mut g = Guest::boot_with_env(
        &["mem=256M", &initrd_word, "con1=xterm", &missing],
        &[("DISPLAY", ":ruml-test")],
    );
    // The guest boots on, and says why con1 has no window.
    g.wait_prompt();
    let out = g.output();
    assert!(
        out.contains("Virtual console 1: cannot start terminal emulator")
            && out.contains("the line is not connected"),
        "{out}"
    );
    assert_eq!(g.run("echo still-here"), "still-here\n");
    let _ = std::fs::remove_dir_all(&dir);
}
