//! AF_NETLINK, NETLINK_ROUTE: the socket, message framing and dispatch.
//! The link and address dumps (RTM_GETLINK, RTM_GETADDR) that `ip link`,
//! `ip addr`, glibc's getifaddrs and if_nameindex ask for are built here
//! from the stack's interfaces; changes and the other tables live in
//! `addr` (RTM_NEWADDR/DELADDR), `link` (RTM_NEWLINK/SETLINK), `route`
//! (RTM_NEWROUTE/DELROUTE/GETROUTE) and `neigh` (RTM_GETNEIGH). A change
//! needs CAP_NET_ADMIN (EPERM); its result comes back as an NLMSG_ERROR
//! (always for an error, errno 0 when NLM_F_ACK asked for one). Other
//! requests answer EOPNOTSUPP that way, as a kernel without the feature.

mod addr;
mod link;
mod neigh;
mod route;
#[cfg(test)]
mod tests;

use crate::abi::{
    self,
    net::{SockaddrNl, AF_NETLINK},
    netlink::{IfAddrMsg, IfInfoMsg, IfaCacheinfo, NlMsgHdr, RtAttr},
};
use crate::fs::file::{File, FileOps, POLLIN, POLLOUT};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use crate::kernel::wait::WaitQueue;
use crate::net::inet::netdev::{self, IfInfo};
use core::mem::{offset_of, size_of};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

pub const NETLINK_ROUTE: i32 = 0;
// rtnetlink carries the family in a byte.
const AF_INET: u8 = abi::net::AF_INET as u8;
const AF_INET6: u8 = abi::net::AF_INET6 as u8;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_MULTI: u16 = 2;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const RTM_NEWNEIGH: u16 = 28;
const RTM_GETNEIGH: u16 = 30;

const IFLA_ADDRESS: u16 = 1;
const IFLA_BROADCAST: u16 = 2;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_QDISC: u16 = 6;
const IFLA_TXQLEN: u16 = 13;
const IFLA_OPERSTATE: u16 = 16;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
/// An address made by SLAAC: Linux's flags for it (`dynamic mngtmpaddr`).
const IFA_F_MANAGETEMPADDR: u32 = 0x100;

const ARPHRD_LOOPBACK: u16 = 772;
const ARPHRD_NONE: u16 = 0xfffe;
const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;
const IFF_RUNNING: u32 = 0x40;
const IFF_LOWER_UP: u32 = 0x10000;
const IFA_F_PERMANENT: u8 = 0x80;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_HOST: u8 = 254;
const RT_SCOPE_LINK: u8 = 253;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One message: header (length filled in at the end) and payload.
struct Msg(Vec<u8>);

impl Msg {
    fn new(ty: u16, flags: u16, seq: u32, pid: u32) -> Msg {
        let h = NlMsgHdr {
            nlmsg_len: 0,
            nlmsg_type: ty,
            nlmsg_flags: flags,
            nlmsg_seq: seq,
            nlmsg_pid: pid,
        };
        Msg(abi::bytes(&h).to_vec())
    }
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
        self.0.resize(align4(self.0.len()), 0);
    }
    fn attr(&mut self, ty: u16, data: &[u8]) {
        let a = RtAttr {
            rta_len: (size_of::<RtAttr>() + data.len()) as u16,
            rta_type: ty,
        };
        self.0.extend_from_slice(abi::bytes(&a));
        self.put(data);
    }
    fn done(mut self) -> Vec<u8> {
        let n = self.0.len() as u32;
        abi::write_at(&mut self.0, offset_of!(NlMsgHdr, nlmsg_len), &n);
        self.0
    }
}

/// The attributes after a message's fixed body: (type, payload).
fn attrs(b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut v = Vec::new();
    let mut off = 0;
    while off + size_of::<RtAttr>() <= b.len() {
        let a: RtAttr = abi::read_at(b, off);
        let len = a.rta_len as usize;
        if len < size_of::<RtAttr>() || off + len > b.len() {
            break;
        }
        // NLA_F_NESTED and NLA_F_NET_BYTEORDER ride in the top bits.
        v.push((
            a.rta_type & 0x3fff,
            &b[off + size_of::<RtAttr>()..off + len],
        ));
        off += align4(len);
    }
    v
}

/// The attribute `ty` of a list from `attrs`.
fn attr<'a>(list: &[(u16, &'a [u8])], ty: u16) -> Option<&'a [u8]> {
    list.iter().find(|(t, _)| *t == ty).map(|(_, d)| *d)
}

