//! What UDP and UDP-Lite sockets share: the bound and connected
//! endpoints and shutdown state, the route a datagram takes, the checks
//! before a send and the hop limit it goes with, getsockname/getpeername
//! and the /proc/net line.

use super::addr::Domain;
use super::hdrinfo;
use super::ports::Binding;
use super::procfs::{self, Row};
use super::sock::{Opts, RxInfo, SendCtl};
use super::stack::Net;
use crate::kernel::errno::{Errno, KResult};
use smoltcp::wire::{IpAddress, IpEndpoint};

/// A datagram socket over an `Assoc`: UDP and UDP-Lite differ in how
/// they bind and what they put on the wire, not in how they connect or
/// prepare a send.
pub trait DgramSocket {
    fn assoc(&mut self) -> &mut Assoc;

    /// Bind to an ephemeral port if unbound, and send through `iface`.
    fn autobind(&mut self, id: u64, net: &mut Net, iface: usize, opts: &Opts) -> KResult<()>;

    /// connect(2): `None` (AF_UNSPEC) dissolves the association.
    fn connect(
        &mut self,
        id: u64,
        net: &mut Net,
        ep: Option<IpEndpoint>,
        opts: &Opts,
    ) -> KResult<()> {
        let Some(ep) = ep else {
            self.assoc().connect(None);
            return Ok(());
        };
        let (iface, dst, src) = self.assoc().route(net, ep, opts)?;
        self.autobind(id, net, iface, opts)?;
        self.assoc().connect(Some((dst, src)));
        Ok(())
    }

    /// What a send of `len` bytes to `dest` (or the peer) goes out
    /// through: the interface, the destination and the source address,
    /// binding the socket if it was not.
    fn prepare_send(
        &mut self,
        id: u64,
        net: &mut Net,
        len: usize,
        dest: Option<IpEndpoint>,
        opts: &Opts,
        ctl: &SendCtl,
    ) -> KResult<(usize, IpEndpoint, IpAddress)> {
        let dest = self.assoc().send_to(len, dest)?;
        let (iface, dst, src) = self.assoc().route(net, dest, opts)?;
        let src = Assoc::source(net, ctl, src)?;
        self.autobind(id, net, iface, opts)?;
        Ok((iface, dst, src))
    }
}

pub struct Assoc {
    pub domain: Domain,
    /// Bound address (unspecified: any) and port.
    pub local: Option<IpEndpoint>,
    /// The source address connect chose (getsockname shows it).
    pub src: Option<IpAddress>,
    pub peer: Option<IpEndpoint>,
    pub shut_rd: bool,
    pub shut_wr: bool,
}

impl Assoc {
    pub fn new(domain: Domain) -> Assoc {
        Assoc {
            domain,
            local: None,
            src: None,
            peer: None,
            shut_rd: false,
            shut_wr: false,
        }
    }

    /// The port-table entry of socket `id` binding `ep`.
    pub fn binding(&self, id: u64, ep: IpEndpoint, opts: &Opts) -> Binding {
        Binding {
            id,
            dual: self.domain == Domain::V6 && !opts.v6only && ep.addr.is_unspecified(),
            addr: ep.addr,
            reuse: opts.reuseaddr,
            listening: false,
            time_wait: false,
        }
    }

    /// Where datagrams to `dst` go: (interface, destination, source).
    pub fn route(
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

    /// connect(2) to `dst`, routed as (`src`); `None` (AF_UNSPEC)
    /// dissolves the association.
    pub fn connect(&mut self, to: Option<(IpEndpoint, IpAddress)>) {
        self.peer = to.map(|t| t.0);
        self.src = to.map(|t| t.1);
    }

    /// A send of `len` bytes to `dest` (else the peer) may go: where to.
    pub fn send_to(&self, len: usize, dest: Option<IpEndpoint>) -> KResult<IpEndpoint> {
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
        if len > max {
            return Err(Errno::EMSGSIZE);
        }
        Ok(dest)
    }

    /// The source address a send uses: IP_PKTINFO's, which must be one of
    /// this host's (Linux's route lookup: ENETUNREACH; `cmsg` checked
    /// IPv6's), else the route's `src`.
    pub fn source(net: &Net, ctl: &SendCtl, src: IpAddress) -> KResult<IpAddress> {
        match ctl.src.filter(|a| !a.is_unspecified()) {
            Some(a) => {
                net.owner_of(a).ok_or(Errno::ENETUNREACH)?;
                Ok(a)
            }
            None => Ok(src),
        }
    }

    /// TTL (hop limit) and TOS (traffic class) of a datagram to `dst`:
    /// the control message's, else the socket's for unicast or multicast.
    pub fn fields(&self, opts: &Opts, ctl: &SendCtl, dst: IpAddress) -> hdrinfo::Fields {
        let mcast = dst.is_multicast();
        let (ttl, tos) = match self.domain {
            Domain::V4 => (if mcast { opts.mc_ttl } else { opts.ttl }, opts.tos),
            Domain::V6 => (if mcast { opts.mc_hops } else { opts.hops }, opts.tclass),
        };
        let ttl = ctl.ttl.unwrap_or(if ttl < 0 {
            hdrinfo::DEFAULT_TTL
        } else {
            ttl as u8
        });
        hdrinfo::Fields {
            ttl,
            tos: ctl.tos.unwrap_or(tos as u8),
        }
    }

    /// What a read finds once shut down for reading with nothing queued.
    pub fn end_of_data() -> (Vec<u8>, IpEndpoint, usize, RxInfo) {
        let any = IpAddress::v4(0, 0, 0, 0);
        let info = RxInfo {
            dst: any,
            ifindex: 0,
            fields: hdrinfo::Fields::default(),
        };
        (Vec::new(), IpEndpoint::new(any, 0), 0, info)
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

    /// Its line in /proc/net, once bound.
    pub fn row(&self, tx_queue: usize, rx_queue: usize, ino: u64) -> Option<Row> {
        self.local?;
        Some(Row {
            local: self.sockname(),
            remote: self.peer.unwrap_or(IpEndpoint::new(self.domain.any(), 0)),
            state: if self.peer.is_some() {
                procfs::TCP_ESTABLISHED
            } else {
                procfs::TCP_CLOSE
            },
            tx_queue,
            rx_queue,
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
}
