//! Internet socket addresses: `sockaddr_in` and `sockaddr_in6` as the
//! guest passes them, and smoltcp's endpoints they become.

use crate::kernel::errno::{Errno, KResult};
use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv6Address};

pub const AF_UNSPEC: u16 = 0;
use crate::abi::net::{SockaddrIn, SockaddrIn6};
pub use crate::abi::net::{AF_INET, AF_INET6};

/// The family a socket was made in; it takes only that family's
/// sockaddrs. AF_INET6 sockets reach IPv4 through v4-mapped addresses
/// (::ffff:a.b.c.d), as Linux's dual-stack sockets do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Domain {
    V4,
    V6,
}

impl Domain {
    pub fn family(self) -> u16 {
        match self {
            Domain::V4 => AF_INET,
            Domain::V6 => AF_INET6,
        }
    }

    /// INADDR_ANY / in6addr_any.
    pub fn any(self) -> IpAddress {
        match self {
            Domain::V4 => IpAddress::Ipv4(Ipv4Address::UNSPECIFIED),
            Domain::V6 => IpAddress::Ipv6(Ipv6Address::UNSPECIFIED),
        }
    }

    /// 127.0.0.1 / ::1.
    pub fn loopback(self) -> IpAddress {
        match self {
            Domain::V4 => IpAddress::Ipv4(Ipv4Address::LOCALHOST),
            Domain::V6 => IpAddress::Ipv6(Ipv6Address::LOCALHOST),
        }
    }

    /// The smallest sockaddr length the family accepts.
    fn min_len(self) -> usize {
        match self {
            Domain::V4 => 16,
            // SIN6_LEN_RFC2133: the scope id may be left off.
            Domain::V6 => 24,
        }
    }
}

/// The family field of a raw sockaddr (AF_UNSPEC when too short).
pub fn family_of(b: &[u8]) -> u16 {
    if b.len() < 2 {
        return AF_UNSPEC;
    }
    crate::abi::read_at(b, 0)
}

/// Parse a sockaddr of the socket's family. Linux checks the length before
/// the family: a short address is EINVAL, another family EAFNOSUPPORT.
/// A v4-mapped IPv6 address comes back as the IPv4 address.
pub fn parse(d: Domain, b: &[u8]) -> KResult<IpEndpoint> {
    if b.len() < d.min_len() {
        return Err(Errno::EINVAL);
    }
    if family_of(b) != d.family() {
        return Err(Errno::EAFNOSUPPORT);
    }
    // min_len covers the address; what lies past the caller's length
    // (sin_zero, the scope id) reads as zero.
    let (port, addr) = match d {
        Domain::V4 => {
            let s: SockaddrIn = crate::abi::read_at(b, 0);
            (s.sin_port, IpAddress::Ipv4(Ipv4Address::from(s.sin_addr)))
        }
        Domain::V6 => {
            let s: SockaddrIn6 = crate::abi::read_at(b, 0);
            let a = Ipv6Address::from(s.sin6_addr);
            let a = match a.to_ipv4_mapped() {
                Some(v4) => IpAddress::Ipv4(v4),
                None => IpAddress::Ipv6(a),
            };
            (s.sin6_port, a)
        }
    };
    Ok(IpEndpoint::new(addr, u16::from_be_bytes(port)))
}

/// The sin6_scope_id of an AF_INET6 sockaddr (0 when left off or for
/// AF_INET). Call after `parse` accepted `b`.
pub fn scope_of(d: Domain, b: &[u8]) -> u32 {
    if d != Domain::V6 || b.len() < core::mem::size_of::<SockaddrIn6>() {
        return 0;
    }
    let s: SockaddrIn6 = crate::abi::read_at(b, 0);
    s.sin6_scope_id
}

/// Whether `a` is an IPv6 link-local address, which needs an interface
/// (a scope id) to mean anything.
pub fn is_link_local(a: IpAddress) -> bool {
    matches!(a, IpAddress::Ipv6(v) if v.is_unicast_link_local())
}

/// `format`, with the interface index `scope` as sin6_scope_id (Linux
/// sets it for link-local addresses only).
pub fn format_scoped(d: Domain, ep: IpEndpoint, scope: u32) -> Vec<u8> {
    let mut b = format(d, ep);
    if is_link_local(ep.addr) && b.len() == core::mem::size_of::<SockaddrIn6>() {
        let mut s: SockaddrIn6 = crate::abi::read_at(&b, 0);
        s.sin6_scope_id = scope;
        b = crate::abi::bytes(&s).to_vec();
    }
    b
}

/// The sockaddr bytes of an endpoint as a socket of family `d` shows it:
/// AF_INET6 sockets see IPv4 addresses v4-mapped.
pub fn format(d: Domain, ep: IpEndpoint) -> Vec<u8> {
    let addr = match (d, ep.addr) {
        (Domain::V6, IpAddress::Ipv4(a)) => IpAddress::Ipv6(a.to_ipv6_mapped()),
        (_, a) => a,
    };
    match addr {
        IpAddress::Ipv4(a) => crate::abi::bytes(&SockaddrIn {
            sin_family: AF_INET,
            sin_port: ep.port.to_be_bytes(),
            sin_addr: a.octets(),
            sin_zero: [0; 8],
        })
        .to_vec(),
        IpAddress::Ipv6(a) => crate::abi::bytes(&SockaddrIn6 {
            sin6_family: AF_INET6,
            sin6_port: ep.port.to_be_bytes(),
            sin6_flowinfo: [0; 4],
            sin6_addr: a.octets(),
            sin6_scope_id: 0,
        })
        .to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_v4_and_v6() {
        let ep = IpEndpoint::new(Domain::V4.loopback(), 8080);
        let b = format(Domain::V4, ep);
        assert_eq!(b.len(), 16);
        assert_eq!(&b[2..8], &[0x1f, 0x90, 127, 0, 0, 1]);
        assert_eq!(parse(Domain::V4, &b).unwrap(), ep);
        let ep6 = IpEndpoint::new(Domain::V6.loopback(), 1);
        assert_eq!(parse(Domain::V6, &format(Domain::V6, ep6)).unwrap(), ep6);
        // v4-mapped: an AF_INET6 socket's view of an IPv4 endpoint.
        let mapped = format(Domain::V6, ep);
        assert_eq!(mapped.len(), 28);
        assert_eq!(&mapped[18..24], &[0xff, 0xff, 127, 0, 0, 1]);
        assert_eq!(parse(Domain::V6, &mapped).unwrap(), ep);
    }

    #[test]
    fn errors_as_linux() {
        let b = format(Domain::V4, IpEndpoint::new(Domain::V4.loopback(), 1));
        assert_eq!(parse(Domain::V4, &b[..8]), Err(Errno::EINVAL));
        assert_eq!(
            parse(Domain::V6, &[b.clone(), vec![0; 12]].concat()),
            Err(Errno::EAFNOSUPPORT)
        );
    }
}