/// An IPv4 address attribute (EINVAL when it is not 4 bytes).
fn v4_attr(list: &[(u16, &[u8])], ty: u16) -> KResult<Option<smoltcp::wire::Ipv4Address>> {
    match attr(list, ty) {
        None => Ok(None),
        Some(d) if d.len() == 4 => Ok(Some(smoltcp::wire::Ipv4Address::new(
            d[0], d[1], d[2], d[3],
        ))),
        Some(_) => Err(Errno::EINVAL),
    }
}

/// An address attribute of family `fam` (EINVAL when its length is not
/// the family's).
fn ip_attr(list: &[(u16, &[u8])], ty: u16, fam: u8) -> KResult<Option<smoltcp::wire::IpAddress>> {
    use smoltcp::wire::{IpAddress, Ipv6Address};
    if fam == AF_INET {
        return Ok(v4_attr(list, ty)?.map(IpAddress::Ipv4));
    }
    match attr(list, ty) {
        None => Ok(None),
        Some(d) if d.len() == 16 => {
            let b: [u8; 16] = abi::read_at(d, 0);
            Ok(Some(IpAddress::Ipv6(Ipv6Address::from(b))))
        }
        Some(_) => Err(Errno::EINVAL),
    }
}

/// The bytes of an address as attributes carry it.
fn ip_bytes(a: smoltcp::wire::IpAddress) -> Vec<u8> {
    match a {
        smoltcp::wire::IpAddress::Ipv4(v) => v.octets().to_vec(),
        smoltcp::wire::IpAddress::Ipv6(v) => v.octets().to_vec(),
    }
}

