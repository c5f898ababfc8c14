//! The user-mode gateway's helper thread: a smoltcp interface standing
//! for every address beyond the guest (AnyIP), fed the guest's frames,
//! and all the host sockets behind it, served by one poll(2) loop that
//! also watches a wake-up socket for frames from the guest. It blocks
//! until a host socket is ready, a frame arrives or smoltcp's next timer.

use super::frames::{
    self, FromGuest, DNS, DNS6, FRAME_MAX, GATEWAY, GATEWAY6, GATEWAY6_LL, GATEWAY_MAC, GUEST,
    PREFIX6_LEN, PREFIX_LEN,
};
use super::{dhcp, dns, tcp, udp};
use crate::drivers::net::tap::{Stop, Xmit};
use crate::drivers::net::tap_host::Receive;
use crate::init::eth_user::HostFwd;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant as SInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, IpListenEndpoint};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Relayed TCP connections at most; more SYNs are refused (RST).
const MAX_TCP: usize = 128;
/// UDP and echo flows at most; the least recently used one makes room.
const MAX_UDP: usize = 128;
/// Frames from the guest waiting for the gateway at most.
const INBOX_MAX: usize = 512;
/// The largest datagram (or echo message) that fits one frame to the
/// guest; the gateway does not fragment, so larger ones are dropped.
const UDP_PAYLOAD_MAX: usize = FRAME_MAX - 14 - 20 - 8;
/// Unsolicited Router Advertisements, once the guest solicited one: a
/// third of the router lifetime (radvd's MaxRtrAdvInterval default), so
/// an idle guest costs one wake-up every ten minutes.
const RA_INTERVAL: Duration = Duration::from_secs(frames::ROUTER_LIFETIME as u64 / 3);
/// hostfwd UDP peers remembered at most.
const MAX_UDP_PEERS: usize = 64;

/// The host sockets bound before boot for the device's `hostfwd`s.
pub struct Forwards {
    pub tcp: Vec<(HostFwd, TcpListener)>,
    pub udp: Vec<(HostFwd, UdpSocket)>,
}

/// Frames from the guest, and the socket that wakes the gateway for them.
struct Inbox {
    frames: Mutex<VecDeque<Vec<u8>>>,
    wake: UnixStream,
    /// The device was unplugged: the gateway ends.
    stop: AtomicBool,
}

/// Start the gateway for a guest with MAC `guest_mac`; frames for the
/// guest go to `deliver`. Returns where the guest's frames go and how to
/// end the gateway (its thread returns and closes every host socket,
/// hostfwd listeners included).
pub fn start(
    name: &str,
    guest_mac: [u8; 6],
    fwd: Forwards,
    deliver: Receive,
) -> io::Result<(Xmit, Stop)> {
    let (wake_tx, wake_rx) = UnixStream::pair()?;
    wake_tx.set_nonblocking(true)?;
    wake_rx.set_nonblocking(true)?;
    let inbox = Arc::new(Inbox {
        frames: Mutex::new(VecDeque::new()),
        wake: wake_tx,
        stop: AtomicBool::new(false),
    });
    let hosts = dns::parse_hosts(&std::fs::read_to_string("/etc/hosts").unwrap_or_default());
    let resolver =
        dns::nameserver(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default());
    let mut gw = Gateway::new(
        EthernetAddress(guest_mac),
        fwd,
        deliver,
        wake_rx,
        inbox.clone(),
        hosts,
        resolver,
    );
    std::thread::Builder::new()
        .name(format!("{name}-user"))
        .spawn(move || {
            crate::arch::unpin_helper_thread();
            gw.run()
        })?;
    let stopper = inbox.clone();
    let stop: Stop = Box::new(move || {
        stopper.stop.store(true, Ordering::SeqCst);
        let _ = (&stopper.wake).write(&[1]);
    });
    let xmit: Xmit = Box::new(move |frame| {
        let was_empty = {
            let mut q = inbox.frames.lock().unwrap_or_else(|e| e.into_inner());
            if q.len() >= INBOX_MAX {
                return false;
            }
            q.push_back(frame);
            q.len() == 1
        };
        if was_empty {
            // A full socket already holds a wake-up.
            let _ = (&inbox.wake).write(&[1]);
        }
        true
    });
    Ok((xmit, stop))
}

/// The gateway's side of the wire, as a smoltcp device.
#[derive(Default)]
struct Wire {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

struct RxToken(Vec<u8>);
struct TxToken<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.push(buf);
        r
    }
}

impl phy::Device for Wire {
    type RxToken<'b> = RxToken;
    type TxToken<'b> = TxToken<'b>;

    fn receive(&mut self, _now: SInstant) -> Option<(RxToken, TxToken<'_>)> {
        let f = self.rx.pop_front()?;
        Some((RxToken(f), TxToken(&mut self.tx)))
    }
    fn transmit(&mut self, _now: SInstant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.tx))
    }
    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = FRAME_MAX;
        c
    }
}

/// What a poll entry is for.
#[derive(Clone, Copy)]
enum Target {
    Wake,
    Tcp(usize),
    Udp(usize),
    FwdTcp(usize),
    FwdUdp(usize),
}

