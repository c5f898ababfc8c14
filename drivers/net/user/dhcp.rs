//! The gateway's DHCP server: one lease, the guest's fixed address, with
//! the network's mask, router and DNS server (RFC 2131 messages on the
//! BOOTP layout). Pure: a request's UDP payload in, a reply's out.

use super::frames::{DNS, GATEWAY, GUEST, NETMASK};
use std::net::Ipv4Addr;

/// Offset of the options (after the fixed BOOTP fields and the cookie).
const OPTIONS: usize = 240;
const COOKIE: [u8; 4] = [99, 130, 83, 99];
/// The lease the guest gets; it renews at half of it.
pub const LEASE_SECS: u32 = 86400;

const DISCOVER: u8 = 1;
const OFFER: u8 = 2;
const REQUEST: u8 = 3;
const ACK: u8 = 5;
const NAK: u8 = 6;
const INFORM: u8 = 8;

/// The options of a BOOTP message as (code, value) pairs.
fn options(msg: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut i = OPTIONS;
    while i < msg.len() {
        match msg[i] {
            0 => i += 1,
            255 => break,
            code => {
                let Some(&len) = msg.get(i + 1) else { break };
                let Some(v) = msg.get(i + 2..i + 2 + len as usize) else {
                    break;
                };
                out.push((code, v));
                i += 2 + len as usize;
            }
        }
    }
    out
}

fn addr_option(opts: &[(u8, &[u8])], code: u8) -> Option<Ipv4Addr> {
    let v = opts.iter().find(|(c, _)| *c == code)?.1;
    let b: [u8; 4] = v.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

/// The reply to a client message (port 67's payload), if it gets one.
pub fn reply(msg: &[u8]) -> Option<Vec<u8>> {
    // A BOOTREQUEST over Ethernet with the DHCP cookie.
    if msg.len() < OPTIONS || msg[0] != 1 || msg[1] != 1 || msg[2] != 6 || msg[236..240] != COOKIE {
        return None;
    }
    let opts = options(msg);
    let kind = opts.iter().find(|(c, _)| *c == 53)?.1.first().copied()?;
    let ciaddr = Ipv4Addr::from(<[u8; 4]>::try_from(&msg[12..16]).ok()?);
    let answer = match kind {
        DISCOVER => OFFER,
        REQUEST => {
            // Selecting another server's offer: not ours to answer.
            if addr_option(&opts, 54).is_some_and(|s| s != GATEWAY) {
                return None;
            }
            let wanted = addr_option(&opts, 50).unwrap_or(ciaddr);
            if wanted == GUEST {
                ACK
            } else {
                NAK
            }
        }
        INFORM => ACK,
        // DECLINE and RELEASE need no answer: the one address stays the guest's.
        _ => return None,
    };
    let mut r = vec![0u8; OPTIONS];
    r[0] = 2; // BOOTREPLY
    r[1] = 1;
    r[2] = 6;
    r[4..8].copy_from_slice(&msg[4..8]); // xid
    r[10..12].copy_from_slice(&msg[10..12]); // flags (broadcast bit)
    r[28..44].copy_from_slice(&msg[28..44]); // chaddr
    r[236..240].copy_from_slice(&COOKIE);
    if answer != NAK {
        if kind == INFORM {
            r[12..16].copy_from_slice(&msg[12..16]);
        } else {
            r[16..20].copy_from_slice(&GUEST.octets()); // yiaddr
        }
        r[20..24].copy_from_slice(&GATEWAY.octets()); // siaddr
    }
    let mut opt = |code: u8, v: &[u8]| {
        r.push(code);
        r.push(v.len() as u8);
        r.extend_from_slice(v);
    };
    opt(53, &[answer]);
    opt(54, &GATEWAY.octets());
    if answer != NAK {
        opt(1, &NETMASK.octets());
        opt(3, &GATEWAY.octets());
        opt(6, &DNS.octets());
        if kind != INFORM {
            opt(51, &LEASE_SECS.to_be_bytes());
        }
    }
    r.push(255);
    // Some clients want at least a BOOTP-sized (300-byte) message.
    if r.len() < 300 {
        r.resize(300, 0);
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 7];

    fn request(kind: u8, extra: &[(u8, &[u8])]) -> Vec<u8> {
        let mut m = vec![0u8; OPTIONS];
        m[0] = 1;
        m[1] = 1;
        m[2] = 6;
        m[4..8].copy_from_slice(&[1, 2, 3, 4]);
        m[28..34].copy_from_slice(&MAC);
        m[236..240].copy_from_slice(&COOKIE);
        m.extend_from_slice(&[53, 1, kind]);
        for (c, v) in extra {
            m.push(*c);
            m.push(v.len() as u8);
            m.extend_from_slice(v);
        }
        m.push(255);
        m
    }

    fn kind(r: &[u8]) -> u8 {
        options(r).iter().find(|(c, _)| *c == 53).unwrap().1[0]
    }

    #[test]
    fn discover_offer_request_ack() {
        let offer = reply(&request(DISCOVER, &[])).unwrap();
        assert_eq!(kind(&offer), OFFER);
        assert_eq!(offer[0], 2);
        assert_eq!(&offer[4..8], &[1, 2, 3, 4]);
        assert_eq!(&offer[28..34], &MAC);
        assert_eq!(&offer[16..20], &GUEST.octets());
        let o = options(&offer);
        assert_eq!(addr_option(&o, 1), Some(NETMASK));
        assert_eq!(addr_option(&o, 3), Some(GATEWAY));
        assert_eq!(addr_option(&o, 6), Some(DNS));
        assert_eq!(addr_option(&o, 54), Some(GATEWAY));
        let lease = o.iter().find(|(c, _)| *c == 51).unwrap().1;
        assert_eq!(lease, &LEASE_SECS.to_be_bytes());

        let ack = reply(&request(
            REQUEST,
            &[(50, &GUEST.octets()), (54, &GATEWAY.octets())],
        ))
        .unwrap();
        assert_eq!(kind(&ack), ACK);
        assert_eq!(&ack[16..20], &GUEST.octets());
    }

    #[test]
    fn wrong_address_is_naked_and_other_servers_ignored() {
        let nak = reply(&request(REQUEST, &[(50, &[10, 0, 2, 99])])).unwrap();
        assert_eq!(kind(&nak), NAK);
        assert_eq!(&nak[16..20], &[0; 4]);
        assert!(reply(&request(REQUEST, &[(54, &[10, 0, 2, 9])])).is_none());
        assert!(reply(&request(7, &[])).is_none(), "RELEASE");
        assert!(reply(&request(DISCOVER, &[])[..100]).is_none(), "short");
        let mut reply_msg = request(DISCOVER, &[]);
        reply_msg[0] = 2;
        assert!(reply(&reply_msg).is_none(), "a BOOTREPLY");
    }
}
