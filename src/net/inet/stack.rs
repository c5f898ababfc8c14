//! The network stacks, one per network namespace: the interface list, the
//! port table, every internet socket's state, behind one lock. The
//! initial namespace's stack has `lo` and the host's devices; a new
//! namespace's has only `lo`, down and without addresses until brought
//! up, as Linux. Each is made at its first use and forgotten when its
//! namespace goes (`drop_ns`); sockets keep their namespace alive. Every operation that may produce
//! packets ends with a poll of the interfaces; after it, sockets whose
//! readiness changed wake their sleepers. smoltcp's timers (retransmits,
//! TIME-WAIT) are one more deadline of the scheduler (`next_timer`,
//! `run_timers`), so an idle guest stays tickless.

use super::iface::Iface;
use super::ports::Ports;
use super::sock::{Proto, Sock};
use super::tcp::{TimeWait, TIME_WAIT_NS};
use crate::fs::file::{POLLHUP, POLLIN};
use crate::fs::fown::{FasyncList, POLL_HUP, POLL_IN, POLL_OUT};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::lock;
use crate::kernel::time;
use smoltcp::iface::SocketHandle;
use smoltcp::time::Instant;
use smoltcp::wire::IpAddress;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// Rounds of poll + settle per operation at most (settling may queue
/// packets: resets of orphaned connections, fresh listeners).
const MAX_ROUNDS: usize = 8;

/// The interfaces and the ports: what protocol code needs besides its own
/// socket.
pub struct Net {
    pub ifaces: Vec<Iface>,
    pub ports: Ports,
    /// smoltcp sockets already given up (aborted or half-made), removed
    /// once their reset has gone out: (interface, handle, polls seen).
    pub dying: Vec<(usize, SocketHandle, u8)>,
    /// Closed connections in TIME-WAIT, holding their ports.
    pub time_wait: Vec<TimeWait>,
    /// The IPv4 and IPv6 routes added by hand (`route::Route`).
    pub routes: Vec<super::route::Route>,
}

impl Net {
    /// The interface that has address `a`.
    pub fn owner_of(&self, a: IpAddress) -> Option<usize> {
        self.ifaces.iter().position(|i| i.has_addr(a))
    }

    /// The interface and source address to reach `dst`: an interface on
    /// its subnet, else the routing table's choice.
    pub fn route(&self, dst: IpAddress) -> KResult<(usize, IpAddress)> {
        let connected = self
            .ifaces
            .iter()
            .enumerate()
            .find_map(|(n, i)| i.source_for(dst).map(|s| (n, s)));
        if let Some(r) = connected {
            return Ok(r);
        }
        let (n, _) = super::route::lookup(self, dst).ok_or(Errno::ENETUNREACH)?;
        let src = self.ifaces[n]
            .routed_source(dst)
            .ok_or(Errno::ENETUNREACH)?;
        Ok((n, src))
    }

    /// `route`, for a socket bound to interface `dev` (SO_BINDTODEVICE):
    /// only that interface's subnets and routes count.
    pub fn route_dev(&self, dst: IpAddress, dev: Option<u32>) -> KResult<(usize, IpAddress)> {
        let Some(ix) = dev else {
            return self.route(dst);
        };
        let n = self
            .ifaces
            .iter()
            .position(|i| i.index == ix)
            .ok_or(Errno::ENODEV)?;
        let i = &self.ifaces[n];
        if let Some(s) = i.source_for(dst) {
            return Ok((n, s));
        }
        super::route::lookup_on(self, dst, n).ok_or(Errno::ENETUNREACH)?;
        let src = i.routed_source(dst).ok_or(Errno::ENETUNREACH)?;
        Ok((n, src))
    }

    /// The interface index a link-local address belongs with: the
    /// interface that has it, else the one that reaches it (0 for other
    /// addresses), for sin6_scope_id.
    pub fn scope_of(&self, a: IpAddress) -> u32 {
        if !super::addr::is_link_local(a) {
            return 0;
        }
        let n = self
            .owner_of(a)
            .or_else(|| self.route(a).ok().map(|(n, _)| n));
        n.map_or(0, |n| self.ifaces[n].index)
    }

