//! What the stack's interfaces look like to `ifconfig` and friends:
//! /proc/net/dev, /proc/net/if_inet6, and the SIOCGIF* ioctls any socket
//! answers (struct ifreq, struct ifconf); `net::netlink` builds its dumps
//! from the same lists. Changes (SIOCSIF*, SIOCADDRT) are `ifconfig`'s.

use super::device::DevStats;
use super::stack;
use crate::abi::{
    self,
    net::{Ifconf, Sockaddr, SockaddrIn, AF_INET, IFNAMSIZ},
};
use crate::kernel::errno::{Errno, KResult};
use smoltcp::wire::{IpAddress, Ipv4Address};

pub const SIOCGIFNAME: u32 = 0x8910;
pub const SIOCGIFCONF: u32 = 0x8912;
pub const SIOCGIFFLAGS: u32 = 0x8913;
pub const SIOCGIFADDR: u32 = 0x8915;
pub const SIOCGIFDSTADDR: u32 = 0x8917;
pub const SIOCGIFBRDADDR: u32 = 0x8919;
pub const SIOCGIFNETMASK: u32 = 0x891b;
pub const SIOCGIFMETRIC: u32 = 0x891d;
pub const SIOCGIFMTU: u32 = 0x8921;
pub const SIOCGIFHWADDR: u32 = 0x8927;
pub const SIOCGIFINDEX: u32 = 0x8933;
pub const SIOCGIFTXQLEN: u32 = 0x8942;

/// Size of `struct ifreq`: a 16-byte name and a 24-byte union.
pub const IFREQ_SIZE: usize = 40;

const IFF_UP: u16 = 0x1;
const IFF_LOOPBACK: u16 = 0x8;
const IFF_RUNNING: u16 = 0x40;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
const ARPHRD_NONE: u16 = 0xfffe;

/// One interface as the ioctls describe it.
pub struct IfInfo {
    /// Interface index (1 for lo).
    pub index: u32,
    pub name: String,
    pub loopback: bool,
    pub mtu: u32,
    /// Its IPv4 address and prefix length, if it has one.
    pub v4: Option<(Ipv4Address, u8)>,
    pub stats: DevStats,
    /// IFF_UP.
    pub up: bool,
    /// An Ethernet interface's MAC address.
    pub mac: Option<[u8; 6]>,
}

/// The interfaces, in index order.
pub fn interfaces() -> Vec<IfInfo> {
    stack::query(|s| {
        s.net
            .ifaces
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.removed)
            .map(|(i, f)| {
                let v4 = f.iface.ip_addrs().iter().find_map(|c| match c.address() {
                    IpAddress::Ipv4(a) => Some((a, c.prefix_len())),
                    _ => None,
                });
                IfInfo {
                    index: i as u32 + 1,
                    name: f.name.clone(),
                    loopback: f.loopback,
                    // Linux's lo has 65536; smoltcp's device MTU is a
                    // packet's limit, one less.
                    mtu: if f.loopback {
                        65536
                    } else {
                        f.mtu_now() as u32
                    },
                    v4,
                    stats: f.dev.stats(),
                    up: f.up,
                    mac: f.mac,
                }
            })
            .collect()
    })
}

/// Every address of every interface: (index, interface name, loopback,
/// address, prefix length), for netlink's address dump.
pub fn addresses() -> Vec<(u32, String, bool, IpAddress, u8, Option<(u32, u32)>)> {
    let now = stack::now();
    stack::query(|s| {
        let mut v = Vec::new();
        for (i, f) in s.net.ifaces.iter().enumerate().filter(|(_, f)| !f.removed) {
            for c in f.iface.ip_addrs() {
                v.push((
                    i as u32 + 1,
                    f.name.clone(),
                    f.loopback,
                    c.address(),
                    c.prefix_len(),
                    super::ndisc::lifetimes(f, c.address(), now),
                ));
            }
        }
        v
    })
}

/// /proc/net/dev in Linux's format.
pub fn proc_net_dev() -> String {
    let mut s = String::from(
        "Inter-|   Receive                                                |  Transmit\n \
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
    );
    for i in interfaces() {
        let st = i.stats;
        s.push_str(&format!(
            "{:>6}:{:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>10} {:>9} {:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>7} {:>10}\n",
            i.name, st.rx_bytes, st.rx_packets, 0, 0, 0, 0, 0, 0, st.tx_bytes, st.tx_packets, 0, 0,
            0, 0, 0, 0
        ));
    }
    s
}

/// /proc/net/arp: the neighbour table with interface names.
pub fn proc_net_arp() -> String {
    let names: Vec<(u32, String)> = interfaces()
        .into_iter()
        .map(|i| (i.index, i.name))
        .collect();
    super::neigh::proc_net_arp(&names)
}

