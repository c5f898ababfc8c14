//! UDP-Lite sockets (RFC 3828; socket(AF_INET/AF_INET6, SOCK_DGRAM,
//! IPPROTO_UDPLITE)). smoltcp knows no protocol 136, so each interface
//! gets two raw smoltcp sockets for it (IPv4 and IPv6, `Iface::lite`)
//! once a UDP-Lite socket binds; sends put whole IP packets there, and
//! the stack's poll hands what they received to `deliver`, which checks
//! each datagram (`udplite_wire`), finds the socket it is for as Linux's
//! lookup scores them, applies its UDPLITE_RECV_CSCOV minimum and queues
//! it. Otherwise a UDP-Lite socket behaves as a UDP one: ports of its own
//! namespace, connect as default destination and source filter,
//! datagram boundaries, truncation, control messages. Received TOS
//! (traffic class) reads 0 and sent ones are not applied: smoltcp's raw
//! sockets carry only the hop limit of the IP header.

use super::addr::Domain;
use super::dgram::{Assoc, DgramSocket};
use super::hdrinfo;
use super::ports::Proto as PortProto;
use super::procfs::Row;
use super::sock::{Opts, Proto, RxInfo, SendCtl, Sock};
use super::stack::Net;
use super::udplite_wire::{self as wire, PROTO};
use crate::fs::file::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::kernel::errno::{Errno, KResult};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::raw::{self, PacketBuffer, PacketMetadata};
use smoltcp::wire::{IpEndpoint, IpProtocol, IpVersion};
use std::collections::{BTreeMap, VecDeque};

/// Packets and bytes a raw socket holds each way, and bytes of datagrams
/// a UDP-Lite socket holds unread (as UDP's).
const PACKETS: usize = 256;
const BYTES: usize = 256 * 1024;

/// SOL_UDPLITE options.
pub const UDPLITE_SEND_CSCOV: i32 = 10;
pub const UDPLITE_RECV_CSCOV: i32 = 11;

struct Datagram {
    data: Vec<u8>,
    from: IpEndpoint,
    info: RxInfo,
}

pub struct UdpLite {
    /// Its endpoints and shutdown state.
    pub a: Assoc,
    /// The interface of the last send or connect (POLLOUT reports its room).
    tx: usize,
    /// UDPLITE_SEND_CSCOV once set (Linux's pcslen under UDPLITE_SEND_CC).
    send_cscov: Option<u16>,
    /// UDPLITE_RECV_CSCOV once set: partially covered datagrams below it
    /// (any, when 0) are dropped.
    recv_cscov: Option<u16>,
    rx: VecDeque<Datagram>,
    rx_bytes: usize,
}

fn buffer() -> PacketBuffer<'static> {
    PacketBuffer::new(vec![PacketMetadata::EMPTY; PACKETS], vec![0; BYTES])
}

/// The raw sockets of interface `n`, made on first use.
fn raw_pair(net: &mut Net, n: usize) -> [SocketHandle; 2] {
    let i = &mut net.ifaces[n];
    *i.lite.get_or_insert_with(|| {
        let p = Some(IpProtocol::Unknown(PROTO));
        let v4 = raw::Socket::new(Some(IpVersion::Ipv4), p, buffer(), buffer());
        let v6 = raw::Socket::new(Some(IpVersion::Ipv6), p, buffer(), buffer());
        [i.sockets.add(v4), i.sockets.add(v6)]
    })
}

/// A socket option value as Linux's udp_lib_setsockopt takes it: 1..7
/// become 8, more than 65535 becomes 65535.
fn coverage(v: i32) -> u16 {
    match v {
        0 => 0,
        v if v < 8 => 8,
        v => v.min(u16::MAX as i32) as u16,
    }
}

/// getsockopt(SOL_UDP or SOL_UDPLITE, `opt`) of a UDP-Lite socket, or a
/// UDP one (`None`: full coverage); the other options Linux's
/// udp_lib_getsockopt knows (UDP_CORK, UDP_NO_CHECK6_TX/RX, UDP_SEGMENT,
/// UDP_GRO) read as off here.
pub fn get_opt(u: Option<&UdpLite>, opt: i32) -> Option<i32> {
    let cov = |c: Option<u16>| Some(c.unwrap_or(0) as i32);
    match opt {
        UDPLITE_SEND_CSCOV => cov(u.and_then(|u| u.send_cscov)),
        UDPLITE_RECV_CSCOV => cov(u.and_then(|u| u.recv_cscov)),
        1 | 101..=104 => Some(0),
        _ => None,
    }
}