    /// Give up smoltcp socket `h` of interface `i` (its reset, if any, goes
    /// out at the next poll).
    pub fn bury(&mut self, i: usize, h: SocketHandle) {
        self.dying.push((i, h, 0));
    }

    /// Give back the ports of TIME-WAIT records that have run out. Done
    /// lazily before each operation: only a bind or connect cares.
    fn expire_time_wait(&mut self) {
        let now = time::monotonic_ns();
        let ports = &mut self.ports;
        self.time_wait.retain(|tw| {
            if tw.until > now {
                return true;
            }
            ports.release(tw.id);
            false
        });
    }

    fn reap(&mut self) {
        let ifaces = &mut self.ifaces;
        self.dying.retain_mut(|(i, h, polls)| {
            *polls += 1;
            if *polls < 2 {
                return true;
            }
            ifaces[*i].sockets.remove(*h);
            false
        });
    }
}

pub struct Stack {
    pub net: Net,
    pub socks: BTreeMap<u64, Sock>,
    next_id: u64,
    /// When smoltcp next wants this stack polled (kernel monotonic ns;
    /// MAX: never).
    next_poll: i64,
    /// SIGIO to send once the stack lock is released (O_ASYNC sockets
    /// whose poll saw an event; the signal code).
    sigio: Vec<(Arc<FasyncList>, i32)>,
}

/// The stacks by network namespace id (its nsfs inode number).
static STACKS: Mutex<BTreeMap<u64, Stack>> = Mutex::new(BTreeMap::new());
/// Namespaces gone since the last operation: their stacks are dropped at
/// the next one (a namespace may go while STACKS is held, when an
/// operation drops the last socket of it).
static DEAD: Mutex<Vec<u64>> = Mutex::new(Vec::new());
/// SIGIO that code running inside a poll or an operation (packet sockets'
/// taps of the devices) wants sent once the stacks' lock is released, as
/// the polls' own: signalling may drop the last hold on a socket's file,
/// and closing a socket takes the lock.
static DEFERRED: Mutex<Vec<(Arc<FasyncList>, i32)>> = Mutex::new(Vec::new());
/// When smoltcp next wants a poll of any stack (kernel monotonic ns;
/// MAX: never).
static NEXT_POLL: AtomicI64 = AtomicI64::new(i64::MAX);
/// The initial network namespace: the host's interfaces live in it.
pub const INIT_NET: u64 = crate::kernel::ns::INIT_NET;

pub fn now() -> Instant {
    Instant::from_micros(time::monotonic_ns() / 1000)
}

impl Stack {
    /// The stack of namespace `ns`: the initial one gets `lo` (up) and the
    /// host's devices, another only `lo`, down.
    fn new(ns: u64) -> Stack {
        let mut seed = [0u8; 8];
        crate::drivers::char::host_console::host_random(&mut seed);
        let seed = u64::from_le_bytes(seed);
        let mut ports = Ports::default();
        ports.seed(seed >> 16);
        let mut ifaces = Vec::new();
        if ns == INIT_NET {
            let lo = Iface::loopback(now(), seed);
            log::debug!("net: {} up", lo.name);
            ifaces.push(lo);
            let devs = crate::drivers::net::stack_devices();
            for (n, (name, mac, dev)) in devs.into_iter().enumerate() {
                let seed = seed.rotate_left(n as u32 + 1);
                ifaces.push(Iface::ethernet(&name, dev, mac, now(), seed));
            }
            super::neigh::flush(None);
        } else {
            log::debug!("net: new stack for namespace {ns}");
            ifaces.push(Iface::loopback_down(now(), seed));
        }
        for (n, i) in ifaces.iter_mut().enumerate() {
            i.index = n as u32 + 1;
        }
        Stack {
            net: Net {
                ifaces,
                ports,
                dying: Vec::new(),
                time_wait: Vec::new(),
                routes: Vec::new(),
            },
            socks: BTreeMap::new(),
            sigio: Vec::new(),
            next_id: 1,
            next_poll: i64::MAX,
        }
    }

