//! The open-file face of an internet socket: `InetSocket` holds the id of
//! its state inside the stack and turns socket calls, read/write, poll and
//! ioctls into stack operations. Calls return EAGAIN when they would block;
//! the syscall layer sleeps on `wait_queue` and runs them again.

use super::addr::{self, Domain, AF_UNSPEC};
use super::cmsg;
use super::dgram::DgramSocket;
use super::icmp::Icmp;
use super::options;
use super::ports::{Binding, Proto as PortProto};
use super::sock::{Proto, Sock};
use super::stack::{self, Net, Stack};
use super::tcp::{Begin, Tcp};
use super::udp::Udp;
use super::udplite::UdpLite;
use crate::fs::file::{File, FileOps};
use crate::fs::vfs::Stat;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use crate::kernel::wait::WaitQueue;
use crate::net::Cmsg;
use smoltcp::wire::IpEndpoint;
use std::sync::Arc;

pub const SOCK_STREAM: u32 = 1;
pub const SOCK_DGRAM: u32 = 2;
pub const SOCK_RAW: u32 = 3;
const IPPROTO_ICMP: i32 = 1;
const IPPROTO_TCP: i32 = 6;
const IPPROTO_UDP: i32 = 17;
const IPPROTO_ICMPV6: i32 = 58;
const IPPROTO_UDPLITE: i32 = 136;

use crate::abi::ioctl::{FIONREAD, SIOCOUTQ};

/// What a receive returns: data, the sender's sockaddr (datagrams), and
/// the datagram's full length.
pub type Received = (Vec<u8>, Option<Vec<u8>>, usize);

pub struct InetSocket {
    id: u64,
    /// The network namespace it was made in: its state lives in that
    /// namespace's stack, which it keeps alive.
    ns: Arc<crate::kernel::ns::Ns>,
    pub domain: Domain,
    /// SOCK_STREAM or SOCK_DGRAM.
    pub kind: u32,
    ino: u64,
    wq: Arc<WaitQueue>,
}

fn tcp_of(k: &mut Sock) -> KResult<&mut Tcp> {
    match &mut k.proto {
        Proto::Tcp(t) => Ok(t),
        _ => Err(Errno::EOPNOTSUPP),
    }
}

/// The interface a link-local address is used on: the scope id given
/// (EINVAL when the socket is bound to another device), else the device
/// the socket is bound to; EINVAL with neither, as Linux answers.
fn link_dev(scope: u32, bound: Option<u32>) -> KResult<u32> {
    match (scope, bound) {
        (0, Some(b)) => Ok(b),
        (0, None) => Err(Errno::EINVAL),
        (s, Some(b)) if s != b => Err(Errno::EINVAL),
        (s, _) => Ok(s),
    }
}

impl InetSocket {
    /// socket(2) for AF_INET (`v6` false) or AF_INET6.
    pub fn new(v6: bool, kind: u32, protocol: i32) -> KResult<Arc<InetSocket>> {
        let domain = if v6 { Domain::V6 } else { Domain::V4 };
        let proto = match (kind, protocol) {
            (SOCK_STREAM, 0 | IPPROTO_TCP) => Proto::Tcp(Tcp::new(domain)),
            (SOCK_DGRAM, 0 | IPPROTO_UDP) => Proto::Udp(Udp::new(domain)),
            (SOCK_DGRAM, IPPROTO_UDPLITE) => Proto::UdpLite(UdpLite::new(domain)),
            (SOCK_DGRAM | SOCK_RAW, IPPROTO_ICMP) if !v6 => {
                Proto::Icmp(Icmp::new(domain, kind == SOCK_RAW))
            }
            (SOCK_DGRAM | SOCK_RAW, IPPROTO_ICMPV6) if v6 => {
                Proto::Icmp(Icmp::new(domain, kind == SOCK_RAW))
            }
            (SOCK_STREAM | SOCK_DGRAM | SOCK_RAW, _) => return Err(Errno::EPROTONOSUPPORT),
            _ => return Err(Errno::ESOCKTNOSUPPORT),
        };
        let wq = Arc::new(WaitQueue::new());
        let ino = crate::net::new_ino();
        let ns = crate::kernel::ns::current_net();
        let id = stack::op_in(ns.ino, |s| {
            s.insert(Sock::new(domain, proto, wq.clone(), ino))
        });
        Ok(Self::wrap(ns, id, domain, kind, wq, ino))
    }

