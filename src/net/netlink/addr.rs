//! RTM_NEWADDR and RTM_DELADDR: IPv4 addresses of an interface, through
//! the same operations as SIOCSIFADDR (`inet::ifconfig`), and IPv6 ones
//! (`inet::ifconfig6`).

use super::{attrs, body_of, ip_attr, v4_attr, AF_INET, AF_INET6, IFA_ADDRESS, IFA_LOCAL};
use super::{NLM_F_EXCL, NLM_F_REPLACE};
use crate::abi::netlink::IfAddrMsg;
use crate::kernel::errno::{Errno, KResult};
use crate::net::inet::{ifconfig, ifconfig6};
use smoltcp::wire::IpAddress;

/// The family check of both requests.
fn family(f: u8) -> KResult<()> {
    match f {
        AF_INET | AF_INET6 => Ok(()),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// The IPv6 address of a request: IFA_LOCAL, else IFA_ADDRESS, as
/// Linux's inet6_rtm_newaddr takes it.
fn v6_of(list: &[(u16, &[u8])]) -> KResult<Option<smoltcp::wire::Ipv6Address>> {
    let a = match ip_attr(list, IFA_LOCAL, AF_INET6)? {
        Some(a) => Some(a),
        None => ip_attr(list, IFA_ADDRESS, AF_INET6)?,
    };
    Ok(a.and_then(|a| match a {
        IpAddress::Ipv6(v) => Some(v),
        _ => None,
    }))
}

/// RTM_NEWADDR: IFA_LOCAL (else IFA_ADDRESS) with ifa_prefixlen on
/// ifa_index. An address already there is EEXIST unless NLM_F_REPLACE
/// without NLM_F_EXCL asks to update it, as Linux's inet_rtm_newaddr.
pub fn new(body: &[u8], flags: u16) -> KResult<()> {
    let (ifa, rest): (IfAddrMsg, _) = body_of(body)?;
    family(ifa.ifa_family)?;
    let list = attrs(rest);
    let excl = flags & NLM_F_EXCL != 0 || flags & NLM_F_REPLACE == 0;
    if ifa.ifa_family == AF_INET6 {
        let a = v6_of(&list)?.ok_or(Errno::EINVAL)?;
        if ifa.ifa_prefixlen > 128 {
            return Err(Errno::EINVAL);
        }
        if ifa.ifa_index == 0 {
            return Err(Errno::ENODEV);
        }
        return ifconfig6::add_v6(ifa.ifa_index, a, ifa.ifa_prefixlen, excl);
    }
    let a = match v4_attr(&list, IFA_LOCAL)? {
        Some(a) => a,
        None => v4_attr(&list, IFA_ADDRESS)?.ok_or(Errno::EINVAL)?,
    };
    if ifa.ifa_prefixlen > 32 {
        return Err(Errno::EINVAL);
    }
    if ifa.ifa_index == 0 {
        return Err(Errno::ENODEV);
    }
    ifconfig::add_v4(ifa.ifa_index, a, ifa.ifa_prefixlen, excl)
}

/// RTM_DELADDR: the address IFA_LOCAL names (its prefix length must
/// match when IFA_ADDRESS comes too), or the first one without it.
pub fn del(body: &[u8]) -> KResult<()> {
    let (ifa, rest): (IfAddrMsg, _) = body_of(body)?;
    family(ifa.ifa_family)?;
    let list = attrs(rest);
    if ifa.ifa_family == AF_INET6 {
        // Linux's inet6_rtm_deladdr: the address is required and its
        // prefix length must match.
        let a = v6_of(&list)?.ok_or(Errno::EINVAL)?;
        if ifa.ifa_index == 0 {
            return Err(Errno::ENODEV);
        }
        return ifconfig6::del_v6(ifa.ifa_index, a, Some(ifa.ifa_prefixlen));
    }
    let local = v4_attr(&list, IFA_LOCAL)?;
    let prefix = v4_attr(&list, IFA_ADDRESS)?.map(|_| ifa.ifa_prefixlen);
    if ifa.ifa_index == 0 {
        return Err(Errno::ENODEV);
    }
    let a = match local {
        Some(a) => a,
        None => {
            ifconfig::v4_of_index(ifa.ifa_index)?
                .ok_or(Errno::EADDRNOTAVAIL)?
                .0
        }
    };
    ifconfig::del_v4(ifa.ifa_index, a, prefix)
}
