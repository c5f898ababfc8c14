//! The user network's addresses, and the frames the gateway reads and
//! writes itself (ARP and neighbour solicitation filtering, router
//! advertisements, UDP, ICMP and ICMPv6 echo) rather than through its
//! smoltcp interface: a classifier for frames from the guest and builders
//! for frames to it, IPv4 and IPv6.

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet,
    Ipv4Repr, Ipv6Packet, Ipv6Repr, NdiscRepr, TcpPacket, UdpPacket, UdpRepr,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The gateway (slirp's host alias: traffic to it goes to the host's loopback).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
/// The DNS forwarder.
pub const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
/// The guest's one address (DHCP hands it out).
pub const GUEST: Ipv4Addr = crate::init::eth_user::GUEST_ADDR;
pub const NETMASK: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);
pub const PREFIX_LEN: u8 = 24;
/// The gateway's MAC: fixed, locally administered, unicast (slirp's).
pub const GATEWAY_MAC: EthernetAddress = EthernetAddress([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
/// The IPv6 prefix of the user network: a unique local one (RFC 4193)
/// whose digits echo 10.0.2.x, so the guest's SLAAC address has global
/// scope (QEMU's fec0::/64 is deprecated site-local, RFC 3879).
pub const PREFIX6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x10, 0, 2, 0, 0, 0, 0);
pub const PREFIX6_LEN: u8 = 64;
/// The gateway over IPv6 (the host's ::1), as 10.0.2.2.
pub const GATEWAY6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x10, 0, 2, 0, 0, 0, 2);
/// The DNS forwarder over IPv6, as 10.0.2.3.
pub const DNS6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x10, 0, 2, 0, 0, 0, 3);
/// The gateway's link-local address: the router the guest's default
/// route goes through (slirp's choice too).
pub const GATEWAY6_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
/// Router lifetime in advertisements (s), and the prefix's valid and
/// preferred lifetimes (radvd's defaults).
pub const ROUTER_LIFETIME: u16 = 1800;
const PREFIX_VALID: u32 = 86400;
const PREFIX_PREFERRED: u32 = 14400;
/// Largest frame either way: 1500 bytes of IP and the Ethernet header.
pub const FRAME_MAX: usize = 1514;

/// What a frame from the guest is, for the gateway's dispatch.
#[derive(Debug, PartialEq, Eq)]
pub enum FromGuest<'a> {
    /// An ARP request for this address.
    ArpRequest(Ipv4Addr),
    /// An IPv6 neighbour solicitation for this address.
    NeighborSolicit(Ipv6Addr),
    /// An IPv6 router solicitation.
    RouterSolicit,
    /// A UDP datagram (checksums verified), over IPv4 or IPv6.
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
        data: &'a [u8],
    },
    /// An ICMP or ICMPv6 echo request.
    Echo {
        src: IpAddr,
        dst: IpAddr,
        ident: u16,
        seq: u16,
        data: &'a [u8],
    },
    /// A TCP segment; `syn` for a connection request (SYN without ACK).
    Tcp {
        src: SocketAddr,
        dst: SocketAddr,
        syn: bool,
    },
    /// Other ARP, IPv4 and IPv6 (ARP replies, neighbour advertisements,
    /// TCP or ICMP it handles, fragments, junk): the gateway's interface
    /// may have it.
    Other,
    /// Neither ARP, IPv4 nor IPv6: dropped.
    Unsupported,
}

