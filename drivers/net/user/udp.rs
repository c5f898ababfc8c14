//! UDP and ICMP echo through the gateway: one host socket per guest
//! source (address and port, or echo identifier), sending where the guest
//! sent; replies go back to that guest source, appearing to come from
//! the address the guest used. Idle flows expire.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// A flow nobody used for this long is closed.
pub const IDLE: Duration = Duration::from_secs(60);
/// Destinations whose replies are renamed, per flow, at most.
const XLATE_MAX: usize = 8;

/// One guest UDP source, or one guest echo identifier, to hosts of one
/// family (an IPv6 guest's queries to the DNS forwarder go to an IPv4
/// resolver through a flow of their own).
pub struct Flow {
    /// The guest's address and port (or echo identifier).
    pub guest: SocketAddr,
    /// ICMP echo rather than UDP.
    pub ping: bool,
    /// The host socket is IPv6.
    pub v6host: bool,
    pub sock: UdpSocket,
    pub last: Instant,
    /// (host address sent to, address the guest sent to), where they differ.
    xlate: Vec<(SocketAddr, SocketAddr)>,
}

impl Flow {
    /// A flow for `guest` to hosts of family `v6host`, with a fresh host
    /// socket.
    pub fn open(guest: SocketAddr, ping: bool, v6host: bool) -> io::Result<Flow> {
        let sock = if ping {
            super::host::ping_socket(v6host)?
        } else {
            let any: IpAddr = if v6host {
                Ipv6Addr::UNSPECIFIED.into()
            } else {
                Ipv4Addr::UNSPECIFIED.into()
            };
            let s = UdpSocket::bind((any, 0))?;
            s.set_nonblocking(true)?;
            s
        };
        Ok(Flow {
            guest,
            ping,
            v6host,
            sock,
            last: Instant::now(),
            xlate: Vec::new(),
        })
    }

    /// Send `data` to `host` for the guest, which sent it to `seen`.
    pub fn send(&mut self, data: &[u8], host: SocketAddr, seen: SocketAddr) {
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
    pub fn recv(&mut self, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        loop {
            match self.sock.recv_from(buf) {
                Ok((n, from)) => {
                    self.last = Instant::now();
                    match self.seen_as(from) {
                        Some(seen) => return Some((seen, n)),
                        None => continue,
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
    }

    /// How the guest knows host address `from` (None: it cannot, the
    /// families differ).
    fn seen_as(&self, from: SocketAddr) -> Option<SocketAddr> {
        if let Some((_, seen)) = self.xlate.iter().find(|(h, _)| *h == from) {
            return Some(*seen);
        }
        if self.ping {
            if let Some((_, seen)) = self.xlate.iter().find(|(h, _)| h.ip() == from.ip()) {
                return Some(*seen);
            }
        }
        let seen = match from.ip() {
            IpAddr::V4(a) if a.is_loopback() => super::frames::GATEWAY.into(),
            IpAddr::V6(a) if a.is_loopback() => super::frames::GATEWAY6.into(),
            a => a,
        };
        (seen.is_ipv6() == self.guest.is_ipv6()).then_some(SocketAddr::new(seen, from.port()))
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
            v6host: false,
            sock: UdpSocket::bind("127.0.0.1:0").unwrap(),
            last: Instant::now(),
            xlate: vec![(
                "192.168.1.1:53".parse().unwrap(),
                "10.0.2.3:53".parse().unwrap(),
            )],
        };
        assert_eq!(
            f.seen_as("192.168.1.1:53".parse().unwrap()),
            Some("10.0.2.3:53".parse().unwrap())
        );
        assert_eq!(
            f.seen_as("127.0.0.1:7".parse().unwrap()),
            Some("10.0.2.2:7".parse().unwrap())
        );
        assert_eq!(
            f.seen_as("1.2.3.4:7".parse().unwrap()),
            Some("1.2.3.4:7".parse().unwrap())
        );
        assert_eq!(f.seen_as("[::1]:7".parse().unwrap()), None);
    }
}