struct Gateway {
    iface: Interface,
    wire: Wire,
    sockets: SocketSet<'static>,
    epoch: Instant,
    guest_mac: EthernetAddress,
    deliver: Receive,
    inbox: Arc<Inbox>,
    wake: UnixStream,
    tcp: Vec<tcp::Flow>,
    udp: Vec<udp::Flow>,
    fwd: Forwards,
    /// hostfwd UDP: (gateway port the guest sees, listener, host peer, last use).
    udp_peers: Vec<(u16, usize, SocketAddr, Instant)>,
    next_port: u16,
    hosts: Vec<(String, IpAddr)>,
    resolver: Ipv4Addr,
    ping_warned: bool,
    /// When the next unsolicited Router Advertisement is due (None until
    /// the guest asked for one: a guest without IPv6 gets none).
    ra_next: Option<Instant>,
    buf: Vec<u8>,
}

impl Gateway {
    fn new(
        guest_mac: EthernetAddress,
        fwd: Forwards,
        deliver: Receive,
        wake: UnixStream,
        inbox: Arc<Inbox>,
        hosts: Vec<(String, IpAddr)>,
        resolver: Ipv4Addr,
    ) -> Gateway {
        let mut wire = Wire::default();
        let epoch = Instant::now();
        let mut config = Config::new(HardwareAddress::Ethernet(GATEWAY_MAC));
        config.random_seed = epoch.elapsed().as_nanos() as u64 ^ std::process::id() as u64;
        let mut iface = Interface::new(config, &mut wire, SInstant::from_micros(0));
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(GATEWAY.into(), PREFIX_LEN));
            let _ = a.push(IpCidr::new(DNS.into(), PREFIX_LEN));
            let _ = a.push(IpCidr::new(GATEWAY6_LL.into(), 64));
            let _ = a.push(IpCidr::new(GATEWAY6.into(), PREFIX6_LEN));
            let _ = a.push(IpCidr::new(DNS6.into(), PREFIX6_LEN));
        });
        // Every destination is "ours": the gateway ends the guest's
        // connections to anywhere.
        iface.set_any_ip(true);
        let _ = iface.routes_mut().add_default_ipv4_route(GATEWAY);
        Gateway {
            iface,
            wire,
            sockets: SocketSet::new(Vec::new()),
            epoch,
            guest_mac,
            deliver,
            inbox,
            wake,
            tcp: Vec::new(),
            udp: Vec::new(),
            fwd,
            udp_peers: Vec::new(),
            next_port: 49152,
            hosts,
            resolver,
            ping_warned: false,
            ra_next: None,
            buf: vec![0; 64 * 1024],
        }
    }

    fn now(&self) -> SInstant {
        SInstant::from_micros(self.epoch.elapsed().as_micros() as i64)
    }

    fn run(&mut self) {
        while !self.inbox.stop.load(Ordering::SeqCst) {
            self.step();
        }
    }

    /// Wait for something to do, and do it.
    fn step(&mut self) {
        let ready = self.wait();
        for (t, _) in ready {
            match t {
                Target::Wake => {
                    let mut b = [0u8; 64];
                    while matches!((&self.wake).read(&mut b), Ok(n) if n > 0) {}
                }
                Target::Tcp(i) => {
                    if matches!(self.tcp[i].host, tcp::Host::Connecting(..)) {
                        self.connect_done(i);
                    }
                }
                Target::Udp(i) => self.udp_replies(i),
                Target::FwdTcp(i) => self.accept(i),
                Target::FwdUdp(i) => self.fwd_udp_in(i),
            }
        }
        let frames: Vec<Vec<u8>> = self
            .inbox
            .frames
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        for f in frames {
            self.on_guest_frame(f);
        }
        if self.ra_next.is_some_and(|t| t <= Instant::now()) {
            self.router_advert(EthernetAddress([0x33, 0x33, 0, 0, 0, 1]));
        }
        self.pump();
        self.expire();
    }

    /// Block until something is ready; what is.
    fn wait(&mut self) -> Vec<(Target, PollFlags)> {
        let mut targets = vec![Target::Wake];
        let mut fds = vec![PollFd::new(self.wake.as_fd(), PollFlags::POLLIN)];
        for (i, f) in self.tcp.iter().enumerate() {
            let (r, w) = f.interest(&self.sockets);
            let mut ev = PollFlags::empty();
            if r {
                ev |= PollFlags::POLLIN;
            }
            if w {
                ev |= PollFlags::POLLOUT;
            }
            let fd = match &f.host {
                tcp::Host::Connecting(fd, _) => fd.as_fd(),
                tcp::Host::Open(s) => s.as_fd(),
                tcp::Host::Gone => continue,
            };
            if !ev.is_empty() {
                targets.push(Target::Tcp(i));
                fds.push(PollFd::new(fd, ev));
            }
        }
        for (i, f) in self.udp.iter().enumerate() {
            targets.push(Target::Udp(i));
            fds.push(PollFd::new(f.sock.as_fd(), PollFlags::POLLIN));
        }
        if self.tcp.len() < MAX_TCP {
            for (i, (_, l)) in self.fwd.tcp.iter().enumerate() {
                targets.push(Target::FwdTcp(i));
                fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
            }
        }
        for (i, (_, s)) in self.fwd.udp.iter().enumerate() {
            targets.push(Target::FwdUdp(i));
            fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
        }
        let mut timeout = self
            .iface
            .poll_delay(self.now(), &self.sockets)
            .map(|d| Duration::from_micros(d.total_micros()));
        if let Some(oldest) = self.udp.iter().map(|f| f.last).min() {
            let left = (oldest + udp::IDLE).saturating_duration_since(Instant::now());
            timeout = Some(timeout.map_or(left, |t| t.min(left)));
        }
        if let Some(t) = self.ra_next {
            let left = t.saturating_duration_since(Instant::now());
            timeout = Some(timeout.map_or(left, |t| t.min(left)));
        }
        // Whole milliseconds, rounded up so a timer is never polled early
        // in a spin.
        let ms = timeout.map(|t| t.as_micros().div_ceil(1000).min(60_000) as i32);
        let pt = match ms {
            None => PollTimeout::NONE,
            Some(ms) => PollTimeout::try_from(ms).unwrap_or(PollTimeout::NONE),
        };
        match poll(&mut fds, pt) {
            Ok(0) | Err(_) => Vec::new(),
            Ok(_) => fds
                .iter()
                .zip(targets)
                .filter_map(|(fd, t)| {
                    let ev = fd.revents()?;
                    (!ev.is_empty()).then_some((t, ev))
                })
                .collect(),
        }
    }

    /// Run the interface and the TCP relays until nothing moves, then
    /// hand the frames out.
    fn pump(&mut self) {
        for _ in 0..16 {
            let now = self.now();
            self.iface.poll(now, &mut self.wire, &mut self.sockets);
            let mut moved = false;
            for f in &mut self.tcp {
                moved |= f.relay(&mut self.sockets, &mut self.buf);
            }
            if !moved {
                break;
            }
        }
        let now = self.now();
        self.iface.poll(now, &mut self.wire, &mut self.sockets);
        self.flush();
        self.reap();
    }

    fn flush(&mut self) {
        for f in self.wire.tx.drain(..) {
            log::trace!(
                "user net: to guest {}",
                smoltcp::wire::PrettyPrinter::<smoltcp::wire::EthernetFrame<&[u8]>>::new("", &f)
            );
            (self.deliver)(f);
        }
    }

    fn send_to_guest(&mut self, frame: Vec<u8>) {
        (self.deliver)(frame);
    }

    /// Drop finished TCP flows and their sockets.
    fn reap(&mut self) {
        let sockets = &mut self.sockets;
        self.tcp.retain(|f| {
            if f.done {
                if let Some(h) = f.sock {
                    sockets.remove(h);
                }
            }
            !f.done
        });
    }

    /// Close UDP flows and forget hostfwd peers idle too long.
    fn expire(&mut self) {
        let now = Instant::now();
        self.udp.retain(|f| now.duration_since(f.last) < udp::IDLE);
        self.udp_peers
            .retain(|p| now.duration_since(p.3) < udp::IDLE);
    }

    /// Where on the host a guest destination is: the gateway is the
    /// host's loopback (127.0.0.1, or ::1 for its IPv6 addresses), the
    /// DNS address (either family) the host's resolver.
    fn host_target(&self, dst: SocketAddr) -> SocketAddr {
        let ip: IpAddr = match dst.ip() {
            IpAddr::V4(GATEWAY) => Ipv4Addr::LOCALHOST.into(),
            IpAddr::V6(GATEWAY6 | GATEWAY6_LL) => Ipv6Addr::LOCALHOST.into(),
            IpAddr::V4(DNS) | IpAddr::V6(DNS6) => self.resolver.into(),
            a => a,
        };
        SocketAddr::new(ip, dst.port())
    }

    /// One of the gateway's own addresses (answered by it, never relayed
    /// as echo).
    fn is_gateway(a: IpAddr) -> bool {
        matches!(
            a,
            IpAddr::V4(GATEWAY | DNS) | IpAddr::V6(GATEWAY6 | DNS6 | GATEWAY6_LL)
        )
    }

    /// Send the Router Advertisement (to `mac`: the guest's for an
    /// answer, all nodes' for the periodic one) and schedule the next.
    fn router_advert(&mut self, mac: EthernetAddress) {
        let f = frames::router_advert_frame(mac);
        self.send_to_guest(f);
        self.ra_next = Some(Instant::now() + RA_INTERVAL);
    }

    fn feed(&mut self, frame: Vec<u8>) {
        self.wire.rx.push_back(frame);
    }

    fn on_guest_frame(&mut self, frame: Vec<u8>) {
        log::trace!(
            "user net: from guest {}",
            smoltcp::wire::PrettyPrinter::<smoltcp::wire::EthernetFrame<&[u8]>>::new("", &frame)
        );
        match frames::classify(&frame) {
            // Only the gateway's own addresses are on the wire.
            FromGuest::ArpRequest(t) if t != GATEWAY && t != DNS => {}
            // Likewise for neighbour discovery (the AnyIP interface would
            // claim every address).
            FromGuest::NeighborSolicit(t) if !Self::is_gateway(t.into()) => {}
            FromGuest::RouterSolicit => self.router_advert(self.guest_mac),
            FromGuest::Unsupported => {}
            FromGuest::Udp { src, dst, data } => {
                let data = data.to_vec();
                self.udp_from_guest(src, dst, &data);
            }
            FromGuest::Echo {
                src,
                dst,
                ident,
                seq,
                data,
            } if !Self::is_gateway(dst) => {
                let data = data.to_vec();
                self.ping_from_guest(src, dst, ident, seq, &data);
            }
            FromGuest::Tcp { src, dst, syn } => {
                let known = self
                    .tcp
                    .iter()
                    .position(|f| f.guest == src && f.remote == dst);
                match known {
                    Some(i) if matches!(self.tcp[i].host, tcp::Host::Connecting(..)) => {
                        // A retransmitted SYN while the host connects.
                    }
                    None if syn
                        && self.tcp.len() < MAX_TCP
                        && dst.ip().is_unicast_global_or_private() =>
                    {
                        self.tcp_connect(src, dst, frame);
                    }
                    _ => self.feed(frame),
                }
            }
            _ => self.feed(frame),
        }
    }

    /// A guest SYN for a new connection: connect on the host first, so a
    /// refusal reaches the guest as RST to its SYN.
    fn tcp_connect(&mut self, src: SocketAddr, dst: SocketAddr, syn: Vec<u8>) {
        let to = self.host_target(dst);
        match super::host::start_connect(to) {
            Ok(fd) => {
                log::debug!("user net: {src} -> {dst}: connecting to {to}");
                self.tcp
                    .push(tcp::Flow::new(src, dst, tcp::Host::Connecting(fd, syn)));
            }
            Err(e) => {
                log::debug!("user net: {src} -> {dst}: connect to {to}: {e}");
                self.feed(syn); // no listener: smoltcp resets it
            }
        }
    }

    /// The host connect of flow `i` is over.
    fn connect_done(&mut self, i: usize) {
        let f = &mut self.tcp[i];
        let tcp::Host::Connecting(fd, syn) = std::mem::replace(&mut f.host, tcp::Host::Gone) else {
            return;
        };
        match super::host::connect_result(fd) {
            Ok(stream) => {
                let mut s = tcp::new_socket();
                let ep = IpListenEndpoint {
                    addr: Some(f.remote.ip().into()),
                    port: f.remote.port(),
                };
                if s.listen(ep).is_err() {
                    f.done = true;
                    return;
                }
                f.sock = Some(self.sockets.add(s));
                f.host = tcp::Host::Open(stream);
            }
            Err(e) => {
                log::debug!("user net: {} -> {}: {e}", f.guest, f.remote);
                f.done = true;
            }
        }
        // Now answered by the listener, or refused (RST) without one;
        // at once, so no other listener for the same address can take it.
        // (Finished flows are reaped later: the caller holds indices.)
        self.feed(syn);
        let now = self.now();
        self.iface.poll(now, &mut self.wire, &mut self.sockets);
        self.flush();
    }

    /// A host connection to a hostfwd listener: connect into the guest.
    fn accept(&mut self, i: usize) {
        while self.tcp.len() < MAX_TCP {
            let (fwd, l) = &self.fwd.tcp[i];
            let guest = fwd.guest;
            let stream = match l.accept() {
                Ok((s, _)) => s,
                Err(_) => return,
            };
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let _ = stream.set_nodelay(true);
            let port = self.gateway_port();
            let remote = SocketAddr::new(GATEWAY.into(), port);
            let mut s = tcp::new_socket();
            if s.connect(
                self.iface.context(),
                (IpAddr::V4(*guest.ip()), guest.port()),
                (IpAddr::V4(GATEWAY), port),
            )
            .is_err()
            {
                continue;
            }
            let mut f = tcp::Flow::new(guest.into(), remote, tcp::Host::Open(stream));
            f.sock = Some(self.sockets.add(s));
            self.tcp.push(f);
        }
    }

    /// A gateway port for a connection or datagram into the guest.
    fn gateway_port(&mut self) -> u16 {
        loop {
            let p = self.next_port;
            self.next_port = if p == 65535 { 49152 } else { p + 1 };
            let busy = self
                .tcp
                .iter()
                .any(|f| f.remote.port() == p && f.remote.ip() == IpAddr::V4(GATEWAY))
                || self.udp_peers.iter().any(|x| x.0 == p);
            if !busy {
                return p;
            }
        }
    }

    /// Datagrams for hostfwd UDP listener `i`: into the guest from a
    /// gateway port standing for the host peer.
    fn fwd_udp_in(&mut self, i: usize) {
        loop {
            let (fwd, sock) = &self.fwd.udp[i];
            let guest = fwd.guest;
            let (n, peer) = match sock.recv_from(&mut self.buf) {
                Ok(x) => x,
                Err(_) => return,
            };
            if n > UDP_PAYLOAD_MAX {
                continue;
            }
            let port = match self.udp_peers.iter_mut().find(|p| p.1 == i && p.2 == peer) {
                Some(p) => {
                    p.3 = Instant::now();
                    p.0
                }
                None => {
                    if self.udp_peers.len() >= MAX_UDP_PEERS {
                        self.udp_peers.remove(0);
                    }
                    let port = self.gateway_port();
                    self.udp_peers.push((port, i, peer, Instant::now()));
                    port
                }
            };
            if let Some(frame) = frames::udp_frame(
                self.guest_mac,
                SocketAddrV4::new(GATEWAY, port).into(),
                guest.into(),
                &self.buf[..n],
            ) {
                self.send_to_guest(frame);
            }
        }
    }

    fn udp_from_guest(&mut self, src: SocketAddr, dst: SocketAddr, data: &[u8]) {
        log::debug!("user net: UDP {src} -> {dst}, {} bytes", data.len());
        if let (SocketAddr::V4(src4), SocketAddr::V4(dst4)) = (src, dst) {
            if dst.port() == 67 && (dst4.ip().is_broadcast() || *dst4.ip() == GATEWAY) {
                if let Some(r) = dhcp::reply(data) {
                    if let Some(frame) = frames::udp_frame(
                        EthernetAddress::BROADCAST,
                        SocketAddrV4::new(GATEWAY, 67).into(),
                        SocketAddrV4::new(Ipv4Addr::BROADCAST, 68).into(),
                        &r,
                    ) {
                        self.send_to_guest(frame);
                    }
                }
                return;
            }
            if *src4.ip() != GUEST {
                return;
            }
        }
        if !dst.ip().is_unicast_global_or_private() || !src.ip().is_unicast_global_or_private() {
            return;
        }
        if matches!(dst.ip(), IpAddr::V4(DNS) | IpAddr::V6(DNS6)) {
            if dst.port() != 53 {
                return;
            }
            if let Some(a) = dns::answer(data, &self.hosts) {
                if let Some(frame) = frames::udp_frame(self.guest_mac, dst, src, &a) {
                    self.send_to_guest(frame);
                }
                return;
            }
        }
        if dst.ip() == IpAddr::V4(GATEWAY) {
            if let Some(p) = self.udp_peers.iter_mut().find(|p| p.0 == dst.port()) {
                p.3 = Instant::now();
                let _ = self.fwd.udp[p.1].1.send_to(data, p.2);
                return;
            }
        }
        let to = self.host_target(dst);
        if let Some(f) = self.udp_flow(src, false, to.is_ipv6()) {
            f.send(data, to, dst);
        }
    }

    /// The flow of guest source `guest` to hosts of family `v6host`,
    /// opened when missing.
    fn udp_flow(&mut self, guest: SocketAddr, ping: bool, v6host: bool) -> Option<&mut udp::Flow> {
        let i = match self
            .udp
            .iter()
            .position(|f| f.guest == guest && f.ping == ping && f.v6host == v6host)
        {
            Some(i) => i,
            None => {
                let f = match udp::Flow::open(guest, ping, v6host) {
                    Ok(f) => f,
                    Err(e) => {
                        if ping && !self.ping_warned {
                            self.ping_warned = true;
                            log::info!("user net: no ICMP echo socket ({e}); pings beyond the gateway are dropped (see net.ipv4.ping_group_range)");
                        } else if !ping {
                            log::debug!("user net: UDP socket: {e}");
                        }
                        return None;
                    }
                };
                if self.udp.len() >= MAX_UDP {
                    let lru = (0..self.udp.len()).min_by_key(|&i| self.udp[i].last)?;
                    self.udp.remove(lru);
                }
                self.udp.push(f);
                self.udp.len() - 1
            }
        };
        Some(&mut self.udp[i])
    }

    fn ping_from_guest(&mut self, src: IpAddr, dst: IpAddr, ident: u16, seq: u16, data: &[u8]) {
        if !dst.is_unicast_global_or_private() {
            return;
        }
        let to = SocketAddr::new(self.host_target(SocketAddr::new(dst, 0)).ip(), 0);
        // Echo request: type 8 (ICMPv6: 128), code 0; the kernel sets the
        // checksum and identifier.
        let mut msg = vec![if dst.is_ipv6() { 128 } else { 8 }, 0, 0, 0];
        msg.extend_from_slice(&ident.to_be_bytes());
        msg.extend_from_slice(&seq.to_be_bytes());
        msg.extend_from_slice(data);
        if let Some(f) = self.udp_flow(SocketAddr::new(src, ident), true, to.is_ipv6()) {
            f.send(&msg, to, SocketAddr::new(dst, 0));
        }
    }

    /// Datagrams (or echo replies) for UDP flow `i`.
    fn udp_replies(&mut self, i: usize) {
        let mut buf = std::mem::take(&mut self.buf);
        while let Some((from, n)) = self.udp[i].recv(&mut buf) {
            let f = &self.udp[i];
            log::debug!("user net: reply {from} -> {}, {n} bytes", f.guest);
            if n > UDP_PAYLOAD_MAX {
                continue;
            }
            let frame = if f.ping {
                // An echo reply (type 0, ICMPv6 129) with the kernel's
                // identifier.
                let reply = if f.v6host { 129 } else { 0 };
                if n < 8 || buf[0] != reply {
                    continue;
                }
                let seq = u16::from_be_bytes([buf[6], buf[7]]);
                frames::echo_reply_frame(
                    self.guest_mac,
                    from.ip(),
                    f.guest.ip(),
                    f.guest.port(),
                    seq,
                    &buf[8..n],
                )
            } else {
                frames::udp_frame(self.guest_mac, from, f.guest, &buf[..n])
            };
            if let Some(frame) = frame {
                self.send_to_guest(frame);
            }
        }
        self.buf = buf;
    }
}

