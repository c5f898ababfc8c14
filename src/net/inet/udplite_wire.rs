//! UDP-Lite datagrams on the wire (RFC 3828): the IP packet a send puts
//! on a raw smoltcp socket, and what a received IP packet carries once its
//! header, checksum coverage and checksum pass Linux's receive checks.
//!
//! A UDP-Lite header is UDP's with the length field holding the checksum
//! coverage instead: 0 for the whole datagram, else the bytes (header
//! included, at least 8) the checksum covers. The checksum, over the
//! covered bytes and the usual pseudo-header (whose length is the whole
//! datagram's), is mandatory: 0 never goes out and is refused on receipt.

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    checksum, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, UdpPacket,
};

/// IPPROTO_UDPLITE.
pub const PROTO: u8 = 136;
const HDR: usize = 8;

/// What a send asks of the datagram's header fields.
pub struct Out<'a> {
    pub src: IpAddress,
    pub dst: IpAddress,
    pub sport: u16,
    pub dport: u16,
    pub data: &'a [u8],
    /// UDPLITE_SEND_CSCOV when set (Linux's pcslen with UDPLITE_SEND_CC).
    pub send_cscov: Option<u16>,
    pub ttl: u8,
}

/// The checksum of UDP-Lite datagram `dgram` (its checksum field zero)
/// between `src` and `dst`, over its first `cov` bytes.
fn sum(src: IpAddress, dst: IpAddress, dgram: &[u8], cov: usize) -> u16 {
    let len = dgram.len() as u32;
    let p = IpProtocol::Unknown(PROTO);
    let pseudo = checksum::pseudo_header(&src, &dst, p, len);
    !checksum::combine(&[pseudo, checksum::data(&dgram[..cov])])
}

/// The UDP-Lite datagram (header and data) of a send.
pub fn datagram(o: &Out) -> Vec<u8> {
    let len = HDR + o.data.len();
    let mut d = vec![0u8; len];
    // Linux's udplite_csum: a coverage set below the length goes in the
    // field (0 still covering everything); else the field is the length.
    let (field, cov) = match o.send_cscov {
        Some(c) if (c as usize) < len => (c, if c == 0 { len } else { c as usize }),
        _ => (len as u16, len),
    };
    let mut u = UdpPacket::new_unchecked(&mut d[..]);
    u.set_src_port(o.sport);
    u.set_dst_port(o.dport);
    u.set_len(field);
    u.set_checksum(0);
    d[HDR..].copy_from_slice(o.data);
    let c = match sum(o.src, o.dst, &d, cov) {
        0 => 0xffff,
        c => c,
    };
    UdpPacket::new_unchecked(&mut d[..]).set_checksum(c);
    d
}

/// The IP packet of a send (smoltcp's raw sockets take whole packets).
pub fn packet(o: &Out) -> Option<Vec<u8>> {
    let d = datagram(o);
    let caps = ChecksumCapabilities::default();
    let p = IpProtocol::Unknown(PROTO);
    match (o.src, o.dst) {
        (IpAddress::Ipv4(src), IpAddress::Ipv4(dst)) => {
            let r = Ipv4Repr {
                src_addr: src,
                dst_addr: dst,
                next_header: p,
                payload_len: d.len(),
                hop_limit: o.ttl,
            };
            let mut b = vec![0u8; r.buffer_len() + d.len()];
            let mut pkt = Ipv4Packet::new_unchecked(&mut b[..]);
            r.emit(&mut pkt, &caps);
            pkt.payload_mut().copy_from_slice(&d);
            Some(b)
        }
        (IpAddress::Ipv6(src), IpAddress::Ipv6(dst)) => {
            let r = Ipv6Repr {
                src_addr: src,
                dst_addr: dst,
                next_header: p,
                payload_len: d.len(),
                hop_limit: o.ttl,
            };
            let mut b = vec![0u8; r.buffer_len() + d.len()];
            let mut pkt = Ipv6Packet::new_unchecked(&mut b[..]);
            r.emit(&mut pkt);
            pkt.payload_mut().copy_from_slice(&d);
            Some(b)
        }
        _ => None,
    }
}