    /// A new socket's id.
    pub fn insert(&mut self, s: Sock) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.socks.insert(id, s);
        id
    }

    /// Socket `id` and the rest of the stack.
    pub fn get(&mut self, id: u64) -> KResult<(&mut Sock, &mut Net)> {
        let s = self.socks.get_mut(&id).ok_or(Errno::EBADF)?;
        Ok((s, &mut self.net))
    }

    /// Run every interface, settle protocol state, and wake the sleepers of
    /// sockets whose readiness changed.
    fn poll(&mut self) {
        let t = now();
        for _ in 0..MAX_ROUNDS {
            for i in self.net.ifaces.iter_mut() {
                i.poll(t);
            }
            super::ndisc::run(&mut self.net, t);
            self.net.reap();
            super::udplite::deliver(&mut self.net, &mut self.socks);
            if !self.settle() {
                break;
            }
        }
        for s in self.socks.values_mut() {
            let m = s.readiness(&self.net);
            let (readable, room) = match &s.proto {
                Proto::Tcp(t) => (t.readable(&self.net), t.room(&self.net).map_or(0, |r| r.0)),
                Proto::Udp(u) => (u.queued(&self.net), 0),
                Proto::UdpLite(u) => (u.queued(), 0),
                _ => (0, 0),
            };
            if m != s.mask || readable > s.readable || room > s.room {
                s.wq.wake_all();
            }
            if s.fasync.armed() {
                // As Linux's sk_wake_async: POLL_IN for data (or a
                // connection to accept) arriving, POLL_HUP when the
                // connection is gone, POLL_OUT when a TCP socket can send
                // again (its connect completed, its buffer drained).
                let new = m & !s.mask;
                let tcp = matches!(s.proto, Proto::Tcp(_));
                // (Room from none: connected, or the buffer drained.)
                if new & POLLHUP != 0 {
                    self.sigio.push((s.fasync.clone(), POLL_HUP));
                } else if new & POLLIN != 0 || readable > s.readable {
                    self.sigio.push((s.fasync.clone(), POLL_IN));
                }
                if tcp && s.room == 0 && room > 0 {
                    self.sigio.push((s.fasync.clone(), POLL_OUT));
                }
            }
            s.mask = m;
            s.readable = readable;
            s.room = room;
        }
        let ndisc_due = super::ndisc::next_due(&self.net);
        let next = self
            .net
            .ifaces
            .iter_mut()
            .filter_map(|i| i.poll_at(t))
            .chain(ndisc_due)
            .min()
            // A timer smoltcp wants now already ran in this poll: the
            // floor keeps a stuck one from spinning the vCPU.
            .map(|at| {
                time::monotonic_ns()
                    + ((at.total_micros() - t.total_micros()) * 1000).max(1_000_000)
            });
        self.next_poll = next.unwrap_or(i64::MAX);
    }

    /// Protocol bookkeeping after packets moved; true when it queued
    /// packets of its own. Orphans whose connection is over go away.
    fn settle(&mut self) -> bool {
        let mut more = false;
        let mut gone = Vec::new();
        let mut waiting = Vec::new();
        for (&id, s) in self.socks.iter_mut() {
            if let Proto::Tcp(t) = &mut s.proto {
                more |= t.settle(id, &mut self.net, &s.opts, s.orphan);
                if !s.orphan {
                    continue;
                }
                if let Some((local, remote)) = t.time_wait(&self.net) {
                    waiting.push((id, local, remote));
                } else if t.finished(&self.net) {
                    gone.push(id);
                }
            }
        }
        for id in gone {
            self.remove(id);
        }
        let until = time::monotonic_ns() + TIME_WAIT_NS;
        for (id, local, remote) in waiting {
            let Some(s) = self.socks.remove(&id) else {
                continue;
            };
            if let Proto::Tcp(t) = s.proto {
                t.discard(&mut self.net);
            }
            self.net.ports.set_time_wait(id);
            self.net.time_wait.push(TimeWait {
                id,
                until,
                domain: s.domain,
                local,
                remote,
            });
        }
        more
    }

    /// The file of socket `id` was closed: a connection still closing
    /// stays as an orphan (it holds its port through TIME-WAIT).
    pub fn close(&mut self, id: u64) {
        let Some(k) = self.socks.get_mut(&id) else {
            return;
        };
        let linger = match &mut k.proto {
            Proto::Tcp(t) => t.close(&mut self.net, &k.opts),
            Proto::Udp(_) | Proto::UdpLite(_) | Proto::Icmp(_) => false,
        };
        if linger {
            k.orphan = true;
        } else {
            self.remove(id);
        }
    }

    /// Forget socket `id` and free what it holds.
    pub fn remove(&mut self, id: u64) {
        if let Some(s) = self.socks.remove(&id) {
            match s.proto {
                Proto::Tcp(t) => t.free(&mut self.net),
                Proto::Udp(u) => u.free(&mut self.net),
                Proto::UdpLite(_) => {}
                Proto::Icmp(i) => i.free(&mut self.net),
            }
        }
        self.net.ports.release(id);
    }
}