/// Addresses a gateway forwards to: not broadcast, multicast, the
/// unspecified address or the guest's own loopback.
trait Forwardable {
    fn is_unicast_global_or_private(&self) -> bool;
}

impl Forwardable for Ipv4Addr {
    fn is_unicast_global_or_private(&self) -> bool {
        !(self.is_broadcast()
            || self.is_multicast()
            || self.is_unspecified()
            || self.is_loopback()
            || *self == Ipv4Addr::new(10, 0, 2, 255))
    }
}

impl Forwardable for Ipv6Addr {
    fn is_unicast_global_or_private(&self) -> bool {
        !(self.is_multicast()
            || self.is_unspecified()
            || self.is_loopback()
            || self.to_ipv4_mapped().is_some())
    }
}

impl Forwardable for IpAddr {
    fn is_unicast_global_or_private(&self) -> bool {
        match self {
            IpAddr::V4(a) => a.is_unicast_global_or_private(),
            IpAddr::V6(a) => a.is_unicast_global_or_private(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{
        ArpOperation, ArpPacket, ArpRepr, EthernetFrame, EthernetProtocol, EthernetRepr,
        Icmpv4Packet, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet, Ipv6Packet, NdiscRepr,
        TcpControl, TcpPacket, TcpRepr, TcpSeqNumber,
    };

    const GUEST_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 9]);

    type Out = Arc<Mutex<Vec<Vec<u8>>>>;

    /// A gateway whose frames for the guest are collected.
    fn gateway() -> (Gateway, Out) {
        let out: Out = Arc::new(Mutex::new(Vec::new()));
        let o = out.clone();
        let (a, b) = UnixStream::pair().unwrap();
        let inbox = Arc::new(Inbox {
            frames: Mutex::new(VecDeque::new()),
            wake: a,
            stop: AtomicBool::new(false),
        });
        let g = Gateway::new(
            GUEST_MAC,
            Forwards {
                tcp: Vec::new(),
                udp: Vec::new(),
            },
            Arc::new(move |f| o.lock().unwrap().push(f)),
            b,
            inbox,
            dns::parse_hosts("127.0.0.1 localhost\n"),
            Ipv4Addr::LOCALHOST,
        );
        (g, out)
    }

    fn send(g: &mut Gateway, f: Vec<u8>) {
        g.on_guest_frame(f);
        g.pump();
    }

    fn arp_request(target: Ipv4Addr) -> Vec<u8> {
        let mut buf = vec![0u8; 42];
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr {
            src_addr: GUEST_MAC,
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EthernetProtocol::Arp,
        }
        .emit(&mut eth);
        ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: GUEST_MAC,
            source_protocol_addr: GUEST,
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: target,
        }
        .emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
        buf
    }

