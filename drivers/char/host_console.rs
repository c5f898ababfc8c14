//! Host half of the console channel (`fd:N` in, `fd:N` out): a helper
//! thread reads the host input and raises an interrupt; output is written
//! straight to the host fd. When input is a terminal it is put in raw mode
//! (the guest's tty does the line editing) and restored on every exit.

use crate::arch::irq;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Mutex;

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUT_FD: AtomicI32 = AtomicI32::new(1);
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);
static SAVED_FD: AtomicI32 = AtomicI32::new(-1);
static WINCH: AtomicBool = AtomicBool::new(false);

/// Write console output to the host.
pub fn write(data: &[u8]) {
    let fd = OUT_FD.load(Ordering::Relaxed);
    let mut off = 0;
    while off < data.len() {
        // SAFETY: writing from a valid buffer to a host fd we were given.
        let r = unsafe { libc::write(fd, data[off..].as_ptr().cast(), data.len() - off) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            if e.raw_os_error() == Some(libc::EAGAIN) {
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
            return;
        }
        off += r as usize;
    }
}

/// Bytes received since the last call.
pub fn take_input() -> Option<Vec<u8>> {
    let mut g = INPUT.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_empty() {
        None
    } else {
        Some(std::mem::take(&mut *g))
    }
}

/// New host window size, if it changed (SIGWINCH).
pub fn take_winsize() -> Option<(u16, u16)> {
    if !WINCH.swap(false, Ordering::SeqCst) {
        return None;
    }
    winsize(SAVED_FD.load(Ordering::Relaxed))
}

fn winsize(fd: i32) -> Option<(u16, u16)> {
    if fd < 0 {
        return None;
    }
    // SAFETY: zeroed plain struct, filled by ioctl.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a winsize.
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } < 0 || ws.ws_row == 0 {
        return None;
    }
    Some((ws.ws_row, ws.ws_col))
}

extern "C" fn on_sigwinch(_: libc::c_int) {
    WINCH.store(true, Ordering::SeqCst);
    // Raising an interrupt takes a lock; do it from the input thread's
    // poll instead: poke via a pending flag only.
}

/// Start the console channel on host fds `in_fd` / `out_fd`. Returns the
/// initial window size when input is a terminal.
pub fn start(in_fd: i32, out_fd: i32) -> Option<(u16, u16)> {
    OUT_FD.store(out_fd, Ordering::Relaxed);
    let mut size = None;
    // SAFETY: isatty on a host fd.
    if in_fd >= 0 && unsafe { libc::isatty(in_fd) } == 1 {
        // SAFETY: zeroed plain struct filled by tcgetattr.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: valid fd and out pointer.
        if unsafe { libc::tcgetattr(in_fd, &mut t) } == 0 {
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
            SAVED_FD.store(in_fd, Ordering::SeqCst);
            let mut raw = t;
            // SAFETY: cfmakeraw edits the struct in place.
            unsafe { libc::cfmakeraw(&mut raw) };
            // Keep output post-processing off too: the guest tty adds \r.
            // SAFETY: valid fd and termios.
            unsafe { libc::tcsetattr(in_fd, libc::TCSANOW, &raw) };
            size = winsize(in_fd);
            // SAFETY: installing a handler that only stores an atomic.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_sigwinch as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigaction(libc::SIGWINCH, &sa, std::ptr::null_mut());
            }
        }
    }
    if in_fd >= 0 {
        std::thread::Builder::new()
            .name("console-in".into())
            .spawn(move || input_thread(in_fd))
            .ok();
    }
    size
}

fn input_thread(fd: i32) {
    // SAFETY: we borrow the host fd for reading; ManuallyDrop keeps it open.
    let mut f = std::mem::ManuallyDrop::new(unsafe {
        <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd)
    });
    let mut buf = [0u8; 4096];
    loop {
        match f.read(&mut buf) {
            Ok(0) => {
                // End of input: a pipe or file has no more; the guest sees
                // nothing more (as with UML). Keep winch polling alive.
                loop {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    if WINCH.load(Ordering::SeqCst) {
                        irq::raise();
                    }
                }
            }
            Ok(n) => {
                INPUT
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
                irq::raise();
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                if WINCH.load(Ordering::SeqCst) {
                    irq::raise();
                }
            }
            Err(_) => return,
        }
    }
}

/// Put the host terminal back as we found it.
pub fn restore_terminal() {
    let fd = SAVED_FD.load(Ordering::SeqCst);
    if fd < 0 {
        return;
    }
    if let Ok(g) = SAVED.try_lock() {
        if let Some(t) = g.as_ref() {
            // SAFETY: valid fd and saved termios.
            unsafe { libc::tcsetattr(fd, libc::TCSANOW, t) };
        }
    }
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

/// Flush host stdout (for log lines written through std).
pub fn flush() {
    let _ = std::io::stdout().flush();
}
