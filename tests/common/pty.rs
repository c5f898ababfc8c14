//! The boot-test harness on a host pseudo-terminal: `Guest::boot_pty`
//! starts `vmlinux` with a host pty as its stdin, stdout and stderr (and as
//! its controlling terminal, in a session of its own), so the console's
//! input is a real terminal the way it is for a person. The test holds the
//! master: it types, reads, resizes, and can inspect the terminal's
//! settings from the host side.

use super::{spawn_reader, verbose, vmlinux, Guest, Output, Shared};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};

/// The host pty a guest runs on.
pub struct HostPty {
    pub master: OwnedFd,
    /// The slave's path, e.g. /dev/pts/3.
    pub slave_path: String,
}

/// Open a host pty pair with a window size; (master, slave, slave path).
pub fn open_pty(rows: u16, cols: u16) -> (OwnedFd, OwnedFd, String) {
    let mut m = -1;
    let mut s = -1;
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: openpty fills the two fds and the name buffer (128 bytes is
    // more than any /dev/pts/N); termios NULL keeps the kernel's defaults.
    let r = unsafe { libc::openpty(&mut m, &mut s, name.as_mut_ptr(), std::ptr::null(), &ws) };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty NUL-terminated the name.
    let path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: both fds are new and ours.
    unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s), path) }
}

/// Set a pty's window size through its master.
pub fn set_winsize(master: &OwnedFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer.
    let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    assert_eq!(r, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
}

/// Run `cmd` on a fresh host pty of `rows`x`cols` as its controlling
/// terminal, return everything it printed (CR NL as NL).
pub fn run_on_host_pty(cmd: &[&str], rows: u16, cols: u16) -> String {
    let (m, s, _) = open_pty(rows, cols);
    let mut c = Command::new(cmd[0]);
    c.args(&cmd[1..]);
    let s_raw = s.as_raw_fd();
    c.stdin(Stdio::from(s.try_clone().unwrap()))
        .stdout(Stdio::from(s.try_clone().unwrap()))
        .stderr(Stdio::from(s.try_clone().unwrap()));
    // SAFETY: setsid and TIOCSCTTY are async-signal-safe; the fd is open
    // in the child.
    unsafe {
        c.pre_exec(move || {
            libc::setsid();
            libc::ioctl(s_raw, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let mut child = c.spawn().expect("spawning on a host pty");
    drop(c);
    drop(s);
    let mut out = Vec::new();
    let mut f = File::from(m);
    let mut buf = [0u8; 4096];
    loop {
        use std::io::Read;
        match f.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let _ = child.wait();
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

impl Guest {
    /// Start `vmlinux` with these words on a new `rows`x`cols` host pty.
    /// `con0=fd:0,fd:1` is added unless a `con=`/`con0=` word is given.
    pub fn boot_pty(args: &[&str], rows: u16, cols: u16) -> Guest {
        Guest::boot_pty_with(args, rows, cols, |_| {})
    }

    /// Like `boot_pty`, calling `prepare` with the pty's slave path before
    /// vmlinux starts (to set up the host terminal).
    pub fn boot_pty_with(args: &[&str], rows: u16, cols: u16, prepare: impl FnOnce(&str)) -> Guest {
        Guest::spawn_pty_with(&vmlinux(), args, &[], rows, cols, prepare)
    }

    /// Start `program` (vmlinux, or linux.uml for comparisons) with these
    /// words and extra environment on a new `rows`x`cols` host pty, as
    /// `boot_pty` does.
    pub fn spawn_pty(
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        rows: u16,
        cols: u16,
    ) -> Guest {
        Guest::spawn_pty_with(program, args, env, rows, cols, |_| {})
    }

    fn spawn_pty_with(
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        rows: u16,
        cols: u16,
        prepare: impl FnOnce(&str),
    ) -> Guest {
        let (master, slave, slave_path) = open_pty(rows, cols);
        prepare(&slave_path);
        let mut cmd = Command::new(program);
        cmd.args(args);
        cmd.envs(env.iter().copied());
        if !args
            .iter()
            .any(|a| a.starts_with("con0=") || a.starts_with("con="))
        {
            cmd.arg("con0=fd:0,fd:1");
        }
        let s_raw = slave.as_raw_fd();
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        // SAFETY: setsid and TIOCSCTTY are async-signal-safe; the slave fd
        // is open in the child.
        unsafe {
            cmd.pre_exec(move || {
                libc::setsid();
                libc::ioctl(s_raw, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        if verbose() {
            let _ = writeln!(
                std::io::stderr(),
                "[harness] booting on {slave_path}: {cmd:?}"
            );
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {}", program.display(), e));
        drop(cmd);
        // Only vmlinux holds the slave now: when it exits, reads of the
        // master end and the reader counts end of file.
        drop(slave);
        let out: Shared = Arc::new((
            Mutex::new(Output {
                // One reader instead of two (stdout, stderr).
                eof: 1,
                ..Default::default()
            }),
            Condvar::new(),
        ));
        let reader = File::from(master.try_clone().expect("dup master"));
        spawn_reader(reader, out.clone(), false);
        let writer = File::from(master.try_clone().expect("dup master"));
        Guest {
            child,
            stdin: Some(Box::new(writer)),
            pty: Some(HostPty { master, slave_path }),
            out,
            mark: 0,
            status: None,
        }
    }

    /// The host pty of a guest started with `boot_pty`.
    pub fn host_pty(&self) -> &HostPty {
        self.pty.as_ref().expect("guest not started with boot_pty")
    }

    /// Resize the host terminal the way a terminal emulator does: set the
    /// pty's size and send SIGWINCH to vmlinux.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        set_winsize(&self.host_pty().master, rows, cols);
        self.kill(libc::SIGWINCH);
    }

    /// The host terminal's settings as `stty -g` prints them.
    pub fn host_stty_g(&self) -> String {
        stty_g(&self.host_pty().slave_path)
    }
}

/// `stty -g` of the terminal at `path`, run on the host.
pub fn stty_g(path: &str) -> String {
    let out = Command::new("stty")
        .arg("-g")
        .arg("-F")
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("running host stty");
    assert!(out.status.success(), "host stty -F {path}: {:?}", out);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
