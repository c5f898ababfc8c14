//! Host half of the console and serial lines: host channels (`fd:N`,
//! `null`, `pts`, `port:[ADDR:]N`). Helper threads read host input into a
//! per-line buffer and raise an interrupt; output is written straight to
//! the host. A terminal given as input is put in raw mode (the guest's tty
//! does the line editing) and restored on every exit: poweroff, panic, and
//! SIGTERM/SIGINT/SIGHUP, whose handlers restore it and exit with 128+sig.
//! Host SIGWINCH reaches the vCPU through a pipe read by a helper thread.

use super::telnet;
use crate::arch::irq;
use crate::init::cmdline::Channel;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// One console or serial line's host side.
pub struct HostLine {
    input: Mutex<Vec<u8>>,
    out: Out,
    /// Host fd whose window size the line follows (-1: none).
    size_fd: i32,
    /// Window size seen on the host, not yet taken by the kernel.
    winsize: Mutex<Option<[u16; 4]>>,
}

enum Out {
    Discard,
    /// A host fd the user gave us: writes may block (it is their terminal,
    /// pipe or file).
    Fd(i32),
    /// Our end of a host pty: writes never block; without a reader on the
    /// other side the output is dropped.
    Pty(i32),
    Port(Arc<Mutex<Vec<TcpStream>>>),
}

/// Saved settings of host terminals we put in raw mode (fd, termios).
/// Fixed slots so the signal handlers can read them without locking.
static SAVED: [OnceLock<(i32, libc::termios)>; 4] = [
    OnceLock::new(),
    OnceLock::new(),
    OnceLock::new(),
    OnceLock::new(),
];
/// Input fds that already have a reader thread.
static READERS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static LINES: Mutex<Vec<Arc<HostLine>>> = Mutex::new(Vec::new());
/// Host window sizes changed (SIGWINCH): re-read them.
static WINCH: AtomicBool = AtomicBool::new(false);
static WINCH_PIPE: AtomicI32 = AtomicI32::new(-1);
/// Some line has input or a new window size for the kernel.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Did any line get input or a window size since the last call?
pub fn take_pending() -> bool {
    PENDING.swap(false, Ordering::SeqCst)
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Write all of `data` to host fd `fd`, waiting while it is full.
fn write_fd(fd: i32, data: &[u8]) {
    let mut off = 0;
    while off < data.len() {
        // SAFETY: writing from a valid buffer to a host fd we were given.
        let r = unsafe { libc::write(fd, data[off..].as_ptr().cast(), data.len() - off) };
        if r < 0 {
            match errno() {
                libc::EINTR => continue,
                libc::EAGAIN => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    continue;
                }
                _ => return,
            }
        }
        off += r as usize;
    }
}

fn winsize_of(fd: i32) -> Option<[u16; 4]> {
    if fd < 0 {
        return None;
    }
    // SAFETY: zeroed plain struct, filled by ioctl.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a winsize.
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } < 0 || ws.ws_row == 0 {
        return None;
    }
    Some([ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel])
}

/// Do host fds `a` and `b` refer to the same file?
fn same_file(a: i32, b: i32) -> bool {
    let id = |fd: i32| {
        // SAFETY: zeroed plain struct, filled by fstat.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat writes a stat for any fd number or fails.
        (unsafe { libc::fstat(fd, &mut st) } == 0).then_some((st.st_dev, st.st_ino))
    };
    matches!((id(a), id(b)), (Some(x), Some(y)) if x == y)
}

fn isatty(fd: i32) -> bool {
    // SAFETY: isatty on a host fd.
    fd >= 0 && unsafe { libc::isatty(fd) } == 1
}

/// Put host terminal `fd` in raw mode, remembering how it was.
fn make_raw(fd: i32) {
    if SAVED.iter().any(|s| s.get().is_some_and(|x| x.0 == fd)) {
        return;
    }
    // SAFETY: zeroed plain struct filled by tcgetattr.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and out pointer.
    if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
        return;
    }
    if !SAVED.iter().any(|s| s.set((fd, t)).is_ok()) {
        log::warn!("console: too many host terminals to restore; leaving fd {fd} as it is");
        return;
    }
    let mut raw = t;
    // SAFETY: cfmakeraw edits the struct in place. It also turns output
    // post-processing off: the guest's tty adds the \r itself.
    unsafe { libc::cfmakeraw(&mut raw) };
    // SAFETY: valid fd and termios.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) };
}

