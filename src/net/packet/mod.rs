//! AF_PACKET sockets: link-level frames of the Ethernet interfaces.
//! SOCK_RAW sockets see and send whole frames, SOCK_DGRAM ones the
//! payload with the link header built or taken off by the kernel. The
//! device layer (`net::inet::device`) shows every frame to `tap` on its way
//! in (before smoltcp sees it) and out (frames smoltcp and packet sockets
//! send); `tap` copies it to each matching socket's queue, through its
//! filter (`bpf`). Only root may open one (CAP_NET_RAW).

pub mod bpf;

use crate::abi::ioctl::FIONREAD;
use crate::abi::{
    self,
    net::{SockaddrLl, AF_PACKET},
};
use crate::fs::file::{File, FileOps, POLLIN, POLLOUT};
use crate::fs::fown::{FasyncList, POLL_IN};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use crate::kernel::wait::WaitQueue;
use crate::net::inet::{device, stack};
use bpf::Filter;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

pub const SOCK_DGRAM: u32 = 2;
pub const SOCK_RAW: u32 = 3;
/// Every protocol (host order; sockets hold protocols as given, in
/// network order).
pub const ETH_P_ALL: u16 = 0x0003;
const ETH_HLEN: usize = 14;
const ARPHRD_ETHER: u16 = 1;

pub const PACKET_HOST: u8 = 0;
pub const PACKET_BROADCAST: u8 = 1;
pub const PACKET_MULTICAST: u8 = 2;
pub const PACKET_OTHERHOST: u8 = 3;
pub const PACKET_OUTGOING: u8 = 4;

/// Frames a socket holds unread at most (about Linux's default receive
/// buffer of 212992 bytes in full-size frames); more are dropped.
const QUEUE_MAX: usize = 140;