/// The stacks, with those of namespaces gone since the last call dropped.
fn stacks() -> std::sync::MutexGuard<'static, BTreeMap<u64, Stack>> {
    let dead = std::mem::take(&mut *lock(&DEAD));
    let mut g = lock(&STACKS);
    for ns in dead {
        g.remove(&ns);
    }
    g
}

/// When the first of the stacks' timers is due.
fn update_next_poll(g: &BTreeMap<u64, Stack>) {
    let next = g.values().map(|s| s.next_poll).min().unwrap_or(i64::MAX);
    NEXT_POLL.store(next, Ordering::Relaxed);
}

/// Run `f` on the current network namespace's stack without polling
/// (queries: interface listings, /proc/net, netlink).
pub fn query<R>(f: impl FnOnce(&mut Stack) -> R) -> R {
    query_in(crate::kernel::ns::current_net().ino, f)
}

/// `query` on namespace `ns`'s stack.
pub fn query_in<R>(ns: u64, f: impl FnOnce(&mut Stack) -> R) -> R {
    let mut g = stacks();
    f(g.entry(ns).or_insert_with(|| Stack::new(ns)))
}

/// Run `f` on the current network namespace's stack, then poll: `f` may
/// have queued packets or changed what sockets are ready for.
pub fn op<R>(f: impl FnOnce(&mut Stack) -> R) -> R {
    op_in(crate::kernel::ns::current_net().ino, f)
}

/// `op` on namespace `ns`'s stack (a socket's own).
pub fn op_in<R>(ns: u64, f: impl FnOnce(&mut Stack) -> R) -> R {
    let mut g = stacks();
    let s = g.entry(ns).or_insert_with(|| Stack::new(ns));
    s.net.expire_time_wait();
    let r = f(s);
    s.poll();
    let sigio = std::mem::take(&mut s.sigio);
    update_next_poll(&g);
    drop(g);
    send_sigio(sigio);
    r
}

/// Send the SIGIO a poll queued and the deferred ones, with the stacks'
/// lock released.
fn send_sigio(mut sigio: Vec<(Arc<FasyncList>, i32)>) {
    sigio.append(&mut lock(&DEFERRED));
    for (l, reason) in sigio {
        l.kill(reason);
    }
}

/// Send SIGIO `reason` to `l`'s owners once the stacks' lock is released
/// (`l` is armed, and the caller may hold the lock).
pub fn defer_sigio(l: Arc<FasyncList>, reason: i32) {
    lock(&DEFERRED).push((l, reason));
}

/// Poll once in the middle of an operation (a large send pushes data out
/// and makes room before taking more).
pub fn poll_now(s: &mut Stack) {
    s.poll();
}

