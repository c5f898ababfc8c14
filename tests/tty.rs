//! Terminals: job control in an interactive shell, termios defaults (against
//! a host pty and against linux.uml on the same image and console),
//! full-screen programs, window size, console channels on host ptys and
//! TCP ports, file input, host terminal restoration, guest ptys, dmesg.
//! Most guests run on a host pty (`Guest::boot_pty`) as a person's would.

mod common;

use common::pty::{open_pty, run_on_host_pty, stty_g};
use common::*;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_secs(20);

fn initrd(name: &str) -> PathBuf {
    build_initramfs(name, &[])
}

/// A guest on a host pty, at its first prompt.
fn pty_guest(name: &str, extra: &[&str]) -> Guest {
    let initrd = initrd(name);
    let arg = format!("initrd={}", initrd.display());
    let mut args = vec!["mem=256M", arg.as_str()];
    args.extend_from_slice(extra);
    let mut g = Guest::boot_pty(&args, 24, 80);
    g.wait_prompt();
    g
}

/// Start an interactive shell with job control: a new session whose
/// controlling tty is the console line (/dev/tty0, the same terminal as
/// /dev/console, which itself never becomes a controlling tty).
fn job_control_shell(g: &mut Guest) {
    g.send("setsid -c sh </dev/tty0 >/dev/tty0 2>&1\n");
    assert_eq!(
        g.run("echo $$ $(cat /proc/$$/stat | cut -d' ' -f6)")
            .split_whitespace()
            .count(),
        2
    );
}

