//! IPv6 router discovery and stateless address autoconfiguration (RFC
//! 4861, 4862), as Linux's addrconf does it for a host that does not
//! forward (accept_ra 1): an Ethernet interface coming up solicits
//! routers (up to three Router Solicitations, 4 s apart, until an
//! advertisement arrives); a Router Advertisement gives a default route
//! through the router's link-local address for its router lifetime
//! (`proto ra`), and each prefix with the autonomous flag a /64 address
//! of the prefix and the interface's modified EUI-64 identifier (Linux's
//! default addr_gen_mode), with the prefix's valid and preferred
//! lifetimes; the on-link prefix route is that address's connected route.
//! Advertisements are picked out of the received frames by the device
//! (`device::Phy`) and handled here, where the routing table is at hand.
//! RDNSS options are ignored, as Linux's kernel does (user space reads
//! them).

use super::iface::Iface;
use super::route::{self, Mode, Route, V6_USER_METRIC};
use super::stack::Net;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Packet, Icmpv6Repr,
    IpAddress, IpCidr, IpProtocol, Ipv6Address, Ipv6Packet, Ipv6Repr, NdiscPrefixInfoFlags,
    NdiscRepr,
};

/// Router Solicitations sent at most, and their interval (Linux's
/// rtr_solicits and rtr_solicit_interval defaults of old; newer kernels
/// keep trying with a backoff, which a guest does not need).
const RS_COUNT: u8 = 3;
const RS_INTERVAL: Duration = Duration::from_secs(4);
/// ICMPv6 Router Advertisement.
const ICMPV6_RA: u8 = 134;

/// An address made from a prefix, with its lifetimes (IFA_CACHEINFO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dynamic {
    pub addr: Ipv6Address,
    pub prefix: u8,
    pub valid_until: Instant,
    pub preferred_until: Instant,
}

/// An interface's router discovery state.
#[derive(Default)]
pub struct Ra {
    /// When the next Router Solicitation is due, and how many are left.
    rs_next: Option<Instant>,
    rs_left: u8,
    /// Router Advertisements received, not yet handled.
    pub frames: Vec<Vec<u8>>,
    /// The addresses autoconfigured from prefixes.
    pub dynamic: Vec<Dynamic>,
}

/// Whether an Ethernet frame is an ICMPv6 Router Advertisement (without
/// extension headers, as routers send them).
pub fn is_router_advert(frame: &[u8]) -> bool {
    frame.len() > 54 && frame[12..14] == [0x86, 0xdd] && frame[20] == 58 && frame[54] == ICMPV6_RA
}

/// An Ethernet interface came up: solicit routers at once.
pub fn on_up(i: &mut Iface, now: Instant) {
    i.ra = Ra {
        rs_next: Some(now),
        rs_left: RS_COUNT,
        ..Ra::default()
    };
}

/// Handle the advertisements each interface received, send the
/// solicitations due, and let lifetimes run out.
pub fn run(net: &mut Net, now: Instant) {
    for n in 0..net.ifaces.len() {
        let i = &mut net.ifaces[n];
        if !i.up || i.loopback || i.removed || i.mac.is_none() {
            i.ra.frames.clear();
            continue;
        }
        for f in std::mem::take(&mut i.ra.frames) {
            advert(net, n, &f, now);
        }
        let i = &mut net.ifaces[n];
        if i.ra.rs_next.is_some_and(|t| t <= now) {
            solicit(i);
            i.ra.rs_left = i.ra.rs_left.saturating_sub(1);
            i.ra.rs_next = (i.ra.rs_left > 0).then(|| now + RS_INTERVAL);
        }
        expire(net, n, now);
    }
}

