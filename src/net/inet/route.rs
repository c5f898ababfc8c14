//! The routing table both configuration paths share (the SIOCADDRT
//! ioctls of `route`, RTM_NEWROUTE of `ip route` and `ip -6 route`):
//! IPv4 and IPv6 routes added by hand, each through one interface, with
//! or without a gateway. Connected routes are implied by the interfaces'
//! addresses and not stored. The gateway routes of an interface are
//! mirrored into its smoltcp `Interface`, which picks the next hop for
//! the packets it sends.

use super::iface::Iface;
use super::stack::Net;
use crate::kernel::errno::{Errno, KResult};
use smoltcp::iface::Route as SmolRoute;
use smoltcp::time::Instant;
use smoltcp::wire::{IpAddress, IpCidr, Ipv4Address, Ipv6Address};

/// Linux's metric of IPv6 routes added without one (IP6_RT_PRIO_USER).
pub const V6_USER_METRIC: u32 = 1024;
/// The metric of IPv6 connected routes (IP6_RT_PRIO_ADDRCONF).
pub const V6_KERNEL_METRIC: u32 = 256;

/// One route: destination `dst/prefix` through interface `iface` (an
/// index into the stack's list), via `gw` if given (of `dst`'s family).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: IpAddress,
    pub prefix: u8,
    pub gw: Option<IpAddress>,
    pub iface: usize,
    pub metric: u32,
    /// Learnt from a Router Advertisement (`proto ra`; `ndisc`).
    pub ra: bool,
    /// When it goes (a router's lifetime); None: it stays.
    pub expires: Option<Instant>,
}

impl Route {
    fn contains(&self, a: IpAddress) -> bool {
        IpCidr::new(self.dst, self.prefix).contains_addr(&a)
    }
}

/// Whether `a` is an IPv6 address.
pub fn is_v6(a: IpAddress) -> bool {
    matches!(a, IpAddress::Ipv6(_))
}

/// The longest prefix of `a`'s family.
pub fn max_prefix(a: IpAddress) -> u8 {
    if is_v6(a) {
        128
    } else {
        32
    }
}

/// How an add treats an existing route to the same destination and
/// metric: EEXIST (SIOCADDRT; netlink without NLM_F_REPLACE, since one
/// route per destination and metric is all we keep) or replace it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Exclusive,
    Replace,
}

/// The network part of `a`/`prefix` (host bits cleared).
pub fn network(a: IpAddress, prefix: u8) -> IpAddress {
    match a {
        IpAddress::Ipv4(v) => {
            let m = u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0);
            IpAddress::Ipv4(Ipv4Address::from_bits(v.to_bits() & m))
        }
        IpAddress::Ipv6(v) => {
            let m = u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0);
            IpAddress::Ipv6(Ipv6Address::from_bits(v.to_bits() & m))
        }
    }
}

/// The interface's IPv4 address, if it has one.
pub fn v4_of(i: &Iface) -> Option<(Ipv4Address, u8)> {
    i.iface.ip_addrs().iter().find_map(|c| match c.address() {
        IpAddress::Ipv4(a) => Some((a, c.prefix_len())),
        _ => None,
    })
}

/// Add route `r`. ENODEV for a missing interface, ENETUNREACH when the
/// gateway is not on one of the interface's subnets (Linux: "Nexthop has
/// invalid gateway"), EEXIST for a duplicate unless replacing.
pub fn add(net: &mut Net, mut r: Route, mode: Mode) -> KResult<()> {
    let i = net.ifaces.get(r.iface).ok_or(Errno::ENODEV)?;
    if r.prefix > max_prefix(r.dst) {
        return Err(Errno::EINVAL);
    }
    if let Some(g) = r.gw {
        if is_v6(g) != is_v6(r.dst) {
            return Err(Errno::EINVAL);
        }
        if i.loopback || !i.up || i.source_for(g).is_none() {
            return Err(Errno::ENETUNREACH);
        }
    } else if !i.up {
        return Err(Errno::ENETDOWN);
    }
    r.dst = network(r.dst, r.prefix);
    let same = |o: &Route| o.dst == r.dst && o.prefix == r.prefix && o.metric == r.metric;
    // (IpAddress equality already tells the families apart.)
    if let Some(n) = net.routes.iter().position(same) {
        // A route learnt from a Router Advertisement gives way to one
        // added by hand (Linux keeps both; we keep one per destination
        // and metric, and `ndisc` then leaves the default route alone).
        if mode != Mode::Replace && !(net.routes[n].ra && !r.ra) {
            return Err(Errno::EEXIST);
        }
        let old = net.routes.remove(n);
        let _ = sync(net, old.iface);
    }
    net.routes.push(r);
    sync(net, r.iface)
}

