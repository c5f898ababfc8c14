//! Host half of `xterm` console channels, as in UML: a terminal emulator
//! window whose tty becomes the line. We bind a datagram socket in a
//! private temporary directory and run `TERMINAL TITLE_SWITCH TITLE
//! EXEC_SWITCH port-helper -uml-socket SOCKET`; port-helper (uml-utilities)
//! sends its stdin, the window's tty, back over the socket (SCM_RIGHTS,
//! with its pid as the data). The line then reads and writes that tty.

use crate::init::cmdline::XtermSpec;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where Debian's uml-utilities installs port-helper; like UML, a plain
/// `port-helper` (found in $PATH) is run when it is not there.
const PORT_HELPER: &str = "/usr/lib/uml/port-helper";
/// How long a window may take to connect. A slow X server may need a few
/// seconds; past this the line stays unconnected and boot goes on.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// port-helper pids, killed when vmlinux ends so that the windows close
/// (UML does the same). Fixed slots: read from signal handlers.
static HELPERS: [AtomicI32; 128] = [const { AtomicI32::new(0) }; 128];
/// Host fds that are xterm windows' ttys (raw already, nothing to restore).
static TTYS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Is host fd `fd` an xterm window's tty that this module opened?
pub fn is_xterm_tty(fd: i32) -> bool {
    TTYS.lock().unwrap_or_else(|e| e.into_inner()).contains(&fd)
}

/// Kill every port-helper: their windows close. Async-signal-safe.
pub fn kill_helpers() {
    for slot in &HELPERS {
        let pid = slot.swap(0, Ordering::SeqCst);
        // Never 0, -1 or 1: kill(2) would reach a group or init.
        if pid > 1 {
            // kill(2) is async-signal-safe (nix adds only an errno read);
            // the pid is a port-helper that told us its pid over our
            // private socket.
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// A private directory (mode 0700) for the socket, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let template = std::env::temp_dir().join("ruml-xterm-XXXXXX");
        let path = nix::unistd::mkdtemp(&template)
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Open a terminal window titled `title` with `spec`'s emulator and return
/// its tty (raw, close-on-exec). Blocks until the window connects, the
/// emulator fails, or [`CONNECT_TIMEOUT`].
pub fn open(spec: &XtermSpec, title: &str) -> Result<i32, String> {
    // As UML: without a display no window can appear; say so at once
    // rather than after the timeout.
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err("xterm channel: $DISPLAY is not set".into());
    }
    let dir = TempDir::new()?;
    let sock_path = dir.0.join("socket");
    let sock = UnixDatagram::bind(&sock_path)
        .map_err(|e| format!("xterm channel: binding {}: {e}", sock_path.display()))?;
    let helper = if Path::new(PORT_HELPER).exists() {
        PORT_HELPER
    } else {
        "port-helper"
    };
    let mut child = Command::new(&spec.terminal)
        .arg(&spec.title_switch)
        .arg(title)
        .arg(&spec.exec_switch)
        .arg(helper)
        .arg("-uml-socket")
        .arg(&sock_path)
        // Our stdin and stdout may be con0: keep the emulator off them;
        // its complaints go to stderr for the user.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start terminal emulator '{}': {e}", spec.terminal))?;
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let mut exited = false;
    let result = loop {
        match wait_readable(&sock, Duration::from_millis(200)) {
            Ok(true) => break receive_tty(&sock),
            Ok(false) => {}
            Err(e) => break Err(format!("xterm channel: poll: {e}")),
        }
        if !exited {
            match child.try_wait() {
                // Launchers (gnome-terminal) ask a server for the window
                // and exit 0 at once: keep waiting for the tty.
                Ok(Some(st)) if st.success() => exited = true,
                Ok(Some(st)) => {
                    break Err(format!(
                        "terminal emulator '{}' failed ({st}) before connecting",
                        spec.terminal
                    ))
                }
                _ => {}
            }
        }
        if Instant::now() >= deadline {
            break Err(format!(
                "no window connected within {}s: '{}' did not run {helper} \
                 (is uml-utilities installed?)",
                CONNECT_TIMEOUT.as_secs(),
                spec.terminal
            ));
        }
    };
    if result.is_err() && !exited {
        let _ = child.kill();
    }
    // Reap the emulator whenever it ends; no zombie is left behind.
    std::thread::Builder::new()
        .name("xterm-reap".into())
        .spawn(move || {
            let _ = child.wait();
        })
        .ok();
    let (fd, pid) = result?;
    if pid > 1 {
        // The first free slot takes it (more windows than slots: those
        // helpers outlive us, as they do a SIGKILLed UML).
        let _ = HELPERS.iter().any(|s| {
            s.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
    }
    make_raw(fd);
    TTYS.lock().unwrap_or_else(|e| e.into_inner()).push(fd);
    Ok(fd)
}

fn wait_readable(sock: &UnixDatagram, timeout: Duration) -> std::io::Result<bool> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    match poll(&mut [PollFd::new(sock.as_fd(), PollFlags::POLLIN)], timeout) {
        Ok(n) => Ok(n > 0),
        Err(nix::errno::Errno::EINTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Take port-helper's message: its pid as data, the tty as SCM_RIGHTS.
/// Returns (fd, pid).
fn receive_tty(sock: &UnixDatagram) -> Result<(i32, i32), String> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{AsRawFd, RawFd};
    let mut pid = [0u8; 4];
    let mut iov = [std::io::IoSliceMut::new(&mut pid)];
    // Room for a few fds: extras (there should be none) are closed.
    let mut cbuf = nix::cmsg_space!([RawFd; 8]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cbuf),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| format!("xterm channel: recvmsg: {}", std::io::Error::from(e)))?;
    let n = msg.bytes;
    let mut fds = Vec::new();
    for c in msg
        .cmsgs()
        .map_err(|e| format!("xterm channel: recvmsg: {e}"))?
    {
        if let ControlMessageOwned::ScmRights(got) = c {
            fds.extend(got);
        }
    }
    let Some((&fd, rest)) = fds.split_first() else {
        return Err("xterm channel: the window's helper sent no terminal".into());
    };
    for &extra in rest {
        // Fds we just received and do not use.
        let _ = nix::unistd::close(extra);
    }
    let pid = if n == pid.len() {
        i32::from_ne_bytes(pid)
    } else {
        0
    };
    Ok((fd, pid))
}

/// Raw mode on the window's tty: the guest's tty layer does the line
/// discipline. Not saved for restoring: the window goes away with us.
fn make_raw(fd: i32) {
    // SAFETY: zeroed plain struct filled by tcgetattr; valid fd.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(fd, libc::TCSANOW, &t);
        }
    }
}
