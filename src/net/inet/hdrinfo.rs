//! IP header fields smoltcp does not carry to or from sockets: the TTL (hop
//! limit) and TOS (traffic class) of each received packet, which
//! IP_RECVTTL/IP_RECVTOS/IPV6_RECVHOPLIMIT/IPV6_RECVTCLASS report, and the
//! ones a datagram is sent with (IP_TTL, IP_TOS, IPV6_UNICAST_HOPS,
//! IPV6_TCLASS and their per-send control messages).
//!
//! Both go by smoltcp's packet id (`PacketMeta::id`): the device gives
//! every received frame an id and notes its fields here; the id travels
//! with the datagram to the socket's receive queue. A send that wants
//! other fields than smoltcp's (hop limit 64, TOS 0) gets an id noted
//! here, and the device writes the fields into the header on the way out.
//! Ids index a ring: a datagram left unread while more than `RING`
//! others arrived reports the defaults. (IPv6 sends go by their flow:
//! see `expect_v6`.)

use smoltcp::phy::PacketMeta;
use std::sync::Mutex;

const RING: usize = 16384;

/// What smoltcp writes when asked nothing else.
pub const DEFAULT_TTL: u8 = 64;

/// A packet's TTL (hop limit) and TOS (traffic class).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    pub ttl: u8,
    pub tos: u8,
}

impl Default for Fields {
    fn default() -> Fields {
        Fields {
            ttl: DEFAULT_TTL,
            tos: 0,
        }
    }
}

struct Ring {
    next: u32,
    slots: Vec<(u32, Fields)>,
}

static RING_TABLE: Mutex<Option<Ring>> = Mutex::new(None);

/// Note `f` under a fresh id (never 0: 0 means none).
fn note(f: Fields) -> u32 {
    let mut g = RING_TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let r = g.get_or_insert_with(|| Ring {
        next: 1,
        slots: vec![(0, Fields::default()); RING],
    });
    let id = r.next;
    r.next = r.next.checked_add(1).unwrap_or(1);
    r.slots[id as usize % RING] = (id, f);
    id
}

/// The fields noted under `id`, if still there.
pub fn lookup(id: u32) -> Option<Fields> {
    if id == 0 {
        return None;
    }
    let g = RING_TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let (i, f) = g.as_ref()?.slots[id as usize % RING];
    (i == id).then_some(f)
}

/// The IP packet in `frame` (after an Ethernet header when `ethernet`):
/// its offset, if it is IPv4 or IPv6.
fn ip_offset(frame: &[u8], ethernet: bool) -> Option<usize> {
    let off = if ethernet {
        let ty = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
        if ty != 0x0800 && ty != 0x86dd {
            return None;
        }
        14
    } else {
        0
    };
    let v = frame.get(off)? >> 4;
    let need = if v == 4 { 20 } else { 40 };
    (matches!(v, 4 | 6) && frame.len() >= off + need).then_some(off)
}

/// A received frame's packet id, with its header fields noted (0 for
/// frames that are not IP).
pub fn received(frame: &[u8], ethernet: bool) -> PacketMeta {
    let mut m = PacketMeta::default();
    if let Some(o) = ip_offset(frame, ethernet) {
        let p = &frame[o..];
        let f = if p[0] >> 4 == 4 {
            Fields {
                ttl: p[8],
                tos: p[1],
            }
        } else {
            Fields {
                ttl: p[7],
                tos: (p[0] << 4) | (p[1] >> 4),
            }
        };
        m.id = note(f);
    }
    m
}

/// The packet id a datagram to be sent with `f` carries (none for
/// smoltcp's own defaults).
pub fn for_send(f: Fields) -> PacketMeta {
    let mut m = PacketMeta::default();
    if f != Fields::default() {
        m.id = note(f);
    }
    m
}

/// A UDP datagram by its addresses, ports and length: smoltcp 0.14 does
/// not hand IPv6 packets' ids to the device, so sends over IPv6 are
/// matched by these instead (in order: a socket's datagrams leave in the
/// order they were queued).
type Flow = ([u8; 16], u16, [u8; 16], u16, usize);