/// Delete the route matching `dst/prefix` and, when given, `gw`, `iface`
/// and `metric` (ESRCH if none).
pub fn del(
    net: &mut Net,
    dst: IpAddress,
    prefix: u8,
    gw: Option<IpAddress>,
    iface: Option<usize>,
    metric: Option<u32>,
) -> KResult<()> {
    let dst = network(dst, prefix);
    let n = net
        .routes
        .iter()
        .position(|r| {
            r.dst == dst
                && r.prefix == prefix
                && gw.is_none_or(|g| r.gw == Some(g))
                && iface.is_none_or(|i| r.iface == i)
                && metric.is_none_or(|m| r.metric == m)
        })
        .ok_or(Errno::ESRCH)?;
    let old = net.routes.remove(n);
    sync(net, old.iface)
}

/// Interface `n` went down (`v6` None: every route through it goes) or
/// lost its last address of a family (Some(v6): that family's routes
/// go), as Linux flushes a device's routes then.
pub fn flush_iface(net: &mut Net, n: usize, v6: Option<bool>) {
    net.routes
        .retain(|r| r.iface != n || v6.is_some_and(|f| f != is_v6(r.dst)));
    let _ = sync(net, n);
}

/// The most specific route to `dst` through an interface that is up (the
/// lowest metric among equals): (interface, gateway).
pub fn lookup(net: &Net, dst: IpAddress) -> Option<(usize, Option<IpAddress>)> {
    net.routes
        .iter()
        .filter(|r| r.contains(dst) && net.ifaces.get(r.iface).is_some_and(|i| i.up))
        .max_by_key(|r| (r.prefix, u32::MAX - r.metric))
        .map(|r| (r.iface, r.gw))
}

/// `lookup` among the routes through interface `n` only.
pub fn lookup_on(net: &Net, dst: IpAddress, n: usize) -> Option<Option<IpAddress>> {
    net.routes
        .iter()
        .filter(|r| r.iface == n && r.contains(dst))
        .max_by_key(|r| (r.prefix, u32::MAX - r.metric))
        .map(|r| r.gw)
}

/// Mirror interface `n`'s gateway routes into smoltcp again after
/// routes were dropped from the table directly.
pub fn resync(net: &mut Net, n: usize) {
    let _ = sync(net, n);
}

/// Mirror interface `n`'s gateway routes into smoltcp (ENOSPC when more
/// than smoltcp's table holds; the route then stays out of our table).
fn sync(net: &mut Net, n: usize) -> KResult<()> {
    let mine: Vec<Route> = net
        .routes
        .iter()
        .filter(|r| r.iface == n && r.gw.is_some())
        .copied()
        .collect();
    let Some(i) = net.ifaces.get_mut(n) else {
        return Ok(());
    };
    let mut full = false;
    i.iface.routes_mut().update(|t| {
        t.clear();
        for r in &mine {
            let route = SmolRoute {
                cidr: IpCidr::new(r.dst, r.prefix),
                via_router: r.gw.unwrap_or(r.dst),
                preferred_until: None,
                expires_at: None,
            };
            if t.push(route).is_err() {
                full = true;
            }
        }
    });
    if full {
        // Keep the table and smoltcp in step: forget the last one added.
        if let Some(last) = mine.last() {
            net.routes.retain(|r| r != last);
        }
        let _ = sync(net, n);
        return Err(Errno::ENOSPC);
    }
    Ok(())
}

/// One line of the main table as `ip route` and /proc/net/route show it.
pub struct Entry {
    pub iface: usize,
    pub dst: IpAddress,
    pub prefix: u8,
    pub gw: Option<IpAddress>,
    pub metric: u32,
    /// A connected route: the interface's own address, its source.
    pub src: Option<IpAddress>,
    /// A connected route (made by the kernel for an address).
    pub kernel: bool,
    /// From a Router Advertisement.
    pub ra: bool,
    pub expires: Option<Instant>,
}

