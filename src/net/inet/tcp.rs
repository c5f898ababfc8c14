//! TCP sockets over smoltcp: bind, listen with a pool of smoltcp listening
//! sockets per listener (smoltcp has one socket per connection, so each
//! SYN takes one; accepted ones are replaced), accept, blocking and
//! non-blocking connect, send and receive, shutdown, close with Linux's
//! resets, and the readiness poll reports.

use super::addr::Domain;
use super::ports::{Binding, Proto};
use super::procfs::{self, Row};
use super::sock::Opts;
use super::stack::Net;
use crate::fs::file::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::kernel::errno::{Errno, KResult};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State as S};
use smoltcp::time::Duration;
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};
use std::collections::VecDeque;

pub const POLLRDHUP: u32 = 0x2000;

/// Receive and send buffer of a connection: loopback transfers move in
/// large segments, and smoltcp scales the window past 64 KiB.
const RX_BUF: usize = 256 * 1024;
const TX_BUF: usize = 256 * 1024;
/// Listening smoltcp sockets kept ready per listener: each takes one SYN.
const LISTENING: usize = 4;
/// Unaccepted connections per listener, whatever listen(2) asked: a SYN
/// finding no listening socket is answered with a reset (Linux would drop
/// it and the client retry), so a small backlog is made roomier.
const MIN_BACKLOG: usize = 8;
const MAX_BACKLOG: usize = 256;
/// How long an orphan (closed by its owner) waits for its peer: Linux's
/// tcp_fin_timeout.
const ORPHAN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a closed connection holds its port: Linux's TCP_TIMEWAIT_LEN.
pub const TIME_WAIT_NS: i64 = 60_000_000_000;

/// A connection its owner closed, waiting out TIME-WAIT. Only the port
/// binding stays: the smoltcp socket and its buffers are gone (on
/// loopback no segment of the old connection can still arrive).
pub struct TimeWait {
    pub id: u64,
    pub until: i64,
    pub domain: Domain,
    pub local: IpEndpoint,
    pub remote: IpEndpoint,
}

pub enum State {
    /// No connection: new, or after one failed.
    Closed,
    Listen(Listener),
    Connecting(SocketHandle),
    Connected(SocketHandle),
}

pub struct Listener {
    /// smoltcp sockets listening or in the middle of a handshake, with
    /// their interface (a wildcard listens on every interface).
    pool: Vec<(usize, SocketHandle)>,
    /// Established connections in arrival order, waiting for accept.
    ready: VecDeque<(usize, SocketHandle)>,
    backlog: usize,
}

/// How connect(2) goes on from here.
pub enum Begin {
    /// A SYN is on its way.
    Started,
    /// An earlier connect is still going.
    InProgress,
    /// Nothing to wait for: this is the answer.
    Done(KResult<()>),
}

pub struct Tcp {
    domain: Domain,
    /// The interface the connection (or listener) lives on.
    iface: usize,
    /// Bound address (unspecified: any) and port; None until bound.
    local: Option<IpEndpoint>,
    /// The port came with connect, not bind: a failed connect gives it back.
    autobound: bool,
    pub state: State,
    peer: Option<IpEndpoint>,
    /// Pending error for SO_ERROR and the next call (Linux's sk_err).
    pub so_error: Option<Errno>,
    /// A connect completed that connect(2) did not report yet (Linux's
    /// SS_CONNECTING): the next connect returns 0, later ones EISCONN.
    unreported: bool,
    /// The connection ended by reset or refusal: reads give 0.
    done: bool,
    shut_rd: bool,
    shut_wr: bool,
    /// smoltcp's state at the last look: tells a reset from an orderly end.
    seen: S,
}

fn new_socket(opts: &Opts) -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; RX_BUF]),
        tcp::SocketBuffer::new(vec![0; TX_BUF]),
    );
    // Loopback ACKs cost nothing, and a delayed one holds back a writer's
    // next small segment (Nagle) for the whole delay.
    s.set_ack_delay(None);
    apply_opts(&mut s, opts);
    s
}

