//! UDP and ICMP echo through the gateway: one host socket per guest
//! source (address and port, or echo identifier), sending where the guest
//! sent; replies go back to that guest source, appearing to come from
//! the address the guest used. Idle flows expire.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

/// A flow nobody used for this long is closed.
pub const IDLE: Duration = Duration::from_secs(60);
/// Destinations whose replies are renamed, per flow, at most.
const XLATE_MAX: usize = 8;

/// One guest UDP source, or one guest echo identifier.
pub struct Flow {
    /// The guest's address and port (or echo identifier).
    pub guest: SocketAddrV4,
    /// ICMP echo rather than UDP.
    pub ping: bool,
    pub sock: UdpSocket,
    pub last: Instant,
    /// (host address sent to, address the guest sent to), where they differ.
    xlate: Vec<(SocketAddrV4, SocketAddrV4)>,
}

impl Flow {
    /// A flow for `guest`, with a fresh host socket.
    pub fn open(guest: SocketAddrV4, ping: bool) -> io::Result<Flow> {
        let sock = if ping {
            super::host::ping_socket()?
        } else {
            let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
            s.set_nonblocking(true)?;
            s
        };
        Ok(Flow {
            guest,
            ping,
            sock,
            last: Instant::now(),
            xlate: Vec::new(),
        })
    }

    /// Send `data` to `host` for the guest, which sent it to `seen`.
    pub fn send(&mut self, data: &[u8], host: SocketAddrV4, seen: SocketAddrV4) {
        self.last = Instant::now();
        if host != seen && !self.xlate.iter().any(|(h, _)| *h == host) {
            if self.xlate.len() == XLATE_MAX {
                self.xlate.remove(0);
            }
            self.xlate.push((host, seen));
        }
        if let Err(e) = self.sock.send_to(data, host) {
            log::debug!("user net: send to {host}: {e}");
        }
    }

    /// The next datagram from the host: its source as the guest sees it,
    /// and its length in `buf`.
    pub fn recv(&mut self, buf: &mut [u8]) -> Option<(SocketAddrV4, usize)> {
        loop {
            match self.sock.recv_from(buf) {
                Ok((n, SocketAddr::V4(from))) => {
                    self.last = Instant::now();
                    return Some((self.seen_as(from), n));
                }
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
    }

    /// How the guest knows host address `from`.
    fn seen_as(&self, from: SocketAddrV4) -> SocketAddrV4 {
        if let Some((_, seen)) = self.xlate.iter().find(|(h, _)| *h == from) {
            return *seen;
        }
        if self.ping {
            if let Some((_, seen)) = self.xlate.iter().find(|(h, _)| h.ip() == from.ip()) {
                return *seen;
            }
        }
        if from.ip().is_loopback() {
            SocketAddrV4::new(super::frames::GATEWAY, from.port())
        } else {
            from
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_renamed_back() {
        let f = Flow {
            guest: "10.0.2.15:5000".parse().unwrap(),
            ping: false,
            sock: UdpSocket::bind("127.0.0.1:0").unwrap(),
            last: Instant::now(),
            xlate: vec![(
                "192.168.1.1:53".parse().unwrap(),
                "10.0.2.3:53".parse().unwrap(),
            )],
        };
        assert_eq!(
            f.seen_as("192.168.1.1:53".parse().unwrap()),
            "10.0.2.3:53".parse().unwrap()
        );
        assert_eq!(
            f.seen_as("127.0.0.1:7".parse().unwrap()),
            "10.0.2.2:7".parse().unwrap()
        );
        assert_eq!(
            f.seen_as("1.2.3.4:7".parse().unwrap()),
            "1.2.3.4:7".parse().unwrap()
        );
    }
}
