//! getsockopt/setsockopt of internet sockets: SOL_SOCKET, IPPROTO_TCP,
//! IPPROTO_IP, IPPROTO_IPV6 and SOL_UDP/SOL_UDPLITE (checksum coverage).
//! Options the stack cannot honour (TOS, buffer sizes) are kept and
//! reported back, as programs set them and read them but rarely depend
//! on them on loopback.

use super::addr::Domain;
use super::sock::{Proto, Sock};
use super::stack::Net;
use super::udplite;
use crate::abi::{self, net::Linger, time::Timeval};
use crate::kernel::errno::{Errno, KResult};

pub const SOL_SOCKET: i32 = 1;
pub const IPPROTO_IP: i32 = 0;
pub const IPPROTO_TCP: i32 = 6;
pub const IPPROTO_IPV6: i32 = 41;
pub const IPPROTO_ICMPV6: i32 = 58;
const SOL_RAW: i32 = 255;
/// SOL_UDP and SOL_UDPLITE: Linux takes either level for the options of
/// both protocols.
const SOL_UDP: i32 = 17;
const SOL_UDPLITE: i32 = 136;
const ICMP6_FILTER: i32 = 1;
const IPV6_CHECKSUM: i32 = 7;

const SO_REUSEADDR: i32 = 2;
const SO_TYPE: i32 = 3;
const SO_ERROR: i32 = 4;
const SO_BROADCAST: i32 = 6;
const SO_SNDBUF: i32 = 7;
const SO_RCVBUF: i32 = 8;
const SO_KEEPALIVE: i32 = 9;
const SO_LINGER: i32 = 13;
const SO_RCVLOWAT: i32 = 18;
const SO_SNDLOWAT: i32 = 19;
const SO_RCVTIMEO: i32 = 20;
const SO_SNDTIMEO: i32 = 21;
const SO_ACCEPTCONN: i32 = 30;
const SO_PROTOCOL: i32 = 38;
const SO_DOMAIN: i32 = 39;
/// Options set and forgotten: SO_DEBUG, SO_DONTROUTE, SO_OOBINLINE,
/// SO_NO_CHECK, SO_PRIORITY, SO_PASSCRED, SO_TIMESTAMP, SO_MARK,
/// SO_RCVBUFFORCE, SO_SNDBUFFORCE, SO_BUSY_POLL.
const SO_IGNORED: &[i32] = &[1, 5, 10, 11, 12, 16, 29, 32, 33, 36, 46];
/// The interface sends leave by (root only: `sys_net` checks).
pub const SO_BINDTODEVICE: i32 = 25;
const SO_OOBINLINE: i32 = 10;
const SO_REUSEPORT: i32 = 15;

const TCP_NODELAY: i32 = 1;
const TCP_MAXSEG: i32 = 2;
const TCP_KEEPIDLE: i32 = 4;
const TCP_KEEPINTVL: i32 = 5;
const TCP_KEEPCNT: i32 = 6;

pub const IP_TOS: i32 = 1;
pub const IP_TTL: i32 = 2;
pub const IP_PKTINFO: i32 = 8;
const IP_RECVTTL: i32 = 12;
const IP_RECVTOS: i32 = 13;
const IP_MULTICAST_TTL: i32 = 33;
const IPV6_UNICAST_HOPS: i32 = 16;
const IPV6_MULTICAST_HOPS: i32 = 18;
const IPV6_V6ONLY: i32 = 26;
const IPV6_RECVPKTINFO: i32 = 49;
pub const IPV6_PKTINFO: i32 = 50;
const IPV6_RECVHOPLIMIT: i32 = 51;
pub const IPV6_HOPLIMIT: i32 = 52;
const IPV6_RECVTCLASS: i32 = 66;
pub const IPV6_TCLASS: i32 = 67;

/// Linux's net.core.{r,w}mem_max: SO_RCVBUF/SO_SNDBUF are capped there,
/// then doubled for bookkeeping overhead.
const BUF_MAX: i32 = 212_992;

fn int(v: i32) -> Vec<u8> {
    abi::bytes(&v).to_vec()
}

fn read_int(val: &[u8]) -> KResult<i32> {
    if val.len() < 4 {
        return Err(Errno::EINVAL);
    }
    Ok(abi::read_at(val, 0))
}