/// Put every host terminal back as we found it, and close the xterm
/// windows of `xterm` channels. Async-signal-safe.
pub fn restore_terminal() {
    super::xterm::kill_helpers();
    for s in &SAVED {
        if let Some((fd, t)) = s.get() {
            // SAFETY: valid fd and saved termios; tcsetattr is
            // async-signal-safe.
            unsafe { libc::tcsetattr(*fd, libc::TCSANOW, t) };
        }
    }
}

extern "C" fn on_fatal_signal(sig: libc::c_int) {
    restore_terminal();
    crate::drivers::mconsole::cleanup();
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(128 + sig) };
}

extern "C" fn on_sigwinch(_: libc::c_int) {
    WINCH.store(true, Ordering::SeqCst);
    let fd = WINCH_PIPE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) of one byte from a static buffer is
        // async-signal-safe; a full pipe already has a wakeup in it.
        unsafe { libc::write(fd, b"w".as_ptr().cast(), 1) };
    }
}

/// Install the host signal handlers: SIGTERM, SIGINT and SIGHUP restore
/// the terminal and exit with 128+sig; SIGWINCH updates window sizes.
pub fn install_signal_handlers() {
    use nix::fcntl::OFlag;
    use std::os::fd::IntoRawFd;
    if let Ok((rfd, wfd)) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK) {
        // The write end lives as long as vmlinux; the handler writes to it.
        WINCH_PIPE.store(wfd.into_raw_fd(), Ordering::SeqCst);
        std::thread::Builder::new()
            .name("winch".into())
            .spawn(move || winch_thread(rfd))
            .ok();
    }
    for (sig, handler) in [
        (
            libc::SIGTERM,
            on_fatal_signal as extern "C" fn(i32) as usize,
        ),
        (libc::SIGINT, on_fatal_signal as extern "C" fn(i32) as usize),
        (libc::SIGHUP, on_fatal_signal as extern "C" fn(i32) as usize),
        (libc::SIGWINCH, on_sigwinch as extern "C" fn(i32) as usize),
    ] {
        // SAFETY: installing handlers that only use async-signal-safe calls.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

fn winch_thread(fd: std::os::fd::OwnedFd) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let mut buf = [0u8; 64];
    loop {
        let _ = poll(
            &mut [PollFd::new(fd.as_fd(), PollFlags::POLLIN)],
            PollTimeout::NONE,
        );
        // Drain the (non-blocking) pipe.
        while nix::unistd::read(&fd, &mut buf).is_ok_and(|n| n > 0) {}
        if WINCH.swap(false, Ordering::SeqCst) {
            let lines = LINES.lock().unwrap_or_else(|e| e.into_inner()).clone();
            for l in lines {
                l.refresh_winsize();
            }
            PENDING.store(true, Ordering::SeqCst);
            irq::raise();
        }
    }
}

impl HostLine {
    /// Send guest output to the host.
    pub fn write(&self, data: &[u8]) {
        match &self.out {
            Out::Discard => {}
            Out::Fd(fd) => write_fd(*fd, data),
            Out::Pty(fd) => {
                // SAFETY: non-blocking write to our pty master; output
                // nobody reads is dropped rather than stalling the kernel.
                unsafe { libc::write(*fd, data.as_ptr().cast(), data.len()) };
            }
            Out::Port(clients) => {
                let mut c = clients.lock().unwrap_or_else(|e| e.into_inner());
                c.retain_mut(|s| s.write_all(data).is_ok());
            }
        }
    }

    /// Does this line's output already reach the host's stderr (fd 2, or
    /// the same file as fd 2, e.g. one terminal for both)?
    pub fn writes_to_host_stderr(&self) -> bool {
        match &self.out {
            Out::Fd(fd) => *fd == 2 || same_file(*fd, 2),
            _ => false,
        }
    }

    /// Up to `max` bytes of host input received so far.
    pub fn take_input(&self, max: usize) -> Vec<u8> {
        let mut g = self.input.lock().unwrap_or_else(|e| e.into_inner());
        let n = g.len().min(max);
        g.drain(..n).collect()
    }

