//! The gdb server for guest processes (`gdbport=PORT`): host gdb attaches
//! to a guest process over `target extended-remote`, sets a breakpoint,
//! reads and writes memory, lists threads, steps and runs it to its exit.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

const GDB: &str = "/usr/bin/gdb";

fn have_gdb() -> bool {
    if Path::new(GDB).exists() {
        return true;
    }
    eprintln!("skipping: {GDB} is missing (apt-get install gdb)");
    false
}

/// A port nobody listens on now (the kernel picks it).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a probe socket");
    l.local_addr().unwrap().port()
}

/// A gdb batch session on the target: the connect-and-attach preamble,
/// then `commands`, written to a script next to the binary.
struct Session {
    script: std::path::PathBuf,
}

impl Session {
    fn new(port: u16, bin: &Path, pid: u32, commands: &[&str]) -> Session {
        let script = bin.with_file_name("session.gdb");
        let mut text = format!(
            "set pagination off\n\
             set confirm off\n\
             target extended-remote 127.0.0.1:{port}\n\
             attach {pid}\n\
             file {}\n",
            bin.display()
        );
        for c in commands {
            text.push_str(c);
            text.push('\n');
        }
        std::fs::write(&script, text).unwrap();
        Session { script }
    }

    /// Start gdb on the script (killed after 180 s whatever happens).
    fn spawn(&self) -> std::process::Child {
        Command::new("timeout")
            .args(["-s", "KILL", "180", GDB, "-nx", "-batch", "-x"])
            .arg(&self.script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running gdb")
    }

    /// Run it to the end: gdb's stdout and stderr together.
    fn run(&self) -> String {
        finish(self.spawn())
    }
}

/// Wait for gdb; its output (shown with RUML_TEST_VERBOSE).
fn finish(child: std::process::Child) -> String {
    let res = child.wait_with_output().expect("waiting for gdb");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    if std::env::var_os("RUML_TEST_VERBOSE").is_some() {
        eprintln!("gdb output:\n{out}");
    }
    out
}

/// Boot a guest with the gdb server and start gdb_target in the
/// background; returns the guest, the port, the binary and its pid.
fn start_target(name: &str) -> (Guest, u16, std::path::PathBuf, u32) {
    let dir = test_dir(name);
    let bin = dir.join("gdb_target");
    compile_c(
        &repo_root().join("tests/guest/gdb_target.c"),
        &bin,
        &["-O0", "-g", "-static"],
    );
    let initrd = build_initramfs(&format!("{name}-initrd"), &[(&bin, "/bin/gdb_target")]);
    let port = free_port();
    let mut g = Guest::boot_initramfs(&initrd, &[&format!("gdbport={port}")]);
    g.wait_prompt();
    g.send("/bin/gdb_target &\n");
    g.expect("gdb_target pid ", RUN_TIMEOUT);
    let line = g.expect("\n", RUN_TIMEOUT);
    let pid: u32 = line.trim().parse().expect("gdb_target's pid");
    (g, port, bin, pid)
}

#[test]
fn gdb_breaks_steps_and_runs_a_guest_program_to_exit() {
    if !have_gdb() {
        return;
    }
    let (mut g, port, bin, pid) = start_target("gdbstub");
    let commands = [
        "info threads",
        "break compute",
        "set var go = 1",
        "continue",
        "print n",
        "bt",
        "next",
        "print total",
        "step",
        "step",
        "info locals",
        "finish",
        "continue",
    ];
    let out = Session::new(port, &bin, pid, &commands).run();
    let ctx = format!("gdb output:\n{out}");
    // Two threads of the process: main and the sleeper.
    assert!(
        out.matches(&format!("Thread {pid}.")).count() >= 2,
        "thread list: {ctx}"
    );
    assert!(out.contains("Breakpoint 1, compute (n=5)"), "{ctx}");
    assert!(out.contains("$1 = 5"), "print n: {ctx}");
    assert!(
        out.contains("#1 ") && out.contains("in main ()"),
        "bt: {ctx}"
    );
    assert!(out.contains("$2 = 0"), "print total after next: {ctx}");
    assert!(out.contains("Value returned is $3 = 55"), "finish: {ctx}");
    assert!(
        out.contains(&format!("[Inferior 1 (process {pid}) exited normally]")),
        "{ctx}"
    );
    // The program ran on as it would have: its own output is right.
    g.expect("compute(5) = 55", RUN_TIMEOUT);
    g.expect("gdb_target done", RUN_TIMEOUT);
    let st = g.run("echo alive");
    assert!(st.contains("alive"));
}

#[test]
fn gdb_sees_signals_and_detaches() {
    if !have_gdb() {
        return;
    }
    let (mut g, port, bin, pid) = start_target("gdbstub-signals");
    let commands = ["set var go = 2", "continue", "continue", "detach"];
    let out = Session::new(port, &bin, pid, &commands).run();
    let ctx = format!("gdb output:\n{out}");
    assert!(out.contains("received signal SIGUSR1"), "{ctx}");
    assert!(out.contains("received signal SIGUSR2"), "{ctx}");
    assert!(
        out.contains(&format!("[Inferior 1 (process {pid}) detached]")),
        "{ctx}"
    );
    // SIGUSR1 was passed on to the handler; SIGUSR2 (it would kill) not.
    g.expect("handled SIGUSR1", RUN_TIMEOUT);
    g.expect("after detach", RUN_TIMEOUT);
    g.expect("gdb_target done", RUN_TIMEOUT);
}

#[test]
fn gdb_interrupts_a_running_process_and_kills_it() {
    if !have_gdb() {
        return;
    }
    let (mut g, port, bin, pid) = start_target("gdbstub-intr");
    let commands = ["set var go = 3", "continue", "print spins > 0", "kill"];
    let child = Session::new(port, &bin, pid, &commands).spawn();
    // The program spins; gdb waits in `continue`: a ctrl-C (SIGINT to
    // gdb) is sent to the server, which stops the process.
    g.expect("spinning", RUN_TIMEOUT);
    let gdb_pid = gdb_child_of(child.id());
    let _ = Command::new("kill")
        .args(["-INT", &gdb_pid.to_string()])
        .status();
    let out = finish(child);
    let ctx = format!("gdb output:\n{out}");
    assert!(out.contains("received signal SIGINT"), "{ctx}");
    assert!(out.contains("$1 = 1"), "the loop ran: {ctx}");
    // Killed: the shell reaps it, and the pid is gone.
    let (_, st) = g.run_status(&format!("sleep 1; kill -0 {pid}"));
    assert_ne!(st, 0, "process {pid} still exists");
}

/// The gdb that `timeout` (pid `parent`) started.
fn gdb_child_of(parent: u32) -> u32 {
    for _ in 0..200 {
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        if let Some(p) = children.split_whitespace().next() {
            return p.parse().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("timeout started no gdb");
}
