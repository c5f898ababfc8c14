//! Host half of the gdb server: the TCP listener on 127.0.0.1:PORT and
//! its helper thread, which accepts one debugger connection at a time,
//! queues what it reads and raises an interrupt; the vCPU runs the
//! protocol from its interrupt path (`super::interrupt`). Replies are
//! written from the vCPU straight to the socket (`Conn`).

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Mutex;

/// What the helper thread saw.
pub enum Input {
    /// A debugger connected: the socket to answer on.
    Connected(TcpStream),
    /// Bytes from the debugger.
    Bytes(Vec<u8>),
    /// The debugger went away.
    Closed,
}

static QUEUE: Mutex<VecDeque<Input>> = Mutex::new(VecDeque::new());

fn queue() -> std::sync::MutexGuard<'static, VecDeque<Input>> {
    QUEUE.lock().unwrap_or_else(|e| e.into_inner())
}

fn push(i: Input) {
    queue().push_back(i);
    crate::arch::irq::raise();
}

/// The next input for the vCPU, if any.
pub fn take() -> Option<Input> {
    queue().pop_front()
}

/// Listen on 127.0.0.1:`port` (before boot: a port in use is a
/// command-line error).
pub fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
}

/// Start the helper thread that serves connections on `l`, one at a time.
pub fn start(l: TcpListener) {
    let r = std::thread::Builder::new()
        .name("gdbserver".into())
        .spawn(move || {
            crate::arch::unpin_helper_thread();
            loop {
                let s = match l.accept() {
                    Ok((s, peer)) => {
                        log::info!("gdb: connection from {peer}");
                        s
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        log::error!("gdb: accept failed: {e}");
                        return;
                    }
                };
                let _ = s.set_nodelay(true);
                match s.try_clone() {
                    Ok(w) => push(Input::Connected(w)),
                    Err(e) => {
                        log::error!("gdb: {e}");
                        continue;
                    }
                }
                serve(s);
                push(Input::Closed);
            }
        });
    if let Err(e) = r {
        log::error!("gdb: cannot start its thread: {e}");
    }
}

/// Read from the debugger until it closes the connection.
fn serve(mut s: TcpStream) {
    let mut buf = vec![0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => push(Input::Bytes(buf[..n].to_vec())),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::debug!("gdb: read: {e}");
                return;
            }
        }
    }
}

/// The vCPU's side of a connection: gdbstub writes its packets here.
pub struct Conn {
    s: TcpStream,
    out: Vec<u8>,
}

impl Conn {
    pub fn new(s: TcpStream) -> Conn {
        Conn { s, out: Vec::new() }
    }

    /// End the connection (the helper thread's read sees it end too).
    pub fn close(&self) {
        let _ = self.s.shutdown(std::net::Shutdown::Both);
    }
}

impl gdbstub::conn::Connection for Conn {
    type Error = std::io::Error;

    fn write(&mut self, byte: u8) -> Result<(), Self::Error> {
        self.out.push(byte);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.out.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        let r = Write::write_all(&mut self.s, &self.out);
        self.out.clear();
        r
    }
}