/// The fixed body `T` at the start of a message body (EINVAL if short).
fn body_of<T: bytemuck::Pod>(body: &[u8]) -> KResult<(T, &[u8])> {
    let t = abi::from_prefix::<T>(body).ok_or(Errno::EINVAL)?;
    Ok((t, &body[align4(size_of::<T>()).min(body.len())..]))
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn link_msg(i: &IfInfo, flags: u16, seq: u32, pid: u32) -> Vec<u8> {
    let mut m = Msg::new(RTM_NEWLINK, flags, seq, pid);
    let mut flags = if i.up {
        IFF_UP | IFF_RUNNING | IFF_LOWER_UP
    } else {
        0
    };
    if i.loopback {
        flags |= IFF_LOOPBACK;
    }
    let hw = match (i.loopback, i.mac) {
        (true, _) => ARPHRD_LOOPBACK,
        // ARPHRD_ETHER.
        (false, Some(_)) => 1,
        (false, None) => ARPHRD_NONE,
    };
    let ifi = IfInfoMsg {
        ifi_type: hw,
        ifi_index: i.index as i32,
        ifi_flags: flags,
        ..Default::default()
    };
    m.put(abi::bytes(&ifi));
    m.attr(IFLA_IFNAME, &cstr(&i.name));
    m.attr(IFLA_TXQLEN, abi::bytes(&1000u32));
    // IF_OPER_UNKNOWN, what Linux reports for lo.
    m.attr(IFLA_OPERSTATE, &[0]);
    m.attr(IFLA_MTU, abi::bytes(&i.mtu));
    m.attr(IFLA_QDISC, &cstr("noqueue"));
    if let Some(mac) = i.mac {
        m.attr(IFLA_ADDRESS, &mac);
        m.attr(IFLA_BROADCAST, &[0xff; 6]);
    } else if i.loopback {
        m.attr(IFLA_ADDRESS, &[0; 6]);
        m.attr(IFLA_BROADCAST, &[0; 6]);
    }
    m.done()
}

fn addr_msgs(family: u8, seq: u32, pid: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (index, name, loopback, a, prefix, life) in netdev::addresses() {
        let (fam, bytes) = match a {
            smoltcp::wire::IpAddress::Ipv4(v) => (AF_INET, v.octets().to_vec()),
            smoltcp::wire::IpAddress::Ipv6(v) => (AF_INET6, v.octets().to_vec()),
        };
        if family != 0 && family != fam {
            continue;
        }
        let mut m = Msg::new(RTM_NEWADDR, NLM_F_MULTI, seq, pid);
        let scope = match a {
            smoltcp::wire::IpAddress::Ipv6(v) if v.is_loopback() => RT_SCOPE_HOST,
            smoltcp::wire::IpAddress::Ipv6(v) if v.is_unicast_link_local() => RT_SCOPE_LINK,
            smoltcp::wire::IpAddress::Ipv6(_) => RT_SCOPE_UNIVERSE,
            _ if loopback => RT_SCOPE_HOST,
            _ => RT_SCOPE_UNIVERSE,
        };
        let ifa = IfAddrMsg {
            ifa_family: fam,
            ifa_prefixlen: prefix,
            ifa_flags: if life.is_some() { 0 } else { IFA_F_PERMANENT },
            ifa_scope: scope,
            ifa_index: index,
        };
        m.put(abi::bytes(&ifa));
        m.attr(IFA_ADDRESS, &bytes);
        if fam == AF_INET {
            m.attr(IFA_LOCAL, &bytes);
            m.attr(IFA_LABEL, &cstr(&name));
        }
        if let Some((valid, preferred)) = life {
            let ci = IfaCacheinfo {
                ifa_prefered: preferred,
                ifa_valid: valid,
                ..Default::default()
            };
            m.attr(IFA_CACHEINFO, abi::bytes(&ci));
            m.attr(IFA_FLAGS, abi::bytes(&IFA_F_MANAGETEMPADDR));
        }
        out.push(m.done());
    }
    out
}

/// NLMSG_ERROR for request `req` (its header): `errno` 0 is an ack.
fn error_msg(req: &[u8], errno: i32, seq: u32, pid: u32) -> Vec<u8> {
    let mut m = Msg::new(NLMSG_ERROR, 0, seq, pid);
    // struct nlmsgerr: the negated errno, then the request's header.
    m.put(abi::bytes(&(-errno)));
    m.put(&req[..size_of::<NlMsgHdr>().min(req.len())]);
    m.done()
}

/// A NETLINK_ROUTE socket: replies queue as datagrams until read.
pub struct NetlinkSocket {
    /// The network namespace it was made in: what its requests see and
    /// change.
    net: Arc<crate::kernel::ns::Ns>,
    port: Mutex<u32>,
    queue: Mutex<VecDeque<Vec<u8>>>,
    wq: Arc<WaitQueue>,
    /// O_ASYNC descriptions: SIGIO (POLL_IN) when replies queue.
    fasync: crate::fs::fown::FasyncList,
}

impl NetlinkSocket {
    pub fn new(proto: i32) -> KResult<Arc<NetlinkSocket>> {
        if proto != NETLINK_ROUTE {
            return Err(Errno::EPROTONOSUPPORT);
        }
        Ok(Arc::new(NetlinkSocket {
            net: crate::kernel::ns::current_net(),
            port: Mutex::new(0),
            queue: Mutex::new(VecDeque::new()),
            wq: Arc::new(WaitQueue::new()),
            fasync: crate::fs::fown::FasyncList::new(),
        }))
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// bind: the port id (0 asks the kernel for one: the caller's pid).
    pub fn bind(&self, addr: &[u8], tgid: u32) -> KResult<()> {
        let Some(a) = abi::from_prefix::<SockaddrNl>(addr) else {
            return Err(Errno::EINVAL);
        };
        if a.nl_family != AF_NETLINK {
            return Err(Errno::EINVAL);
        }
        let pid = a.nl_pid;
        *Self::lock(&self.port) = if pid == 0 { tgid } else { pid };
        Ok(())
    }

    /// struct sockaddr_nl of this socket (or of the kernel, port 0).
    pub fn sockaddr(port: u32) -> Vec<u8> {
        let a = SockaddrNl {
            nl_family: AF_NETLINK,
            nl_pid: port,
            ..Default::default()
        };
        abi::bytes(&a).to_vec()
    }

    pub fn port(&self, tgid: u32) -> u32 {
        let mut p = Self::lock(&self.port);
        if *p == 0 {
            *p = tgid;
        }
        *p
    }

    /// A request from the process (one or more messages in `data`);
    /// `admin`: it may change the configuration (CAP_NET_ADMIN).
    pub fn request(&self, data: &[u8], tgid: u32, admin: bool) -> KResult<usize> {
        crate::kernel::ns::with_socket_net(&self.net, || self.request_here(data, tgid, admin))
    }

    /// May `t` change its namespace's configuration through this socket
    /// (CAP_NET_ADMIN over the socket's namespace).
    pub fn admin(&self, t: &Task) -> bool {
        crate::kernel::ns::with_socket_net(&self.net, || crate::kernel::ns::net_admin(t))
    }

    fn request_here(&self, data: &[u8], tgid: u32, admin: bool) -> KResult<usize> {
        let pid = self.port(tgid);
        let mut replies = Vec::new();
        let mut off = 0;
        const HDR: usize = size_of::<NlMsgHdr>();
        while off + HDR <= data.len() {
            let h = &data[off..];
            let hdr: NlMsgHdr = abi::read_at(h, 0);
            let len = hdr.nlmsg_len as usize;
            if len < HDR || off + len > data.len() {
                return Err(Errno::EINVAL);
            }
            let (ty, flags, seq) = (hdr.nlmsg_type, hdr.nlmsg_flags, hdr.nlmsg_seq);
            let body = &h[HDR..len];
            off += align4(len);
            let dump = flags & NLM_F_DUMP != 0;
            let msgs: KResult<Vec<Vec<u8>>> = match ty {
                RTM_GETLINK if dump => Ok(netdev::interfaces()
                    .iter()
                    .map(|i| link_msg(i, NLM_F_MULTI, seq, pid))
                    .collect()),
                RTM_GETADDR if dump => {
                    let family = body.first().copied().unwrap_or(0);
                    Ok(addr_msgs(family, seq, pid))
                }
                RTM_GETROUTE if dump => Ok(route::dump(body, seq, pid)),
                RTM_GETNEIGH if dump => Ok(neigh::dump(body, seq, pid)),
                RTM_GETLINK => {
                    // One link, answered without NLM_F_MULTI or DONE.
                    let r = link::get(body).map(|i| link_msg(&i, 0, seq, pid));
                    match r {
                        Ok(m) => replies.push(m),
                        Err(e) => replies.push(error_msg(&h[..len], e.0, seq, pid)),
                    }
                    continue;
                }
                RTM_NEWADDR | RTM_DELADDR | RTM_NEWROUTE | RTM_DELROUTE | RTM_NEWLINK
                | RTM_SETLINK => {
                    let r = if !admin {
                        Err(Errno::EPERM)
                    } else {
                        match ty {
                            RTM_NEWADDR => addr::new(body, flags),
                            RTM_DELADDR => addr::del(body),
                            RTM_NEWROUTE => route::new(body, flags),
                            RTM_DELROUTE => route::del(body),
                            _ => link::set(body, ty == RTM_NEWLINK, flags),
                        }
                    };
                    match r {
                        Err(e) => replies.push(error_msg(&h[..len], e.0, seq, pid)),
                        Ok(()) if flags & NLM_F_ACK != 0 => {
                            replies.push(error_msg(&h[..len], 0, seq, pid))
                        }
                        Ok(()) => {}
                    }
                    continue;
                }
                _ => Err(Errno::EOPNOTSUPP),
            };
            let msgs = match msgs {
                Ok(m) => m,
                Err(e) => {
                    replies.push(error_msg(&h[..len], e.0, seq, pid));
                    continue;
                }
            };
            let mut batch: Vec<u8> = msgs.concat();
            let mut done = Msg::new(NLMSG_DONE, NLM_F_MULTI, seq, pid);
            done.put(abi::bytes(&0i32));
            batch.extend(done.done());
            replies.push(batch);
        }
        Self::lock(&self.queue).extend(replies);
        self.wq.wake_all();
        self.fasync.kill(crate::fs::fown::POLL_IN);
        Ok(data.len())
    }

    /// The next reply datagram: up to `max` bytes of it and its full
    /// length (EAGAIN when there is none). `peek` leaves it queued.
    pub fn reply(&self, max: usize, peek: bool) -> KResult<(Vec<u8>, usize)> {
        let mut q = Self::lock(&self.queue);
        let Some(d) = q.front() else {
            return Err(Errno::EAGAIN);
        };
        let full = d.len();
        let part = d[..max.min(full)].to_vec();
        if !peek {
            q.pop_front();
        }
        Ok((part, full))
    }
}

impl FileOps for NetlinkSocket {
    /// O_ASYNC: SIGIO when replies queue.
    fn fasync_list(&self) -> Option<&crate::fs::fown::FasyncList> {
        Some(&self.fasync)
    }
    /// write(2) is a send to the kernel.
    fn write_task(&self, _f: &File, t: &Arc<Task>, buf: &[u8]) -> KResult<usize> {
        self.request(buf, t.tgid() as u32, self.admin(t))
    }
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        let (d, _) = self.reply(buf.len(), false)?;
        buf[..d.len()].copy_from_slice(&d);
        Ok(d.len())
    }
    fn poll(&self, _f: &File) -> u32 {
        let ready = !Self::lock(&self.queue).is_empty();
        POLLOUT | if ready { POLLIN } else { 0 }
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.wq.clone())
    }
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
    fn name(&self) -> Option<String> {
        Some("socket:[netlink]".into())
    }
}