/// The modified EUI-64 interface identifier of MAC `mac` in the low 64
/// bits of `prefix` (how the guest's SLAAC and link-local addresses are
/// made).
#[cfg(test)]
pub fn eui64(prefix: Ipv6Addr, mac: EthernetAddress) -> Ipv6Addr {
    let mut b = prefix.octets();
    let m = mac.0;
    b[8..].copy_from_slice(&[m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
    Ipv6Addr::from(b)
}

/// Classify a frame from the guest.
pub fn classify(frame: &[u8]) -> FromGuest<'_> {
    let caps = ChecksumCapabilities::default();
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return FromGuest::Other;
    };
    match eth.ethertype() {
        EthernetProtocol::Arp => {
            let Ok(p) = ArpPacket::new_checked(eth.payload()) else {
                return FromGuest::Other;
            };
            match ArpRepr::parse(&p) {
                Ok(ArpRepr::EthernetIpv4 {
                    operation: ArpOperation::Request,
                    target_protocol_addr,
                    ..
                }) => FromGuest::ArpRequest(target_protocol_addr),
                _ => FromGuest::Other,
            }
        }
        EthernetProtocol::Ipv4 => {
            let payload = eth.payload();
            let Ok(p) = Ipv4Packet::new_checked(payload) else {
                return FromGuest::Other;
            };
            if p.more_frags() || p.frag_offset() != 0 {
                return FromGuest::Other;
            }
            let Ok(ip) = Ipv4Repr::parse(&p, &caps) else {
                return FromGuest::Other;
            };
            let body = &p.payload()[..ip.payload_len.min(p.payload().len())];
            let (src, dst) = (IpAddr::V4(ip.src_addr), IpAddr::V4(ip.dst_addr));
            match ip.next_header {
                IpProtocol::Udp => udp(src, dst, body),
                IpProtocol::Icmp => {
                    let Ok(i) = Icmpv4Packet::new_checked(body) else {
                        return FromGuest::Other;
                    };
                    match Icmpv4Repr::parse(&i, &caps) {
                        Ok(Icmpv4Repr::EchoRequest {
                            ident,
                            seq_no,
                            data,
                        }) => FromGuest::Echo {
                            src,
                            dst,
                            ident,
                            seq: seq_no,
                            data,
                        },
                        _ => FromGuest::Other,
                    }
                }
                IpProtocol::Tcp => tcp(src, dst, body),
                _ => FromGuest::Other,
            }
        }
        EthernetProtocol::Ipv6 => {
            let Ok(p) = Ipv6Packet::new_checked(eth.payload()) else {
                return FromGuest::Other;
            };
            let Ok(ip) = Ipv6Repr::parse(&p) else {
                return FromGuest::Other;
            };
            let body = &p.payload()[..ip.payload_len.min(p.payload().len())];
            let (src, dst) = (IpAddr::V6(ip.src_addr), IpAddr::V6(ip.dst_addr));
            match ip.next_header {
                IpProtocol::Udp => udp(src, dst, body),
                IpProtocol::Tcp => tcp(src, dst, body),
                IpProtocol::Icmpv6 => {
                    let Ok(i) = Icmpv6Packet::new_checked(body) else {
                        return FromGuest::Other;
                    };
                    match Icmpv6Repr::parse(&ip.src_addr, &ip.dst_addr, &i, &caps) {
                        Ok(Icmpv6Repr::EchoRequest {
                            ident,
                            seq_no,
                            data,
                        }) => FromGuest::Echo {
                            src,
                            dst,
                            ident,
                            seq: seq_no,
                            data,
                        },
                        Ok(Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit { .. }))
                            if ip.hop_limit == 255 =>
                        {
                            FromGuest::RouterSolicit
                        }
                        Ok(Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
                            target_addr, ..
                        })) if ip.hop_limit == 255 => FromGuest::NeighborSolicit(target_addr),
                        _ => FromGuest::Other,
                    }
                }
                _ => FromGuest::Other,
            }
        }
        _ => FromGuest::Unsupported,
    }
}

/// A UDP datagram from `src` to `dst` in `body`, checksum verified.
fn udp(src: IpAddr, dst: IpAddr, body: &[u8]) -> FromGuest<'_> {
    let Ok(u) = UdpPacket::new_checked(body) else {
        return FromGuest::Other;
    };
    let caps = ChecksumCapabilities::default();
    let Ok(r) = UdpRepr::parse(&u, &src.into(), &dst.into(), &caps) else {
        return FromGuest::Other;
    };
    let len = (u.len() as usize).saturating_sub(8).min(body.len() - 8);
    FromGuest::Udp {
        src: SocketAddr::new(src, r.src_port),
        dst: SocketAddr::new(dst, r.dst_port),
        data: &body[8..8 + len],
    }
}

fn tcp(src: IpAddr, dst: IpAddr, body: &[u8]) -> FromGuest<'_> {
    let Ok(t) = TcpPacket::new_checked(body) else {
        return FromGuest::Other;
    };
    FromGuest::Tcp {
        src: SocketAddr::new(src, t.src_port()),
        dst: SocketAddr::new(dst, t.dst_port()),
        syn: t.syn() && !t.ack(),
    }
}

/// An IPv4 frame from the gateway's MAC to `dst_mac`; `fill` writes the
/// `len`-byte payload.
pub(super) fn ipv4_frame(
    dst_mac: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: IpProtocol,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let mut buf = vec![0u8; 14 + 20 + len];
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr {
        src_addr: GATEWAY_MAC,
        dst_addr: dst_mac,
        ethertype: EthernetProtocol::Ipv4,
    }
    .emit(&mut eth);
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: proto,
        payload_len: len,
        hop_limit: 64,
    };
    let mut p = Ipv4Packet::new_unchecked(eth.payload_mut());
    ip.emit(&mut p, &ChecksumCapabilities::default());
    fill(p.payload_mut());
    buf
}