/// The open packet sockets, for `tap`.
static SOCKETS: Mutex<Vec<Weak<PacketSocket>>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One frame waiting to be read: what the socket gets (after the filter's
/// cut) and where it came from.
struct Queued {
    data: Vec<u8>,
    from: SockaddrLl,
}

struct State {
    /// The protocol it receives, in network order (0: none yet).
    proto: u16,
    /// The interface it is bound to (0: all).
    ifindex: u32,
    queue: VecDeque<Queued>,
    filter: Option<Filter>,
}

pub struct PacketSocket {
    /// SOCK_RAW or SOCK_DGRAM.
    pub kind: u32,
    id: u64,
    pub ino: u64,
    state: Mutex<State>,
    wq: Arc<WaitQueue>,
    /// The descriptions that set O_ASYNC: SIGIO (POLL_IN) for each frame
    /// queued, sent once the stack's lock is released.
    fasync: Arc<FasyncList>,
}

impl PacketSocket {
    /// socket(AF_PACKET, kind, proto) for a caller with CAP_NET_RAW
    /// (`admin`): EPERM first, then ESOCKTNOSUPPORT, as Linux checks.
    pub fn new(kind: u32, proto: i32, admin: bool) -> KResult<Arc<PacketSocket>> {
        if !admin {
            return Err(Errno::EPERM);
        }
        if kind != SOCK_RAW && kind != SOCK_DGRAM {
            return Err(Errno::ESOCKTNOSUPPORT);
        }
        let s = Arc::new(PacketSocket {
            kind,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ino: crate::net::new_ino(),
            state: Mutex::new(State {
                proto: proto as u16,
                ifindex: 0,
                queue: VecDeque::new(),
                filter: None,
            }),
            wq: Arc::new(WaitQueue::new()),
            fasync: Arc::new(FasyncList::new()),
        });
        let mut all = lock(&SOCKETS);
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&s));
        Ok(s)
    }

    /// bind(2) to a sockaddr_ll: its protocol (if not 0) and interface
    /// (0: every one).
    pub fn bind(&self, a: &[u8]) -> KResult<()> {
        if a.len() < size_of::<SockaddrLl>() {
            return Err(Errno::EINVAL);
        }
        let sll: SockaddrLl = abi::read_at(a, 0);
        if sll.sll_family != AF_PACKET {
            return Err(Errno::EINVAL);
        }
        let index = sll.sll_ifindex;
        if index < 0 || (index > 0 && !iface_exists(index as u32)) {
            return Err(Errno::ENODEV);
        }
        let mut st = lock(&self.state);
        if sll.sll_protocol != 0 {
            st.proto = sll.sll_protocol;
        }
        st.ifindex = index as u32;
        Ok(())
    }

    /// getsockname: protocol, interface and its hardware address.
    pub fn sockname(&self) -> Vec<u8> {
        let (proto, index) = {
            let st = lock(&self.state);
            (st.proto, st.ifindex)
        };
        let mut a = SockaddrLl {
            sll_family: AF_PACKET,
            sll_protocol: proto,
            sll_ifindex: index as i32,
            ..Default::default()
        };
        if let Some(mac) = mac_of(index) {
            a.sll_hatype = ARPHRD_ETHER;
            a.sll_halen = 6;
            a.sll_addr[..6].copy_from_slice(&mac);
        }
        abi::bytes(&a).to_vec()
    }

    /// sendto/sendmsg: one frame (SOCK_RAW) or payload (SOCK_DGRAM, to
    /// the dest's hardware address), straight to the device.
    pub fn send(&self, data: &[u8], dest: Option<&[u8]>) -> KResult<usize> {
        let (mut proto, mut index) = {
            let st = lock(&self.state);
            (st.proto, st.ifindex)
        };
        let mut to = None;
        if let Some(d) = dest {
            let off = core::mem::offset_of!(SockaddrLl, sll_addr);
            if d.len() < off {
                return Err(Errno::EINVAL);
            }
            let mut b = [0u8; size_of::<SockaddrLl>()];
            let n = d.len().min(b.len());
            b[..n].copy_from_slice(&d[..n]);
            let sll: SockaddrLl = abi::read_at(&b, 0);
            if d.len() < off + sll.sll_halen as usize {
                return Err(Errno::EINVAL);
            }
            index = sll.sll_ifindex.max(0) as u32;
            proto = sll.sll_protocol;
            if sll.sll_halen >= 6 {
                let mut m = [0u8; 6];
                m.copy_from_slice(&sll.sll_addr[..6]);
                to = Some(m);
            }
        }
        if index == 0 {
            return Err(Errno::ENXIO);
        }
        let kind = self.kind;
        let id = self.id;
        stack::op(|s| {
            let i = s
                .net
                .ifaces
                .iter_mut()
                .find(|i| i.index == index)
                .ok_or(Errno::ENXIO)?;
            if !i.up {
                return Err(Errno::ENETDOWN);
            }
            // lo carries IP packets without a link header here.
            let mac = i.mac.ok_or(Errno::EOPNOTSUPP)?;
            let mtu = i.mtu_now();
            let frame = if kind == SOCK_RAW {
                if data.len() < ETH_HLEN {
                    return Err(Errno::EINVAL);
                }
                if data.len() > mtu + ETH_HLEN {
                    return Err(Errno::EMSGSIZE);
                }
                data.to_vec()
            } else {
                if data.len() > mtu {
                    return Err(Errno::EMSGSIZE);
                }
                let to = to.ok_or(Errno::EINVAL)?;
                let mut f = Vec::with_capacity(ETH_HLEN + data.len());
                f.extend_from_slice(&to);
                f.extend_from_slice(&mac);
                // The protocol is already in network order.
                f.extend_from_slice(&proto.to_ne_bytes());
                f.extend_from_slice(data);
                f
            };
            device::send_frame(&mut *i.dev, index, Some(mac), frame, id);
            Ok(data.len())
        })
    }

    /// The next frame: up to `max` bytes, its sender's sockaddr_ll and
    /// its full length (EAGAIN when none is queued).
    pub fn recv(&self, max: usize, peek: bool) -> KResult<(Vec<u8>, Vec<u8>, usize)> {
        let mut st = lock(&self.state);
        let q = st.queue.front().ok_or(Errno::EAGAIN)?;
        let r = (
            q.data[..max.min(q.data.len())].to_vec(),
            abi::bytes(&q.from).to_vec(),
            q.data.len(),
        );
        if !peek {
            st.queue.pop_front();
        }
        Ok(r)
    }

    /// SO_ATTACH_FILTER (the program's instructions) / SO_DETACH_FILTER.
    pub fn set_filter(&self, f: Option<Filter>) -> KResult<()> {
        let mut st = lock(&self.state);
        if f.is_none() && st.filter.is_none() {
            return Err(Errno::ENOENT);
        }
        st.filter = f;
        Ok(())
    }

    /// Bytes of the next frame (FIONREAD / SIOCINQ).
    pub fn next_len(&self) -> usize {
        lock(&self.state).queue.front().map_or(0, |q| q.data.len())
    }

    /// Offer frame `frame` of interface `index` to this socket.
    fn offer(&self, index: u32, own: Option<[u8; 6]>, frame: &[u8], outgoing: bool) {
        let ethertype = [frame[12], frame[13]];
        let mut st = lock(&self.state);
        let all = st.proto == ETH_P_ALL.to_be();
        if st.proto == 0 || (st.ifindex != 0 && st.ifindex != index) {
            return;
        }
        // Sent frames go to ETH_P_ALL sockets only, as Linux's taps.
        if outgoing && !all {
            return;
        }
        if !all && st.proto != u16::from_ne_bytes(ethertype) {
            return;
        }
        let data = if self.kind == SOCK_DGRAM {
            &frame[ETH_HLEN..]
        } else {
            frame
        };
        let keep = match &st.filter {
            Some(f) => f.run(data) as usize,
            None => data.len(),
        };
        if keep == 0 || st.queue.len() >= QUEUE_MAX {
            return;
        }
        let dst = &frame[..6];
        let pkttype = if outgoing {
            PACKET_OUTGOING
        } else if dst == [0xff; 6] {
            PACKET_BROADCAST
        } else if dst[0] & 1 != 0 {
            PACKET_MULTICAST
        } else if own.is_some_and(|m| m == dst) {
            PACKET_HOST
        } else {
            PACKET_OTHERHOST
        };
        let mut from = SockaddrLl {
            sll_family: AF_PACKET,
            sll_protocol: u16::from_ne_bytes(ethertype),
            sll_ifindex: index as i32,
            sll_hatype: ARPHRD_ETHER,
            sll_pkttype: pkttype,
            sll_halen: 6,
            ..Default::default()
        };
        from.sll_addr[..6].copy_from_slice(&frame[6..12]);
        st.queue.push_back(Queued {
            data: data[..keep.min(data.len())].to_vec(),
            from,
        });
        drop(st);
        self.wq.wake_all();
        if self.fasync.armed() {
            stack::defer_sigio(self.fasync.clone(), POLL_IN);
        }
    }
}

