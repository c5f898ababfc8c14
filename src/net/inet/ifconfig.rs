//! Interface configuration from the guest, the ioctls busybox `ifconfig`
//! and `route` use: SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFFLAGS (IFF_UP),
//! SIOCSIFBRDADDR (accepted, broadcast is implied by the netmask) and
//! SIOCADDRT/SIOCDELRT for the IPv4 default route. Only root may change
//! interfaces, as Linux requires CAP_NET_ADMIN.

use super::stack::{self, Stack};
use crate::kernel::errno::{Errno, KResult};
use smoltcp::wire::{IpAddress, IpCidr, Ipv4Address};

pub const SIOCADDRT: u32 = 0x890b;
pub const SIOCDELRT: u32 = 0x890c;
pub const SIOCSIFFLAGS: u32 = 0x8914;
pub const SIOCSIFADDR: u32 = 0x8916;
pub const SIOCSIFBRDADDR: u32 = 0x891a;
pub const SIOCSIFNETMASK: u32 = 0x891c;

const IFF_UP: u16 = 0x1;
use crate::abi::net::AF_INET;
const RTF_GATEWAY: u16 = 0x2;
/// Size of struct rtentry on x86_64.
pub const RTENTRY_SIZE: usize = 120;

/// Is `cmd` one of ours?
pub fn is_set_ioctl(cmd: u32) -> bool {
    matches!(
        cmd,
        SIOCSIFFLAGS | SIOCSIFADDR | SIOCSIFBRDADDR | SIOCSIFNETMASK | SIOCADDRT | SIOCDELRT
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

/// Run `f` on the interface an ifreq names (ENODEV if none), then poll.
fn on_iface<R>(name: &[u8], f: impl FnOnce(&mut super::iface::Iface) -> KResult<R>) -> KResult<R> {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    let name = std::str::from_utf8(&name[..end]).map_err(|_| Errno::ENODEV)?;
    stack::op(|s: &mut Stack| {
        let i = s
            .net
            .ifaces
            .iter_mut()
            .find(|i| i.name == name)
            .ok_or(Errno::ENODEV)?;
        f(i)
    })
}

/// Replace interface `i`'s IPv4 address with `a`/`prefix` (None: drop it).
pub fn set_v4(i: &mut super::iface::Iface, a: Option<(Ipv4Address, u8)>) {
    i.iface.update_ip_addrs(|addrs| {
        addrs.retain(|c| !matches!(c.address(), IpAddress::Ipv4(_)));
        if let Some((a, p)) = a {
            let _ = addrs.push(IpCidr::new(IpAddress::Ipv4(a), p));
        }
    });
}

fn v4_of(i: &super::iface::Iface) -> Option<(Ipv4Address, u8)> {
    i.iface.ip_addrs().iter().find_map(|c| match c.address() {
        IpAddress::Ipv4(a) => Some((a, c.prefix_len())),
        _ => None,
    })
}

/// One SIOCS* ioctl on a `struct ifreq` (`req`, 40 bytes).
pub fn ifreq_set(cmd: u32, req: &[u8]) -> KResult<()> {
    let u = &req[16..];
    match cmd {
        SIOCSIFADDR => {
            let a = sockaddr_in(u)?;
            on_iface(&req[..16], |i| {
                if i.loopback {
                    return Err(Errno::EOPNOTSUPP);
                }
                set_v4(i, (!a.is_unspecified()).then(|| (a, class_prefix(a))));
                Ok(())
            })
        }
        SIOCSIFNETMASK => {
            let p = prefix_of(sockaddr_in(u)?)?;
            on_iface(&req[..16], |i| {
                if i.loopback {
                    return Err(Errno::EOPNOTSUPP);
                }
                let (a, _) = v4_of(i).ok_or(Errno::EADDRNOTAVAIL)?;
                set_v4(i, Some((a, p)));
                Ok(())
            })
        }
        SIOCSIFBRDADDR => on_iface(&req[..16], |_| Ok(())),
        SIOCSIFFLAGS => {
            let up = crate::abi::read_at::<u16>(u, 0) & IFF_UP != 0;
            on_iface(&req[..16], |i| {
                // lo stays up: the stack's own traffic runs over it.
                if !i.loopback {
                    i.up = up;
                }
                Ok(())
            })
        }
        _ => Err(Errno::EINVAL),
    }
}

/// SIOCADDRT/SIOCDELRT with a `struct rtentry`: the IPv4 default route
/// only (a gateway on a configured interface's subnet).
pub fn route_set(cmd: u32, rt: &[u8]) -> KResult<()> {
    let dst = sockaddr_in(&rt[8..24])?;
    let gw = rt[24..40].to_vec();
    let mask = sockaddr_in(&rt[40..56]).unwrap_or(Ipv4Address::UNSPECIFIED);
    let flags = crate::abi::read_at::<crate::abi::net::Rtentry>(rt, 0).rt_flags;
    if !dst.is_unspecified() || !mask.is_unspecified() {
        // Subnet routes come with the interface's address.
        return Err(Errno::EOPNOTSUPP);
    }
    if cmd == SIOCDELRT {
        return stack::op(|s: &mut Stack| {
            let i = s
                .net
                .ifaces
                .iter_mut()
                .find(|i| i.gateway.is_some())
                .ok_or(Errno::ESRCH)?;
            i.set_gateway(None);
            Ok(())
        });
    }
    if flags & RTF_GATEWAY == 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    add_default_route(sockaddr_in(&gw)?)
}

/// Make `gw` the IPv4 default gateway, through the interface whose subnet
/// holds it (ENETUNREACH if none does). One default route at a time.
pub fn add_default_route(gw: Ipv4Address) -> KResult<()> {
    stack::op(|s: &mut Stack| {
        let n = s
            .net
            .ifaces
            .iter()
            .position(|i| !i.loopback && i.source_for(IpAddress::Ipv4(gw)).is_some())
            .ok_or(Errno::ENETUNREACH)?;
        if s.net.ifaces.iter().any(|i| i.gateway.is_some()) {
            return Err(Errno::EEXIST);
        }
        s.net.ifaces[n].set_gateway(Some(gw));
        Ok(())
    })
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