/// An IPv6 frame from the gateway's MAC to `dst_mac`; `fill` writes the
/// `len`-byte payload.
pub(super) fn ipv6_frame(
    dst_mac: EthernetAddress,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    proto: IpProtocol,
    hop_limit: u8,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let mut buf = vec![0u8; 14 + 40 + len];
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr {
        src_addr: GATEWAY_MAC,
        dst_addr: dst_mac,
        ethertype: EthernetProtocol::Ipv6,
    }
    .emit(&mut eth);
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: proto,
        payload_len: len,
        hop_limit,
    };
    let mut p = Ipv6Packet::new_unchecked(eth.payload_mut());
    ip.emit(&mut p);
    fill(p.payload_mut());
    buf
}

/// An IP frame of `src`'s family (`dst` of the same one).
fn ip_frame(
    dst_mac: EthernetAddress,
    src: IpAddr,
    dst: IpAddr,
    proto: IpProtocol,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Option<Vec<u8>> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Some(ipv4_frame(dst_mac, s, d, proto, len, fill)),
        (IpAddr::V6(s), IpAddr::V6(d)) => Some(ipv6_frame(dst_mac, s, d, proto, 64, len, fill)),
        _ => None,
    }
}

/// A UDP datagram to the guest (or broadcast, for DHCP); None when the
/// two addresses are of different families.
pub fn udp_frame(
    dst_mac: EthernetAddress,
    src: SocketAddr,
    dst: SocketAddr,
    data: &[u8],
) -> Option<Vec<u8>> {
    ip_frame(
        dst_mac,
        src.ip(),
        dst.ip(),
        IpProtocol::Udp,
        8 + data.len(),
        |b| {
            UdpRepr {
                src_port: src.port(),
                dst_port: dst.port(),
            }
            .emit(
                &mut UdpPacket::new_unchecked(b),
                &src.ip().into(),
                &dst.ip().into(),
                data.len(),
                |p| p.copy_from_slice(data),
                &ChecksumCapabilities::default(),
            )
        },
    )
}

/// An ICMP (or ICMPv6) echo reply to the guest.
pub fn echo_reply_frame(
    dst_mac: EthernetAddress,
    src: IpAddr,
    dst: IpAddr,
    ident: u16,
    seq: u16,
    data: &[u8],
) -> Option<Vec<u8>> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let r = Icmpv4Repr::EchoReply {
                ident,
                seq_no: seq,
                data,
            };
            Some(ipv4_frame(
                dst_mac,
                s,
                d,
                IpProtocol::Icmp,
                r.buffer_len(),
                |b| {
                    r.emit(
                        &mut Icmpv4Packet::new_unchecked(b),
                        &ChecksumCapabilities::default(),
                    )
                },
            ))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let r = Icmpv6Repr::EchoReply {
                ident,
                seq_no: seq,
                data,
            };
            Some(ipv6_frame(
                dst_mac,
                s,
                d,
                IpProtocol::Icmpv6,
                64,
                r.buffer_len(),
                |b| {
                    r.emit(
                        &s,
                        &d,
                        &mut Icmpv6Packet::new_unchecked(b),
                        &ChecksumCapabilities::default(),
                    )
                },
            ))
        }
        _ => None,
    }
}