/// When `run` next has something to do on its own (a solicitation or a
/// lifetime running out).
pub fn next_due(net: &Net) -> Option<Instant> {
    let mut due: Option<Instant> = None;
    let mut at = |t: Instant| due = Some(due.map_or(t, |d| d.min(t)));
    for i in net.ifaces.iter().filter(|i| i.up) {
        if let Some(t) = i.ra.rs_next {
            at(t);
        }
        for d in &i.ra.dynamic {
            at(d.valid_until);
        }
    }
    for r in &net.routes {
        if let Some(t) = r.expires {
            at(t);
        }
    }
    due
}

/// Send a Router Solicitation from the interface's link-local address
/// (the unspecified one without it) to all routers, with its MAC.
fn solicit(i: &mut Iface) {
    let Some(mac) = i.mac else { return };
    let src = i
        .iface
        .ip_addrs()
        .iter()
        .find_map(|c| match c.address() {
            IpAddress::Ipv6(a) if a.is_unicast_link_local() => Some(a),
            _ => None,
        })
        .unwrap_or(Ipv6Address::UNSPECIFIED);
    let all_routers = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
    let rs = Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit {
        // No source link-layer option from the unspecified address.
        lladdr: (!src.is_unspecified()).then(|| EthernetAddress(mac).into()),
    });
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: all_routers,
        next_header: IpProtocol::Icmpv6,
        payload_len: rs.buffer_len(),
        hop_limit: 255,
    };
    let mut buf = vec![0u8; 14 + ip.buffer_len() + rs.buffer_len()];
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr {
        src_addr: EthernetAddress(mac),
        dst_addr: EthernetAddress([0x33, 0x33, 0, 0, 0, 2]),
        ethertype: EthernetProtocol::Ipv6,
    }
    .emit(&mut eth);
    let mut p = Ipv6Packet::new_unchecked(eth.payload_mut());
    ip.emit(&mut p);
    rs.emit(
        &src,
        &all_routers,
        &mut Icmpv6Packet::new_unchecked(p.payload_mut()),
        &ChecksumCapabilities::default(),
    );
    log::debug!("net: {}: router solicitation", i.name);
    super::device::send_frame(&mut *i.dev, i.index, i.mac, buf, 0);
}

/// Handle one Router Advertisement received on interface `n`.
fn advert(net: &mut Net, n: usize, frame: &[u8], now: Instant) {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return;
    };
    let Ok(p) = Ipv6Packet::new_checked(eth.payload()) else {
        return;
    };
    let Ok(ip) = Ipv6Repr::parse(&p) else { return };
    // RFC 4861 6.1.2: from a link-local address, never forwarded.
    if !ip.src_addr.is_unicast_link_local() || ip.hop_limit != 255 {
        return;
    }
    let body = &p.payload()[..ip.payload_len.min(p.payload().len())];
    let Ok(icmp) = Icmpv6Packet::new_checked(body) else {
        return;
    };
    let Ok(Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
        router_lifetime,
        prefix_info,
        ..
    })) = Icmpv6Repr::parse(
        &ip.src_addr,
        &ip.dst_addr,
        &icmp,
        &ChecksumCapabilities::default(),
    )
    else {
        return;
    };
    let router = IpAddress::Ipv6(ip.src_addr);
    log::debug!(
        "net: {}: router advertisement from {router}, lifetime {router_lifetime}",
        net.ifaces[n].name
    );
    net.ifaces[n].ra.rs_next = None;
    if let Some(pi) = prefix_info {
        if pi.flags.contains(NdiscPrefixInfoFlags::ADDRCONF) {
            prefix(
                &mut net.ifaces[n],
                pi.prefix,
                pi.prefix_len,
                pi.valid_lifetime,
                pi.preferred_lifetime,
                now,
            );
        }
    }
    let default =
        |r: &Route| r.iface == n && r.prefix == 0 && r.gw == Some(router) && route::is_v6(r.dst);
    if router_lifetime == Duration::ZERO {
        net.routes.retain(|r| !(default(r) && r.ra));
        route::resync(net, n);
        return;
    }
    // A default route the administrator added with the same metric wins.
    let any = IpAddress::Ipv6(Ipv6Address::UNSPECIFIED);
    if net
        .routes
        .iter()
        .any(|r| r.dst == any && r.prefix == 0 && r.metric == V6_USER_METRIC && !r.ra)
    {
        return;
    }
    let r = Route {
        dst: any,
        prefix: 0,
        gw: Some(router),
        iface: n,
        metric: V6_USER_METRIC,
        ra: true,
        expires: Some(now + router_lifetime),
    };
    if let Err(e) = route::add(net, r, Mode::Replace) {
        log::debug!("net: default route via {router}: {e:?}");
    }
}