    pub fn has_input(&self) -> bool {
        !self
            .input
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// A new host window size, once.
    pub fn take_winsize(&self) -> Option<[u16; 4]> {
        self.winsize
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// The host window size now.
    pub fn current_winsize(&self) -> Option<[u16; 4]> {
        winsize_of(self.size_fd)
    }

    fn refresh_winsize(&self) {
        if let Some(ws) = winsize_of(self.size_fd) {
            *self.winsize.lock().unwrap_or_else(|e| e.into_inner()) = Some(ws);
            PENDING.store(true, Ordering::SeqCst);
        }
    }

    fn push_input(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.input
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        PENDING.store(true, Ordering::SeqCst);
        irq::raise();
    }
}

/// How a line's input is read.
enum Reader {
    /// A host fd; `pty`: our end of a host pty (waits for a slave).
    Fd(i32, bool),
    Port(TcpListener, Arc<Mutex<Vec<TcpStream>>>),
}

/// One host channel opened for input and/or output.
struct Endpoint {
    out: Out,
    reader: Option<Reader>,
    size_fd: i32,
    /// Device name to announce (`pts`, `port`).
    announce: Option<String>,
}

fn endpoint(ch: &Channel, want_in: bool, want_out: bool) -> Result<Endpoint, String> {
    let mut e = Endpoint {
        out: Out::Discard,
        reader: None,
        size_fd: -1,
        announce: None,
    };
    match ch {
        Channel::Fd(fd) => {
            let fd = *fd;
            if want_out {
                e.out = Out::Fd(fd);
            }
            if isatty(fd) {
                e.size_fd = fd;
            }
            if want_in {
                let first = {
                    let mut r = READERS.lock().unwrap_or_else(|e| e.into_inner());
                    let first = !r.contains(&fd);
                    r.push(fd);
                    first
                };
                if !first {
                    log::warn!("console: host fd {fd} already feeds another line");
                } else {
                    // An xterm window's tty is raw already and needs no
                    // restoring (it closes with us).
                    if isatty(fd) && !super::xterm::is_xterm_tty(fd) {
                        make_raw(fd);
                    }
                    e.reader = Some(Reader::Fd(fd, false));
                }
            }
        }
        Channel::Null | Channel::None | Channel::Xterm => {}
        Channel::Pts => {
            let (fd, name) = open_host_pty()?;
            e.size_fd = fd;
            e.announce = Some(name);
            if want_out {
                e.out = Out::Pty(fd);
            }
            if want_in {
                e.reader = Some(Reader::Fd(fd, true));
            }
        }
        Channel::Port { addr, port } => {
            let listener = bind_port(addr.as_deref(), *port)?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            e.announce = Some(format!("port {local}"));
            let clients = Arc::new(Mutex::new(Vec::new()));
            if want_out {
                e.out = Out::Port(clients.clone());
            }
            // Connections are accepted even for output only.
            e.reader = Some(Reader::Port(listener, clients));
        }
    }
    Ok(e)
}

/// Open the host side of a line: `input` and `output` channels (the same
/// `pts` or `port` channel for both directions is one endpoint). Returns
/// the line and, for `pts`/`port`, the device name to announce.
pub fn open_line(
    input: &Channel,
    output: &Channel,
) -> Result<(Arc<HostLine>, Option<String>), String> {
    let (out, readers, size_fd, announce) = if input == output {
        let e = endpoint(input, true, true)?;
        (e.out, vec![e.reader], e.size_fd, e.announce)
    } else {
        let i = endpoint(input, true, false)?;
        let o = endpoint(output, false, true)?;
        let size_fd = if i.size_fd >= 0 { i.size_fd } else { o.size_fd };
        (
            o.out,
            vec![i.reader, o.reader],
            size_fd,
            i.announce.or(o.announce),
        )
    };
    let line = Arc::new(HostLine {
        input: Mutex::new(Vec::new()),
        out,
        size_fd,
        winsize: Mutex::new(None),
    });
    LINES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(line.clone());
    for r in readers.into_iter().flatten() {
        let l = line.clone();
        match r {
            Reader::Fd(fd, pty) => spawn_reader(fd, l, pty),
            Reader::Port(listener, clients) => {
                std::thread::Builder::new()
                    .name("console-port".into())
                    .spawn(move || accept_loop(listener, clients, l))
                    .ok();
            }
        }
    }
    Ok((line, announce))
}

/// A fresh host pty in raw mode; returns our (master) fd and the slave's
/// path for the user.
fn open_host_pty() -> Result<(i32, String), String> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
    use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
    use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
    use std::os::fd::IntoRawFd;
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NONBLOCK)
        .map_err(|e| format!("posix_openpt: {e}"))?;
    grantpt(&master)
        .and_then(|()| unlockpt(&master))
        .map_err(|e| format!("unlockpt: {e}"))?;
    let name = ptsname_r(&master).map_err(|_| "ptsname failed".to_owned())?;
    // Raw on the host side too: no host echo or CR/NL mapping between
    // the program on the slave and the guest's own tty (tcsetattr on a
    // master sets the slave).
    if let Ok(mut t) = tcgetattr(&master) {
        cfmakeraw(&mut t);
        let _ = tcsetattr(&master, SetArg::TCSANOW, &t);
    }
    let _ = fcntl(&master, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
    // The line keeps the master as a raw fd for the life of vmlinux.
    Ok((master.into_raw_fd(), name))
}

fn bind_port(addr: Option<&str>, port: u16) -> Result<TcpListener, String> {
    let a = addr.unwrap_or("127.0.0.1");
    TcpListener::bind((a, port)).map_err(|e| format!("cannot listen on {a}:{port}: {e}"))
}

/// Read host fd `fd` into `line`. A pty master without a slave open reads
/// EIO or hangs up: wait for someone to open it.
fn spawn_reader(fd: i32, line: Arc<HostLine>, pty: bool) {
    std::thread::Builder::new()
        .name("console-in".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                let r = unsafe { libc::poll(&mut p, 1, -1) };
                if r < 0 {
                    if errno() == libc::EINTR {
                        continue;
                    }
                    return;
                }
                // SAFETY: reading into our buffer from a host fd we own.
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if n > 0 {
                    line.push_input(&buf[..n as usize]);
                    if pty {
                        // The program on the slave may have resized it; no
                        // SIGWINCH comes to us for that.
                        line.refresh_winsize();
                    }
                    continue;
                }
                let e = errno();
                if n < 0 && (e == libc::EINTR || e == libc::EAGAIN) {
                    continue;
                }
                if pty {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    continue;
                }
                // End of input (a file or pipe is used up): the guest sees
                // nothing more, as with UML.
                return;
            }
        })
        .ok();
}