    /// The ARP replies among `frames`: (sender address, sender MAC).
    fn arp_replies(frames: &[Vec<u8>]) -> Vec<(Ipv4Addr, EthernetAddress)> {
        frames
            .iter()
            .filter_map(|f| {
                let eth = EthernetFrame::new_checked(&f[..]).ok()?;
                let p = ArpPacket::new_checked(eth.payload()).ok()?;
                match ArpRepr::parse(&p).ok()? {
                    ArpRepr::EthernetIpv4 {
                        operation: ArpOperation::Reply,
                        source_protocol_addr,
                        source_hardware_addr,
                        ..
                    } => Some((source_protocol_addr, source_hardware_addr)),
                    _ => None,
                }
            })
            .collect()
    }

    #[test]
    fn arp_answers_the_gateway_and_dns_only() {
        let (mut g, out) = gateway();
        for t in [
            GATEWAY,
            DNS,
            Ipv4Addr::new(10, 0, 2, 9),
            Ipv4Addr::new(8, 8, 8, 8),
        ] {
            send(&mut g, arp_request(t));
        }
        let replies = arp_replies(&out.lock().unwrap());
        assert_eq!(replies, vec![(GATEWAY, GATEWAY_MAC), (DNS, GATEWAY_MAC)]);
    }

    #[test]
    fn the_gateway_answers_pings() {
        let (mut g, out) = gateway();
        send(&mut g, arp_request(GATEWAY));
        // An echo request: a reply frame turned around.
        let mut f =
            frames::echo_reply_frame(GATEWAY_MAC, GUEST.into(), GATEWAY.into(), 3, 4, b"hi")
                .unwrap();
        f[0..6].copy_from_slice(&GATEWAY_MAC.0);
        f[6..12].copy_from_slice(&GUEST_MAC.0);
        f[34] = 8;
        let mut p = Icmpv4Packet::new_unchecked(&mut f[34..]);
        p.fill_checksum();
        send(&mut g, f);
        let out = out.lock().unwrap();
        let reply = out.last().unwrap();
        // ICMP echo reply (type 0) from the gateway, same id and data.
        assert_eq!(&reply[26..30], &GATEWAY.octets());
        assert_eq!(reply[34], 0);
        assert_eq!(&reply[38..40], &3u16.to_be_bytes());
        assert!(reply.ends_with(b"hi"));
    }