/// Prefix information with the autonomous flag: the address of the
/// prefix and the interface identifier, made, refreshed or (valid
/// lifetime 0) dropped.
fn prefix(
    i: &mut Iface,
    prefix: Ipv6Address,
    len: u8,
    valid: Duration,
    preferred: Duration,
    now: Instant,
) {
    // RFC 4862 5.5.3 a-c, and a /64 for a 64-bit identifier.
    if prefix.is_unicast_link_local() || preferred > valid || len != 64 {
        return;
    }
    let Some(mac) = i.mac else { return };
    let mut b = prefix.octets();
    b[8..].copy_from_slice(&super::ifconfig6::link_local_of(mac).octets()[8..]);
    let addr = Ipv6Address::from(b);
    let known = i.ra.dynamic.iter().position(|d| d.addr == addr);
    if valid == Duration::ZERO {
        if let Some(k) = known {
            i.ra.dynamic.remove(k);
            let a = IpAddress::Ipv6(addr);
            i.iface
                .update_ip_addrs(|addrs| addrs.retain(|c| c.address() != a));
        }
        return;
    }
    let d = Dynamic {
        addr,
        prefix: len,
        valid_until: now + valid,
        preferred_until: now + preferred,
    };
    match known {
        Some(k) => i.ra.dynamic[k] = d,
        None => {
            let a = IpAddress::Ipv6(addr);
            if i.has_addr(a) {
                return; // configured by hand: left alone
            }
            let mut added = true;
            i.iface.update_ip_addrs(|addrs| {
                added = addrs.push(IpCidr::new(a, len)).is_ok();
            });
            if !added {
                log::warn!("net: {}: no slot for {addr}", i.name);
                return;
            }
            log::info!("net: {}: autoconfigured {addr}/{len}", i.name);
            i.ra.dynamic.push(d);
        }
    }
}

/// Addresses and routes of interface `n` whose lifetime ran out go.
fn expire(net: &mut Net, n: usize, now: Instant) {
    let i = &mut net.ifaces[n];
    let gone: Vec<IpAddress> =
        i.ra.dynamic
            .iter()
            .filter(|d| d.valid_until <= now)
            .map(|d| IpAddress::Ipv6(d.addr))
            .collect();
    if !gone.is_empty() {
        i.ra.dynamic.retain(|d| d.valid_until > now);
        i.iface
            .update_ip_addrs(|addrs| addrs.retain(|c| !gone.contains(&c.address())));
    }
    let before = net.routes.len();
    net.routes
        .retain(|r| r.iface != n || r.expires.is_none_or(|t| t > now));
    if net.routes.len() != before {
        route::resync(net, n);
    }
}