/// /proc/net/if_inet6: one line per IPv6 address (address, interface
/// index, prefix length, scope, flags, name), as ifconfig reads it.
pub fn proc_if_inet6() -> String {
    let mut s = String::new();
    stack::query(|st| {
        for (i, f) in st.net.ifaces.iter().enumerate() {
            for c in f.iface.ip_addrs() {
                if let IpAddress::Ipv6(a) = c.address() {
                    let hex: String = a.octets().iter().map(|b| format!("{b:02x}")).collect();
                    // Scope: host (0x10) for ::1, link (0x20) for fe80::/10,
                    // global (0); flags: IFA_F_PERMANENT (0x80), none for
                    // an autoconfigured one (its IFA_F_MANAGETEMPADDR
                    // does not fit the byte Linux prints).
                    let scope = if a.is_loopback() {
                        0x10
                    } else if a.is_unicast_link_local() {
                        0x20
                    } else {
                        0
                    };
                    let dynamic =
                        f.ra.dynamic
                            .iter()
                            .any(|d| IpAddress::Ipv6(d.addr) == c.address());
                    let flags = if dynamic { 0 } else { 0x80 };
                    s.push_str(&format!(
                        "{hex} {:02x} {:02x} {scope:02x} {flags:02x} {:>8}\n",
                        i + 1,
                        c.prefix_len(),
                        f.name
                    ));
                }
            }
        }
    });
    s
}

fn flags(i: &IfInfo) -> u16 {
    let mut f = if i.up { IFF_UP | IFF_RUNNING } else { 0 };
    if i.loopback {
        f |= IFF_LOOPBACK;
    }
    f
}

/// A sockaddr_in for `a` in the ifreq union.
fn put_sockaddr_in(u: &mut [u8], a: Ipv4Address) {
    let s = SockaddrIn {
        sin_family: AF_INET,
        sin_addr: a.octets(),
        ..Default::default()
    };
    abi::write_at(u, 0, &s);
}

fn netmask(prefix: u8) -> Ipv4Address {
    let m = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix as u32)
    };
    Ipv4Address::from_bits(m)
}

/// The interface an ifreq names (ENODEV if none).
fn by_name(req: &[u8; IFREQ_SIZE]) -> KResult<IfInfo> {
    let end = req[..16].iter().position(|&b| b == 0).unwrap_or(16);
    let name = std::str::from_utf8(&req[..end]).map_err(|_| Errno::ENODEV)?;
    interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or(Errno::ENODEV)
}

/// Answer a SIOCGIF* ioctl that takes one `struct ifreq` (`req`, changed
/// in place). EINVAL for other commands.
pub fn ifreq_ioctl(cmd: u32, req: &mut [u8; IFREQ_SIZE]) -> KResult<()> {
    if cmd == SIOCGIFNAME {
        let index: u32 = abi::read_at(req, IFNAMSIZ);
        let i = interfaces()
            .into_iter()
            .find(|i| i.index == index)
            .ok_or(Errno::ENODEV)?;
        req[..16].fill(0);
        req[..i.name.len()].copy_from_slice(i.name.as_bytes());
        return Ok(());
    }
    let i = by_name(req)?;
    let u = &mut req[IFNAMSIZ..];
    u.fill(0);
    match cmd {
        SIOCGIFFLAGS => abi::write_at(u, 0, &flags(&i)),
        SIOCGIFADDR => put_sockaddr_in(u, i.v4.ok_or(Errno::EADDRNOTAVAIL)?.0),
        SIOCGIFNETMASK => put_sockaddr_in(u, netmask(i.v4.ok_or(Errno::EADDRNOTAVAIL)?.1)),
        // No broadcast or point-to-point peers: the address family only.
        SIOCGIFBRDADDR | SIOCGIFDSTADDR => {
            i.v4.ok_or(Errno::EADDRNOTAVAIL)?;
            abi::write_at(u, 0, &AF_INET);
        }
        SIOCGIFMETRIC => {}
        SIOCGIFMTU => abi::write_at(u, 0, &i.mtu),
        SIOCGIFHWADDR => {
            let family = match (i.loopback, i.mac) {
                (true, _) => ARPHRD_LOOPBACK,
                (false, Some(_)) => ARPHRD_ETHER,
                (false, None) => ARPHRD_NONE,
            };
            let mut sa = Sockaddr {
                sa_family: family,
                ..Default::default()
            };
            if let Some(m) = i.mac {
                sa.sa_data[..6].copy_from_slice(&m);
            }
            abi::write_at(u, 0, &sa);
        }
        SIOCGIFINDEX => abi::write_at(u, 0, &i.index),
        SIOCGIFTXQLEN => abi::write_at(u, 0, &1000u32),
        _ => return Err(Errno::EINVAL),
    }
    Ok(())
}