static V6_SENDS: Mutex<Vec<(Flow, Fields)>> = Mutex::new(Vec::new());

/// Bound on IPv6 sends waiting to leave with their own fields (older
/// ones are forgotten: their datagrams went or were dropped).
const V6_PENDING: usize = 1024;

/// An IPv6 UDP datagram of `len` payload bytes from `src` to `dst` is
/// about to be queued with fields `f`.
pub fn expect_v6(src: [u8; 16], sport: u16, dst: [u8; 16], dport: u16, len: usize, f: Fields) {
    if f == Fields::default() {
        return;
    }
    let mut g = V6_SENDS.lock().unwrap_or_else(|e| e.into_inner());
    if g.len() >= V6_PENDING {
        g.remove(0);
    }
    g.push(((src, sport, dst, dport, len), f));
}

/// The fields an outgoing IPv6 packet `p` was queued with, if any.
fn v6_fields(p: &[u8]) -> Option<Fields> {
    let mut g = V6_SENDS.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_empty() || p[6] != 17 || p.len() < 48 {
        return None;
    }
    let a = |r: std::ops::Range<usize>| <[u8; 16]>::try_from(&p[r]).unwrap_or_default();
    let port = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]);
    let len = (port(44) as usize).saturating_sub(8);
    let flow = (a(8..24), port(40), a(24..40), port(42), len);
    let i = g.iter().position(|(k, _)| *k == flow)?;
    Some(g.remove(i).1)
}

/// Write the fields noted for `meta` into the outgoing `frame`.
pub fn apply(meta: PacketMeta, frame: &mut [u8], ethernet: bool) {
    let Some(o) = ip_offset(frame, ethernet) else {
        return;
    };
    let p = &mut frame[o..];
    let f = match lookup(meta.id) {
        Some(f) => f,
        None if p[0] >> 4 == 6 => match v6_fields(p) {
            Some(f) => f,
            None => return,
        },
        None => return,
    };
    if p[0] >> 4 == 4 {
        p[1] = f.tos;
        p[8] = f.ttl;
        // The header checksum covers both.
        let ihl = ((p[0] & 0xf) as usize * 4).clamp(20, p.len());
        p[10] = 0;
        p[11] = 0;
        let mut sum: u32 = p[..ihl]
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32)
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let ck = !(sum as u16);
        p[10..12].copy_from_slice(&ck.to_be_bytes());
    } else {
        p[0] = (p[0] & 0xf0) | (f.tos >> 4);
        p[1] = (p[1] & 0x0f) | (f.tos << 4);
        p[7] = f.ttl;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_rewrite_keeps_a_valid_checksum() {
        let mut p = vec![
            0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        p.extend_from_slice(&[0; 8]);
        let m = for_send(Fields { ttl: 7, tos: 0x10 });
        apply(m, &mut p, false);
        assert_eq!((p[1], p[8]), (0x10, 7));
        let sum: u32 = p[..20]
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]) as u32)
            .sum();
        assert_eq!((sum & 0xffff) + (sum >> 16), 0xffff);
        let r = received(&p, false);
        assert_eq!(lookup(r.id), Some(Fields { ttl: 7, tos: 0x10 }));
    }

    #[test]
    fn ipv6_traffic_class_straddles_two_bytes() {
        let mut p = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        p.extend_from_slice(&[0; 32]);
        p.extend_from_slice(&[0, 7, 0, 9, 0, 8, 0, 0]);
        expect_v6([0; 16], 7, [0; 16], 9, 0, Fields { ttl: 9, tos: 0xa5 });
        apply(PacketMeta::default(), &mut p, false);
        assert_eq!((p[0], p[1], p[7]), (0x6a, 0x50, 9));
        let r = received(&p, false);
        assert_eq!(lookup(r.id), Some(Fields { ttl: 9, tos: 0xa5 }));
    }
}