impl UdpLite {
    pub fn new(domain: Domain) -> UdpLite {
        UdpLite {
            a: Assoc::new(domain),
            tx: 0,
            send_cscov: None,
            recv_cscov: None,
            rx: VecDeque::new(),
            rx_bytes: 0,
        }
    }

    /// setsockopt(SOL_UDPLITE, `opt`, `v`); false for an unknown option.
    pub fn set_opt(&mut self, opt: i32, v: i32) -> bool {
        match opt {
            UDPLITE_SEND_CSCOV => self.send_cscov = Some(coverage(v)),
            UDPLITE_RECV_CSCOV => self.recv_cscov = Some(coverage(v)),
            _ => return false,
        }
        true
    }

    /// bind(2).
    pub fn bind(&mut self, id: u64, net: &mut Net, ep: IpEndpoint, opts: &Opts) -> KResult<()> {
        if self.a.local.is_some() {
            return Err(Errno::EINVAL);
        }
        if !ep.addr.is_unspecified() {
            net.owner_of(ep.addr).ok_or(Errno::EADDRNOTAVAIL)?;
        }
        let b = self.a.binding(id, ep, opts);
        let port = net.ports.bind(PortProto::UdpLite, ep.port, b)?;
        for n in 0..net.ifaces.len() {
            raw_pair(net, n);
        }
        self.a.local = Some(IpEndpoint::new(ep.addr, port));
        Ok(())
    }

    /// sendto(2) of one datagram, to `dest` or the connected peer.
    pub fn send(
        &mut self,
        id: u64,
        net: &mut Net,
        data: &[u8],
        dest: Option<IpEndpoint>,
        opts: &Opts,
        ctl: &SendCtl,
    ) -> KResult<usize> {
        let (iface, dst, src) = self.prepare_send(id, net, data.len(), dest, opts, ctl)?;
        let ttl = self.a.fields(opts, ctl, dst.addr).ttl;
        let out = wire::Out {
            src,
            dst: dst.addr,
            sport: self.a.local.map_or(0, |l| l.port),
            dport: dst.port,
            data,
            send_cscov: self.send_cscov,
            ttl,
        };
        let pkt = wire::packet(&out).ok_or(Errno::ENETUNREACH)?;
        let [h4, h6] = raw_pair(net, iface);
        let h = if dst.addr.version() == smoltcp::wire::IpVersion::Ipv4 {
            h4
        } else {
            h6
        };
        let s = net.ifaces[iface].sockets.get_mut::<raw::Socket>(h);
        match s.send_slice(&pkt) {
            Ok(()) => Ok(data.len()),
            Err(_) => Err(Errno::EAGAIN),
        }
    }

    /// recvfrom(2): (up to `max` bytes of the next datagram, its sender,
    /// its full length, where it was going).
    pub fn recv(
        &mut self,
        max: usize,
        peek: bool,
    ) -> KResult<(Vec<u8>, IpEndpoint, usize, RxInfo)> {
        let Some(d) = self.rx.front() else {
            if self.a.shut_rd {
                return Ok(Assoc::end_of_data());
            }
            return Err(Errno::EAGAIN);
        };
        let v = d.data[..d.data.len().min(max)].to_vec();
        let r = (v, d.from, d.data.len(), d.info);
        if !peek {
            self.rx.pop_front();
            self.rx_bytes -= r.2;
        }
        Ok(r)
    }

    pub fn readiness(&self, net: &Net) -> u32 {
        let mut m = 0;
        if !self.rx.is_empty() || self.a.shut_rd {
            m |= POLLIN | POLLRDNORM;
        }
        let room = net
            .ifaces
            .get(self.tx)
            .and_then(|i| i.lite)
            .is_none_or(|[h4, h6]| {
                let s = &net.ifaces[self.tx].sockets;
                s.get::<raw::Socket>(h4).can_send() && s.get::<raw::Socket>(h6).can_send()
            });
        if room {
            m |= POLLOUT | POLLWRNORM;
        }
        m
    }