fn iface_exists(index: u32) -> bool {
    stack::query(|s| s.net.ifaces.iter().any(|i| i.index == index))
}

fn mac_of(index: u32) -> Option<[u8; 6]> {
    stack::query(|s| {
        s.net
            .ifaces
            .iter()
            .find(|i| i.index == index)
            .and_then(|i| i.mac)
    })
}

/// A frame of Ethernet interface `index` (MAC `own`) seen by the device
/// layer, `outgoing` or coming in: a copy for every packet socket that
/// wants it, except the one that sent it (`origin`, 0 for the stack).
pub fn tap(index: u32, own: Option<[u8; 6]>, frame: &[u8], outgoing: bool, origin: u64) {
    if frame.len() < ETH_HLEN {
        return;
    }
    let socks: Vec<Arc<PacketSocket>> = {
        let all = lock(&SOCKETS);
        if all.is_empty() {
            return;
        }
        all.iter().filter_map(|w| w.upgrade()).collect()
    };
    for s in socks {
        if s.id != origin {
            s.offer(index, own, frame, outgoing);
        }
    }
}

impl FileOps for PacketSocket {
    fn fasync_list(&self) -> Option<&FasyncList> {
        Some(self.fasync.as_ref())
    }
    fn ioctl(&self, _f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        if let Some(r) = crate::net::inet::netdev::socket_ioctl(t, cmd, arg) {
            return r;
        }
        if cmd == FIONREAD {
            t.mm().write_u32(arg, self.next_len() as u32)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        let (d, _, _) = self.recv(buf.len(), false)?;
        buf[..d.len()].copy_from_slice(&d);
        Ok(d.len())
    }
    fn poll(&self, _f: &File) -> u32 {
        let ready = !lock(&self.state).queue.is_empty();
        POLLOUT | if ready { POLLIN } else { 0 }
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.wq.clone())
    }
    fn into_any(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
    fn name(&self) -> Option<String> {
        Some(format!("socket:[{}]", self.ino))
    }
    fn stat(&self) -> Option<crate::fs::vfs::Stat> {
        Some(crate::net::socket_stat(self.ino))
    }
}