/// A received datagram that passed the checks.
pub struct In {
    pub src: IpAddress,
    pub dst: IpAddress,
    pub sport: u16,
    pub dport: u16,
    pub ttl: u8,
    /// The coverage when partial (below the datagram's length).
    pub partial: Option<u16>,
    pub data: Vec<u8>,
}

/// The datagram in a received IP packet, if it is a sound UDP-Lite one
/// (Linux's udplite_checksum_init and checksum check): a zero checksum,
/// a coverage below 8 or past the end, or a wrong checksum drops it.
pub fn parse(ip: &[u8]) -> Option<In> {
    let (src, dst, ttl, d) = match ip.first()? >> 4 {
        4 => {
            let p = Ipv4Packet::new_checked(ip).ok()?;
            let (s, t) = (IpAddress::Ipv4(p.src_addr()), IpAddress::Ipv4(p.dst_addr()));
            (s, t, p.hop_limit(), p.payload())
        }
        6 => {
            let p = Ipv6Packet::new_checked(ip).ok()?;
            let (s, t) = (IpAddress::Ipv6(p.src_addr()), IpAddress::Ipv6(p.dst_addr()));
            (s, t, p.hop_limit(), p.payload())
        }
        _ => return None,
    };
    if d.len() < HDR {
        return None;
    }
    let u = UdpPacket::new_unchecked(d);
    if u.checksum() == 0 {
        return None;
    }
    let field = u.len() as usize;
    let cov = match field {
        0 => d.len(),
        c if c < HDR || c > d.len() => return None,
        c => c,
    };
    if sum(src, dst, d, cov) != 0 {
        return None;
    }
    Some(In {
        src,
        dst,
        sport: u.src_port(),
        dport: u.dst_port(),
        ttl,
        partial: (cov < d.len()).then_some(cov as u16),
        data: d[HDR..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(data: &[u8], send_cscov: Option<u16>) -> Out<'_> {
        Out {
            src: IpAddress::v4(127, 0, 0, 1),
            dst: IpAddress::v4(127, 0, 0, 1),
            sport: 1000,
            dport: 2000,
            data,
            send_cscov,
            ttl: 64,
        }
    }

    #[test]
    fn a_full_coverage_datagram_round_trips() {
        let p = packet(&out(b"hello", None)).unwrap();
        let i = parse(&p).unwrap();
        assert_eq!((i.sport, i.dport, i.partial), (1000, 2000, None));
        assert_eq!(i.data, b"hello");
        // The coverage field holds the length.
        assert_eq!(u16::from_be_bytes([p[24], p[25]]), 13);
    }

    #[test]
    fn partial_coverage_ignores_damage_past_it() {
        let mut p = packet(&out(b"0123456789", Some(10))).unwrap();
        assert_eq!(parse(&p).unwrap().partial, Some(10));
        // Byte 12 of the datagram is past the coverage; byte 9 is not.
        p[20 + 12] ^= 0xff;
        assert!(parse(&p).is_some());
        p[20 + 9] ^= 0xff;
        assert!(parse(&p).is_none());
    }

    #[test]
    fn zero_checksum_and_bad_coverage_are_dropped() {
        let mut p = packet(&out(b"abc", None)).unwrap();
        p[26..28].fill(0);
        assert!(parse(&p).is_none());
        let mut p = packet(&out(b"abc", None)).unwrap();
        p[24..26].copy_from_slice(&4u16.to_be_bytes());
        assert!(parse(&p).is_none());
    }

    #[test]
    fn coverage_zero_covers_everything() {
        let p = packet(&out(b"abcdef", Some(0))).unwrap();
        assert_eq!(u16::from_be_bytes([p[24], p[25]]), 0);
        assert_eq!(parse(&p).unwrap().partial, None);
    }
}