    fn wrap(
        ns: Arc<crate::kernel::ns::Ns>,
        id: u64,
        domain: Domain,
        kind: u32,
        wq: Arc<WaitQueue>,
        ino: u64,
    ) -> Arc<InetSocket> {
        Arc::new(InetSocket {
            id,
            ns,
            domain,
            kind,
            ino,
            wq,
        })
    }

    /// Run `f` on this socket's state, then poll the stack.
    fn with<R>(&self, f: impl FnOnce(u64, &mut Sock, &mut Net) -> KResult<R>) -> KResult<R> {
        stack::op_in(self.ns.ino, |s| {
            let (k, net) = s.get(self.id)?;
            f(self.id, k, net)
        })
    }

    /// Look at this socket's state without polling.
    fn look<R>(&self, f: impl FnOnce(&mut Sock, &mut Net) -> KResult<R>) -> KResult<R> {
        stack::query_in(self.ns.ino, |s| {
            let (k, net) = s.get(self.id)?;
            f(k, net)
        })
    }

    /// The network namespace whose owner's CAP_NET_BIND_SERVICE binding
    /// to `a` needs: a TCP or UDP port below 1024 (Linux's
    /// inet_port_requires_bind_service, ip_unprivileged_port_start 1024).
    pub fn bind_needs_cap(&self, a: &[u8]) -> Option<&Arc<crate::kernel::ns::Ns>> {
        let ep = addr::parse(self.domain, a).ok()?;
        let ping = self.look(|k, _| Ok(matches!(k.proto, Proto::Icmp(_))));
        (ep.port != 0 && ep.port < 1024 && ping == Ok(false)).then_some(&self.ns)
    }

    /// bind(2) to a raw sockaddr.
    pub fn bind(&self, a: &[u8]) -> KResult<()> {
        let ep = addr::parse(self.domain, a)?;
        let scope = addr::scope_of(self.domain, a);
        self.with(|_, k, net| {
            if addr::is_link_local(ep.addr) {
                // Linux's __inet6_bind: a link-local address binds the
                // socket to its interface (the scope id, or the device
                // it is bound to already), which must have it.
                let dev = link_dev(scope, k.opts.bind_dev)?;
                let n = net
                    .ifaces
                    .iter()
                    .position(|i| i.index == dev)
                    .ok_or(Errno::ENODEV)?;
                if !net.ifaces[n].has_addr(ep.addr) {
                    return Err(Errno::EADDRNOTAVAIL);
                }
                k.opts.bind_dev = Some(dev);
            }
            Ok(())
        })?;
        self.with(|id, k, net| match &mut k.proto {
            Proto::Tcp(t) => t.bind(id, net, ep, &k.opts),
            Proto::Udp(u) => u.bind(id, net, ep, &k.opts),
            Proto::UdpLite(u) => u.bind(id, net, ep, &k.opts),
            Proto::Icmp(i) => i.bind(net, ep.addr, ep.port),
        })
    }

    /// listen(2).
    pub fn listen(&self, backlog: i32) -> KResult<()> {
        self.with(|id, k, net| {
            let opts = k.opts.clone();
            tcp_of(k)?.listen(id, net, backlog, &opts)
        })
    }

    /// connect(2). EINPROGRESS for non-blocking sockets; EAGAIN means a
    /// blocking caller sleeps and calls again.
    pub fn connect(&self, a: &[u8], nonblocking: bool) -> KResult<()> {
        if self.kind != SOCK_STREAM {
            let ep = match addr::family_of(a) {
                AF_UNSPEC if a.len() >= 2 => None,
                _ => Some(addr::parse(self.domain, a)?),
            };
            let scope = addr::scope_of(self.domain, a);
            return self.with(|id, k, net| match &mut k.proto {
                Proto::Udp(u) => {
                    if ep.is_some_and(|e| addr::is_link_local(e.addr)) {
                        k.opts.bind_dev = Some(link_dev(scope, k.opts.bind_dev)?);
                    }
                    u.connect(id, net, ep, &k.opts)
                }
                Proto::UdpLite(u) => {
                    if ep.is_some_and(|e| addr::is_link_local(e.addr)) {
                        k.opts.bind_dev = Some(link_dev(scope, k.opts.bind_dev)?);
                    }
                    u.connect(id, net, ep, &k.opts)
                }
                Proto::Icmp(i) => {
                    i.connect(ep.map(|e| e.addr));
                    Ok(())
                }
                _ => Err(Errno::EOPNOTSUPP),
            });
        }
        let ep = addr::parse(self.domain, a)?;
        let scope = addr::scope_of(self.domain, a);
        stack::op_in(self.ns.ino, |s| {
            let begin = {
                let (k, net) = s.get(self.id)?;
                if addr::is_link_local(ep.addr) {
                    k.opts.bind_dev = Some(link_dev(scope, k.opts.bind_dev)?);
                }
                let opts = k.opts.clone();
                tcp_of(k)?.connect(self.id, net, ep, &opts)
            };
            let wait = match begin {
                Begin::Done(r) => return r,
                Begin::Started => {
                    // Loopback answers within this poll.
                    stack::poll_now(s);
                    if nonblocking {
                        return Err(Errno::EINPROGRESS);
                    }
                    true
                }
                Begin::InProgress => !nonblocking,
            };
            if !wait {
                return Err(Errno::EALREADY);
            }
            let (k, _) = s.get(self.id)?;
            tcp_of(k)?.connect_result()
        })
    }

