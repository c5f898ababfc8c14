//! Interface configuration from the guest. Two ways in, one set of
//! operations: the ioctls busybox `ifconfig` and `route` use
//! (SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFFLAGS, SIOCSIFBRDADDR (accepted,
//! broadcast is implied by the netmask), SIOCSIFMTU, SIOCSIFHWADDR,
//! SIOCADDRT/SIOCDELRT) and route netlink (`net::netlink::{addr, link,
//! route}`) both call the `pub fn`s here on interface indexes. Only root
//! may change interfaces, as Linux requires CAP_NET_ADMIN; the callers
//! check that.

use super::iface::Iface;
use super::route::{self, Mode, Route};
use super::stack::{self, Stack};
use crate::abi::net::{Rtentry, Sockaddr, AF_INET};
use crate::kernel::errno::{Errno, KResult};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};

pub const SIOCADDRT: u32 = 0x890b;
pub const SIOCDELRT: u32 = 0x890c;
pub const SIOCSIFFLAGS: u32 = 0x8914;
pub const SIOCSIFADDR: u32 = 0x8916;
pub const SIOCSIFBRDADDR: u32 = 0x891a;
pub const SIOCSIFNETMASK: u32 = 0x891c;
pub const SIOCSIFMTU: u32 = 0x8922;
pub const SIOCSIFHWADDR: u32 = 0x8924;

const IFF_UP: u16 = 0x1;
const RTF_UP: u16 = 0x1;
const RTF_GATEWAY: u16 = 0x2;
const RTF_HOST: u16 = 0x4;
const ARPHRD_ETHER: u16 = 1;
/// Size of struct rtentry on x86_64.
pub const RTENTRY_SIZE: usize = core::mem::size_of::<Rtentry>();
/// The smallest MTU Linux lets an Ethernet device have (IPv4's 68).
const MIN_MTU: u32 = 68;

/// Is `cmd` one of ours?
pub fn is_set_ioctl(cmd: u32) -> bool {
    matches!(
        cmd,
        SIOCSIFFLAGS
            | SIOCSIFADDR
            | SIOCSIFBRDADDR
            | SIOCSIFNETMASK
            | SIOCSIFMTU
            | SIOCSIFHWADDR
            | SIOCADDRT
            | SIOCDELRT
    )
}

/// The IPv4 address of a sockaddr_in at `b` (EINVAL for another family).
fn sockaddr_in(b: &[u8]) -> KResult<Ipv4Address> {
    let s: crate::abi::net::SockaddrIn = crate::abi::read_at(b, 0);
    if s.sin_family != AF_INET {
        return Err(Errno::EINVAL);
    }
    Ok(Ipv4Address::from(s.sin_addr))
}