    #[test]
    fn dhcp_and_local_dns_answers() {
        let (mut g, out) = gateway();
        // A DHCPDISCOVER from the guest.
        let mut m = vec![0u8; 240];
        m[0] = 1;
        m[1] = 1;
        m[2] = 6;
        m[28..34].copy_from_slice(&GUEST_MAC.0);
        m[236..240].copy_from_slice(&[99, 130, 83, 99]);
        m.extend_from_slice(&[53, 1, 1, 255]);
        send(
            &mut g,
            frames::udp_frame(
                EthernetAddress::BROADCAST,
                "0.0.0.0:68".parse().unwrap(),
                "255.255.255.255:67".parse().unwrap(),
                &m,
            )
            .unwrap(),
        );
        // A query for localhost at 10.0.2.3.
        let mut q = vec![0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9];
        q.extend_from_slice(b"localhost");
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        send(
            &mut g,
            frames::udp_frame(
                GATEWAY_MAC,
                "10.0.2.15:4000".parse().unwrap(),
                "10.0.2.3:53".parse().unwrap(),
                &q,
            )
            .unwrap(),
        );
        let out = out.lock().unwrap();
        let FromGuest::Udp { src, dst, data } = frames::classify(&out[0]) else {
            panic!("no DHCP reply: {:?}", out);
        };
        assert_eq!(
            (src, dst),
            (
                "10.0.2.2:67".parse().unwrap(),
                "255.255.255.255:68".parse().unwrap()
            )
        );
        assert_eq!(&data[16..20], &GUEST.octets(), "yiaddr");
        let FromGuest::Udp { src, dst, data } = frames::classify(&out[1]) else {
            panic!("no DNS reply");
        };
        assert_eq!(
            (src, dst),
            (
                "10.0.2.3:53".parse().unwrap(),
                "10.0.2.15:4000".parse().unwrap()
            )
        );
        assert_eq!(&data[0..2], &[0xab, 0xcd]);
        assert!(data.ends_with(&[127, 0, 0, 1]));
    }

