//! UDP sockets over smoltcp: bind (ephemeral ports on first use), connect
//! as a default destination and source filter, datagrams with their
//! boundaries, truncation, and the readiness poll reports. A smoltcp
//! socket lives on one interface, so a socket bound to the wildcard
//! address has one on every interface (it receives on all of them, as
//! Linux's does) and sends through the one the route picks.

use super::addr::Domain;
use super::dgram::{Assoc, DgramSocket};
use super::hdrinfo;
use super::ports::Proto;
use super::procfs::Row;
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
    /// Its endpoints and shutdown state.
    pub a: Assoc,
    /// Its smoltcp sockets: (interface, handle). One on the address's
    /// interface when bound to an address; one per interface when bound
    /// to the wildcard. Empty until bound.
    handles: Vec<(usize, SocketHandle)>,
    /// The interface of the last send or connect (POLLOUT reports its
    /// room).
    tx: usize,
}

fn buffer() -> PacketBuffer<'static> {
    PacketBuffer::new(vec![PacketMetadata::EMPTY; PACKETS], vec![0; BYTES])
}

impl Udp {
    pub fn new(domain: Domain) -> Udp {
        Udp {
            a: Assoc::new(domain),
            handles: Vec::new(),
            tx: 0,
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
        if self.a.local.is_some() {
            return Err(Errno::EINVAL);
        }
        let ifaces: Vec<usize> = if ep.addr.is_unspecified() {
            (0..net.ifaces.len()).collect()
        } else {
            vec![net.owner_of(ep.addr).ok_or(Errno::EADDRNOTAVAIL)?]
        };
        let b = self.a.binding(id, ep, opts);
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
        let mut meta = UdpMetadata::from(dst);
        meta.local_address = Some(src);
        let fields = self.a.fields(opts, ctl, dst.addr);
        meta.meta = hdrinfo::for_send(fields);
        let sport = self.a.local.map_or(0, |l| l.port);
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
        let peer = self.a.peer;
        loop {
            let Some((i, s)) = self.rx_sock(net) else {
                if self.a.shut_rd {
                    return Ok(Assoc::end_of_data());
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

    pub fn readiness(&self, net: &Net) -> u32 {
        let mut m = 0;
        if self.all(net).any(|s| s.can_recv()) || self.a.shut_rd {
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
        let rx = self.all(net).map(|s| s.recv_queue()).sum();
        self.a.row(self.unsent(net), rx, ino)
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

impl DgramSocket for Udp {
    fn assoc(&mut self) -> &mut Assoc {
        &mut self.a
    }

    fn autobind(&mut self, id: u64, net: &mut Net, iface: usize, opts: &Opts) -> KResult<()> {
        if self.a.local.is_none() {
            self.bind(id, net, IpEndpoint::new(self.a.domain.any(), 0), opts)?;
        }
        self.tx = iface;
        Ok(())
    }
}