/// An IPPROTO_IP option's value as Linux's do_ip_setsockopt reads it: an
/// int, or a single byte when shorter (0 when empty).
fn ip_int(val: &[u8]) -> i32 {
    if val.len() >= 4 {
        abi::read_at(val, 0)
    } else {
        val.first().map_or(0, |&b| b as i32)
    }
}

/// A hop count as getsockopt shows it: -1 is the default, 64.
fn hops(v: i32) -> i32 {
    if v < 0 {
        64
    } else {
        v
    }
}

/// getsockopt(2): the option's bytes.
pub fn get(s: &mut Sock, net: &Net, level: i32, opt: i32) -> KResult<Vec<u8>> {
    let tcp = matches!(s.proto, Proto::Tcp(_));
    let (ty, protocol) = match &s.proto {
        Proto::Tcp(_) => (1, 6),
        Proto::Udp(_) => (2, 17),
        Proto::UdpLite(_) => (2, SOL_UDPLITE),
        Proto::Icmp(i) => (
            if i.raw { 3 } else { 2 },
            if s.domain == Domain::V6 {
                IPPROTO_ICMPV6
            } else {
                1
            },
        ),
    };
    let o = &s.opts;
    Ok(match (level, opt) {
        (SOL_SOCKET, SO_REUSEADDR) => int(o.reuseaddr as i32),
        (SOL_SOCKET, SO_TYPE) => int(ty),
        (SOL_SOCKET, SO_ERROR) => {
            let e = match &mut s.proto {
                Proto::Tcp(t) => t.so_error.take(),
                _ => None,
            };
            int(e.map_or(0, |e| e.0))
        }
        (SOL_SOCKET, SO_BROADCAST) => int(o.broadcast as i32),
        (SOL_SOCKET, SO_SNDBUF) => int(o.sndbuf),
        (SOL_SOCKET, SO_RCVBUF) => int(o.rcvbuf),
        (SOL_SOCKET, SO_KEEPALIVE) => int(o.keepalive as i32),
        (SOL_SOCKET, SO_LINGER) => abi::bytes(&Linger {
            l_onoff: o.linger.0,
            l_linger: o.linger.1,
        })
        .to_vec(),
        (SOL_SOCKET, SO_RCVLOWAT | SO_SNDLOWAT) => int(1),
        (SOL_SOCKET, SO_RCVTIMEO) => abi::bytes(&o.timeouts[0]).to_vec(),
        (SOL_SOCKET, SO_SNDTIMEO) => abi::bytes(&o.timeouts[1]).to_vec(),
        (SOL_SOCKET, SO_ACCEPTCONN) => {
            int(matches!(&s.proto, Proto::Tcp(t) if t.listening()) as i32)
        }
        (SOL_SOCKET, SO_PROTOCOL) => int(protocol),
        (SOL_SOCKET, SO_DOMAIN) => int(s.domain.family() as i32),
        (SOL_SOCKET, SO_REUSEPORT) => int(o.reuseport as i32),
        (SOL_SOCKET, SO_OOBINLINE) => int(0),
        (SOL_SOCKET, SO_BINDTODEVICE) => {
            // The name with its NUL; nothing when unbound.
            let name = o.bind_dev.and_then(|i| {
                net.ifaces
                    .iter()
                    .find(|x| x.index == i)
                    .map(|x| x.name.clone())
            });
            name.map(|n| {
                let mut v = n.into_bytes();
                v.push(0);
                v
            })
            .unwrap_or_default()
        }
        // UDP sockets read the coverage options as 0 (full coverage).
        (SOL_UDP | SOL_UDPLITE, o) if matches!(s.proto, Proto::Udp(_) | Proto::UdpLite(_)) => {
            let lite = match &s.proto {
                Proto::UdpLite(u) => Some(u),
                _ => None,
            };
            int(udplite::get_opt(lite, o).ok_or(Errno::ENOPROTOOPT)?)
        }
        // Linux hands a level it does not know down to the IP layer,
        // which refuses it this way.
        (IPPROTO_TCP, _) if !tcp => return Err(Errno::EOPNOTSUPP),
        (IPPROTO_IPV6, _) if s.domain == Domain::V4 => return Err(Errno::EOPNOTSUPP),
        (l, _) if ![SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP, IPPROTO_IPV6].contains(&l) => {
            return Err(Errno::EOPNOTSUPP)
        }
        (IPPROTO_TCP, TCP_NODELAY) => int(o.nodelay as i32),
        // Loopback's MSS with timestamps, as Linux reports it.
        (IPPROTO_TCP, TCP_MAXSEG) => int(65483),
        (IPPROTO_TCP, TCP_KEEPIDLE) => int(7200),
        (IPPROTO_TCP, TCP_KEEPINTVL) => int(75),
        (IPPROTO_TCP, TCP_KEEPCNT) => int(9),
        (IPPROTO_IP, IP_TOS) => int(o.tos),
        (IPPROTO_IP, IP_TTL) => int(hops(o.ttl)),
        (IPPROTO_IP, IP_MULTICAST_TTL) => int(o.mc_ttl),
        (IPPROTO_IP, IP_PKTINFO) => int(o.rx.pktinfo as i32),
        (IPPROTO_IP, IP_RECVTTL) => int(o.rx.ttl as i32),
        (IPPROTO_IP, IP_RECVTOS) => int(o.rx.tos as i32),
        (IPPROTO_IPV6, IPV6_UNICAST_HOPS) => int(hops(o.hops)),
        (IPPROTO_IPV6, IPV6_MULTICAST_HOPS) => int(hops(o.mc_hops)),
        (IPPROTO_IPV6, IPV6_RECVPKTINFO) => int(o.rx.pktinfo6 as i32),
        (IPPROTO_IPV6, IPV6_RECVHOPLIMIT) => int(o.rx.hoplimit6 as i32),
        (IPPROTO_IPV6, IPV6_RECVTCLASS) => int(o.rx.tclass6 as i32),
        (IPPROTO_IPV6, IPV6_TCLASS) => int(o.tclass),
        (IPPROTO_IPV6, IPV6_V6ONLY) => int(o.v6only as i32),
        _ => return Err(Errno::ENOPROTOOPT),
    })
}