    /// FIONREAD: the size of the next datagram.
    pub fn unread(&self) -> usize {
        self.rx.front().map_or(0, |d| d.data.len())
    }

    /// Bytes of datagrams waiting to be read (more: a datagram came).
    pub fn queued(&self) -> usize {
        self.rx_bytes
    }

    /// Its line in /proc/net/udplite, once bound.
    pub fn row(&self, ino: u64) -> Option<Row> {
        self.a.row(0, self.rx_bytes, ino)
    }

    /// How well this socket matches a datagram from `src` to `dst` that
    /// came in by interface `ifindex` (Linux's compute_score); None when
    /// it does not take it.
    fn score(&self, opts: &Opts, src: IpEndpoint, dst: IpEndpoint, ifindex: u32) -> Option<u32> {
        let local = self.a.local?;
        if local.port != dst.port {
            return None;
        }
        let v4 = dst.addr.version() == IpVersion::Ipv4;
        let mut score = match (self.a.domain, v4) {
            (Domain::V4, true) => 1,
            (Domain::V4, false) => return None,
            (Domain::V6, true) if opts.v6only => return None,
            (Domain::V6, _) => 0,
        };
        if !local.addr.is_unspecified() {
            if local.addr != dst.addr {
                return None;
            }
            score += 4;
        }
        if let Some(p) = self.a.peer {
            if p != src {
                return None;
            }
            score += 8;
        }
        if let Some(dev) = opts.bind_dev {
            if dev != ifindex {
                return None;
            }
            score += 4;
        }
        Some(score)
    }

    /// Queue datagram `d`, unless its partial coverage is below what
    /// UDPLITE_RECV_CSCOV asks (Linux's udp_queue_rcv_one_skb) or the
    /// queue is full.
    fn take(&mut self, partial: Option<u16>, d: Datagram) {
        if let (Some(min), Some(cov)) = (self.recv_cscov, partial) {
            if min == 0 || cov < min {
                return;
            }
        }
        if self.rx_bytes + d.data.len() > BYTES || self.rx.len() >= PACKETS || self.a.shut_rd {
            return;
        }
        self.rx_bytes += d.data.len();
        self.rx.push_back(d);
    }
}

/// Hand the UDP-Lite packets the interfaces received to the sockets they
/// are for (the stack's poll, after the interfaces ran).
pub fn deliver(net: &mut Net, socks: &mut BTreeMap<u64, Sock>) {
    for i in net.ifaces.iter_mut() {
        let Some(hs) = i.lite else {
            continue;
        };
        for h in hs {
            while let Ok(p) = i.sockets.get_mut::<raw::Socket>(h).recv() {
                let Some(d) = wire::parse(p) else {
                    continue;
                };
                let src = IpEndpoint::new(d.src, d.sport);
                let dst = IpEndpoint::new(d.dst, d.dport);
                let best = socks
                    .iter_mut()
                    .filter_map(|(_, k)| match &mut k.proto {
                        Proto::UdpLite(u) => {
                            let s = u.score(&k.opts, src, dst, i.index)?;
                            Some((s, u))
                        }
                        _ => None,
                    })
                    .fold(None::<(u32, &mut UdpLite)>, |b, (s, u)| match b {
                        Some((bs, _)) if bs >= s => b,
                        _ => Some((s, u)),
                    });
                let Some((_, u)) = best else {
                    continue;
                };
                let info = RxInfo {
                    dst: d.dst,
                    ifindex: i.index,
                    fields: hdrinfo::Fields { ttl: d.ttl, tos: 0 },
                };
                let dg = Datagram {
                    data: d.data,
                    from: src,
                    info,
                };
                u.take(d.partial, dg);
            }
        }
    }
}

impl DgramSocket for UdpLite {
    fn assoc(&mut self) -> &mut Assoc {
        &mut self.a
    }

    fn autobind(&mut self, id: u64, net: &mut Net, iface: usize, opts: &Opts) -> KResult<()> {
        if self.a.local.is_none() {
            self.bind(id, net, IpEndpoint::new(self.a.domain.any(), 0), opts)?;
        }
        // (An interface hot-plugged since the bind.)
        raw_pair(net, iface);
        self.tx = iface;
        Ok(())
    }
}