/// The interface ioctls any socket answers (glibc's if_nametoindex asks an
/// AF_UNIX socket): None for other commands.
pub fn socket_ioctl(t: &crate::kernel::task::Task, cmd: u32, arg: u64) -> Option<KResult<u64>> {
    if cmd == SIOCGIFCONF {
        return Some((|| {
            let c: Ifconf = abi::read_val(&t.mm(), arg)?;
            let len = c.ifc_len.max(0) as usize;
            let buf = c.ifc_buf;
            let (records, n) = ifconf(if buf == 0 { 0 } else { len });
            if buf != 0 {
                t.mm().write(buf, &records)?;
            }
            t.mm().write_u32(arg, n as u32)?;
            Ok(0)
        })());
    }
    if super::ifconfig::is_set_ioctl(cmd) {
        return Some((|| {
            if !crate::kernel::ns::net_admin(t) {
                return Err(Errno::EPERM);
            }
            if matches!(cmd, super::ifconfig::SIOCADDRT | super::ifconfig::SIOCDELRT) {
                let rt = t.mm().read_vec(arg, super::ifconfig::RTENTRY_SIZE)?;
                let e: abi::net::Rtentry = abi::read_at(&rt, 0);
                let dev = match e.rt_dev {
                    0 => None,
                    p => Some(t.mm().read_cstr_bytes(p, IFNAMSIZ)?),
                };
                super::ifconfig::route_set(cmd, &rt, dev.as_deref())?;
            } else {
                let req = t.mm().read_vec(arg, IFREQ_SIZE)?;
                super::ifconfig::ifreq_set(cmd, &req)?;
            }
            Ok(0)
        })());
    }
    if !(SIOCGIFNAME..=SIOCGIFTXQLEN).contains(&cmd) {
        return None;
    }
    let mut req = [0u8; IFREQ_SIZE];
    let r = (|| {
        t.mm().read(arg, &mut req)?;
        ifreq_ioctl(cmd, &mut req)?;
        t.mm().write(arg, &req)?;
        Ok(0)
    })();
    // Commands of the range that are not interface queries.
    Some(r.map_err(|e| if e == Errno::EINVAL { Errno::ENOTTY } else { e }))
}

/// SIOCGIFCONF: one ifreq (name and IPv4 address) per interface with an
/// IPv4 address, as many as fit in `len` bytes. Returns the records and
/// the length to report (with a zero length: the length needed).
pub fn ifconf(len: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let with_v4: Vec<IfInfo> = interfaces()
        .into_iter()
        .filter(|i| i.v4.is_some())
        .collect();
    if len == 0 {
        return (out, with_v4.len() * IFREQ_SIZE);
    }
    for i in with_v4 {
        if out.len() + IFREQ_SIZE > len {
            break;
        }
        let mut r = [0u8; IFREQ_SIZE];
        r[..i.name.len()].copy_from_slice(i.name.as_bytes());
        put_sockaddr_in(
            &mut r[IFNAMSIZ..],
            i.v4.map(|v| v.0).unwrap_or(Ipv4Address::UNSPECIFIED),
        );
        out.extend_from_slice(&r);
    }
    let n = out.len();
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks() {
        assert_eq!(netmask(8), Ipv4Address::new(255, 0, 0, 0));
        assert_eq!(netmask(24), Ipv4Address::new(255, 255, 255, 0));
        assert_eq!(netmask(0), Ipv4Address::UNSPECIFIED);
    }

    #[test]
    fn lo_answers_the_ioctls() {
        let mut r = [0u8; IFREQ_SIZE];
        r[..2].copy_from_slice(b"lo");
        ifreq_ioctl(SIOCGIFFLAGS, &mut r).unwrap();
        assert_eq!(u16::from_le_bytes([r[16], r[17]]), 0x49);
        ifreq_ioctl(SIOCGIFADDR, &mut r).unwrap();
        assert_eq!(&r[20..24], &[127, 0, 0, 1]);
        ifreq_ioctl(SIOCGIFNETMASK, &mut r).unwrap();
        assert_eq!(&r[20..24], &[255, 0, 0, 0]);
        let mut bad = [0u8; IFREQ_SIZE];
        bad[..4].copy_from_slice(b"eth9");
        assert_eq!(ifreq_ioctl(SIOCGIFFLAGS, &mut bad), Err(Errno::ENODEV));
    }
}