/// Wait until `jobs` shows a job in `state`.
fn wait_job_state(g: &mut Guest, state: &str) {
    for _ in 0..40 {
        if g.run("jobs").contains(state) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("no job {state:?}:\n{}", g.output());
}

/// Start a foreground job and wait until it runs.
fn start_job(g: &mut Guest) {
    g.send("sh -c 'echo JOB\"\"READY; exec sleep 100'\n");
    g.expect("JOBREADY", SHORT);
}

/// ^C until the shell answers again (a ^C that lands before the job owns
/// the terminal only reaches the shell, and flushes what was typed).
fn interrupt(g: &mut Guest) {
    for k in 0..20 {
        g.send("\x03");
        std::thread::sleep(Duration::from_millis(200));
        g.send(&format!("echo INT''R_{k}\n"));
        if g.try_expect(&format!("INTR_{k}"), Duration::from_secs(2))
            .is_some()
        {
            return;
        }
    }
    panic!("^C did not end the job:\n{}", g.output());
}

#[test]
fn job_control_in_setsid_shell() {
    let mut g = pty_guest("tty-jobs", &[]);
    let start = g.output().len();
    job_control_shell(&mut g);
    let shell_start = g.output()[start..].to_string();
    assert!(
        !shell_start.contains("can't access tty"),
        "job control is off in the setsid shell:\n{shell_start}"
    );
    // ^C ends the foreground job and the shell prompts again.
    start_job(&mut g);
    interrupt(&mut g);
    assert_eq!(g.run("echo after-intr").trim(), "after-intr");
    // ^Z stops it; jobs lists it; fg resumes it; ^C ends it. The job says
    // when SIGCONT reached it: fg prints the job before it gives it the
    // terminal, and a ^C in between only interrupts the shell's fg (as on
    // Linux), leaving the job stopped.
    g.send(
        "sh -c 'trap \"echo RESU\"\"MED\" CONT; echo JOB\"\"READY; while :; do sleep 0.1; done'\n",
    );
    g.expect("JOBREADY", SHORT);
    g.send("\x1a");
    g.expect("Stopped", SHORT);
    let jobs = g.run("jobs");
    assert!(jobs.contains("sleep 0.1"), "jobs: {jobs:?}");
    g.send("fg\n");
    g.expect("RESUMED", SHORT);
    interrupt(&mut g);
    assert_eq!(g.run("jobs; echo none-left").trim(), "none-left");
    // A background reader of the terminal is stopped with SIGTTIN.
    g.send("cat &\n");
    wait_job_state(&mut g, "Stopped (tty input)");
    // A background writer is stopped with SIGTTOU only with tostop.
    assert!(g.run("(echo bg-output) & wait").contains("bg-output"));
    g.run("stty tostop; echo bg-write &");
    wait_job_state(&mut g, "Stopped (tty output)");
    g.run("stty -tostop");
    // The shell's exit hangs up the terminal: the stopped jobs get SIGHUP
    // and SIGCONT and die; the init shell carries on.
    g.send("exit\n");
    g.expect("stopped jobs", SHORT);
    g.send("exit\n");
    // The hangup discards typed-ahead input, as in Linux: wait for it.
    std::thread::sleep(Duration::from_secs(1));
    let ps = g.run("ps");
    assert!(!ps.contains(" cat"), "cat survived the hangup:\n{ps}");
    assert_eq!(g.run("echo init-alive").trim(), "init-alive");
}

/// Every `stty -a` line but the first (speed, rows, columns).
fn settings(stty_a: &str) -> Vec<String> {
    let start = stty_a
        .find("intr =")
        .unwrap_or_else(|| panic!("no stty -a output in {stty_a:?}"));
    stty_a[start..]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn stty_defaults_match_linux() {
    // The reference: Linux's defaults on a fresh host pty, printed by the
    // same busybox stty the guest has.
    let host = run_on_host_pty(&["busybox", "stty", "-a"], 24, 80);
    let host_sane = run_on_host_pty(&["sh", "-c", "busybox stty sane; busybox stty -a"], 24, 80);
    let mut g = pty_guest("tty-stty", &[]);
    let guest = g.run("stty -a");
    assert!(guest.contains("rows 24; columns 80"), "{guest}");
    // Console lines start from tty_std_termios, which has HUPCL; pty
    // slaves (the host reference) do not.
    let mut want = settings(&host);
    for w in want.iter_mut() {
        if w == "-hupcl" {
            *w = "hupcl".into();
        }
    }
    assert_eq!(settings(&guest), want, "guest:\n{guest}\nhost:\n{host}");
    let guest_sane = g.run("stty sane; stty -a");
    let mut want = settings(&host_sane);
    for w in want.iter_mut() {
        if w == "-hupcl" {
            *w = "hupcl".into();
        }
    }
    assert_eq!(
        settings(&guest_sane),
        want,
        "guest:\n{guest_sane}\nhost:\n{host_sane}"
    );
}

/// What the console shell of `program` booted from the busybox ext4
/// image `img` (read-only, so every boot sees the same disk) on a fresh
/// 24x80 host pty, with `con0=fd:0,fd:1` and `extra` words, sees: `stty -a`,
/// and the controlling tty in /proc/PID/stat of a foreground command and of
/// init (`tty_nr`, and whether `tpgid` is the command's process group).
fn console_view(
    program: &std::path::Path,
    env: &[(&str, &str)],
    img: &std::path::Path,
    extra: &[&str],
) -> (String, String) {
    let ubd = format!("ubd0r={}", img.display());
    let mut args = vec![
        "mem=128M",
        ubd.as_str(),
        "root=/dev/ubda",
        "con0=fd:0,fd:1",
        "con=null",
        "ssl=null",
        // No kernel messages in the middle of what the shell prints.
        "quiet",
    ];
    args.extend_from_slice(extra);
    let mut g = Guest::spawn_pty(program, &args, env, 24, 80);
    g.wait_prompt();
    let stty = g.run("stty -a");
    // init=/bin/sh has not mounted /proc.
    g.run("[ -e /proc/self ] || mount -t proc proc /proc");
    let stat = g.run("cut -d' ' -f5,7,8 /proc/self/stat; cut -d' ' -f7,8 /proc/1/stat");
    // Only the numbers: a typed-ahead marker echoed late may ride along.
    let w: Vec<&str> = stat
        .split_whitespace()
        .filter(|x| x.parse::<i64>().is_ok())
        .collect();
    assert_eq!(w.len(), 5, "{stat:?}");
    let ctty = format!(
        "tty_nr {} foreground {}; init: {} {}",
        w[1],
        w[0] == w[2],
        w[3],
        w[4]
    );
    g.send("poweroff -f\n");
    // Not asserted: only what was seen is compared; drop kills what is left.
    let _ = g.wait_exit(Duration::from_secs(30));
    (stty, ctty)
}

#[test]
fn console_matches_uml_on_the_same_image() {
    if !std::path::Path::new(UML).exists() {
        eprintln!("skipping: {UML} is not installed (apt-get install user-mode-linux)");
        return;
    }
    let img = build_ext4("tty-uml-stty", "ext4", "64M", &[]);
    let shim = uml_shim("tty-uml-shim");
    let preload = shim.display().to_string();
    let uml_env = [("LD_PRELOAD", preload.as_str())];
    // init=/bin/sh: the shell runs on the kernel's console defaults, with
    // no controlling tty. busybox init: init has set the console up
    // (set_sane_term) and given the shell its controlling tty (TIOCSCTTY
    // on /dev/console): con0, /dev/tty0, device 4:0.
    for (extra, ctty) in [
        (
            &["init=/bin/sh"][..],
            "tty_nr 0 foreground false; init: 0 -1",
        ),
        (&[][..], "tty_nr 1024 foreground true; init: 0 -1"),
    ] {
        let (uml, uml_ctty) = console_view(std::path::Path::new(UML), &uml_env, &img, extra);
        let (ruml, ruml_ctty) = console_view(&vmlinux(), &[], &img, extra);
        // The first line differs on purpose: UML reports no window size
        // until the host sends SIGWINCH; ruml has the host terminal's.
        assert!(ruml.contains("rows 24; columns 80"), "{ruml}");
        assert_eq!(
            settings(&ruml),
            settings(&uml),
            "{extra:?}\nruml:\n{ruml}\nlinux.uml:\n{uml}"
        );
        // The two setups really differ: init sets CLOCAL and IXOFF.
        let clocal = settings(&uml).iter().any(|w| w == "clocal");
        assert_eq!(clocal, extra.is_empty(), "{extra:?}: {uml}");
        assert_eq!(uml_ctty, ctty, "linux.uml, {extra:?}");
        assert_eq!(ruml_ctty, ctty, "ruml, {extra:?}");
    }
}

#[test]
fn vi_edits_a_file() {
    let mut g = pty_guest("tty-vi", &[]);
    g.send("vi /tmp/note\n");
    g.expect("/tmp/note", SHORT);
    std::thread::sleep(Duration::from_millis(300));
    g.send("ihello from vi\x1b");
    std::thread::sleep(Duration::from_millis(300));
    g.send(":wq\r");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(g.run("cat /tmp/note").trim(), "hello from vi");
}

#[test]
fn host_resize_reaches_the_guest() {
    let mut g = pty_guest("tty-winch", &[]);
    assert_eq!(g.run("stty size").trim(), "24 80");
    job_control_shell(&mut g);
    // A foreground job hears SIGWINCH.
    g.send("sh -c 'trap \"echo got-winch; exit 0\" WINCH; echo WIN\"\"READY; while :; do sleep 0.1; done'\n");
    g.expect("WINREADY", SHORT);
    g.resize(40, 132);
    g.expect("got-winch", SHORT);
    assert_eq!(g.run("stty size").trim(), "40 132");
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Read from `r` until `needle` shows up; everything read so far.
fn read_until<R: Read>(r: &mut R, needle: &str, what: &str) -> String {
    let deadline = Instant::now() + SHORT;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("{what}: {e}"),
        }
        if String::from_utf8_lossy(&got).contains(needle) {
            return String::from_utf8_lossy(&got).into_owned();
        }
    }
    panic!(
        "{what}: no {needle:?} in {:?}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn second_console_on_a_tcp_port() {
    let port = free_port();
    let word = format!("con1=port:{port}");
    let mut g = pty_guest("tty-port", &[&word]);
    let log = g.output();
    assert!(
        log.contains(&format!(
            "Virtual console 1 assigned device 'port 127.0.0.1:{port}'"
        )),
        "{log}"
    );
    g.run("setsid -c sh </dev/tty1 >/dev/tty1 2>&1 &");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s.write_all(b"echo from-port-$((6*7)); tty\r\n").unwrap();
    let got = read_until(&mut s, "/dev/tty1", "port console");
    assert!(got.contains("from-port-42"), "{got:?}");
    // The first console keeps working.
    assert_eq!(
        g.run("echo console-still-works").trim(),
        "console-still-works"
    );
}

#[test]
fn second_console_on_a_host_pty() {
    let mut g = pty_guest("tty-pts", &["con1=pts"]);
    let log = g.output();
    let tag = "Virtual console 1 assigned device '";
    let at = log
        .find(tag)
        .unwrap_or_else(|| panic!("no pts announced:\n{log}"))
        + tag.len();
    let path = &log[at..at + log[at..].find('\'').unwrap()];
    assert!(path.starts_with("/dev/pts/"), "{path}");
    g.run("setsid -c sh </dev/tty1 >/dev/tty1 2>&1 &");
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(path)
        .unwrap_or_else(|e| panic!("open {path}: {e}"));
    f.write_all(b"echo from-pts-$((6*7)); tty\r").unwrap();
    let got = read_until(&mut f, "/dev/tty1", "pts console");
    assert!(got.contains("from-pts-42"), "{got:?}");
    assert_eq!(
        g.run("echo console-still-works").trim(),
        "console-still-works"
    );
}

#[test]
fn commands_from_a_file_and_output_to_a_file() {
    let initrd = initrd("tty-file");
    let dir = test_dir("tty-file-io");
    let cmds = dir.join("cmds.txt");
    let log = dir.join("out.log");
    std::fs::write(
        &cmds,
        "echo first-$((1+1))\nls /dev/pts\nuname -s\npoweroff -f\n",
    )
    .unwrap();
    let status = std::process::Command::new(vmlinux())
        .arg("mem=256M")
        .arg(format!("initrd={}", initrd.display()))
        .stdin(std::fs::File::open(&cmds).unwrap())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::inherit())
        .status()
        .expect("running vmlinux");
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}\n{out}");
    assert!(out.contains("first-2"), "{out}");
    assert!(out.contains("ptmx"), "{out}");
    assert!(out.contains("\nLinux"), "{out}");
}