/// The main table of one family (`v6`): our routes and the connected
/// routes of the interfaces that are up (IPv4: lo's live in Linux's local
/// table, not here; IPv6: lo's ::1/128 is in the main table, as in
/// Linux), in Linux's dump order (IPv4 by destination, then prefix
/// length; IPv6 by prefix length, then destination, as its tree walk).
pub fn main_table(net: &Net, v6: bool) -> Vec<Entry> {
    let mut v: Vec<Entry> = net
        .routes
        .iter()
        .filter(|r| is_v6(r.dst) == v6)
        .map(|r| Entry {
            iface: r.iface,
            dst: r.dst,
            prefix: r.prefix,
            gw: r.gw,
            metric: r.metric,
            src: None,
            kernel: false,
            ra: r.ra,
            expires: r.expires,
        })
        .collect();
    for (n, i) in net.ifaces.iter().enumerate() {
        if (i.loopback && !v6) || !i.up {
            continue;
        }
        for c in i.iface.ip_addrs() {
            let a = c.address();
            if is_v6(a) != v6 {
                continue;
            }
            let dst = network(a, c.prefix_len());
            if v.iter()
                .any(|e| e.dst == dst && e.prefix == c.prefix_len() && e.iface == n)
            {
                continue;
            }
            v.push(Entry {
                iface: n,
                dst,
                prefix: c.prefix_len(),
                gw: None,
                metric: if v6 { V6_KERNEL_METRIC } else { 0 },
                src: (!v6).then_some(a),
                kernel: true,
                ra: false,
                expires: None,
            });
        }
    }
    let bits = |a: IpAddress| match a {
        IpAddress::Ipv4(v) => v.to_bits() as u128,
        IpAddress::Ipv6(v) => v.to_bits(),
    };
    if v6 {
        v.sort_by_key(|e| (std::cmp::Reverse(e.prefix), bits(e.dst), e.metric));
    } else {
        v.sort_by_key(|e| (bits(e.dst), e.prefix, e.metric));
    }
    v
}

/// /proc/net/route in Linux's format.
pub fn proc_net_route(net: &Net) -> String {
    let mut s = format!(
        "{:<127}\n",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
    );
    let hex = |a: IpAddress| match a {
        IpAddress::Ipv4(a) => format!("{:08X}", u32::from_le_bytes(a.octets())),
        IpAddress::Ipv6(_) => String::new(),
    };
    let mask = |p: u8| {
        if p == 0 {
            Ipv4Address::UNSPECIFIED
        } else {
            Ipv4Address::from_bits(u32::MAX << (32 - p as u32))
        }
    };
    for e in main_table(net, false) {
        // RTF_UP, RTF_GATEWAY.
        let flags = 1 | if e.gw.is_some() { 2 } else { 0 };
        let line = format!(
            "{}\t{}\t{}\t{:04X}\t0\t0\t{}\t{}\t0\t0\t0",
            net.ifaces[e.iface].name,
            hex(e.dst),
            hex(e.gw.unwrap_or(IpAddress::Ipv4(Ipv4Address::UNSPECIFIED))),
            flags,
            e.metric,
            hex(IpAddress::Ipv4(mask(e.prefix))),
        );
        s.push_str(&format!("{line:<127}\n"));
    }
    s
}

/// /proc/net/ipv6_route in Linux's format (the main table): destination,
/// its prefix length, source and its prefix length (always ::/0), next
/// hop, metric, reference and use counts, flags (RTF_UP, RTF_GATEWAY),
/// device; addresses as 32 hex digits, numbers in hex.
pub fn proc_net_ipv6_route(net: &Net) -> String {
    let hex = |a: Option<IpAddress>| match a {
        Some(IpAddress::Ipv6(v)) => v.octets().iter().map(|b| format!("{b:02x}")).collect(),
        _ => "0".repeat(32),
    };
    let mut s = String::new();
    for e in main_table(net, true) {
        let flags = 1 | if e.gw.is_some() { 2 } else { 0 };
        s.push_str(&format!(
            "{} {:02x} {} 00 {} {:08x} {:08x} {:08x} {:08x} {:>8}\n",
            hex(Some(e.dst)),
            e.prefix,
            hex(None),
            hex(e.gw),
            e.metric,
            1,
            0,
            flags,
            net.ifaces[e.iface].name,
        ));
    }
    s
}
