//! The user network's addresses, and the frames the gateway reads and
//! writes itself (ARP filtering, UDP, ICMP echo) rather than through its
//! smoltcp interface: a classifier for frames from the guest and builders
//! for frames to it.

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr, TcpPacket, UdpPacket,
    UdpRepr,
};
use std::net::{Ipv4Addr, SocketAddrV4};

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
/// Largest frame either way: 1500 bytes of IP and the Ethernet header.
pub const FRAME_MAX: usize = 1514;

/// What a frame from the guest is, for the gateway's dispatch.
#[derive(Debug, PartialEq, Eq)]
pub enum FromGuest<'a> {
    /// An ARP request for this address.
    ArpRequest(Ipv4Addr),
    /// A UDP datagram (checksums verified).
    Udp {
        src: SocketAddrV4,
        dst: SocketAddrV4,
        data: &'a [u8],
    },
    /// An ICMP echo request.
    Echo {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ident: u16,
        seq: u16,
        data: &'a [u8],
    },
    /// A TCP segment; `syn` for a connection request (SYN without ACK).
    Tcp {
        src: SocketAddrV4,
        dst: SocketAddrV4,
        syn: bool,
    },
    /// Other ARP and IPv4 (ARP replies, TCP or ICMP it handles, fragments,
    /// junk): the gateway's interface may have it.
    Other,
    /// Not ARP or IPv4 (IPv6, its neighbour discovery included): dropped,
    /// as the AnyIP interface would claim every IPv6 address too.
    Unsupported,
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
            match ip.next_header {
                IpProtocol::Udp => {
                    let Ok(u) = UdpPacket::new_checked(body) else {
                        return FromGuest::Other;
                    };
                    let Ok(r) = UdpRepr::parse(&u, &ip.src_addr.into(), &ip.dst_addr.into(), &caps)
                    else {
                        return FromGuest::Other;
                    };
                    let len = (u.len() as usize).saturating_sub(8).min(body.len() - 8);
                    FromGuest::Udp {
                        src: SocketAddrV4::new(ip.src_addr, r.src_port),
                        dst: SocketAddrV4::new(ip.dst_addr, r.dst_port),
                        data: &body[8..8 + len],
                    }
                }
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
                            src: ip.src_addr,
                            dst: ip.dst_addr,
                            ident,
                            seq: seq_no,
                            data,
                        },
                        _ => FromGuest::Other,
                    }
                }
                IpProtocol::Tcp => {
                    let Ok(t) = TcpPacket::new_checked(body) else {
                        return FromGuest::Other;
                    };
                    FromGuest::Tcp {
                        src: SocketAddrV4::new(ip.src_addr, t.src_port()),
                        dst: SocketAddrV4::new(ip.dst_addr, t.dst_port()),
                        syn: t.syn() && !t.ack(),
                    }
                }
                _ => FromGuest::Other,
            }
        }
        _ => FromGuest::Unsupported,
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

/// A UDP datagram to the guest (or broadcast, for DHCP).
pub fn udp_frame(
    dst_mac: EthernetAddress,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    data: &[u8],
) -> Vec<u8> {
    ipv4_frame(
        dst_mac,
        *src.ip(),
        *dst.ip(),
        IpProtocol::Udp,
        8 + data.len(),
        |b| {
            UdpRepr {
                src_port: src.port(),
                dst_port: dst.port(),
            }
            .emit(
                &mut UdpPacket::new_unchecked(b),
                &(*src.ip()).into(),
                &(*dst.ip()).into(),
                data.len(),
                |p| p.copy_from_slice(data),
                &ChecksumCapabilities::default(),
            )
        },
    )
}

/// An ICMP echo reply to the guest.
pub fn echo_reply_frame(
    dst_mac: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ident: u16,
    seq: u16,
    data: &[u8],
) -> Vec<u8> {
    let r = Icmpv4Repr::EchoReply {
        ident,
        seq_no: seq,
        data,
    };
    ipv4_frame(dst_mac, src, dst, IpProtocol::Icmp, r.buffer_len(), |b| {
        r.emit(
            &mut Icmpv4Packet::new_unchecked(b),
            &ChecksumCapabilities::default(),
        )
    })
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
        );
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
        let mut f = echo_reply_frame(GUEST_MAC, GUEST, GATEWAY, 7, 9, b"ping");
        assert_eq!(classify(&f), FromGuest::Other);
        f[34] = 8; // echo request; fix the ICMP checksum
        f[36] = 0;
        f[37] = 0;
        let mut p = Icmpv4Packet::new_unchecked(&mut f[34..]);
        p.fill_checksum();
        assert_eq!(
            classify(&f),
            FromGuest::Echo {
                src: GUEST,
                dst: GATEWAY,
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
        buf[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(classify(&buf), FromGuest::Unsupported);
    }
}