    /// accept(2): a new socket and its peer's sockaddr (EAGAIN: none yet).
    pub fn accept(&self) -> KResult<(Arc<InetSocket>, Vec<u8>)> {
        let (id, wq, ino, peer) = stack::op_in(self.ns.ino, |s: &mut Stack| {
            let (k, net) = s.get(self.id)?;
            let t = tcp_of(k)?;
            let h = t.accept()?;
            let conn = Tcp::accepted(t, net, h);
            let local = conn.sockname(net);
            let peer = conn
                .peername(net)
                .unwrap_or(IpEndpoint::new(self.domain.any(), 0));
            let b = Binding {
                id: 0,
                dual: false,
                addr: local.addr,
                // Accepted sockets inherit the listener's options.
                reuse: k.opts.reuseaddr,
                listening: false,
                time_wait: false,
            };
            let opts = k.opts.clone();
            let wq = Arc::new(WaitQueue::new());
            let ino = crate::net::new_ino();
            let mut sock = Sock::new(self.domain, Proto::Tcp(conn), wq.clone(), ino);
            sock.opts = opts;
            let id = s.insert(sock);
            s.net
                .ports
                .share(PortProto::Tcp, local.port, Binding { id, ..b });
            let scope = s.net.scope_of(peer.addr);
            Ok((id, wq, ino, addr::format_scoped(self.domain, peer, scope)))
        })?;
        Ok((
            Self::wrap(self.ns.clone(), id, self.domain, self.kind, wq, ino),
            peer,
        ))
    }

    /// send(2)/sendto(2): bytes taken. `dest` is ignored by stream sockets.
    /// A `blocking` stream send of what fits the send buffer goes in whole
    /// (EAGAIN until there is room), as Linux's does; a larger one may come
    /// back short, since a re-run syscall cannot carry on a partial write.
    pub fn send(&self, data: &[u8], dest: Option<&[u8]>, blocking: bool) -> KResult<usize> {
        self.send_msg(data, dest, blocking, &[])
    }