/// The lifetimes left of an autoconfigured address of interface `i`, in
/// seconds (valid, preferred), for IFA_CACHEINFO; None for a permanent
/// one.
pub fn lifetimes(i: &Iface, a: IpAddress, now: Instant) -> Option<(u32, u32)> {
    let d = i.ra.dynamic.iter().find(|d| IpAddress::Ipv6(d.addr) == a)?;
    let left = |t: Instant| ((t - now.min(t)).total_millis() / 1000) as u32;
    Some((left(d.valid_until), left(d.preferred_until)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::wire::{NdiscPrefixInformation, NdiscRouterFlags};

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

    /// A Router Advertisement from fe80::2 with prefix fd00::/64.
    fn ra(router: Duration, valid: Duration) -> Vec<u8> {
        let src = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
        let dst = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        let r = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            hop_limit: 64,
            flags: NdiscRouterFlags::empty(),
            router_lifetime: router,
            reachable_time: Duration::ZERO,
            retrans_time: Duration::ZERO,
            lladdr: None,
            mtu: None,
            prefix_info: Some(NdiscPrefixInformation {
                prefix_len: 64,
                flags: NdiscPrefixInfoFlags::ADDRCONF | NdiscPrefixInfoFlags::ON_LINK,
                valid_lifetime: valid,
                preferred_lifetime: valid,
                prefix: Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 0),
            }),
        });
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: IpProtocol::Icmpv6,
            payload_len: r.buffer_len(),
            hop_limit: 255,
        };
        let mut buf = vec![0u8; 14 + 40 + r.buffer_len()];
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr {
            src_addr: EthernetAddress([0x52, 0x55, 10, 0, 2, 2]),
            dst_addr: EthernetAddress([0x33, 0x33, 0, 0, 0, 1]),
            ethertype: EthernetProtocol::Ipv6,
        }
        .emit(&mut eth);
        let mut p = Ipv6Packet::new_unchecked(eth.payload_mut());
        ip.emit(&mut p);
        r.emit(
            &src,
            &dst,
            &mut Icmpv6Packet::new_unchecked(p.payload_mut()),
            &ChecksumCapabilities::default(),
        );
        buf
    }

    #[test]
    fn an_advert_gives_an_address_and_a_default_route_until_they_expire() {
        let t0 = Instant::from_secs(100);
        let dev = Box::new(super::super::device::Unplugged);
        let mut eth0 = Iface::ethernet("eth0", dev, MAC, t0, 1);
        eth0.up = true;
        super::super::ifconfig6::add_link_local(&mut eth0);
        on_up(&mut eth0, t0);
        let mut net = Net {
            ifaces: vec![eth0],
            ports: Default::default(),
            dying: Vec::new(),
            time_wait: Vec::new(),
            routes: Vec::new(),
        };
        let f = ra(Duration::from_secs(1800), Duration::from_secs(600));
        assert!(is_router_advert(&f));
        net.ifaces[0].ra.frames.push(f);
        run(&mut net, t0);
        let slaac = IpAddress::Ipv6("fd00::5054:ff:fe12:3456".parse().unwrap());
        assert!(net.ifaces[0].has_addr(slaac));
        assert_eq!(net.routes.len(), 1);
        assert!(net.routes[0].ra && net.routes[0].prefix == 0);
        assert_eq!(net.ifaces[0].ra.rs_next, None, "no more solicitations");
        assert_eq!(lifetimes(&net.ifaces[0], slaac, t0), Some((600, 600)));
        // The address goes after its valid lifetime, the route after the
        // router's.
        run(&mut net, t0 + Duration::from_secs(600));
        assert!(!net.ifaces[0].has_addr(slaac));
        assert_eq!(net.routes.len(), 1);
        run(&mut net, t0 + Duration::from_secs(1800));
        assert!(net.routes.is_empty());
        // Router lifetime 0 removes the default route at once.
        net.ifaces[0]
            .ra
            .frames
            .push(ra(Duration::from_secs(1800), Duration::from_secs(600)));
        run(&mut net, t0);
        assert_eq!(net.routes.len(), 1);
        net.ifaces[0]
            .ra
            .frames
            .push(ra(Duration::ZERO, Duration::from_secs(600)));
        run(&mut net, t0);
        assert!(net.routes.is_empty());
    }

    #[test]
    fn advertisements_are_recognised() {
        let mut f = vec![0u8; 70];
        f[12] = 0x86;
        f[13] = 0xdd;
        f[20] = 58;
        f[54] = 134;
        assert!(is_router_advert(&f));
        f[54] = 135;
        assert!(!is_router_advert(&f));
    }
}