/// The gateway's Router Advertisement, to all nodes (through `dst_mac`:
/// the guest's MAC when it answers a solicitation): it is the default
/// router for `ROUTER_LIFETIME`; the prefix is on-link and for
/// autoconfiguration; options give its MAC, the MTU, and the DNS
/// forwarder (RDNSS, RFC 8106, for resolvers that read it).
pub fn router_advert_frame(dst_mac: EthernetAddress) -> Vec<u8> {
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let mut m = vec![
        134, 0, 0, 0, // type, code, checksum
        64, 0, // current hop limit; no M or O flag (no DHCPv6)
    ];
    m.extend_from_slice(&ROUTER_LIFETIME.to_be_bytes());
    m.extend_from_slice(&[0; 8]); // reachable time, retrans timer: unspecified
                                  // Source link-layer address.
    m.extend_from_slice(&[1, 1]);
    m.extend_from_slice(&GATEWAY_MAC.0);
    // MTU.
    m.extend_from_slice(&[5, 1, 0, 0]);
    m.extend_from_slice(&1500u32.to_be_bytes());
    // Prefix information: on-link and autonomous.
    m.extend_from_slice(&[3, 4, PREFIX6_LEN, 0xc0]);
    m.extend_from_slice(&PREFIX_VALID.to_be_bytes());
    m.extend_from_slice(&PREFIX_PREFERRED.to_be_bytes());
    m.extend_from_slice(&[0; 4]);
    m.extend_from_slice(&PREFIX6.octets());
    // Recursive DNS server.
    m.extend_from_slice(&[25, 3, 0, 0]);
    m.extend_from_slice(&(ROUTER_LIFETIME as u32).to_be_bytes());
    m.extend_from_slice(&DNS6.octets());
    ipv6_frame(
        dst_mac,
        GATEWAY6_LL,
        all_nodes,
        IpProtocol::Icmpv6,
        255,
        m.len(),
        |b| {
            b.copy_from_slice(&m);
            let mut p = Icmpv6Packet::new_unchecked(b);
            p.fill_checksum(&GATEWAY6_LL, &all_nodes);
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUEST_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

    #[test]
    fn udp_round_trip() {
        let f = udp_frame(
            GUEST_MAC,
            "10.0.2.15:1000".parse().unwrap(),
            "10.0.2.3:53".parse().unwrap(),
            b"query",
        )
        .unwrap();
        assert_eq!(
            classify(&f),
            FromGuest::Udp {
                src: "10.0.2.15:1000".parse().unwrap(),
                dst: "10.0.2.3:53".parse().unwrap(),
                data: b"query"
            }
        );
        let mut bad = f.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert_eq!(classify(&bad), FromGuest::Other, "bad checksum");
    }

    #[test]
    fn echo_round_trip() {
        // A reply is not a request: build a request by flipping the type.
        let mut f =
            echo_reply_frame(GUEST_MAC, GUEST.into(), GATEWAY.into(), 7, 9, b"ping").unwrap();
        assert_eq!(classify(&f), FromGuest::Other);
        f[34] = 8; // echo request; fix the ICMP checksum
        f[36] = 0;
        f[37] = 0;
        let mut p = Icmpv4Packet::new_unchecked(&mut f[34..]);
        p.fill_checksum();
        assert_eq!(
            classify(&f),
            FromGuest::Echo {
                src: GUEST.into(),
                dst: GATEWAY.into(),
                ident: 7,
                seq: 9,
                data: b"ping"
            }
        );
    }

    #[test]
    fn arp_requests() {
        let mut buf = vec![0u8; 42];
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr {
            src_addr: GUEST_MAC,
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EthernetProtocol::Arp,
        }
        .emit(&mut eth);
        ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: GUEST_MAC,
            source_protocol_addr: GUEST,
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: DNS,
        }
        .emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
        assert_eq!(classify(&buf), FromGuest::ArpRequest(DNS));
        assert_eq!(classify(&buf[..20]), FromGuest::Other);
        buf[12..14].copy_from_slice(&[0x88, 0x8e]);
        assert_eq!(classify(&buf), FromGuest::Unsupported);
    }

    #[test]
    fn ipv6_udp_echo_and_advert() {
        let guest: SocketAddr = "[fd00:10:0:2::15]:1000".parse().unwrap();
        let dns: SocketAddr = SocketAddr::new(DNS6.into(), 53);
        let f = udp_frame(GUEST_MAC, guest, dns, b"query").unwrap();
        assert_eq!(
            classify(&f),
            FromGuest::Udp {
                src: guest,
                dst: dns,
                data: b"query"
            }
        );
        assert!(udp_frame(GUEST_MAC, guest, "10.0.2.3:53".parse().unwrap(), b"x").is_none());
        // An echo reply turned into a request (type 128).
        let mut f = echo_reply_frame(GUEST_MAC, guest.ip(), GATEWAY6.into(), 1, 2, b"p6").unwrap();
        f[54] = 128;
        let mut p = Icmpv6Packet::new_unchecked(&mut f[54..]);
        let g = match guest.ip() {
            IpAddr::V6(a) => a,
            _ => unreachable!(),
        };
        p.fill_checksum(&g, &GATEWAY6);
        assert_eq!(
            classify(&f),
            FromGuest::Echo {
                src: guest.ip(),
                dst: GATEWAY6.into(),
                ident: 1,
                seq: 2,
                data: b"p6"
            }
        );
        // The advertisement parses, with its prefix.
        let ra = router_advert_frame(GUEST_MAC);
        let ip = Ipv6Packet::new_checked(&ra[14..]).unwrap();
        let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
        let r = Icmpv6Repr::parse(
            &ip.src_addr(),
            &ip.dst_addr(),
            &icmp,
            &ChecksumCapabilities::default(),
        )
        .unwrap();
        let Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            prefix_info: Some(pi),
            router_lifetime,
            ..
        }) = r
        else {
            panic!("{r:?}");
        };
        assert_eq!((pi.prefix, pi.prefix_len), (PREFIX6, 64));
        assert_eq!(router_lifetime.secs(), ROUTER_LIFETIME as u64);
        assert_eq!(
            eui64(PREFIX6, EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56])).to_string(),
            "fd00:10:0:2:5054:ff:fe12:3456"
        );
    }
}
