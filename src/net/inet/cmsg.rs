//! Control messages of UDP sockets: what a sendmsg's IP_PKTINFO, IP_TTL,
//! IP_TOS (AF_INET) or IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS (AF_INET6)
//! ask of one datagram, checked as Linux's ip_cmsg_send and
//! ip6_datagram_send_ctl; and the ones a received datagram comes with
//! (ip_cmsg_recv, ip6_datagram_recv_ctl), in Linux's order.

use super::addr::{self, Domain};
use super::options::{
    IPPROTO_IP, IPPROTO_IPV6, IPV6_HOPLIMIT, IPV6_PKTINFO, IPV6_TCLASS, IP_PKTINFO, IP_TOS, IP_TTL,
};
use super::sock::{RxInfo, RxOpts, SendCtl};
use super::stack::Net;
use crate::abi::{self, net::In6Pktinfo, net::InPktinfo};
use crate::kernel::errno::{Errno, KResult};
use crate::net::Cmsg;
use smoltcp::wire::{IpAddress, Ipv4Address, Ipv6Address};

/// RFC 2292's numbers, which Linux still takes on send.
const IPV6_2292PKTINFO: i32 = 2;
const IPV6_2292HOPLIMIT: i32 = 8;
/// IPv6 control messages Linux takes that change nothing here (routing
/// and option headers, next hop, flow label, don't-fragment, ...).
const IPV6_IGNORED: &[i32] = &[3, 4, 5, 6, 9, 11, 54, 55, 57, 59, 62];
/// IP_RETOPTS and IP_PROTOCOL: taken, change nothing here.
const IP_IGNORED: &[i32] = &[7, 52];

fn int_of(c: &Cmsg) -> KResult<i32> {
    if c.data.len() != 4 {
        return Err(Errno::EINVAL);
    }
    Ok(abi::read_at(&c.data, 0))
}

/// What `cmsgs` ask of the next datagram of a `domain` socket.
pub fn send_ctl(domain: Domain, cmsgs: &[Cmsg], net: &Net) -> KResult<SendCtl> {
    let mut ctl = SendCtl::default();
    for c in cmsgs {
        match domain {
            Domain::V4 if c.level == IPPROTO_IP => match c.ty {
                IP_PKTINFO => {
                    if c.data.len() != core::mem::size_of::<InPktinfo>() {
                        return Err(Errno::EINVAL);
                    }
                    let p: InPktinfo = abi::read_at(&c.data, 0);
                    if p.ipi_ifindex != 0 {
                        ctl.ifindex = p.ipi_ifindex as u32;
                    }
                    ctl.src = Some(IpAddress::Ipv4(Ipv4Address::from(p.ipi_spec_dst)));
                }
                IP_TTL => {
                    let v = int_of(c)?;
                    if !(1..=255).contains(&v) {
                        return Err(Errno::EINVAL);
                    }
                    ctl.ttl = Some(v as u8);
                }
                IP_TOS => {
                    let v = match c.data.len() {
                        4 => int_of(c)?,
                        1 => c.data[0] as i32,
                        _ => return Err(Errno::EINVAL),
                    };
                    if !(0..=255).contains(&v) {
                        return Err(Errno::EINVAL);
                    }
                    ctl.tos = Some(v as u8);
                }
                t if IP_IGNORED.contains(&t) => {}
                _ => return Err(Errno::EINVAL),
            },
            Domain::V6 if c.level == IPPROTO_IPV6 => match c.ty {
                IPV6_PKTINFO | IPV6_2292PKTINFO => {
                    if c.data.len() < core::mem::size_of::<In6Pktinfo>() {
                        return Err(Errno::EINVAL);
                    }
                    let p: In6Pktinfo = abi::read_at(&c.data, 0);
                    if p.ipi6_ifindex != 0 {
                        ctl.ifindex = p.ipi6_ifindex;
                    }
                    let a = Ipv6Address::from(p.ipi6_addr);
                    let a = IpAddress::Ipv6(a);
                    if ctl.ifindex != 0 {
                        if !net.ifaces.iter().any(|i| i.index == ctl.ifindex) {
                            return Err(Errno::ENODEV);
                        }
                    } else if addr::is_link_local(a) {
                        return Err(Errno::EINVAL);
                    }
                    if !a.is_unspecified() {
                        net.owner_of(a).ok_or(Errno::EINVAL)?;
                        ctl.src = Some(a);
                    }
                }
                IPV6_HOPLIMIT | IPV6_2292HOPLIMIT => {
                    let v = int_of(c)?;
                    if !(-1..=255).contains(&v) {
                        return Err(Errno::EINVAL);
                    }
                    ctl.ttl = (v >= 0).then_some(v as u8);
                }
                IPV6_TCLASS => {
                    let v = int_of(c)?;
                    if !(-1..=255).contains(&v) {
                        return Err(Errno::EINVAL);
                    }
                    // -1 is not "the socket's" here: Linux sends it as
                    // the byte 0xff.
                    ctl.tos = Some(v as u8);
                }
                t if IPV6_IGNORED.contains(&t) => {}
                _ => return Err(Errno::EINVAL),
            },
            // Other levels are not the IP layer's (SOL_SOCKET's are
            // looked at by the socket layer).
            _ => {}
        }
    }
    Ok(ctl)
}

fn cmsg(level: i32, ty: i32, data: &[u8]) -> Cmsg {
    Cmsg {
        level,
        ty,
        data: data.to_vec(),
    }
}

/// The control messages a datagram received as `info` comes with on a
/// `domain` socket with receive options `rx`.
pub fn received(domain: Domain, rx: &RxOpts, info: &RxInfo) -> Vec<Cmsg> {
    let mut out = Vec::new();
    let f = info.fields;
    match (domain, info.dst) {
        (Domain::V4, IpAddress::Ipv4(a)) => {
            if rx.pktinfo {
                let p = InPktinfo {
                    ipi_ifindex: info.ifindex as i32,
                    ipi_spec_dst: a.octets(),
                    ipi_addr: a.octets(),
                };
                out.push(cmsg(IPPROTO_IP, IP_PKTINFO, abi::bytes(&p)));
            }
            if rx.ttl {
                out.push(cmsg(IPPROTO_IP, IP_TTL, abi::bytes(&(f.ttl as i32))));
            }
            if rx.tos {
                out.push(cmsg(IPPROTO_IP, IP_TOS, &[f.tos]));
            }
        }
        (Domain::V6, dst) => {
            if rx.pktinfo6 {
                let a = match dst {
                    IpAddress::Ipv6(a) => a,
                    IpAddress::Ipv4(a) => a.to_ipv6_mapped(),
                };
                let p = In6Pktinfo {
                    ipi6_addr: a.octets(),
                    ipi6_ifindex: info.ifindex,
                };
                out.push(cmsg(IPPROTO_IPV6, IPV6_PKTINFO, abi::bytes(&p)));
            }
            if rx.hoplimit6 {
                out.push(cmsg(
                    IPPROTO_IPV6,
                    IPV6_HOPLIMIT,
                    abi::bytes(&(f.ttl as i32)),
                ));
            }
            if rx.tclass6 {
                out.push(cmsg(IPPROTO_IPV6, IPV6_TCLASS, abi::bytes(&(f.tos as i32))));
            }
        }
        _ => {}
    }
    out
}
