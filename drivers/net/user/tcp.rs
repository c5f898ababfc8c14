//! TCP through the gateway: each guest connection ends in a smoltcp
//! socket on the gateway's interface, paired with a host `TcpStream`,
//! and bytes are relayed between the two with bounded buffers. A full
//! smoltcp send buffer stops reads from the host; a host socket that
//! takes no more leaves data in smoltcp's receive buffer, whose window
//! then closes on the guest. FIN and RST travel both ways.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp::{Socket, SocketBuffer, State};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::OwnedFd;

/// smoltcp's buffers for one connection, each way.
pub const SOCKET_BUFFER: usize = 64 * 1024;
/// Bytes read from the guest and not yet taken by the host, at most.
const TO_HOST_MAX: usize = 64 * 1024;
/// A guest that acknowledges nothing for this long (gone, or its eth0
/// down) has its connection reset, so flows cannot pile up.
const ACK_TIMEOUT: smoltcp::time::Duration = smoltcp::time::Duration::from_secs(120);

/// A fresh gateway-side socket.
pub fn new_socket() -> Socket<'static> {
    let mut s = Socket::new(
        SocketBuffer::new(vec![0; SOCKET_BUFFER]),
        SocketBuffer::new(vec![0; SOCKET_BUFFER]),
    );
    s.set_nagle_enabled(false);
    s.set_timeout(Some(ACK_TIMEOUT));
    s
}

/// The host side of a flow.
pub enum Host {
    /// A connect in progress, and the guest's SYN, held until it is over
    /// (then fed to a listener, or unanswered by one so the guest gets RST).
    Connecting(OwnedFd, Vec<u8>),
    Open(TcpStream),
    Gone,
}

/// One relayed connection.
pub struct Flow {
    /// The guest's end.
    pub guest: SocketAddr,
    /// The other end as the guest sees it.
    pub remote: SocketAddr,
    pub host: Host,
    pub sock: Option<SocketHandle>,
    to_host: Vec<u8>,
    /// The host sent FIN (we closed the smoltcp side after its data).
    host_eof: bool,
    /// The guest's FIN was passed on (shutdown(Write) on the host).
    guest_eof: bool,
    /// Finished: remove it.
    pub done: bool,
}

impl Flow {
    pub fn new(guest: SocketAddr, remote: SocketAddr, host: Host) -> Flow {
        Flow {
            guest,
            remote,
            host,
            sock: None,
            to_host: Vec::new(),
            host_eof: false,
            guest_eof: false,
            done: false,
        }
    }

    /// Whether the host socket is wanted for reading, for writing.
    pub fn interest(&self, sockets: &SocketSet) -> (bool, bool) {
        match (&self.host, self.sock) {
            (Host::Connecting(..), _) => (false, true),
            (Host::Open(_), Some(h)) => {
                let s = sockets.get::<Socket>(h);
                (!self.host_eof && s.can_send(), !self.to_host.is_empty())
            }
            _ => (false, false),
        }
    }

    /// Move what can be moved each way; true when anything changed.
    pub fn relay(&mut self, sockets: &mut SocketSet, buf: &mut [u8]) -> bool {
        let (Host::Open(stream), Some(h)) = (&mut self.host, self.sock) else {
            return false;
        };
        let s = sockets.get_mut::<Socket>(h);
        let mut progress = false;
        let mut failed = false;

        // Guest to host.
        while self.to_host.len() < TO_HOST_MAX && s.can_recv() {
            let room = (TO_HOST_MAX - self.to_host.len()).min(buf.len());
            match s.recv_slice(&mut buf[..room]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    self.to_host.extend_from_slice(&buf[..n]);
                    progress = true;
                }
            }
        }
        while !self.to_host.is_empty() {
            match stream.write(&self.to_host) {
                Ok(n) => {
                    self.to_host.drain(..n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        let guest_fin = matches!(
            s.state(),
            State::CloseWait | State::LastAck | State::Closing | State::TimeWait
        );
        if guest_fin && !self.guest_eof && self.to_host.is_empty() && !s.can_recv() {
            let _ = stream.shutdown(Shutdown::Write);
            self.guest_eof = true;
            progress = true;
        }

        // Host to guest, only as much as smoltcp can hold.
        while !failed && !self.host_eof && s.can_send() {
            let room = (s.send_capacity() - s.send_queue()).min(buf.len());
            match stream.read(&mut buf[..room]) {
                Ok(0) => {
                    self.host_eof = true;
                    s.close();
                    progress = true;
                }
                Ok(n) => {
                    let _ = s.send_slice(&buf[..n]);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => failed = true,
            }
        }

        if failed {
            // The host reset or broke the connection: reset the guest's.
            s.abort();
            self.host = Host::Gone;
            self.done = true;
            return true;
        }
        match s.state() {
            State::Closed => {
                // Reset by the guest (or never established), unless both
                // FINs went through.
                if !(self.host_eof && self.guest_eof) {
                    reset(stream);
                }
                self.host = Host::Gone;
                self.done = true;
                progress = true;
            }
            State::TimeWait if self.host_eof && self.guest_eof => {
                self.host = Host::Gone;
                self.done = true;
                progress = true;
            }
            _ => {}
        }
        progress
    }
}

fn reset(stream: &TcpStream) {
    super::host::reset_on_close(stream);
}
