//! ICMP echo sockets, enough for ping: SOCK_RAW IPPROTO_ICMP (the caller
//! writes the ICMP header, reads IP header + ICMP) and SOCK_DGRAM
//! IPPROTO_ICMP "ping sockets" (the kernel sets the identifier, reads
//! return echo replies without IP header); and their ICMPv6 twins on
//! AF_INET6 sockets (IPPROTO_ICMPV6: echo types 128/129, reads never
//! carry the IPv6 header, as in Linux, and the stack computes the
//! checksum). The stack itself answers echo requests. A raw socket sees
//! the echo traffic of the identifier it last sent with, not every ICMP
//! packet as in Linux: smoltcp delivers by identifier.

use super::addr::Domain;
use super::stack::Net;
use crate::fs::file::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::kernel::errno::{Errno, KResult};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::icmp::{self, Endpoint, PacketBuffer, PacketMetadata};
use smoltcp::wire::IpAddress;

const ECHO_REPLY: u8 = 0;
const ECHO_REQUEST: u8 = 8;
const ECHO6_REQUEST: u8 = 128;
const ECHO6_REPLY: u8 = 129;
const PACKETS: usize = 64;
const BYTES: usize = 128 * 1024;

pub struct Icmp {
    domain: Domain,
    /// SOCK_RAW (else SOCK_DGRAM).
    pub raw: bool,
    iface: usize,
    handle: Option<SocketHandle>,
    /// The echo identifier the smoltcp socket is bound to.
    ident: Option<u16>,
    /// Bound local address (unspecified: any).
    local: IpAddress,
    peer: Option<IpAddress>,
    /// IP identification of the headers raw reads get.
    ip_id: u16,
}

fn buffer() -> PacketBuffer<'static> {
    PacketBuffer::new(vec![PacketMetadata::EMPTY; PACKETS], vec![0; BYTES])
}