    /// sendmsg(2): `send` with control messages (UDP: `cmsg::send_ctl`).
    pub fn send_msg(
        &self,
        data: &[u8],
        dest: Option<&[u8]>,
        blocking: bool,
        cmsgs: &[Cmsg],
    ) -> KResult<usize> {
        if self.kind != SOCK_STREAM {
            let scope = dest.map_or(0, |a| addr::scope_of(self.domain, a));
            let dest = dest.map(|a| addr::parse(self.domain, a)).transpose()?;
            return self.with(|id, k, net| {
                // A link-local destination goes out of the interface its
                // scope id names (this send only).
                let mut opts = k.opts.clone();
                // (Without one the route decides: Linux's lookup finds
                // none, ENETUNREACH, where Linux's connect says EINVAL.)
                if scope != 0 && dest.is_some_and(|e| addr::is_link_local(e.addr)) {
                    opts.bind_dev = Some(link_dev(scope, opts.bind_dev)?);
                }
                match &mut k.proto {
                    Proto::Udp(u) => {
                        let ctl = cmsg::send_ctl(self.domain, cmsgs, net)?;
                        if ctl.ifindex != 0 {
                            opts.bind_dev = Some(ctl.ifindex);
                        }
                        u.send(id, net, data, dest, &opts, &ctl)
                    }
                    Proto::UdpLite(u) => {
                        let ctl = cmsg::send_ctl(self.domain, cmsgs, net)?;
                        if ctl.ifindex != 0 {
                            opts.bind_dev = Some(ctl.ifindex);
                        }
                        u.send(id, net, data, dest, &opts, &ctl)
                    }
                    Proto::Icmp(i) => {
                        // ICMP sockets follow SO_BINDTODEVICE for IPv6 only.
                        let dev = if self.domain == Domain::V6 {
                            opts.bind_dev
                        } else {
                            None
                        };
                        i.send(id, net, data, dest.map(|e| e.addr), dev)
                    }
                    _ => Err(Errno::EOPNOTSUPP),
                }
            });
        }
        stack::op_in(self.ns.ino, |s| {
            if blocking {
                let (k, net) = s.get(self.id)?;
                if let Some((room, size)) = tcp_of(k)?.room(net) {
                    if room < data.len() && data.len() <= size {
                        return Err(Errno::EAGAIN);
                    }
                }
            }
            let mut done = 0;
            loop {
                let (k, net) = s.get(self.id)?;
                match tcp_of(k)?.send(net, &data[done..]) {
                    Ok(n) => done += n,
                    Err(_) if done > 0 => break,
                    Err(e) => return Err(e),
                }
                if done == data.len() {
                    break;
                }
                // Push what is queued out (on loopback, into the peer's
                // buffer) and take more while there is room.
                stack::poll_now(s);
            }
            Ok(done)
        })
    }

    /// recv(2)/recvfrom(2) of up to `max` bytes; `waitall`: MSG_WAITALL
    /// on a stream.
    pub fn recv(&self, max: usize, peek: bool, waitall: bool) -> KResult<Received> {
        Ok(self.recv_msg(max, peek, waitall)?.0)
    }

    /// recvmsg(2): `recv` and the control messages that come with it.
    pub fn recv_msg(
        &self,
        max: usize,
        peek: bool,
        waitall: bool,
    ) -> KResult<(Received, Vec<Cmsg>)> {
        self.with(|_, k, net| match &mut k.proto {
            Proto::Tcp(t) => {
                let v = t.recv(net, max, peek, waitall)?;
                let n = v.len();
                Ok(((v, None, n), Vec::new()))
            }
            Proto::Udp(u) => {
                let (v, from, full, info) = u.recv(net, max, peek)?;
                let scope = net.scope_of(from.addr);
                let from = addr::format_scoped(self.domain, from, scope);
                let c = cmsg::received(self.domain, &k.opts.rx, &info);
                Ok(((v, Some(from), full), c))
            }
            Proto::UdpLite(u) => {
                let (v, from, full, info) = u.recv(max, peek)?;
                let scope = net.scope_of(from.addr);
                let from = addr::format_scoped(self.domain, from, scope);
                let c = cmsg::received(self.domain, &k.opts.rx, &info);
                Ok(((v, Some(from), full), c))
            }
            Proto::Icmp(i) => {
                let (v, from, full) = i.recv(net, max)?;
                let scope = net.scope_of(from);
                let ep = IpEndpoint::new(from, 0);
                let from = addr::format_scoped(self.domain, ep, scope);
                Ok(((v, Some(from), full), Vec::new()))
            }
        })
    }

    /// shutdown(2).
    pub fn shutdown(&self, how: i32) -> KResult<()> {
        self.with(|_, k, net| match &mut k.proto {
            Proto::Tcp(t) => t.shutdown(net, how),
            Proto::Udp(u) => u.a.shutdown(how),
            Proto::UdpLite(u) => u.a.shutdown(how),
            Proto::Icmp(_) => Ok(()),
        })
    }

    /// getsockname(2).
    pub fn sockname(&self) -> KResult<Vec<u8>> {
        self.look(|k, net| {
            let ep = match &k.proto {
                Proto::Tcp(t) => t.sockname(net),
                Proto::Udp(u) => u.a.sockname(),
                Proto::UdpLite(u) => u.a.sockname(),
                Proto::Icmp(i) => {
                    let (a, ident) = i.sockname();
                    IpEndpoint::new(a, ident)
                }
            };
            Ok(addr::format_scoped(self.domain, ep, net.scope_of(ep.addr)))
        })
    }