fn apply_opts(s: &mut tcp::Socket<'static>, opts: &Opts) {
    s.set_nagle_enabled(!opts.nodelay);
    // Linux's tcp_keepalive_time.
    s.set_keep_alive(opts.keepalive.then(|| Duration::from_secs(7200)));
}

impl Tcp {
    pub fn new(domain: Domain) -> Tcp {
        Tcp {
            domain,
            iface: 0,
            local: None,
            autobound: false,
            state: State::Closed,
            peer: None,
            so_error: None,
            unreported: false,
            done: false,
            shut_rd: false,
            shut_wr: false,
            seen: S::Closed,
        }
    }

    /// A connection taken from a listener's queue.
    pub fn accepted(listener: &Tcp, net: &Net, (iface, h): (usize, SocketHandle)) -> Tcp {
        let s = net.ifaces[iface].sockets.get::<tcp::Socket>(h);
        Tcp {
            iface,
            local: s.local_endpoint().or(listener.local),
            peer: s.remote_endpoint(),
            state: State::Connected(h),
            seen: s.state(),
            ..Tcp::new(listener.domain)
        }
    }

    fn sock<'a>(&self, net: &'a Net, h: SocketHandle) -> &'a tcp::Socket<'static> {
        net.ifaces[self.iface].sockets.get::<tcp::Socket>(h)
    }

    fn sock_mut<'a>(&self, net: &'a mut Net, h: SocketHandle) -> &'a mut tcp::Socket<'static> {
        net.ifaces[self.iface].sockets.get_mut::<tcp::Socket>(h)
    }

    fn binding(&self, id: u64, addr: IpAddress, opts: &Opts) -> Binding {
        Binding {
            id,
            dual: self.domain == Domain::V6 && !opts.v6only && addr.is_unspecified(),
            addr,
            reuse: opts.reuseaddr,
            listening: false,
            time_wait: false,
        }
    }

    /// bind(2).
    pub fn bind(&mut self, id: u64, net: &mut Net, ep: IpEndpoint, opts: &Opts) -> KResult<()> {
        if self.local.is_some() || !matches!(self.state, State::Closed) {
            return Err(Errno::EINVAL);
        }
        if !ep.addr.is_unspecified() {
            self.iface = net.owner_of(ep.addr).ok_or(Errno::EADDRNOTAVAIL)?;
        }
        let port = net
            .ports
            .bind(Proto::Tcp, ep.port, self.binding(id, ep.addr, opts))?;
        self.local = Some(IpEndpoint::new(ep.addr, port));
        Ok(())
    }

    /// listen(2); an unbound socket gets an ephemeral port, as in Linux.
    pub fn listen(&mut self, id: u64, net: &mut Net, backlog: i32, opts: &Opts) -> KResult<()> {
        let backlog = (backlog.max(0) as usize + 1).clamp(MIN_BACKLOG, MAX_BACKLOG);
        match &mut self.state {
            State::Listen(l) => {
                l.backlog = backlog;
                return Ok(());
            }
            State::Connecting(_) | State::Connected(_) => return Err(Errno::EINVAL),
            State::Closed => {}
        }
        if self.local.is_none() {
            self.bind(id, net, IpEndpoint::new(self.domain.any(), 0), opts)?;
        }
        net.ports
            .set_listening(Proto::Tcp, self.local.unwrap().port, id)?;
        self.state = State::Listen(Listener {
            pool: Vec::new(),
            ready: VecDeque::new(),
            backlog,
        });
        self.replenish(net, opts);
        Ok(())
    }

    /// The interfaces and addresses a listener's smoltcp sockets listen
    /// on. A wildcard becomes each address of the socket's family on every
    /// interface (and the IPv4 ones for a dual-stack AF_INET6 socket):
    /// smoltcp's own wildcard would take any family's SYNs. Addresses
    /// configured later are picked up at the next refill.
    fn listen_addrs(&self, net: &Net, opts: &Opts) -> Vec<(usize, IpAddress)> {
        let dual = self.domain == Domain::V6 && !opts.v6only;
        let Some(local) = self.local else {
            return Vec::new();
        };
        if !local.addr.is_unspecified() {
            return vec![(self.iface, local.addr)];
        }
        let mut v = Vec::new();
        for (n, i) in net.ifaces.iter().enumerate() {
            for c in i.iface.ip_addrs() {
                let a = c.address();
                if match a {
                    IpAddress::Ipv4(_) => self.domain == Domain::V4 || dual,
                    IpAddress::Ipv6(_) => self.domain == Domain::V6,
                } {
                    v.push((n, a));
                }
            }
        }
        v
    }

    /// Keep listening smoltcp sockets ready on each listen address while
    /// the backlog has room.
    fn replenish(&mut self, net: &mut Net, opts: &Opts) {
        let addrs = self.listen_addrs(net, opts);
        let (Some(local), State::Listen(l)) = (self.local, &mut self.state) else {
            return;
        };
        let mut total = l.pool.len() + l.ready.len();
        let per_addr = (LISTENING / addrs.len().max(1)).max(1);
        for (n, addr) in addrs {
            let set = &mut net.ifaces[n].sockets;
            let mut listening = l
                .pool
                .iter()
                .filter(|&&(i, _)| i == n)
                .map(|&(_, h)| set.get::<tcp::Socket>(h))
                .filter(|s| s.state() == S::Listen && s.listen_endpoint().addr == Some(addr))
                .count();
            while listening < per_addr && total < l.backlog {
                let mut s = new_socket(opts);
                if s.listen(IpListenEndpoint {
                    addr: Some(addr),
                    port: local.port,
                })
                .is_err()
                {
                    break;
                }
                l.pool.push((n, set.add(s)));
                listening += 1;
                total += 1;
            }
        }
    }

    /// accept(2): the next established connection (EAGAIN: none yet).
    pub fn accept(&mut self) -> KResult<(usize, SocketHandle)> {
        match &mut self.state {
            State::Listen(l) => l.ready.pop_front().ok_or(Errno::EAGAIN),
            _ => Err(Errno::EINVAL),
        }
    }

    /// connect(2), first half: start a connection if there is none.
    pub fn connect(&mut self, id: u64, net: &mut Net, remote: IpEndpoint, opts: &Opts) -> Begin {
        match self.state {
            State::Listen(_) => return Begin::Done(Err(Errno::EISCONN)),
            State::Connected(_) if self.unreported => {
                self.unreported = false;
                return Begin::Done(Ok(()));
            }
            State::Connected(_) => return Begin::Done(Err(Errno::EISCONN)),
            State::Connecting(_) => return Begin::InProgress,
            State::Closed => {}
        }
        if let Some(e) = self.so_error.take() {
            // An earlier non-blocking connect failed and nobody asked.
            return Begin::Done(Err(e));
        }
        match self.start(id, net, remote, opts) {
            Ok(()) => Begin::Started,
            Err(e) => Begin::Done(Err(e)),
        }
    }

    fn start(&mut self, id: u64, net: &mut Net, remote: IpEndpoint, opts: &Opts) -> KResult<()> {
        // Connecting to the unspecified address means this host (Linux).
        let dst = if remote.addr.is_unspecified() {
            self.domain.loopback()
        } else {
            remote.addr
        };
        let (iface, mut src) = net.route_dev(dst, opts.bind_dev)?;
        if let Some(l) = self.local.filter(|l| !l.addr.is_unspecified()) {
            src = l.addr;
        }
        if self.local.is_none() {
            let port = net.ports.bind(Proto::Tcp, 0, self.binding(id, src, opts))?;
            self.local = Some(IpEndpoint::new(src, port));
            self.autobound = true;
        }
        let port = self.local.unwrap().port;
        self.iface = iface;
        self.peer = Some(IpEndpoint::new(dst, remote.port));
        self.done = false;
        self.shut_rd = false;
        self.shut_wr = false;
        let mut s = new_socket(opts);
        let i = &mut net.ifaces[iface];
        let local = IpListenEndpoint {
            addr: Some(src),
            port,
        };
        if remote.port == 0
            || s.connect(i.iface.context(), (dst, remote.port), local)
                .is_err()
        {
            // Nothing listens on port 0: the SYN would be answered by a reset.
            self.refused(id, net);
            return Ok(());
        }
        let h = i.sockets.add(s);
        self.seen = S::SynSent;
        self.state = State::Connecting(h);
        Ok(())
    }

    /// The connection attempt was answered with a reset.
    fn refused(&mut self, id: u64, net: &mut Net) {
        self.state = State::Closed;
        self.so_error = Some(Errno::ECONNREFUSED);
        self.done = true;
        if self.autobound {
            net.ports.release(id);
            self.local = None;
            self.autobound = false;
        }
    }

    /// connect(2), second half, after a poll: the outcome, or EAGAIN while
    /// the handshake goes on.
    pub fn connect_result(&mut self) -> KResult<()> {
        match self.state {
            State::Connected(_) => {
                self.unreported = false;
                Ok(())
            }
            State::Connecting(_) => Err(Errno::EAGAIN),
            State::Listen(_) => Err(Errno::EISCONN),
            State::Closed => Err(self.so_error.take().unwrap_or(Errno::ECONNREFUSED)),
        }
    }

    /// Bookkeeping after packets moved: listeners' queues, connects that
    /// ended, resets. Returns true when it queued packets.
    pub fn settle(&mut self, id: u64, net: &mut Net, opts: &Opts, orphan: bool) -> bool {
        match self.state {
            State::Closed => false,
            State::Listen(_) => {
                self.settle_listener(net);
                self.replenish(net, opts);
                false
            }
            State::Connecting(h) => {
                let st = self.sock(net, h).state();
                match st {
                    S::SynSent | S::SynReceived => {}
                    S::Closed => {
                        net.bury(self.iface, h);
                        self.refused(id, net);
                    }
                    _ => {
                        self.state = State::Connected(h);
                        self.unreported = true;
                    }
                }
                self.seen = st;
                false
            }
            State::Connected(h) => {
                let seen = self.seen;
                let s = self.sock_mut(net, h);
                let mut more = false;
                if orphan && s.recv_queue() > 0 {
                    // Data for a closed socket: Linux answers with a reset.
                    s.abort();
                    more = true;
                }
                let st = s.state();
                if st == S::Closed && seen != S::Closed && !orphan {
                    // Orderly ends pass through LAST-ACK, CLOSING or
                    // TIME-WAIT; anything else was a reset. After the
                    // peer's FIN Linux reports it as EPIPE, before as
                    // ECONNRESET.
                    if !matches!(seen, S::LastAck | S::Closing | S::TimeWait) {
                        self.so_error = Some(if seen == S::CloseWait {
                            Errno::EPIPE
                        } else {
                            Errno::ECONNRESET
                        });
                    }
                    self.done = true;
                }
                self.seen = st;
                more
            }
        }
    }

    fn settle_listener(&mut self, net: &mut Net) {
        let State::Listen(l) = &mut self.state else {
            return;
        };
        let mut keep = Vec::with_capacity(l.pool.len());
        for &(iface, h) in &l.pool {
            match net.ifaces[iface].sockets.get::<tcp::Socket>(h).state() {
                S::Listen | S::SynReceived => keep.push((iface, h)),
                // A handshake that was reset.
                S::Closed => net.bury(iface, h),
                _ => l.ready.push_back((iface, h)),
            }
        }
        l.pool = keep;
    }

    /// send(2) of stream bytes: how many were queued.
    pub fn send(&mut self, net: &mut Net, data: &[u8]) -> KResult<usize> {
        match self.state {
            State::Connected(h) => {
                if let Some(e) = self.so_error.take() {
                    return Err(e);
                }
                if self.shut_wr || self.done {
                    return Err(Errno::EPIPE);
                }
                let s = self.sock_mut(net, h);
                if !s.may_send() {
                    return Err(Errno::EPIPE);
                }
                match s.send_slice(data) {
                    Ok(0) if !data.is_empty() => Err(Errno::EAGAIN),
                    Ok(n) => Ok(n),
                    Err(_) => Err(Errno::EPIPE),
                }
            }
            State::Connecting(_) => Err(Errno::EAGAIN),
            // Writing to a socket never connected is EPIPE in Linux too.
            _ => Err(self.so_error.take().unwrap_or(Errno::EPIPE)),
        }
    }

    /// recv(2): up to `max` bytes (none at end of stream). `waitall`
    /// (MSG_WAITALL): EAGAIN until `max` bytes are there (or as many as
    /// the buffer holds), unless the stream ends first.
    pub fn recv(
        &mut self,
        net: &mut Net,
        max: usize,
        peek: bool,
        waitall: bool,
    ) -> KResult<Vec<u8>> {
        match self.state {
            State::Connected(h) => {
                let open = !self.shut_rd && self.so_error.is_none();
                let s = self.sock_mut(net, h);
                if waitall && open && s.may_recv() && s.recv_queue() < max.min(s.recv_capacity()) {
                    return Err(Errno::EAGAIN);
                }
                let n = s.recv_queue().min(max);
                if n > 0 {
                    let mut v = vec![0; n];
                    let got = if peek {
                        s.peek_slice(&mut v)
                    } else {
                        s.recv_slice(&mut v)
                    }
                    .unwrap_or(0);
                    v.truncate(got);
                    return Ok(v);
                }
                if max == 0 || self.shut_rd || !s.may_recv() && self.so_error.is_none() {
                    return Ok(Vec::new());
                }
                match self.so_error {
                    // Reset after the peer's FIN: reads see the end of stream.
                    Some(Errno::EPIPE) => Ok(Vec::new()),
                    Some(e) => {
                        self.so_error = None;
                        Err(e)
                    }
                    None => Err(Errno::EAGAIN),
                }
            }
            State::Connecting(_) => Err(Errno::EAGAIN),
            State::Listen(_) => Err(Errno::ENOTCONN),
            State::Closed => match self.so_error.take() {
                Some(e) => Err(e),
                None if self.done => Ok(Vec::new()),
                None => Err(Errno::ENOTCONN),
            },
        }
    }

    /// shutdown(2).
    pub fn shutdown(&mut self, net: &mut Net, how: i32) -> KResult<()> {
        let (rd, wr) = match how {
            0 => (true, false),
            1 => (false, true),
            2 => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        match self.state {
            State::Connected(h) => {
                if self.sock(net, h).state() == S::Closed {
                    return Err(Errno::ENOTCONN);
                }
                self.shut_rd |= rd;
                if wr && !self.shut_wr {
                    self.shut_wr = true;
                    let s = self.sock_mut(net, h);
                    // FIN after the queued bytes.
                    s.close();
                    self.seen = s.state();
                }
                Ok(())
            }
            State::Connecting(h) => {
                self.sock_mut(net, h).abort();
                net.bury(self.iface, h);
                self.state = State::Closed;
                Ok(())
            }
            // Shutting a listener's receive side stops it (accept: EINVAL).
            State::Listen(_) if rd => {
                self.drop_conns(net);
                self.state = State::Closed;
                Ok(())
            }
            State::Listen(_) => Ok(()),
            State::Closed => Err(Errno::ENOTCONN),
        }
    }

    /// Reset and give up every smoltcp socket the socket has.
    fn drop_conns(&mut self, net: &mut Net) {
        let hs: Vec<(usize, SocketHandle)> = match &self.state {
            State::Listen(l) => l.pool.iter().chain(l.ready.iter()).copied().collect(),
            State::Connecting(h) | State::Connected(h) => vec![(self.iface, *h)],
            State::Closed => Vec::new(),
        };
        for (i, h) in hs {
            net.ifaces[i].sockets.get_mut::<tcp::Socket>(h).abort();
            net.bury(i, h);
        }
        self.state = State::Closed;
    }

    /// The file was closed. Returns true when the socket must stay as an
    /// orphan while its connection closes.
    pub fn close(&mut self, net: &mut Net, opts: &Opts) -> bool {
        let State::Connected(h) = self.state else {
            return false;
        };
        let s = self.sock_mut(net, h);
        // Unread data, or SO_LINGER with a zero timeout: Linux resets.
        if s.recv_queue() > 0 || opts.linger == (1, 0) || s.state() == S::Closed {
            return false;
        }
        s.close();
        s.set_timeout(Some(ORPHAN_TIMEOUT));
        self.seen = s.state();
        s.state() != S::Closed
    }

    /// The endpoints of a connection in TIME-WAIT.
    pub fn time_wait(&self, net: &Net) -> Option<(IpEndpoint, IpEndpoint)> {
        let State::Connected(h) = self.state else {
            return None;
        };
        let s = self.sock(net, h);
        if s.state() != S::TimeWait {
            return None;
        }
        Some((s.local_endpoint()?, s.remote_endpoint()?))
    }

    /// Give up the smoltcp socket quietly (no reset): TIME-WAIT goes on
    /// as a `TimeWait` record.
    pub fn discard(self, net: &mut Net) {
        if let State::Connected(h) = self.state {
            net.ifaces[self.iface].sockets.remove(h);
        }
    }

    /// An orphan whose connection is over can go.
    pub fn finished(&self, net: &Net) -> bool {
        match self.state {
            State::Connected(h) => self.sock(net, h).state() == S::Closed,
            _ => true,
        }
    }

    /// The socket goes away: its smoltcp sockets are reset and given up.
    pub fn free(mut self, net: &mut Net) {
        self.drop_conns(net);
    }

    /// Options changed: apply them to the live smoltcp sockets.
    pub fn apply(&self, net: &mut Net, opts: &Opts) {
        let hs: Vec<(usize, SocketHandle)> = match &self.state {
            State::Listen(l) => l.pool.iter().chain(l.ready.iter()).copied().collect(),
            State::Connecting(h) | State::Connected(h) => vec![(self.iface, *h)],
            State::Closed => Vec::new(),
        };
        for (i, h) in hs {
            apply_opts(net.ifaces[i].sockets.get_mut::<tcp::Socket>(h), opts);
        }
    }

    /// Ready events, as Linux's tcp_poll computes them.
    pub fn readiness(&self, net: &Net) -> u32 {
        let mut m = if self.so_error.is_some() { POLLERR } else { 0 };
        match &self.state {
            State::Closed => {
                m |= POLLOUT | POLLWRNORM | POLLHUP;
                if self.done {
                    m |= POLLIN | POLLRDNORM | POLLRDHUP;
                }
            }
            State::Listen(l) => {
                if !l.ready.is_empty() {
                    m |= POLLIN | POLLRDNORM;
                }
            }
            State::Connecting(_) => {}
            State::Connected(h) => {
                let s = self.sock(net, *h);
                let closed = s.state() == S::Closed;
                let rx_done = self.shut_rd || !s.may_recv();
                let tx_done = self.shut_wr || closed;
                if s.recv_queue() > 0 {
                    m |= POLLIN | POLLRDNORM;
                }
                if rx_done {
                    m |= POLLIN | POLLRDNORM | POLLRDHUP;
                }
                if tx_done || s.send_queue() < s.send_capacity() {
                    m |= POLLOUT | POLLWRNORM;
                }
                if (rx_done && tx_done) || closed {
                    m |= POLLHUP;
                }
            }
        }
        m
    }

    /// FIONREAD: bytes waiting to be read.
    pub fn unread(&self, net: &Net) -> KResult<usize> {
        match &self.state {
            State::Connected(h) => Ok(self.sock(net, *h).recv_queue()),
            State::Listen(_) => Err(Errno::EINVAL),
            _ => Ok(0),
        }
    }

    /// Bytes readable now (a rise wakes MSG_WAITALL readers).
    pub fn readable(&self, net: &Net) -> usize {
        match &self.state {
            State::Connected(h) => self.sock(net, *h).recv_queue(),
            _ => 0,
        }
    }

    /// Room in the send buffer, and its size, while sending is possible (a
    /// rise in room wakes writers waiting to write whole).
    pub fn room(&self, net: &Net) -> Option<(usize, usize)> {
        match self.state {
            State::Connected(h) if !self.shut_wr && !self.done && self.so_error.is_none() => {
                let s = self.sock(net, h);
                s.may_send()
                    .then(|| (s.send_capacity() - s.send_queue(), s.send_capacity()))
            }
            _ => None,
        }
    }

    /// SIOCOUTQ: bytes sent but not yet acknowledged or not yet sent.
    pub fn unsent(&self, net: &Net) -> usize {
        match &self.state {
            State::Connected(h) => self.sock(net, *h).send_queue(),
            _ => 0,
        }
    }

    pub fn listening(&self) -> bool {
        matches!(self.state, State::Listen(_))
    }

    /// Its lines in /proc/net/tcp: the listener, or the connection while
    /// it is not closed.
    pub fn rows(&self, net: &Net, ino: u64) -> Vec<Row> {
        let any = IpEndpoint::new(self.domain.any(), 0);
        match &self.state {
            State::Listen(l) => vec![Row {
                local: self.local.unwrap_or(any),
                remote: any,
                state: procfs::TCP_LISTEN,
                tx_queue: 0,
                rx_queue: l.ready.len(),
                ino,
            }],
            State::Connecting(h) | State::Connected(h) => {
                let s = self.sock(net, *h);
                let state = match s.state() {
                    S::Closed => return Vec::new(),
                    S::Established => procfs::TCP_ESTABLISHED,
                    S::SynSent => 2,
                    S::SynReceived => 3,
                    S::FinWait1 => 4,
                    S::FinWait2 => 5,
                    S::TimeWait => procfs::TCP_TIME_WAIT,
                    S::CloseWait => 8,
                    S::LastAck => 9,
                    S::Listen => procfs::TCP_LISTEN,
                    S::Closing => 11,
                };
                vec![Row {
                    local: s.local_endpoint().or(self.local).unwrap_or(any),
                    remote: s.remote_endpoint().or(self.peer).unwrap_or(any),
                    state,
                    tx_queue: s.send_queue(),
                    rx_queue: s.recv_queue(),
                    ino,
                }]
            }
            State::Closed => Vec::new(),
        }
    }

    /// getsockname(2).
    pub fn sockname(&self, net: &Net) -> IpEndpoint {
        if let State::Connecting(h) | State::Connected(h) = self.state {
            if let Some(ep) = self.sock(net, h).local_endpoint() {
                return ep;
            }
        }
        self.local.unwrap_or(IpEndpoint::new(self.domain.any(), 0))
    }

    /// getpeername(2).
    pub fn peername(&self, net: &Net) -> KResult<IpEndpoint> {
        match self.state {
            State::Connected(h) if self.sock(net, h).state() != S::Closed => {
                self.peer.ok_or(Errno::ENOTCONN)
            }
            _ => Err(Errno::ENOTCONN),
        }
    }
}