fn accept_loop(listener: TcpListener, clients: Arc<Mutex<Vec<TcpStream>>>, line: Arc<HostLine>) {
    for s in listener.incoming() {
        let Ok(mut s) = s else { continue };
        let _ = s.set_nodelay(true);
        let _ = s.set_write_timeout(Some(std::time::Duration::from_secs(5)));
        if s.write_all(&telnet::GREETING).is_err() {
            continue;
        }
        let Ok(reader) = s.try_clone() else { continue };
        clients.lock().unwrap_or_else(|e| e.into_inner()).push(s);
        let l = line.clone();
        std::thread::Builder::new()
            .name("console-conn".into())
            .spawn(move || {
                let mut reader = reader;
                let mut filter = telnet::Filter::default();
                let mut buf = [0u8; 4096];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    l.push_input(&filter.filter(&buf[..n]));
                }
            })
            .ok();
    }
}

/// Can host fd `fd` serve a line in these directions? It must be open
/// (F_GETFL), readable if it is an input and writable if it is an output.
/// Checked before boot, before vmlinux opens anything itself: a stale
/// `fd:N` must not silently become one of our own files.
pub fn check_fd(fd: i32, input: bool, output: bool) -> Result<(), String> {
    // SAFETY: F_GETFL only reads the flags of a descriptor number; a
    // number that is not open fails with EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(match errno() {
            libc::EBADF => format!("host fd {fd} is not open"),
            e => format!("host fd {fd}: {}", std::io::Error::from_raw_os_error(e)),
        });
    }
    let mode = flags & libc::O_ACCMODE;
    if flags & libc::O_PATH != 0 {
        return Err(format!("host fd {fd} is an O_PATH descriptor"));
    }
    if input && mode == libc::O_WRONLY {
        return Err(format!("host fd {fd} is not open for reading"));
    }
    if output && mode == libc::O_RDONLY {
        return Err(format!("host fd {fd} is not open for writing"));
    }
    Ok(())
}

/// Write to host stdout before any console line exists.
pub fn early_write(data: &[u8]) {
    write_fd(1, data);
}

/// Write to host stderr (messages for the user running vmlinux).
pub fn stderr_write(data: &[u8]) {
    write_fd(2, data);
}

/// Fill `buf` from the host's random source.
pub fn host_random(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writing into our own buffer.
        let r = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if r <= 0 {
            break;
        }
        done += r as usize;
    }
}
