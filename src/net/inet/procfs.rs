//! /proc/net/tcp, tcp6, udp, udp6, udplite and udplite6: one line per socket in Linux's
//! format, as netstat and ss read them.

use super::addr::Domain;
use super::sock::Proto;
use super::stack;
use smoltcp::wire::{IpAddress, IpEndpoint};
use std::fmt::Write;

/// Linux's TCP state numbers (include/net/tcp_states.h).
pub const TCP_ESTABLISHED: u8 = 1;
pub const TCP_TIME_WAIT: u8 = 6;
pub const TCP_CLOSE: u8 = 7;
pub const TCP_LISTEN: u8 = 10;

/// One socket's line: local and remote endpoint, state, send and receive
/// queue bytes, inode (0 for orphans).
pub struct Row {
    pub local: IpEndpoint,
    pub remote: IpEndpoint,
    pub state: u8,
    pub tx_queue: usize,
    pub rx_queue: usize,
    pub ino: u64,
}

/// An address as Linux prints it: each 32-bit word of the network-order
/// address as a host-order (little-endian) number. The IPv6 tables show
/// IPv4 addresses (of dual-stack sockets) v4-mapped.
fn hex_addr(a: IpAddress, v6: bool) -> String {
    let words = |o: &[u8]| -> String {
        o.chunks(4)
            .map(|w| format!("{:08X}", crate::abi::read_at::<u32>(w, 0)))
            .collect()
    };
    match a {
        IpAddress::Ipv4(a) if v6 => words(&a.to_ipv6_mapped().octets()),
        IpAddress::Ipv4(a) => words(&a.octets()),
        IpAddress::Ipv6(a) => words(&a.octets()),
    }
}

/// Which protocol's sockets a table lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tcp,
    Udp,
    UdpLite,
}

fn table(kind: Kind, v6: bool) -> String {
    let tcp = kind == Kind::Tcp;
    let rows: Vec<Row> = stack::query(|s| {
        let mut rows = Vec::new();
        for k in s.socks.values() {
            if (k.domain == Domain::V6) != v6 {
                continue;
            }
            let ino = if k.orphan { 0 } else { k.ino };
            match &k.proto {
                Proto::Tcp(t) if tcp => rows.extend(t.rows(&s.net, ino)),
                Proto::Udp(u) if kind == Kind::Udp => rows.extend(u.row(&s.net, ino)),
                Proto::UdpLite(u) if kind == Kind::UdpLite => rows.extend(u.row(ino)),
                _ => {}
            }
        }
        if tcp {
            for tw in s
                .net
                .time_wait
                .iter()
                .filter(|tw| (tw.domain == Domain::V6) == v6)
            {
                rows.push(Row {
                    local: tw.local,
                    remote: tw.remote,
                    state: TCP_TIME_WAIT,
                    tx_queue: 0,
                    rx_queue: 0,
                    ino: 0,
                });
            }
        }
        rows
    });
    let mut out = String::new();
    let head = if tcp {
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    } else {
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
    };
    if v6 {
        let _ = writeln!(out, "{head}");
    } else {
        let _ = writeln!(out, "{head:<149}");
    }
    for (n, r) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "{:>width$}: {}:{:04X} {}:{:04X} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:>5} {:>8} {} ",
            n,
            hex_addr(r.local.addr, v6),
            r.local.port,
            hex_addr(r.remote.addr, v6),
            r.remote.port,
            r.state,
            r.tx_queue,
            r.rx_queue,
            0,
            0,
            r.ino,
            width = if tcp { 4 } else { 5 },
        );
        let _ = if tcp {
            writeln!(out, "1 0000000000000000 20 4 30 10 -1")
        } else {
            writeln!(out, "2 0000000000000000 0")
        };
    }
    out
}

/// /proc/net/tcp (`v6`: tcp6).
pub fn tcp(v6: bool) -> String {
    table(Kind::Tcp, v6)
}

/// /proc/net/udp (`v6`: udp6).
pub fn udp(v6: bool) -> String {
    table(Kind::Udp, v6)
}

/// /proc/net/udplite (`v6`: udplite6), in UDP's format.
pub fn udplite(v6: bool) -> String {
    table(Kind::UdpLite, v6)
}
