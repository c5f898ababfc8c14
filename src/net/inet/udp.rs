//! UDP sockets over smoltcp: bind (ephemeral ports on first use), connect
//! as a default destination and source filter, datagrams with their
//! boundaries, truncation, and the readiness poll reports. A smoltcp
//! socket lives on one interface, so a socket bound to the wildcard
//! address has one on every interface (it receives on all of them, as
//! Linux's does) and sends through the one the route picks.

use super::addr::Domain;
use super::hdrinfo;
use super::ports::{Binding, Proto};
use super::procfs::{self, Row};
use super::sock::{Opts, RxInfo, SendCtl};
use super::stack::Net;
use crate::fs::file::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::kernel::errno::{Errno, KResult};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp::{self, PacketBuffer, PacketMetadata, UdpMetadata};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

/// Datagrams and bytes a socket may hold each way (Linux's default
/// receive buffer is about 208 KiB).
const PACKETS: usize = 256;
const BYTES: usize = 256 * 1024;

pub struct Udp {
    domain: Domain,
    /// Its smoltcp sockets: (interface, handle). One on the address's
    /// interface when bound to an address; one per interface when bound
    /// to the wildcard. Empty until bound.
    handles: Vec<(usize, SocketHandle)>,
    /// The interface of the last send or connect (POLLOUT reports its
    /// room).
    tx: usize,
    /// Bound address (unspecified: any) and port.
    local: Option<IpEndpoint>,
    /// The source address connect chose (getsockname shows it).
    src: Option<IpAddress>,
    peer: Option<IpEndpoint>,
    shut_rd: bool,
    shut_wr: bool,
}

fn buffer() -> PacketBuffer<'static> {
    PacketBuffer::new(vec![PacketMetadata::EMPTY; PACKETS], vec![0; BYTES])
}

impl Udp {
    pub fn new(domain: Domain) -> Udp {
        Udp {
            domain,
            handles: Vec::new(),
            tx: 0,
            local: None,
            src: None,
            peer: None,
            shut_rd: false,
            shut_wr: false,
        }
    }

    /// The smoltcp socket that sends through interface `iface`: its own
    /// there, or its only one (bound to an address of another interface).
    fn tx_handle(&self, iface: usize) -> Option<(usize, SocketHandle)> {
        self.handles
            .iter()
            .find(|(i, _)| *i == iface)
            .or(self.handles.first())
            .copied()
    }