#[test]
fn host_terminal_restored_after_sigterm() {
    let initrd = initrd("tty-restore");
    let arg = format!("initrd={}", initrd.display());
    let mut before = String::new();
    // Settings a person might have: not the defaults, so restoring means
    // putting back exactly these.
    let mut g = Guest::boot_pty_with(&["mem=256M", &arg], 24, 80, |path| {
        let ok = std::process::Command::new("stty")
            .args(["-F", path, "-echoctl", "erase", "^H", "iutf8"])
            .status()
            .expect("host stty");
        assert!(ok.success());
        before = stty_g(path);
    });
    g.wait_prompt();
    assert_ne!(
        g.host_stty_g(),
        before,
        "vmlinux did not put the terminal in raw mode"
    );
    g.kill(libc::SIGTERM);
    let status = g.wait_exit(SHORT).expect("vmlinux did not exit on SIGTERM");
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status:?}");
    assert_eq!(g.host_stty_g(), before, "terminal settings not restored");
}

#[test]
fn host_terminal_restored_after_poweroff() {
    let mut g = pty_guest("tty-restore-off", &[]);
    let (_m, _s, fresh) = open_pty(24, 80);
    g.send("poweroff -f\n");
    let status = g.wait_exit(SHORT).expect("vmlinux did not power off");
    assert!(status.success(), "{status:?}");
    assert_eq!(
        g.host_stty_g(),
        stty_g(&fresh),
        "terminal settings not restored"
    );
}