    /// A guest SYN from 10.0.2.15:`sport` to `dst`.
    fn syn(sport: u16, dst: SocketAddrV4) -> Vec<u8> {
        let r = TcpRepr {
            src_port: sport,
            dst_port: dst.port(),
            control: TcpControl::Syn,
            seq_number: TcpSeqNumber(1000),
            ack_number: None,
            window_len: 65535,
            window_scale: None,
            max_seg_size: Some(1460),
            sack_permitted: false,
            sack_ranges: [None; 3],
            timestamp: None,
            payload: &[],
        };
        let mut f = frames::ipv4_frame(
            GATEWAY_MAC,
            GUEST,
            *dst.ip(),
            IpProtocol::Tcp,
            r.buffer_len(),
            |b| {
                r.emit(
                    &mut TcpPacket::new_unchecked(b),
                    &GUEST.into(),
                    &(*dst.ip()).into(),
                    &ChecksumCapabilities::default(),
                )
            },
        );
        f[0..6].copy_from_slice(&GATEWAY_MAC.0);
        f[6..12].copy_from_slice(&GUEST_MAC.0);
        f
    }

    /// The TCP segments among `frames`: (source, destination, SYN, ACK,
    /// RST, acknowledgment number).
    fn segments(frames: &[Vec<u8>]) -> Vec<(SocketAddrV4, SocketAddrV4, bool, bool, bool, u32)> {
        frames
            .iter()
            .filter_map(|f| {
                let eth = EthernetFrame::new_checked(&f[..]).ok()?;
                let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
                if ip.next_header() != IpProtocol::Tcp {
                    return None;
                }
                let t = TcpPacket::new_checked(ip.payload()).ok()?;
                Some((
                    SocketAddrV4::new(ip.src_addr(), t.src_port()),
                    SocketAddrV4::new(ip.dst_addr(), t.dst_port()),
                    t.syn(),
                    t.ack(),
                    t.rst(),
                    t.ack_number().0 as u32,
                ))
            })
            .collect()
    }