/// When a stack's next timer is due (kernel monotonic ns), if any.
pub fn next_timer() -> Option<i64> {
    let n = NEXT_POLL.load(Ordering::Relaxed);
    (n != i64::MAX).then_some(n)
}

/// Poll the stacks whose timer is due at `now`.
pub fn run_timers(now_ns: i64) {
    if !next_timer().is_some_and(|d| d <= now_ns) {
        return;
    }
    let mut g = stacks();
    let mut sigio = Vec::new();
    for s in g.values_mut().filter(|s| s.next_poll <= now_ns) {
        s.next_poll = i64::MAX;
        s.net.expire_time_wait();
        s.poll();
        sigio.append(&mut s.sigio);
    }
    update_next_poll(&g);
    drop(g);
    send_sigio(sigio);
}

/// Network namespace `ns` is gone: its stack goes at the next operation.
pub fn drop_ns(ns: u64) {
    lock(&DEAD).push(ns);
}

/// A hot-plugged device (mconsole `config ethN=`): one more interface,
/// after the others (their positions, which sockets and routes hold,
/// stay), with the next interface index. A stack not made yet finds the
/// device among the driver's when it is.
pub fn add_device(name: &str, mac: [u8; 6], dev: Box<dyn crate::net::inet::device::NetDevice>) {
    let mut g = stacks();
    let Some(s) = g.get_mut(&INIT_NET) else {
        return;
    };
    let mut seed = [0u8; 8];
    crate::drivers::char::host_console::host_random(&mut seed);
    let mut i = Iface::ethernet(name, dev, mac, now(), u64::from_le_bytes(seed));
    i.index = s.net.ifaces.iter().map(|i| i.index).max().unwrap_or(0) + 1;
    s.net.ifaces.push(i);
}

/// Unplug interface `name` (mconsole `remove ethN`): EBUSY while it is
/// up (UML refuses to remove an open device), ENODEV when there is none.
/// Its routes and addresses go, its device is replaced by one that drops
/// everything, and it stays as a nameless placeholder.
pub fn remove_device(name: &str) -> KResult<()> {
    let mut g = stacks();
    let Some(s) = g.get_mut(&INIT_NET) else {
        // No stack yet: the driver's list is all there is.
        return Ok(());
    };
    let n = s
        .net
        .ifaces
        .iter()
        .position(|i| !i.removed && i.name == name)
        .ok_or(Errno::ENODEV)?;
    if s.net.ifaces[n].up {
        return Err(Errno::EBUSY);
    }
    s.net.routes.retain(|r| r.iface != n);
    let i = &mut s.net.ifaces[n];
    i.iface.update_ip_addrs(|a| a.clear());
    i.iface.routes_mut().update(|r| r.clear());
    i.dev = Box::new(crate::net::inet::device::Unplugged);
    // A NUL cannot be in a name a guest passes: nothing finds it by name.
    i.name = format!("\0{name}");
    i.index = 0;
    i.removed = true;
    Ok(())
}

/// Forget every stack (reboot).
pub fn reset() {
    lock(&STACKS).clear();
    lock(&DEAD).clear();
    NEXT_POLL.store(i64::MAX, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_namespace_has_only_lo_down_and_goes_with_it() {
        // An id no namespace of the initial set or the allocator uses.
        let ns = 0xF_FFFF_0001;
        let (names, up, addrs) = query_in(ns, |s| {
            let names: Vec<String> = s.net.ifaces.iter().map(|i| i.name.clone()).collect();
            let lo = &s.net.ifaces[0];
            (names, lo.up, lo.iface.ip_addrs().len())
        });
        assert_eq!(names, ["lo"]);
        assert!(!up);
        assert_eq!(addrs, 0);
        // Nothing reaches 127.0.0.1 there while lo is down.
        let r = query_in(ns, |s| s.net.route(IpAddress::v4(127, 0, 0, 1)).err());
        assert_eq!(r, Some(Errno::ENETUNREACH));
        drop_ns(ns);
        assert!(!stacks().contains_key(&ns));
    }
}
