//! IPv6 addresses of the interfaces: the link-local address an Ethernet
//! interface gets when it comes up (fe80::/64 with the EUI-64 interface
//! id of its MAC, as Linux's addrconf makes it), dropping them all when
//! it goes down (Linux's default, `keep_addr_on_down` 0), and the
//! addresses `ip -6 addr` (RTM_NEWADDR/DELADDR) and `ifconfig IF
//! add|del` (SIOCSIFADDR/SIOCDIFADDR with a `struct in6_ifreq` on an
//! AF_INET6 socket) add and remove. No duplicate address detection: an
//! address is usable as soon as it is added.

use super::iface::Iface;
use super::ifconfig::on_index;
use crate::abi::net::In6Ifreq;
use crate::kernel::errno::{Errno, KResult};
use smoltcp::wire::{IpAddress, IpCidr, Ipv6Address};

pub const SIOCDIFADDR: u32 = 0x8936;
pub const SIOCSIFADDR: u32 = 0x8916;

/// The link-local address of MAC `mac`: fe80::/64 and the modified
/// EUI-64 identifier (the universal/local bit flipped, ff:fe in the
/// middle), RFC 4291 appendix A.
pub fn link_local_of(mac: [u8; 6]) -> Ipv6Address {
    let mut b = [0u8; 16];
    b[0] = 0xfe;
    b[1] = 0x80;
    b[8] = mac[0] ^ 0x02;
    b[9] = mac[1];
    b[10] = mac[2];
    b[11] = 0xff;
    b[12] = 0xfe;
    b[13] = mac[3];
    b[14] = mac[4];
    b[15] = mac[5];
    Ipv6Address::from(b)
}

/// Give an Ethernet interface coming up its link-local address (when a
/// slot is free: the addresses configured first win).
pub fn add_link_local(i: &mut Iface) {
    let Some(mac) = i.mac else { return };
    let a = IpAddress::Ipv6(link_local_of(mac));
    if i.has_addr(a) {
        return;
    }
    i.iface.update_ip_addrs(|addrs| {
        if addrs.push(IpCidr::new(a, 64)).is_err() {
            log::warn!("net: {}: no slot for its link-local address", i.name);
        }
    });
}

/// An interface going down loses its IPv6 addresses.
pub fn drop_v6(i: &mut Iface) {
    i.iface
        .update_ip_addrs(|addrs| addrs.retain(|c| !matches!(c.address(), IpAddress::Ipv6(_))));
}

/// The MAC changed from `old` while up: the link-local address derived
/// from the old one is replaced.
pub fn relink(i: &mut Iface, old: Option<[u8; 6]>) {
    if let Some(old) = old {
        let was = IpAddress::Ipv6(link_local_of(old));
        i.iface
            .update_ip_addrs(|addrs| addrs.retain(|c| c.address() != was));
    }
    add_link_local(i);
}

/// Addresses an interface may not have (Linux's ipv6_add_addr):
/// unspecified, multicast, ::1 off lo; and v4-mapped ones, which
/// smoltcp cannot own.
fn check(i: &Iface, a: Ipv6Address) -> KResult<()> {
    if a.is_unspecified()
        || a.is_multicast()
        || (a.is_loopback() && !i.loopback)
        || a.to_ipv4_mapped().is_some()
    {
        return Err(Errno::EADDRNOTAVAIL);
    }
    Ok(())
}

/// Add `a`/`prefix` to interface `index` (RTM_NEWADDR, SIOCSIFADDR). An
/// address already there is EEXIST with `excl`, else its prefix is
/// replaced; ENOSPC past smoltcp's address slots.
pub fn add_v6(index: u32, a: Ipv6Address, prefix: u8, excl: bool) -> KResult<()> {
    if prefix > 128 {
        return Err(Errno::EINVAL);
    }
    on_index(index, |s, n| {
        let i = &mut s.net.ifaces[n];
        check(i, a)?;
        let mut r = Ok(());
        let cidr = IpCidr::new(IpAddress::Ipv6(a), prefix);
        i.iface.update_ip_addrs(|addrs| {
            if let Some(c) = addrs.iter_mut().find(|c| c.address() == IpAddress::Ipv6(a)) {
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

/// Remove `a`/`prefix` from interface `index` (RTM_DELADDR,
/// SIOCDIFADDR): EADDRNOTAVAIL unless it has that address with that
/// prefix length (any, when None).
pub fn del_v6(index: u32, a: Ipv6Address, prefix: Option<u8>) -> KResult<()> {
    on_index(index, |s, n| {
        let i = &mut s.net.ifaces[n];
        let want = IpAddress::Ipv6(a);
        if !i
            .iface
            .ip_addrs()
            .iter()
            .any(|c| c.address() == want && prefix.is_none_or(|p| p == c.prefix_len()))
        {
            return Err(Errno::EADDRNOTAVAIL);
        }
        i.iface
            .update_ip_addrs(|addrs| addrs.retain(|c| c.address() != want));
        Ok(())
    })
}

/// SIOCSIFADDR / SIOCDIFADDR on an AF_INET6 socket, with a
/// `struct in6_ifreq` (`req`): busybox `ifconfig IF add|del ADDR/LEN`.
pub fn in6_ifreq(cmd: u32, req: &[u8]) -> KResult<()> {
    let r: In6Ifreq = crate::abi::read_at(req, 0);
    let a = Ipv6Address::from(r.ifr6_addr);
    let index = u32::try_from(r.ifr6_ifindex).map_err(|_| Errno::ENODEV)?;
    let prefix = u8::try_from(r.ifr6_prefixlen).map_err(|_| Errno::EINVAL)?;
    if index == 0 {
        return Err(Errno::ENODEV);
    }
    match cmd {
        SIOCSIFADDR => add_v6(index, a, prefix, true),
        SIOCDIFADDR => del_v6(index, a, Some(prefix)),
        _ => Err(Errno::EINVAL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eui64_link_local() {
        let a = link_local_of([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
        assert_eq!(a.to_string(), "fe80::5054:ff:fe12:3456");
        let b = link_local_of([0x02, 0, 0, 0x12, 0x34, 0x56]);
        assert_eq!(b.to_string(), "fe80::ff:fe12:3456");
    }
}