    /// getpeername(2).
    pub fn peername(&self) -> KResult<Vec<u8>> {
        self.look(|k, net| {
            let ep = match &k.proto {
                Proto::Tcp(t) => t.peername(net)?,
                Proto::Udp(u) => u.a.peername()?,
                Proto::UdpLite(u) => u.a.peername()?,
                Proto::Icmp(i) => IpEndpoint::new(i.peername()?, 0),
            };
            Ok(addr::format_scoped(self.domain, ep, net.scope_of(ep.addr)))
        })
    }

    /// getsockopt(2).
    pub fn getsockopt(&self, level: i32, opt: i32) -> KResult<Vec<u8>> {
        // SO_ERROR clears the error, which changes what poll reports.
        self.with(|_, k, net| options::get(k, net, level, opt))
    }

    /// setsockopt(2).
    pub fn setsockopt(&self, level: i32, opt: i32, val: &[u8]) -> KResult<()> {
        self.with(|id, k, net| options::set(id, k, net, level, opt, val))
    }
}

impl Drop for InetSocket {
    fn drop(&mut self) {
        stack::op_in(self.ns.ino, |s| s.close(self.id));
    }
}

impl FileOps for InetSocket {
    /// O_ASYNC: SIGIO when data or a connection arrives, the peer goes,
    /// or a TCP socket can send again (`stack::poll`).
    fn fasync(
        &self,
        f: &Arc<File>,
        fd: i32,
        on: bool,
        _t: &Arc<crate::kernel::task::Task>,
    ) -> bool {
        if let Ok(l) = self.look(|k, _| Ok(k.fasync.clone())) {
            l.set(f, fd, on);
        }
        true
    }
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        let (v, _, _) = self.recv(buf.len(), false, false)?;
        buf[..v.len()].copy_from_slice(&v);
        Ok(v.len())
    }
    fn write(&self, f: &File, buf: &[u8]) -> KResult<usize> {
        self.send(buf, None, !f.nonblocking())
    }
    fn poll(&self, _f: &File) -> u32 {
        self.look(|k, net| Ok(k.readiness(net))).unwrap_or(0)
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.wq.clone())
    }
    fn io_timeout(&self, write: bool) -> Option<i64> {
        let tv = self.look(|k, _| Ok(k.opts.timeouts[write as usize])).ok()?;
        let (sec, usec) = (tv.tv_sec, tv.tv_usec);
        let ns = sec
            .saturating_mul(1_000_000_000)
            .saturating_add(usec * 1000);
        // Zero means no timeout.
        (ns > 0).then_some(ns)
    }
    fn ioctl(&self, f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        // Interface ioctls act in the socket's namespace.
        crate::kernel::ns::with_socket_net(&self.ns, || self.ioctl_here(f, t, cmd, arg))
    }
    fn stat(&self) -> Option<Stat> {
        Some(crate::net::socket_stat(self.ino))
    }
    fn name(&self) -> Option<String> {
        Some(format!("socket:[{}]", self.ino))
    }
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
}

impl InetSocket {
    fn ioctl_here(&self, _f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        use super::ifconfig6::{SIOCDIFADDR, SIOCSIFADDR};
        if self.domain == Domain::V6 && matches!(cmd, SIOCSIFADDR | SIOCDIFADDR) {
            // AF_INET6 sockets take a struct in6_ifreq (inet6_ioctl).
            if !crate::kernel::ns::net_admin(t) {
                return Err(Errno::EPERM);
            }
            let size = core::mem::size_of::<crate::abi::net::In6Ifreq>();
            let req = t.mm().read_vec(arg, size)?;
            super::ifconfig6::in6_ifreq(cmd, &req)?;
            return Ok(0);
        }
        if let Some(r) = super::netdev::socket_ioctl(t, cmd, arg) {
            return r;
        }
        let n = match cmd {
            FIONREAD => self.look(|k, net| match &k.proto {
                Proto::Tcp(t) => t.unread(net),
                Proto::Udp(u) => Ok(u.unread(net)),
                Proto::UdpLite(u) => Ok(u.unread()),
                Proto::Icmp(_) => Ok(0),
            })?,
            SIOCOUTQ => self.look(|k, net| match &k.proto {
                Proto::Tcp(t) => Ok(t.unsent(net)),
                Proto::Udp(u) => Ok(u.unsent(net)),
                Proto::UdpLite(_) | Proto::Icmp(_) => Ok(0),
            })?,
            _ => return Err(Errno::ENOTTY),
        };
        t.mm().write_u32(arg, n.min(i32::MAX as usize) as u32)?;
        Ok(0)
    }
}
