//! The gateway's DNS side: which host resolver queries to 10.0.2.3 are
//! forwarded to (the first IPv4 `nameserver` of the host's
//! /etc/resolv.conf), and answers for names in the host's /etc/hosts,
//! given directly so they work with no outside traffic.

use std::net::{IpAddr, Ipv4Addr};

/// The first IPv4 nameserver in resolv.conf text (the host's own
/// loopback when there is none, as glibc assumes).
pub fn nameserver(resolv_conf: &str) -> Ipv4Addr {
    resolv_conf
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next()?.parse().ok())?
        })
        .next()
        .unwrap_or(Ipv4Addr::LOCALHOST)
}

/// /etc/hosts as (lower-case name, address) pairs.
pub fn parse_hosts(text: &str) -> Vec<(String, IpAddr)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut w = line.split_whitespace();
        let Some(Ok(addr)) = w.next().map(str::parse::<IpAddr>) else {
            continue;
        };
        out.extend(w.map(|n| (n.to_ascii_lowercase(), addr)));
    }
    out
}

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;

/// The answer to a query for a name in `hosts` (A and AAAA records, no
/// data for other types); None for a name not there or a message that
/// is not a plain one-question query (forwarded as it is).
pub fn answer(query: &[u8], hosts: &[(String, IpAddr)]) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    let flags = u16::from_be_bytes([query[2], query[3]]);
    let qdcount = u16::from_be_bytes([query[4], query[5]]);
    // QR=0, opcode QUERY, one question.
    if flags & 0xf800 != 0 || qdcount != 1 {
        return None;
    }
    let mut i = 12;
    let mut name = String::new();
    loop {
        let len = *query.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None; // compression is not used in questions
        }
        let label = std::str::from_utf8(query.get(i..i + len)?).ok()?;
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(&label.to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*query.get(i)?, *query.get(i + 1)?]);
    let qclass = u16::from_be_bytes([*query.get(i + 2)?, *query.get(i + 3)?]);
    let question_end = i + 4;
    if qclass != 1 {
        return None;
    }
    let known: Vec<IpAddr> = hosts
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, a)| *a)
        .collect();
    if known.is_empty() {
        return None;
    }
    let records: Vec<Vec<u8>> = known
        .iter()
        .filter_map(|a| match (a, qtype) {
            (IpAddr::V4(v4), TYPE_A) => Some(v4.octets().to_vec()),
            (IpAddr::V6(v6), TYPE_AAAA) => Some(v6.octets().to_vec()),
            _ => None,
        })
        .collect();
    let mut r = Vec::with_capacity(question_end + records.len() * 28);
    r.extend_from_slice(&query[0..2]);
    // QR, AA, the query's RD, RA; NOERROR.
    r.extend_from_slice(&(0x8480 | (flags & 0x0100)).to_be_bytes());
    r.extend_from_slice(&1u16.to_be_bytes());
    r.extend_from_slice(&(records.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(&query[12..question_end]);
    for rdata in records {
        r.extend_from_slice(&[0xc0, 12]); // the name, as the question's
        r.extend_from_slice(&qtype.to_be_bytes());
        r.extend_from_slice(&1u16.to_be_bytes());
        r.extend_from_slice(&60u32.to_be_bytes());
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(&rdata);
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes());
        q
    }

    #[test]
    fn resolv_conf() {
        assert_eq!(
            nameserver(
                "# x\nsearch lan\nnameserver fe80::1\nnameserver 192.168.1.1\nnameserver 8.8.8.8\n"
            ),
            Ipv4Addr::new(192, 168, 1, 1)
        );
        assert_eq!(nameserver(""), Ipv4Addr::LOCALHOST);
    }

    #[test]
    fn hosts_answers() {
        let hosts = parse_hosts("127.0.0.1 localhost # me\n::1 localhost ip6-localhost\nbad line\n10.1.2.3 Box.lan box\n");
        assert_eq!(hosts.len(), 5);
        let r = answer(&query("LocalHost", TYPE_A), &hosts).unwrap();
        assert_eq!(&r[0..2], &[0x12, 0x34]);
        assert_eq!(u16::from_be_bytes([r[2], r[3]]) & 0x8000, 0x8000);
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 1, "one answer");
        assert_eq!(&r[r.len() - 4..], &[127, 0, 0, 1]);
        let r = answer(&query("localhost", TYPE_AAAA), &hosts).unwrap();
        assert_eq!(&r[r.len() - 16..], &std::net::Ipv6Addr::LOCALHOST.octets());
        let r = answer(&query("box", TYPE_AAAA), &hosts).unwrap();
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 0, "no data");
        assert!(answer(&query("example.com", TYPE_A), &hosts).is_none());
        assert!(answer(&query("box", TYPE_A)[..14], &hosts).is_none());
    }
}