/// setsockopt(2).
pub fn set(id: u64, s: &mut Sock, net: &mut Net, level: i32, opt: i32, val: &[u8]) -> KResult<()> {
    let tcp = matches!(s.proto, Proto::Tcp(_));
    let icmp6 = matches!(s.proto, Proto::Icmp(_)) && s.domain == Domain::V6;
    match (level, opt) {
        (SOL_SOCKET, SO_REUSEADDR) => {
            s.opts.reuseaddr = read_int(val)? != 0;
            net.ports.set_reuse(id, s.opts.reuseaddr);
        }
        (SOL_SOCKET, SO_REUSEPORT) => s.opts.reuseport = read_int(val)? != 0,
        (SOL_SOCKET, SO_KEEPALIVE) => s.opts.keepalive = read_int(val)? != 0,
        (SOL_SOCKET, SO_BROADCAST) => s.opts.broadcast = read_int(val)? != 0,
        (SOL_SOCKET, SO_SNDBUF) => s.opts.sndbuf = (read_int(val)?.clamp(0, BUF_MAX) * 2).max(4608),
        (SOL_SOCKET, SO_RCVBUF) => s.opts.rcvbuf = (read_int(val)?.clamp(0, BUF_MAX) * 2).max(2304),
        (SOL_SOCKET, SO_LINGER) => {
            let l: Linger = abi::from_prefix(val).ok_or(Errno::EINVAL)?;
            s.opts.linger = ((l.l_onoff != 0) as i32, l.l_linger);
        }
        (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => {
            let tv: Timeval = abi::from_prefix(val).ok_or(Errno::EINVAL)?;
            s.opts.timeouts[(opt == SO_SNDTIMEO) as usize] = tv;
        }
        (SOL_SOCKET, SO_RCVLOWAT | SO_SNDLOWAT) => {}
        (SOL_SOCKET, SO_BINDTODEVICE) => {
            // A name up to IFNAMSIZ, NUL-terminated or not; "" unbinds.
            let v = &val[..val.len().min(crate::abi::net::IFNAMSIZ)];
            let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
            s.opts.bind_dev = if end == 0 {
                None
            } else {
                let name = std::str::from_utf8(&v[..end]).map_err(|_| Errno::ENODEV)?;
                let n = net
                    .ifaces
                    .iter()
                    .find(|i| i.name == name)
                    .ok_or(Errno::ENODEV)?;
                Some(n.index)
            };
        }
        (SOL_SOCKET, o) if SO_IGNORED.contains(&o) => {}
        (IPPROTO_TCP, _) if !tcp => return Err(Errno::ENOPROTOOPT),
        (SOL_UDP | SOL_UDPLITE, o) if matches!(s.proto, Proto::UdpLite(_)) => {
            let v = read_int(val)?;
            if let Proto::UdpLite(u) = &mut s.proto {
                if !u.set_opt(o, v) {
                    return Err(Errno::ENOPROTOOPT);
                }
            }
        }
        (IPPROTO_TCP, TCP_NODELAY) => s.opts.nodelay = read_int(val)? != 0,
        // TCP_MAXSEG .. TCP_USER_TIMEOUT, TCP_CORK, TCP_QUICKACK...: accepted.
        (IPPROTO_TCP, 2..=18) => {}
        (IPPROTO_IP, IP_TOS) => s.opts.tos = ip_int(val) & 0xff,
        (IPPROTO_IP, IP_TTL) => {
            let v = ip_int(val);
            if val.is_empty() || v != -1 && !(1..=255).contains(&v) {
                return Err(Errno::EINVAL);
            }
            s.opts.ttl = v;
        }
        (IPPROTO_IP, IP_MULTICAST_TTL) => {
            let v = ip_int(val);
            if tcp || val.is_empty() || !(-1..=255).contains(&v) {
                return Err(Errno::EINVAL);
            }
            s.opts.mc_ttl = if v == -1 { 1 } else { v };
        }
        (IPPROTO_IP, IP_PKTINFO) => s.opts.rx.pktinfo = ip_int(val) != 0,
        (IPPROTO_IP, IP_RECVTTL) => s.opts.rx.ttl = ip_int(val) != 0,
        (IPPROTO_IP, IP_RECVTOS) => s.opts.rx.tos = ip_int(val) != 0,
        // Linux's do_ipv6_setsockopt: an int, -1 meaning the default.
        (IPPROTO_IPV6, IPV6_UNICAST_HOPS) if s.domain == Domain::V6 => {
            let v = read_int(val)?;
            if !(-1..=255).contains(&v) {
                return Err(Errno::EINVAL);
            }
            s.opts.hops = v;
        }
        (IPPROTO_IPV6, IPV6_MULTICAST_HOPS) if s.domain == Domain::V6 && !tcp => {
            let v = read_int(val)?;
            if !(-1..=255).contains(&v) {
                return Err(Errno::EINVAL);
            }
            s.opts.mc_hops = if v == -1 { 1 } else { v };
        }
        (IPPROTO_IPV6, IPV6_TCLASS) if s.domain == Domain::V6 => {
            let v = read_int(val)?;
            if !(-1..=255).contains(&v) {
                return Err(Errno::EINVAL);
            }
            s.opts.tclass = v.max(0);
        }
        (IPPROTO_IPV6, IPV6_RECVPKTINFO) if s.domain == Domain::V6 => {
            s.opts.rx.pktinfo6 = read_int(val)? != 0
        }
        (IPPROTO_IPV6, IPV6_RECVHOPLIMIT) if s.domain == Domain::V6 => {
            s.opts.rx.hoplimit6 = read_int(val)? != 0
        }
        (IPPROTO_IPV6, IPV6_RECVTCLASS) if s.domain == Domain::V6 => {
            s.opts.rx.tclass6 = read_int(val)? != 0
        }
        (IPPROTO_IPV6, IPV6_V6ONLY) if s.domain == Domain::V6 => {
            s.opts.v6only = read_int(val)? != 0
        }
        // Other IP-level options (multicast, PMTU discovery, packet info)
        // change nothing on loopback.
        (IPPROTO_IP, 0..=50) | (IPPROTO_IPV6, 0..=80) => {}
        // ICMPv6 sockets (ping -6): the type filter (only echo traffic of
        // the socket's identifier reaches it anyway) and the checksum
        // offset (the stack always fills in ICMPv6 checksums).
        (IPPROTO_ICMPV6, ICMP6_FILTER) | (SOL_RAW, IPV6_CHECKSUM) if icmp6 => {}
        _ => return Err(Errno::ENOPROTOOPT),
    }
    if let Proto::Tcp(t) = &s.proto {
        t.apply(net, &s.opts);
    }
    Ok(())
}