/// Linux's default prefix for an address set without a netmask (its
/// class: A /8, B /16, C /24).
fn class_prefix(a: Ipv4Address) -> u8 {
    match a.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

fn prefix_of(mask: Ipv4Address) -> KResult<u8> {
    let m = mask.to_bits();
    let p = m.leading_ones();
    // A netmask is ones then zeros.
    if m.checked_shl(p).unwrap_or(0) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(p as u8)
}

/// The index (1-based, as ifindex) of the interface called `name`.
pub fn index_of(name: &str) -> KResult<u32> {
    stack::query(|s| {
        s.net
            .ifaces
            .iter()
            .position(|i| i.name == name)
            .map(|n| n as u32 + 1)
            .ok_or(Errno::ENODEV)
    })
}

/// The interface name in an ifreq or a C string.
fn name_in(b: &[u8]) -> KResult<&str> {
    let end = b.iter().position(|&b| b == 0).unwrap_or(b.len());
    std::str::from_utf8(&b[..end]).map_err(|_| Errno::ENODEV)
}

/// Run `f` on interface `index` (ENODEV if none), then poll.
pub(super) fn on_index<R>(
    index: u32,
    f: impl FnOnce(&mut Stack, usize) -> KResult<R>,
) -> KResult<R> {
    stack::op(|s: &mut Stack| {
        let n = (index as usize)
            .checked_sub(1)
            .filter(|&n| s.net.ifaces.get(n).is_some_and(|i| !i.removed))
            .ok_or(Errno::ENODEV)?;
        f(s, n)
    })
}

/// Interface `index`'s (first) IPv4 address.
pub fn v4_of_index(index: u32) -> KResult<Option<(Ipv4Address, u8)>> {
    stack::query(|s| {
        let i = (index as usize)
            .checked_sub(1)
            .and_then(|n| s.net.ifaces.get(n))
            .filter(|i| !i.removed)
            .ok_or(Errno::ENODEV)?;
        Ok(route::v4_of(i))
    })
}

fn v4_addrs(i: &Iface) -> Vec<(Ipv4Address, u8)> {
    i.iface
        .ip_addrs()
        .iter()
        .filter_map(|c| match c.address() {
            IpAddress::Ipv4(a) => Some((a, c.prefix_len())),
            _ => None,
        })
        .collect()
}

/// Replace interface `index`'s IPv4 addresses with `a`/`prefix` (None:
/// drop them), what SIOCSIFADDR does to the primary address.
pub fn set_v4(index: u32, a: Option<(Ipv4Address, u8)>) -> KResult<()> {
    on_index(index, |s, n| {
        let i = &mut s.net.ifaces[n];
        if i.loopback {
            return Err(Errno::EOPNOTSUPP);
        }
        i.iface.update_ip_addrs(|addrs| {
            addrs.retain(|c| !matches!(c.address(), IpAddress::Ipv4(_)));
            if let Some((a, p)) = a {
                let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(a), p));
            }
        });
        if a.is_none() {
            route::flush_iface(&mut s.net, n, Some(false));
        }
        Ok(())
    })
}

