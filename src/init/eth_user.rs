//! The `ethN=user[,OPTION]...` word (alias `slirp`): user-mode networking
//! behind a virtual gateway, with QEMU `-netdev user` style options
//! `hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT` (repeatable)
//! and `mac=MAC`. Pure parsing; `drivers::net::user` binds and runs it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// The guest's address on the user network (slirp's).
pub const GUEST_ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);

/// Host address a `hostfwd` without one listens on: loopback only, so a
/// guest service is not published to the whole network by default (QEMU
/// listens on every address).
pub const HOSTFWD_DEFAULT_ADDR: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Options of one user-mode device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserNet {
    pub hostfwd: Vec<HostFwd>,
}

/// One port forwarded from the host into the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFwd {
    /// UDP rather than TCP.
    pub udp: bool,
    /// Where the host listens (IPv4, or IPv6 written `[ADDR]`).
    pub host: SocketAddr,
    /// Where connections go in the guest.
    pub guest: SocketAddrV4,
}

/// The options after `user,`; the MAC is returned apart (`mac=`).
pub fn parse_user<'a>(
    parts: impl Iterator<Item = &'a str>,
) -> Result<(UserNet, Option<[u8; 6]>), String> {
    let mut net = UserNet::default();
    let mut mac = None;
    for opt in parts {
        if let Some(v) = opt.strip_prefix("hostfwd=") {
            let fwd = parse_hostfwd(v)?;
            if net
                .hostfwd
                .iter()
                .any(|f| f.udp == fwd.udp && f.host.port() == fwd.host.port())
            {
                return Err(format!(
                    "hostfwd={v}: host port {} is forwarded twice",
                    fwd.host.port()
                ));
            }
            net.hostfwd.push(fwd);
        } else if let Some(v) = opt.strip_prefix("mac=") {
            mac = Some(super::eth_word::parse_mac(v)?);
        } else {
            return Err(format!(
                "unexpected {opt:?} (expected user[,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,mac=MAC])"
            ));
        }
    }
    Ok((net, mac))
}

/// `tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT` (protocol
/// defaults to tcp, as in QEMU).
pub fn parse_hostfwd(v: &str) -> Result<HostFwd, String> {
    let bad = |why: &str| {
        format!("invalid hostfwd={v} ({why}; expected tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)")
    };
    let (proto, rest) = v.split_once(':').ok_or_else(|| bad("no protocol"))?;
    let udp = match proto {
        "tcp" | "" => false,
        "udp" => true,
        _ => return Err(bad("protocol is not tcp or udp")),
    };
    let (host, guest) = rest.split_once('-').ok_or_else(|| bad("no '-'"))?;
    // An IPv6 address only on the host side (QEMU's `[ADDR]`): the guest
    // is reached at its IPv4 address either way.
    let endpoint = |s: &str, default: Ipv4Addr, what: &str| -> Result<SocketAddr, String> {
        let (addr, port) = s
            .rsplit_once(':')
            .ok_or_else(|| bad(&format!("no ':' before the {what} port")))?;
        let v6 = addr
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .filter(|_| what == "host");
        let addr: IpAddr = if addr.is_empty() {
            default.into()
        } else if let Some(a) = v6 {
            a.parse::<Ipv6Addr>()
                .map_err(|_| bad(&format!("{what} address {a:?} is not an IPv6 address")))?
                .into()
        } else {
            addr.parse::<Ipv4Addr>()
                .map_err(|_| bad(&format!("{what} address {addr:?} is not an IPv4 address")))?
                .into()
        };
        let port = match port.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(bad(&format!("{what} port {port:?} is not 1-65535"))),
        };
        Ok(SocketAddr::new(addr, port))
    };
    let host = endpoint(host, HOSTFWD_DEFAULT_ADDR, "host")?;
    let SocketAddr::V4(guest) = endpoint(guest, GUEST_ADDR, "guest")? else {
        return Err(bad(&format!("the guest is {GUEST_ADDR}")));
    };
    if *guest.ip() != GUEST_ADDR {
        return Err(bad(&format!("the guest is {GUEST_ADDR}")));
    }
    Ok(HostFwd { udp, host, guest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostfwd_words() {
        let f = parse_hostfwd("tcp::5555-:80").unwrap();
        assert_eq!(
            f,
            HostFwd {
                udp: false,
                host: "127.0.0.1:5555".parse().unwrap(),
                guest: "10.0.2.15:80".parse().unwrap()
            }
        );
        let f = parse_hostfwd("udp:0.0.0.0:53-10.0.2.15:5353").unwrap();
        assert!(f.udp);
        assert_eq!(f.host, "0.0.0.0:53".parse().unwrap());
        let f = parse_hostfwd("tcp:[::1]:8080-:80").unwrap();
        assert_eq!(f.host, "[::1]:8080".parse().unwrap());
        for bad in [
            "tcp:5555-:80",
            "icmp::1-:2",
            "tcp::0-:80",
            "tcp::70000-:80",
            "tcp::1:80",
            "tcp:1.2.3:1-:80",
            "tcp::1-:x",
            "tcp::1-10.0.2.16:80",
            "tcp:[::1:1-:80",
            "tcp:[1.2.3.4]:1-:80",
            "tcp::1-[::1]:80",
            "",
        ] {
            assert!(parse_hostfwd(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn options() {
        let (n, mac) = parse_user(
            [
                "hostfwd=tcp::1-:2",
                "mac=02:00:00:00:00:01",
                "hostfwd=udp::1-:2",
            ]
            .into_iter(),
        )
        .unwrap();
        assert_eq!(n.hostfwd.len(), 2);
        assert_eq!(mac, Some([2, 0, 0, 0, 0, 1]));
        assert!(
            parse_user(["hostfwd=tcp::1-:2", "hostfwd=tcp:127.0.0.1:1-:3"].into_iter()).is_err()
        );
        assert!(parse_user(["net=10.0.3.0/24"].into_iter()).is_err());
        assert!(parse_user(["mac=zz"].into_iter()).is_err());
    }
}