/// The host's util-linux `script` (dynamic glibc; --add brings the
/// libraries along): /dev/ptmx and devpts, a controlling tty for the child,
/// signalfd for SIGCHLD and SIGWINCH, poll on the master and on stdin.
const SCRIPT: &str = "/usr/bin/script";

/// What `script` recorded: the typescript without its "Script started" and
/// "Script done" lines.
fn typescript_body(cat: &str) -> String {
    cat.lines()
        .filter(|l| !l.starts_with("Script started") && !l.starts_with("Script done"))
        .map(|l| format!("{}\n", l.trim_end_matches('\r')))
        .collect()
}

#[test]
fn guest_script_runs_a_command_on_a_pty() {
    assert!(
        std::path::Path::new(SCRIPT).exists(),
        "{SCRIPT} missing (apt-get install bsdutils)"
    );
    let initrd = build_initramfs(
        "tty-script",
        &[(std::path::Path::new(SCRIPT), "/usr/bin/script")],
    );
    let arg = format!("initrd={}", initrd.display());
    let mut g = Guest::boot_pty(&["mem=256M", &arg], 24, 80);
    g.wait_prompt();
    let out = g.run("script -q -c 'echo hi; tty' /tmp/t </dev/null; echo status=$?");
    assert!(out.contains("status=0"), "{out}");
    assert!(out.contains("/dev/pts/0"), "{out}");
    let t = g.run("cat /tmp/t");
    assert!(t.contains("Script started"), "{t:?}");
    assert!(typescript_body(&t).lines().any(|l| l == "hi"), "{t:?}");
    // /proc/PID/stat names the controlling tty (136:0, new_encode_dev)
    // and its foreground group, which is the command's.
    let out = g.run("script -q -c 'cut -d\" \" -f5,7,8 /proc/self/stat' /tmp/p </dev/null");
    let w: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(w.len(), 3, "{out:?}");
    assert_eq!(w[1], "34816", "{out:?}");
    assert_eq!(
        w[0], w[2],
        "tpgid is not the foreground command's group: {out:?}"
    );
    // The child's exit status comes back through SIGCHLD on the signalfd.
    let (_, status) = g.run_status("script -q -e -c 'exit 7' /tmp/e </dev/null");
    assert_eq!(status, 7);
    // A pty slave starts with Linux's pty defaults: the same as a fresh
    // host pty.
    let guest = g.run("script -q -c 'stty -a' /tmp/s </dev/null >/dev/null; cat /tmp/s");
    let host = run_on_host_pty(&["busybox", "stty", "-a"], 24, 80);
    assert_eq!(
        settings(&typescript_body(&guest)),
        settings(&host),
        "guest:\n{guest}\nhost:\n{host}"
    );
    // The devpts node went away with the master.
    assert_eq!(g.run("ls /dev/pts").trim(), "ptmx");

    // Interactive: script puts the console in raw mode, forwards what is
    // typed to the pty and restores the console when the child is done.
    let before = g.run("stty -g");
    assert!(before.trim().starts_with("500:5:"), "{before:?}");
    g.send("script -q -c 'echo CAT''READY; cat' /tmp/c\n");
    g.expect("CATREADY", SHORT);
    g.send("typed-through\n");
    g.expect("typed-through", SHORT);
    g.send("\x04");
    // Typing before script is gone would feed the pty, as in Linux.
    g.expect("# ", SHORT);
    assert_eq!(g.run("echo back").trim(), "back");
    assert_eq!(g.run("stty -g"), before, "console settings not restored");
    let c = typescript_body(&g.run("cat /tmp/c"));
    assert!(
        c.lines().filter(|l| *l == "typed-through").count() == 2,
        "expected the echo and cat's copy:\n{c}"
    );
}