    #[test]
    fn a_syn_is_answered_once_the_host_connects_or_reset_when_refused() {
        let (mut g, out) = gateway();
        send(&mut g, arp_request(GATEWAY));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = SocketAddrV4::new(GATEWAY, listener.local_addr().unwrap().port());
        send(&mut g, syn(40000, open));
        // Until the host connect is over, the SYN is held.
        for _ in 0..100 {
            if !segments(&out.lock().unwrap()).is_empty() {
                break;
            }
            g.step();
        }
        let guest = SocketAddrV4::new(GUEST, 40000);
        assert_eq!(
            segments(&out.lock().unwrap()),
            vec![(open, guest, true, true, false, 1001)],
            "SYN-ACK from the host's listener"
        );
        listener.accept().unwrap();

        // A port nobody listens on: RST (with ACK) to the SYN.
        let closed = SocketAddrV4::new(
            GATEWAY,
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port(),
        );
        out.lock().unwrap().clear();
        send(&mut g, syn(40001, closed));
        for _ in 0..100 {
            if !segments(&out.lock().unwrap()).is_empty() {
                break;
            }
            g.step();
        }
        let segs = segments(&out.lock().unwrap());
        assert_eq!(segs.len(), 1, "{segs:?}");
        let (src, dst, syn, _, rst, ack) = segs[0];
        assert_eq!(
            (src, dst, syn, rst, ack),
            (closed, SocketAddrV4::new(GUEST, 40001), false, true, 1001)
        );
        assert!(
            g.tcp.iter().all(|f| f.remote != closed.into()),
            "the refused flow is gone"
        );
    }