    fn tx_sock<'a>(&self, net: &'a Net) -> Option<&'a udp::Socket<'static>> {
        let (i, h) = self.tx_handle(self.tx)?;
        Some(net.ifaces[i].sockets.get::<udp::Socket>(h))
    }

    /// Every smoltcp socket of it.
    fn all<'a>(&'a self, net: &'a Net) -> impl Iterator<Item = &'a udp::Socket<'static>> + 'a {
        self.handles
            .iter()
            .map(move |&(i, h)| net.ifaces[i].sockets.get::<udp::Socket>(h))
    }

    /// The smoltcp socket holding the next datagram to read, if any, and
    /// the interface it is on.
    fn rx_sock<'a>(&self, net: &'a mut Net) -> Option<(usize, &'a mut udp::Socket<'static>)> {
        let &(i, h) = self
            .handles
            .iter()
            .find(|&&(i, h)| net.ifaces[i].sockets.get::<udp::Socket>(h).can_recv())?;
        Some((i, net.ifaces[i].sockets.get_mut::<udp::Socket>(h)))
    }

    /// bind(2).
    pub fn bind(&mut self, id: u64, net: &mut Net, ep: IpEndpoint, opts: &Opts) -> KResult<()> {
        if self.local.is_some() {
            return Err(Errno::EINVAL);
        }
        let ifaces: Vec<usize> = if ep.addr.is_unspecified() {
            (0..net.ifaces.len()).collect()
        } else {
            vec![net.owner_of(ep.addr).ok_or(Errno::EADDRNOTAVAIL)?]
        };
        let b = Binding {
            id,
            dual: self.domain == Domain::V6 && !opts.v6only && ep.addr.is_unspecified(),
            addr: ep.addr,
            reuse: opts.reuseaddr,
            listening: false,
            time_wait: false,
        };
        let port = net.ports.bind(Proto::Udp, ep.port, b)?;
        let lep = IpListenEndpoint {
            addr: (!ep.addr.is_unspecified()).then_some(ep.addr),
            port,
        };
        for n in ifaces {
            let mut s = udp::Socket::new(buffer(), buffer());
            if s.bind(lep).is_err() {
                self.free_handles(net);
                net.ports.release(id);
                return Err(Errno::EINVAL);
            }
            self.handles.push((n, net.ifaces[n].sockets.add(s)));
        }
        self.local = Some(IpEndpoint::new(ep.addr, port));
        Ok(())
    }

    fn autobind(&mut self, id: u64, net: &mut Net, iface: usize, opts: &Opts) -> KResult<()> {
        if self.local.is_none() {
            self.bind(id, net, IpEndpoint::new(self.domain.any(), 0), opts)?;
        }
        self.tx = iface;
        Ok(())
    }

    /// Where datagrams to `dst` go: (interface, destination, source).
    fn route(
        &self,
        net: &Net,
        dst: IpEndpoint,
        opts: &Opts,
    ) -> KResult<(usize, IpEndpoint, IpAddress)> {
        // The unspecified address means this host (Linux).
        let addr = if dst.addr.is_unspecified() {
            self.domain.loopback()
        } else {
            dst.addr
        };
        let (iface, src) = net.route_dev(addr, opts.bind_dev)?;
        let src = match self.local {
            Some(l) if !l.addr.is_unspecified() => l.addr,
            _ => src,
        };
        Ok((iface, IpEndpoint::new(addr, dst.port), src))
    }

    /// connect(2): `None` (AF_UNSPEC) dissolves the association.
    pub fn connect(
        &mut self,
        id: u64,
        net: &mut Net,
        ep: Option<IpEndpoint>,
        opts: &Opts,
    ) -> KResult<()> {
        let Some(ep) = ep else {
            self.peer = None;
            self.src = None;
            return Ok(());
        };
        let (iface, dst, src) = self.route(net, ep, opts)?;
        self.autobind(id, net, iface, opts)?;
        self.src = Some(src);
        self.peer = Some(dst);
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
        if self.shut_wr {
            return Err(Errno::EPIPE);
        }
        let dest = dest.or(self.peer).ok_or(Errno::EDESTADDRREQ)?;
        if dest.port == 0 {
            return Err(Errno::EINVAL);
        }
        let max = match self.domain {
            Domain::V4 => 65507,
            Domain::V6 => 65527,
        };
        if data.len() > max {
            return Err(Errno::EMSGSIZE);
        }
        let (iface, dst, mut src) = self.route(net, dest, opts)?;
        // A source address from IP_PKTINFO must be one of this host's
        // (Linux's route lookup: ENETUNREACH; `cmsg` checked IPv6's).
        if let Some(a) = ctl.src.filter(|a| !a.is_unspecified()) {
            net.owner_of(a).ok_or(Errno::ENETUNREACH)?;
            src = a;
        }
        self.autobind(id, net, iface, opts)?;
        let mut meta = UdpMetadata::from(dst);
        meta.local_address = Some(src);
        // TTL (hop limit) and TOS (traffic class): the control message's,
        // else the socket's for unicast or multicast.
        let mcast = dst.addr.is_multicast();
        let (ttl, tos) = match self.domain {
            Domain::V4 => (if mcast { opts.mc_ttl } else { opts.ttl }, opts.tos),
            Domain::V6 => (if mcast { opts.mc_hops } else { opts.hops }, opts.tclass),
        };
        let ttl = ctl.ttl.unwrap_or(if ttl < 0 {
            hdrinfo::DEFAULT_TTL
        } else {
            ttl as u8
        });
        let fields = hdrinfo::Fields {
            ttl,
            tos: ctl.tos.unwrap_or(tos as u8),
        };
        meta.meta = hdrinfo::for_send(fields);
        let sport = self.local.map_or(0, |l| l.port);
        let (i, h) = self.tx_handle(iface).ok_or(Errno::EINVAL)?;
        let s = net.ifaces[i].sockets.get_mut::<udp::Socket>(h);
        match s.send_slice(data, meta) {
            Ok(()) => {
                if let (IpAddress::Ipv6(s), IpAddress::Ipv6(d)) = (src, dst.addr) {
                    let (s, d) = (s.octets(), d.octets());
                    hdrinfo::expect_v6(s, sport, d, dst.port, data.len(), fields);
                }
                Ok(data.len())
            }
            Err(udp::SendError::BufferFull) => Err(Errno::EAGAIN),
            Err(udp::SendError::Unaddressable) => Err(Errno::ENETUNREACH),
        }
    }

    /// recvfrom(2): (up to `max` bytes of the next datagram, its sender,
    /// its full length, where it was going).
    pub fn recv(
        &mut self,
        net: &mut Net,
        max: usize,
        peek: bool,
    ) -> KResult<(Vec<u8>, IpEndpoint, usize, RxInfo)> {
        let peer = self.peer;
        loop {
            let Some((i, s)) = self.rx_sock(net) else {
                if self.shut_rd {
                    let any = IpAddress::v4(0, 0, 0, 0);
                    let info = RxInfo {
                        dst: any,
                        ifindex: 0,
                        fields: hdrinfo::Fields::default(),
                    };
                    return Ok((Vec::new(), IpEndpoint::new(any, 0), 0, info));
                }
                return Err(Errno::EAGAIN);
            };
            let Ok((data, meta)) = s.peek() else {
                return Err(Errno::EAGAIN);
            };
            let from = meta.endpoint;
            if peer.is_some_and(|p| p != from) {
                // A connected socket takes datagrams from its peer only.
                let _ = s.recv();
                continue;
            }
            let v = data[..data.len().min(max)].to_vec();
            let full = data.len();
            let mut info = RxInfo {
                dst: meta.local_address.unwrap_or(from.addr),
                ifindex: 0,
                fields: hdrinfo::lookup(meta.meta.id).unwrap_or_default(),
            };
            if !peek {
                let _ = s.recv();
            }
            info.ifindex = net.ifaces[i].index;
            return Ok((v, from, full, info));
        }
    }

    pub fn shutdown(&mut self, how: i32) -> KResult<()> {
        if !(0..=2).contains(&how) {
            return Err(Errno::EINVAL);
        }
        if self.peer.is_none() {
            return Err(Errno::ENOTCONN);
        }
        self.shut_rd |= how != 1;
        self.shut_wr |= how != 0;
        Ok(())
    }

    pub fn readiness(&self, net: &Net) -> u32 {
        let mut m = 0;
        if self.all(net).any(|s| s.can_recv()) || self.shut_rd {
            m |= POLLIN | POLLRDNORM;
        }
        if self.tx_sock(net).is_none_or(|s| s.can_send()) {
            m |= POLLOUT | POLLWRNORM;
        }
        m
    }

    /// FIONREAD: the size of the next datagram.
    pub fn unread(&self, net: &mut Net) -> usize {
        self.rx_sock(net)
            .and_then(|(_, s)| s.peek().ok().map(|(d, _)| d.len()))
            .unwrap_or(0)
    }

    /// Bytes of datagrams waiting to be read (more: a datagram came).
    pub fn queued(&self, net: &Net) -> usize {
        self.all(net).map(|s| s.recv_queue()).sum()
    }

    /// SIOCOUTQ: bytes queued to send.
    pub fn unsent(&self, net: &Net) -> usize {
        self.all(net).map(|s| s.send_queue()).sum()
    }

    /// Its line in /proc/net/udp, once bound.
    pub fn row(&self, net: &Net, ino: u64) -> Option<Row> {
        self.local?;
        Some(Row {
            local: self.sockname(),
            remote: self.peer.unwrap_or(IpEndpoint::new(self.domain.any(), 0)),
            state: if self.peer.is_some() {
                procfs::TCP_ESTABLISHED
            } else {
                procfs::TCP_CLOSE
            },
            tx_queue: self.unsent(net),
            rx_queue: self.all(net).map(|s| s.recv_queue()).sum(),
            ino,
        })
    }

    pub fn sockname(&self) -> IpEndpoint {
        match self.local {
            Some(l) => IpEndpoint::new(self.src.unwrap_or(l.addr), l.port),
            None => IpEndpoint::new(self.domain.any(), 0),
        }
    }

    pub fn peername(&self) -> KResult<IpEndpoint> {
        self.peer.ok_or(Errno::ENOTCONN)
    }

    fn free_handles(&mut self, net: &mut Net) {
        for (i, h) in self.handles.drain(..) {
            net.ifaces[i].sockets.remove(h);
        }
    }

    pub fn free(mut self, net: &mut Net) {
        self.free_handles(net);
    }
}
