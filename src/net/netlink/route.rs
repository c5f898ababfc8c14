//! RTM_NEWROUTE, RTM_DELROUTE and the RTM_GETROUTE dump: the IPv4 and
//! IPv6 main tables (`inet::route`), changed through the same operations
//! as SIOCADDRT (`inet::ifconfig`). Other tables and route types are
//! refused with EOPNOTSUPP.

use super::{attr, attrs, body_of, ip_attr, ip_bytes, Msg, AF_INET, AF_INET6, NLM_F_MULTI};
use super::{NLM_F_REPLACE, RTM_NEWROUTE};
use crate::abi::{
    self,
    netlink::{RtMsg, RtaCacheinfo},
};
use crate::kernel::errno::{Errno, KResult};
use crate::net::inet::route::{self as table, Mode, V6_USER_METRIC};
use crate::net::inet::{ifconfig, stack};
use smoltcp::wire::{IpAddress, Ipv4Address, Ipv6Address};

const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_CACHEINFO: u16 = 12;
const RTA_TABLE: u16 = 15;
/// USER_HZ: the unit of rta_expires.
const USER_HZ: i64 = 100;
const RT_TABLE_UNSPEC: u8 = 0;
const RT_TABLE_MAIN: u8 = 254;
const RTN_UNICAST: u8 = 1;
const RTPROT_KERNEL: u8 = 2;
const RTPROT_BOOT: u8 = 3;
const RTPROT_RA: u8 = 9;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;

fn u32_attr(list: &[(u16, &[u8])], ty: u16) -> KResult<Option<u32>> {
    match attr(list, ty) {
        None => Ok(None),
        Some(d) if d.len() == 4 => Ok(Some(abi::read_at(d, 0))),
        Some(_) => Err(Errno::EINVAL),
    }
}

/// What both requests carry: destination, prefix, gateway, interface
/// (0: any) and metric.
struct Req {
    dst: IpAddress,
    prefix: u8,
    gw: Option<IpAddress>,
    oif: u32,
    metric: Option<u32>,
    rtm: RtMsg,
}

fn parse(body: &[u8]) -> KResult<Req> {
    let (rtm, rest): (RtMsg, _) = body_of(body)?;
    let fam = rtm.rtm_family;
    let (any, max) = match fam {
        AF_INET => (IpAddress::Ipv4(Ipv4Address::UNSPECIFIED), 32),
        AF_INET6 => (IpAddress::Ipv6(Ipv6Address::UNSPECIFIED), 128),
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    let list = attrs(rest);
    let table = match u32_attr(&list, RTA_TABLE)? {
        Some(t) => t,
        None => rtm.rtm_table as u32,
    };
    if table != RT_TABLE_MAIN as u32 && table != RT_TABLE_UNSPEC as u32 {
        return Err(Errno::EOPNOTSUPP);
    }
    if rtm.rtm_dst_len > max {
        return Err(Errno::EINVAL);
    }
    Ok(Req {
        dst: ip_attr(&list, RTA_DST, fam)?.unwrap_or(any),
        prefix: rtm.rtm_dst_len,
        gw: ip_attr(&list, RTA_GATEWAY, fam)?,
        oif: u32_attr(&list, RTA_OIF)?.unwrap_or(0),
        metric: u32_attr(&list, RTA_PRIORITY)?,
        rtm,
    })
}

/// RTM_NEWROUTE: a unicast route with a gateway or an output interface.
/// A route to the same destination and metric is EEXIST unless
/// NLM_F_REPLACE. IPv6 routes without a metric get Linux's 1024.
pub fn new(body: &[u8], flags: u16) -> KResult<()> {
    let r = parse(body)?;
    if r.rtm.rtm_type != RTN_UNICAST {
        return Err(Errno::EOPNOTSUPP);
    }
    if r.gw.is_none() && r.oif == 0 {
        return Err(Errno::EINVAL);
    }
    let mode = if flags & NLM_F_REPLACE != 0 {
        Mode::Replace
    } else {
        Mode::Exclusive
    };
    let v6 = table::is_v6(r.dst);
    let metric = r
        .metric
        .filter(|&m| m != 0 || !v6)
        .unwrap_or(if v6 { V6_USER_METRIC } else { 0 });
    ifconfig::add_route(r.oif, r.dst, r.prefix, r.gw, metric, mode)
}

/// RTM_DELROUTE: the route matching what the request gives (ESRCH).
pub fn del(body: &[u8]) -> KResult<()> {
    let r = parse(body)?;
    let metric = r.metric.filter(|&m| m != 0 || !table::is_v6(r.dst));
    ifconfig::del_route(r.oif, r.dst, r.prefix, r.gw, metric)
}

/// The dump of the main tables (of the family asked for, or both).
pub fn dump(body: &[u8], seq: u32, pid: u32) -> Vec<Vec<u8>> {
    let family = body.first().copied().unwrap_or(0);
    let mut out = Vec::new();
    for (fam, v6) in [(AF_INET, false), (AF_INET6, true)] {
        if family == 0 || family == fam {
            out.extend(dump_family(fam, v6, seq, pid));
        }
    }
    out
}

fn dump_family(fam: u8, v6: bool, seq: u32, pid: u32) -> Vec<Vec<u8>> {
    let now = stack::now();
    let entries = stack::query(|s| {
        table::main_table(&s.net, v6)
            .into_iter()
            .map(|e| (s.net.ifaces[e.iface].index, e))
            .collect::<Vec<_>>()
    });
    entries
        .into_iter()
        .map(|(index, e)| {
            let mut m = Msg::new(RTM_NEWROUTE, NLM_F_MULTI, seq, pid);
            let connected = e.kernel;
            let rtm = RtMsg {
                rtm_family: fam,
                rtm_dst_len: e.prefix,
                rtm_table: RT_TABLE_MAIN,
                rtm_protocol: if connected {
                    RTPROT_KERNEL
                } else if e.ra {
                    RTPROT_RA
                } else {
                    RTPROT_BOOT
                },
                // Linux gives IPv6 routes universe scope throughout.
                rtm_scope: if e.gw.is_some() || v6 {
                    RT_SCOPE_UNIVERSE
                } else {
                    RT_SCOPE_LINK
                },
                rtm_type: RTN_UNICAST,
                ..Default::default()
            };
            m.put(abi::bytes(&rtm));
            m.attr(RTA_TABLE, abi::bytes(&(RT_TABLE_MAIN as u32)));
            if e.prefix > 0 {
                m.attr(RTA_DST, &ip_bytes(e.dst));
            }
            if let Some(s) = e.src {
                m.attr(RTA_PREFSRC, &ip_bytes(s));
            }
            if let Some(g) = e.gw {
                m.attr(RTA_GATEWAY, &ip_bytes(g));
            }
            if e.metric != 0 {
                m.attr(RTA_PRIORITY, abi::bytes(&e.metric));
            }
            m.attr(RTA_OIF, abi::bytes(&index));
            if let Some(t) = e.expires {
                let left = (t - now.min(t)).total_millis() as i64 * USER_HZ / 1000;
                let ci = RtaCacheinfo {
                    rta_expires: left.min(i32::MAX as i64) as i32,
                    ..Default::default()
                };
                m.attr(RTA_CACHEINFO, abi::bytes(&ci));
            }
            m.done()
        })
        .collect()
}