    #[test]
    fn udp_flows_relay_both_ways_and_expire_when_idle() {
        let (mut g, out) = gateway();
        let host = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dst = SocketAddrV4::new(GATEWAY, host.local_addr().unwrap().port());
        let src: SocketAddrV4 = "10.0.2.15:5000".parse().unwrap();
        send(
            &mut g,
            frames::udp_frame(GATEWAY_MAC, src.into(), dst.into(), b"to host").unwrap(),
        );
        let mut buf = [0u8; 64];
        let (n, from) = host.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"to host");
        host.send_to(b"to guest", from).unwrap();
        for _ in 0..100 {
            if !out.lock().unwrap().is_empty() {
                break;
            }
            g.step();
        }
        let out = out.lock().unwrap();
        assert_eq!(
            frames::classify(&out[0]),
            FromGuest::Udp {
                src: dst.into(),
                dst: src.into(),
                data: b"to guest"
            },
            "the reply comes from the gateway's address"
        );
        assert_eq!(g.udp.len(), 1);
        g.udp[0].last -= udp::IDLE;
        g.expire();
        assert!(g.udp.is_empty());
    }

    /// An ICMPv6 neighbour or router solicitation from the guest's
    /// link-local address.
    fn ndisc_frame(repr: NdiscRepr, dst: Ipv6Addr) -> Vec<u8> {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9);
        let r = Icmpv6Repr::Ndisc(repr);
        let mut f = frames::ipv6_frame(
            GATEWAY_MAC,
            src,
            dst,
            IpProtocol::Icmpv6,
            255,
            r.buffer_len(),
            |b| {
                r.emit(
                    &src,
                    &dst,
                    &mut Icmpv6Packet::new_unchecked(b),
                    &ChecksumCapabilities::default(),
                )
            },
        );
        f[6..12].copy_from_slice(&GUEST_MAC.0);
        f
    }

    /// The ICMPv6 types among `frames`, with the target of advertisements.
    fn icmpv6(frames: &[Vec<u8>]) -> Vec<(u8, Option<Ipv6Addr>)> {
        frames
            .iter()
            .filter_map(|f| {
                let eth = EthernetFrame::new_checked(&f[..]).ok()?;
                let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
                if ip.next_header() != IpProtocol::Icmpv6 {
                    return None;
                }
                let t = ip.payload()[0];
                let target = (t == 136).then(|| {
                    let b: [u8; 16] = ip.payload()[8..24].try_into().unwrap();
                    Ipv6Addr::from(b)
                });
                Some((t, target))
            })
            .collect()
    }

    #[test]
    fn solicitations_get_adverts_for_the_gateways_addresses_only() {
        let (mut g, out) = gateway();
        let lladdr = Some(GUEST_MAC.into());
        send(
            &mut g,
            ndisc_frame(
                NdiscRepr::RouterSolicit { lladdr },
                Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2),
            ),
        );
        assert!(g.ra_next.is_some(), "periodic adverts from now on");
        for t in [
            GATEWAY6,
            DNS6,
            GATEWAY6_LL,
            "fd00:10:0:2::9".parse().unwrap(),
        ] {
            let b = t.octets();
            let solicited = Ipv6Addr::new(
                0xff02,
                0,
                0,
                0,
                0,
                1,
                0xff00 | b[13] as u16,
                u16::from_be_bytes([b[14], b[15]]),
            );
            send(
                &mut g,
                ndisc_frame(
                    NdiscRepr::NeighborSolicit {
                        target_addr: t,
                        lladdr,
                    },
                    solicited,
                ),
            );
        }
        assert_eq!(
            icmpv6(&out.lock().unwrap()),
            vec![
                (134, None),
                (136, Some(GATEWAY6)),
                (136, Some(DNS6)),
                (136, Some(GATEWAY6_LL))
            ]
        );
    }

    #[test]
    fn ipv6_udp_to_the_gateway_reaches_the_hosts_loopback() {
        let (mut g, out) = gateway();
        let Ok(host) = UdpSocket::bind("[::1]:0") else {
            return; // no IPv6 loopback on this host
        };
        let dst = SocketAddr::new(GATEWAY6.into(), host.local_addr().unwrap().port());
        let src: SocketAddr = "[fd00:10:0:2::15]:5000".parse().unwrap();
        send(
            &mut g,
            frames::udp_frame(GATEWAY_MAC, src, dst, b"to host").unwrap(),
        );
        let mut buf = [0u8; 64];
        let (n, from) = host.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"to host");
        host.send_to(b"to guest", from).unwrap();
        for _ in 0..100 {
            if !out.lock().unwrap().is_empty() {
                break;
            }
            g.step();
        }
        assert_eq!(
            frames::classify(&out.lock().unwrap()[0]),
            FromGuest::Udp {
                src: dst,
                dst: src,
                data: b"to guest"
            }
        );
    }
}