/// The internet checksum (RFC 1071) of `b`.
fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32)
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Icmp {
    /// The echo request and reply types of the socket's protocol.
    fn echo_types(&self) -> (u8, u8) {
        match self.domain {
            Domain::V4 => (ECHO_REQUEST, ECHO_REPLY),
            Domain::V6 => (ECHO6_REQUEST, ECHO6_REPLY),
        }
    }

    pub fn new(domain: Domain, raw: bool) -> Icmp {
        Icmp {
            domain,
            raw,
            iface: 0,
            handle: None,
            ident: None,
            local: domain.any(),
            peer: None,
            ip_id: 1,
        }
    }

    fn sock_mut<'a>(&self, net: &'a mut Net) -> Option<&'a mut icmp::Socket<'static>> {
        Some(
            net.ifaces[self.iface]
                .sockets
                .get_mut::<icmp::Socket>(self.handle?),
        )
    }

    fn sock<'a>(&self, net: &'a Net) -> Option<&'a icmp::Socket<'static>> {
        Some(
            net.ifaces[self.iface]
                .sockets
                .get::<icmp::Socket>(self.handle?),
        )
    }

    /// Listen for echo traffic with identifier `ident`.
    fn attach(&mut self, net: &mut Net, ident: u16) {
        if self.ident == Some(ident) {
            return;
        }
        if let Some(h) = self.handle.take() {
            net.ifaces[self.iface].sockets.remove(h);
        }
        let mut s = icmp::Socket::new(buffer(), buffer());
        let _ = s.bind(Endpoint::Ident(ident));
        self.handle = Some(net.ifaces[self.iface].sockets.add(s));
        self.ident = Some(ident);
    }

    /// bind(2): the address, and for ping sockets the identifier (port).
    pub fn bind(&mut self, net: &mut Net, addr: IpAddress, port: u16) -> KResult<()> {
        if !addr.is_unspecified() {
            self.iface = net.owner_of(addr).ok_or(Errno::EADDRNOTAVAIL)?;
        }
        self.local = addr;
        if !self.raw && port != 0 {
            self.attach(net, port);
        }
        Ok(())
    }

    pub fn connect(&mut self, addr: Option<IpAddress>) {
        self.peer = addr;
    }

    /// sendto(2) of one ICMP message (header included).
    pub fn send(
        &mut self,
        id: u64,
        net: &mut Net,
        data: &[u8],
        dest: Option<IpAddress>,
        dev: Option<u32>,
    ) -> KResult<usize> {
        let dst = dest.or(self.peer).ok_or(Errno::EDESTADDRREQ)?;
        let dst = if dst.is_unspecified() {
            self.domain.loopback()
        } else {
            dst
        };
        if data.len() < 8 {
            return Err(Errno::EINVAL);
        }
        // ICMPv6 sockets speak IPv6 only (a v4-mapped peer is EINVAL, as
        // Linux's ping6 sockets answer).
        if self.domain == Domain::V6 && !matches!(dst, IpAddress::Ipv6(_)) {
            return Err(Errno::EINVAL);
        }
        let (request, _) = self.echo_types();
        let (iface, _) = net.route_dev(dst, dev)?;
        let mut msg = data.to_vec();
        if self.raw {
            if msg[0] == request {
                self.iface = iface;
                self.attach(net, u16::from_be_bytes([msg[4], msg[5]]));
            }
        } else {
            // Ping sockets send echo requests only, under their own
            // identifier.
            if msg[0] != request || msg[1] != 0 {
                return Err(Errno::EINVAL);
            }
            if self.ident.is_none() {
                self.iface = iface;
                // Spread identifiers over sockets.
                self.attach(net, (id as u16).wrapping_mul(40503) | 1);
            }
            msg[4..6].copy_from_slice(&self.ident.unwrap().to_be_bytes());
        }
        let s = self.sock_mut(net).ok_or(Errno::EINVAL)?;
        match s.send_slice(&msg, dst) {
            Ok(()) => Ok(data.len()),
            Err(icmp::SendError::BufferFull) => Err(Errno::EAGAIN),
            Err(icmp::SendError::Unaddressable) => Err(Errno::ENETUNREACH),
        }
    }

    /// recvfrom(2): (message, sender, full length).
    pub fn recv(&mut self, net: &mut Net, max: usize) -> KResult<(Vec<u8>, IpAddress, usize)> {
        let raw = self.raw;
        let (_, reply) = self.echo_types();
        let v4 = self.domain == Domain::V4;
        let s = self.sock_mut(net).ok_or(Errno::EAGAIN)?;
        loop {
            let (data, from) = s.recv().map_err(|_| Errno::EAGAIN)?;
            // Ping sockets see replies only (a request to this host comes
            // by too, with the same identifier).
            if !raw && data.first() != Some(&reply) {
                continue;
            }
            let mut msg = data.to_vec();
            if v4 {
                // smoltcp leaves checksums out on loopback; readers may
                // check. (Its ICMPv6 messages carry theirs.)
                msg[2..4].fill(0);
                let c = checksum(&msg);
                msg[2..4].copy_from_slice(&c.to_be_bytes());
            }
            if raw && v4 {
                msg = self.ip_header(from, msg);
            }
            let full = msg.len();
            msg.truncate(max);
            return Ok((msg, from, full));
        }
    }

    /// A raw socket reads the IPv4 header too.
    fn ip_header(&mut self, from: IpAddress, icmp: Vec<u8>) -> Vec<u8> {
        let IpAddress::Ipv4(src) = from else {
            return icmp;
        };
        let dst = match self.local {
            IpAddress::Ipv4(a) if !a.is_unspecified() => a,
            _ => src,
        };
        let len = (20 + icmp.len()) as u16;
        self.ip_id = self.ip_id.wrapping_add(1);
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&len.to_be_bytes());
        h.extend_from_slice(&self.ip_id.to_be_bytes());
        h.extend_from_slice(&[0x40, 0, 64, 1, 0, 0]);
        h.extend_from_slice(&src.octets());
        h.extend_from_slice(&dst.octets());
        let c = checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h.extend_from_slice(&icmp);
        h
    }

    pub fn readiness(&self, net: &Net) -> u32 {
        let mut m = POLLOUT | POLLWRNORM;
        if self.sock(net).is_some_and(|s| s.can_recv()) {
            m |= POLLIN | POLLRDNORM;
        }
        m
    }

    pub fn sockname(&self) -> (IpAddress, u16) {
        (
            self.local,
            if self.raw { 0 } else { self.ident.unwrap_or(0) },
        )
    }

    pub fn peername(&self) -> KResult<IpAddress> {
        self.peer.ok_or(Errno::ENOTCONN)
    }

    pub fn free(self, net: &mut Net) {
        if let Some(h) = self.handle {
            net.ifaces[self.iface].sockets.remove(h);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checksum_of_an_echo_request() {
        // type 8, code 0, checksum 0, id 1, seq 1: sum 0x0802 -> !0x0802.
        let m = [8, 0, 0, 0, 0, 1, 0, 1];
        assert_eq!(super::checksum(&m), 0xf7fd);
    }
}