/// Add `a`/`prefix` to interface `index` (RTM_NEWADDR). An address the
/// interface has already: EEXIST with `excl`, else its prefix is
/// replaced. ENOSPC past smoltcp's address slots.
pub fn add_v4(index: u32, a: Ipv4Address, prefix: u8, excl: bool) -> KResult<()> {
    if prefix > 32 {
        return Err(Errno::EINVAL);
    }
    on_index(index, |s, n| {
        let i = &mut s.net.ifaces[n];
        if i.loopback {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut r = Ok(());
        i.iface.update_ip_addrs(|addrs| {
            let cidr = IpCidr::new(IpAddress::Ipv4(a), prefix);
            if let Some(c) = addrs.iter_mut().find(|c| c.address() == IpAddress::Ipv4(a)) {
                if excl {
                    r = Err(Errno::EEXIST);
                } else {
                    *c = cidr;
                }
            } else if addrs.push(cidr).is_err() {
                r = Err(Errno::ENOSPC);
            }
        });
        r
    })
}

/// Remove `a` from interface `index` (RTM_DELADDR; `prefix` must match
/// when given). EADDRNOTAVAIL if it has no such address. Routes through
/// an interface left without IPv4 addresses go with it.
pub fn del_v4(index: u32, a: Ipv4Address, prefix: Option<u8>) -> KResult<()> {
    on_index(index, |s, n| {
        let i = &mut s.net.ifaces[n];
        if i.loopback {
            return Err(Errno::EOPNOTSUPP);
        }
        if !v4_addrs(i)
            .iter()
            .any(|&(x, p)| x == a && prefix.is_none_or(|q| q == p))
        {
            return Err(Errno::EADDRNOTAVAIL);
        }
        i.iface
            .update_ip_addrs(|addrs| addrs.retain(|c| c.address() != IpAddress::Ipv4(a)));
        if v4_addrs(i).is_empty() {
            route::flush_iface(&mut s.net, n, Some(false));
        }
        Ok(())
    })
}

/// IFF_UP on or off. lo stays up once up (the stack's own traffic runs
/// over it); a new network namespace's lo comes up with its addresses.
/// Taking an interface down drops its routes and its IPv6 addresses, and
/// bringing an Ethernet one up gives it its link-local address, as Linux
/// does (`ifconfig6`).
pub fn set_up(index: u32, up: bool) -> KResult<()> {
    on_index(index, |s, n| {
        let i = &mut s.net.ifaces[n];
        if i.loopback {
            if up && !i.up {
                i.up = true;
                i.add_loopback_addrs();
            }
            return Ok(());
        }
        let was = i.up;
        i.up = up;
        if was && !up {
            super::ifconfig6::drop_v6(i);
            i.ra = Default::default();
        }
        if up && !was {
            super::ifconfig6::add_link_local(i);
            super::ndisc::on_up(i, super::stack::now());
        }
        if was && !up {
            route::flush_iface(&mut s.net, n, None);
            super::neigh::flush(Some(index));
        }
        Ok(())
    })
}

/// Set the MTU (EINVAL outside 68..=the device's largest).
pub fn set_mtu(index: u32, mtu: u32) -> KResult<()> {
    on_index(index, |s, n| {
        let i = &mut s.net.ifaces[n];
        if i.loopback {
            return if mtu == 65536 {
                Ok(())
            } else {
                Err(Errno::EINVAL)
            };
        }
        let max = i.dev_mtu() as u32;
        if !(MIN_MTU..=max).contains(&mtu) {
            return Err(Errno::EINVAL);
        }
        i.mtu = Some(mtu as usize);
        Ok(())
    })
}

/// Set an Ethernet interface's MAC (EINVAL for a multicast or zero
/// address, EOPNOTSUPP for lo).
pub fn set_mac(index: u32, mac: [u8; 6]) -> KResult<()> {
    if mac[0] & 1 != 0 || mac == [0; 6] {
        return Err(Errno::EADDRNOTAVAIL);
    }
    on_index(index, |s, n| {
        let i = &mut s.net.ifaces[n];
        if i.mac.is_none() {
            return Err(Errno::EOPNOTSUPP);
        }
        i.iface
            .set_hardware_addr(HardwareAddress::Ethernet(EthernetAddress(mac)));
        let old = i.mac.replace(mac);
        if i.up {
            // The link-local address follows the MAC it is derived from.
            super::ifconfig6::relink(i, old);
        }
        Ok(())
    })
}

/// Add a route through interface `index` (0: the interface whose subnet
/// holds the gateway).
pub fn add_route(
    index: u32,
    dst: IpAddress,
    prefix: u8,
    gw: Option<IpAddress>,
    metric: u32,
    mode: Mode,
) -> KResult<()> {
    stack::op(|s: &mut Stack| {
        let n = iface_for(s, index, gw)?;
        route::add(
            &mut s.net,
            Route {
                dst,
                prefix,
                gw,
                iface: n,
                metric,
                ra: false,
                expires: None,
            },
            mode,
        )
    })
}

/// Delete a route (ESRCH if none matches).
pub fn del_route(
    index: u32,
    dst: IpAddress,
    prefix: u8,
    gw: Option<IpAddress>,
    metric: Option<u32>,
) -> KResult<()> {
    stack::op(|s: &mut Stack| {
        let iface = match index {
            0 => None,
            i => Some(
                (i as usize)
                    .checked_sub(1)
                    .filter(|&n| s.net.ifaces.get(n).is_some_and(|i| !i.removed))
                    .ok_or(Errno::ENODEV)?,
            ),
        };
        route::del(&mut s.net, dst, prefix, gw, iface, metric)
    })
}

/// Interface `index` (1-based), or without one the interface whose subnet
/// holds `gw` (ENETUNREACH when none does).
fn iface_for(s: &Stack, index: u32, gw: Option<IpAddress>) -> KResult<usize> {
    if index != 0 {
        return (index as usize)
            .checked_sub(1)
            .filter(|&n| s.net.ifaces.get(n).is_some_and(|i| !i.removed))
            .ok_or(Errno::ENODEV);
    }
    let g = gw.ok_or(Errno::EINVAL)?;
    s.net
        .ifaces
        .iter()
        .position(|i| !i.loopback && i.source_for(g).is_some())
        .ok_or(Errno::ENETUNREACH)
}

/// One SIOCS* ioctl on a `struct ifreq` (`req`, 40 bytes).
pub fn ifreq_set(cmd: u32, req: &[u8]) -> KResult<()> {
    let index = index_of(name_in(&req[..16])?)?;
    let u = &req[16..];
    match cmd {
        SIOCSIFADDR => {
            let a = sockaddr_in(u)?;
            set_v4(index, (!a.is_unspecified()).then(|| (a, class_prefix(a))))
        }
        SIOCSIFNETMASK => {
            let p = prefix_of(sockaddr_in(u)?)?;
            let cur = stack::query(|s| route::v4_of(&s.net.ifaces[index as usize - 1]));
            let (a, _) = cur.ok_or(Errno::EADDRNOTAVAIL)?;
            set_v4(index, Some((a, p)))
        }
        SIOCSIFBRDADDR => Ok(()),
        SIOCSIFFLAGS => set_up(index, crate::abi::read_at::<u16>(u, 0) & IFF_UP != 0),
        SIOCSIFMTU => {
            let mtu: i32 = crate::abi::read_at(u, 0);
            set_mtu(index, u32::try_from(mtu).map_err(|_| Errno::EINVAL)?)
        }
        SIOCSIFHWADDR => {
            let sa: Sockaddr = crate::abi::read_at(u, 0);
            if sa.sa_family != ARPHRD_ETHER {
                return Err(Errno::EINVAL);
            }
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&sa.sa_data[..6]);
            set_mac(index, mac)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// SIOCADDRT/SIOCDELRT with a `struct rtentry` (`rt`) and the name its
/// rt_dev points to (read by the caller; None when rt_dev is NULL).
pub fn route_set(cmd: u32, rt: &[u8], dev: Option<&[u8]>) -> KResult<()> {
    let e: Rtentry = crate::abi::read_at(rt, 0);
    let dst = IpAddress::Ipv4(sockaddr_in(crate::abi::bytes(&e.rt_dst))?);
    let flags = e.rt_flags;
    let prefix = if flags & RTF_HOST != 0 {
        32
    } else {
        let m = crate::abi::bytes(&e.rt_genmask);
        // An all-zero genmask (no family) is the default route's.
        if e.rt_genmask.sa_family == 0 {
            0
        } else {
            prefix_of(sockaddr_in(m)?)?
        }
    };
    let gw = if flags & RTF_GATEWAY != 0 {
        Some(IpAddress::Ipv4(sockaddr_in(crate::abi::bytes(
            &e.rt_gateway,
        ))?))
    } else {
        None
    };
    let index = match dev {
        Some(d) => index_of(name_in(d)?)?,
        None => 0,
    };
    // route(8) passes metric+1 (0 means "unset" in struct rtentry).
    let metric = (e.rt_metric as i32 - 1).max(0) as u32;
    if cmd == SIOCDELRT {
        let m = (e.rt_metric != 0).then_some(metric);
        return del_route(index, dst, prefix, gw, m);
    }
    if flags & RTF_UP == 0 && flags & RTF_GATEWAY == 0 && index == 0 {
        return Err(Errno::EINVAL);
    }
    if gw.is_none() && index == 0 {
        // A route without a gateway needs its device.
        return Err(Errno::ENODEV);
    }
    add_route(index, dst, prefix, gw, metric, Mode::Exclusive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(prefix_of(Ipv4Address::new(255, 255, 255, 0)), Ok(24));
        assert_eq!(prefix_of(Ipv4Address::new(0, 0, 0, 0)), Ok(0));
        assert_eq!(prefix_of(Ipv4Address::new(255, 255, 255, 255)), Ok(32));
        assert_eq!(
            prefix_of(Ipv4Address::new(255, 0, 255, 0)),
            Err(Errno::EINVAL)
        );
        assert_eq!(class_prefix(Ipv4Address::new(10, 0, 0, 2)), 8);
        assert_eq!(class_prefix(Ipv4Address::new(192, 168, 1, 2)), 24);
    }
}
