//! AF_NETLINK, NETLINK_KOBJECT_UEVENT: the sockets udev and systemd's
//! device monitors listen on. Port ids (bind, autobind on first use) are
//! unique among these sockets; multicast group 1 carries the kernel's
//! uevents ("add@/devices/...\0ACTION=add\0..."), which `broadcast` sends
//! (mconsole hot-plug of ubd disks) to every member, through the socket's
//! classic BPF filter and with SCM_CREDENTIALS of the kernel (pid 0, uid
//! 0) under SO_PASSCRED. Other groups (udevd's own, group 2) carry what
//! processes send each other; sends to the kernel are accepted and
//! dropped, as a kernel that does not inject uevents.

use crate::abi::{
    self,
    net::{SockaddrNl, AF_NETLINK},
};
use crate::fs::file::{File, FileOps, POLLIN, POLLOUT};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::wait::WaitQueue;
use crate::net::packet::bpf::Filter;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

pub const NETLINK_KOBJECT_UEVENT: i32 = 15;

/// net.core.rmem_default / rmem_max.
const RMEM_DEFAULT: usize = 212_992;
pub const RMEM_MAX: i64 = 212_992;
/// Linux's SOCK_MIN_RCVBUF on x86_64.
pub const MIN_RCVBUF: i64 = 2304;

/// SOL_NETLINK option numbers that are flags.
pub const NETLINK_PKTINFO: i32 = 3;
pub const NETLINK_BROADCAST_ERROR: i32 = 4;
pub const NETLINK_NO_ENOBUFS: i32 = 5;
pub const NETLINK_CAP_ACK: i32 = 10;
pub const NETLINK_EXT_ACK: i32 = 11;
pub const NETLINK_GET_STRICT_CHK: i32 = 12;

/// One queued message: its bytes and the group it came on (0: unicast).
struct Datagram {
    data: Vec<u8>,
    group: u32,
}

struct State {
    /// Port id: 0 until bound, or the one a failed bind asked for
    /// (Linux keeps it, getsockname shows it).
    port: u32,
    bound: bool,
    /// nl_groups: the multicast groups 1..=32 it is a member of.
    groups: u32,
    queue: VecDeque<Datagram>,
    queued: usize,
    /// A message was dropped for want of room: the next receive says
    /// ENOBUFS (Linux's sk_err after netlink_overrun).
    overrun: bool,
    rcvbuf: usize,
    passcred: bool,
    filter: Option<Filter>,
    /// SOL_NETLINK flag options set (bit n: option n).
    nl_flags: u32,
}

/// A NETLINK_KOBJECT_UEVENT socket.
pub struct UeventSocket {
    /// SOCK_RAW or SOCK_DGRAM (the same to netlink; SO_TYPE says which).
    pub kind: u32,
    st: Mutex<State>,
    wq: Arc<WaitQueue>,
    fasync: crate::fs::fown::FasyncList,
    /// The SOL_SOCKET options of every socket (timeouts, SO_SNDBUF, ...).
    pub opts: Mutex<crate::net::sockopt::Generic>,
}

/// Every open uevent socket, for port uniqueness and broadcasts.
static SOCKETS: Mutex<Vec<Weak<UeventSocket>>> = Mutex::new(Vec::new());
/// Linux's autobind rover: ports for sockets whose pid is taken.
static ROVER: Mutex<i32> = Mutex::new(-4097);
/// SEQNUM of the kernel's uevents.
static SEQNUM: AtomicU64 = AtomicU64::new(0);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn sockets() -> Vec<Arc<UeventSocket>> {
    let mut all = lock(&SOCKETS);
    all.retain(|w| w.strong_count() > 0);
    all.iter().filter_map(|w| w.upgrade()).collect()
}

fn port_taken(port: u32) -> bool {
    sockets().iter().any(|s| {
        let st = lock(&s.st);
        st.bound && st.port == port
    })
}

impl UeventSocket {
    pub fn new(kind: u32) -> Arc<UeventSocket> {
        let s = Arc::new(UeventSocket {
            kind,
            st: Mutex::new(State {
                port: 0,
                bound: false,
                groups: 0,
                queue: VecDeque::new(),
                queued: 0,
                overrun: false,
                rcvbuf: RMEM_DEFAULT,
                passcred: false,
                filter: None,
                nl_flags: 0,
            }),
            wq: Arc::new(WaitQueue::new()),
            fasync: crate::fs::fown::FasyncList::new(),
            opts: Mutex::new(Default::default()),
        });
        lock(&SOCKETS).push(Arc::downgrade(&s));
        s
    }

    /// Give an unbound socket a port: the process's pid when free, else
    /// a negative number (netlink_autobind).
    pub fn autobind(&self, tgid: u32) {
        let mut r = lock(&ROVER);
        if lock(&self.st).bound {
            return;
        }
        let mut port = tgid;
        while port_taken(port) {
            port = *r as u32;
            *r = if *r == i32::MIN { -4097 } else { *r - 1 };
        }
        let mut st = lock(&self.st);
        st.port = port;
        st.bound = true;
    }

    /// bind(2): checks in netlink_bind's order, then the port (given or
    /// automatic) and the groups, which replace the old ones.
    pub fn bind(&self, addr: &[u8], tgid: u32) -> KResult<()> {
        let a = abi::from_prefix::<SockaddrNl>(addr).ok_or(Errno::EINVAL)?;
        if a.nl_family != AF_NETLINK {
            return Err(Errno::EINVAL);
        }
        let (bound, port) = {
            let st = lock(&self.st);
            (st.bound, st.port)
        };
        if bound && a.nl_pid != port {
            return Err(Errno::EINVAL);
        }
        if !bound {
            if a.nl_pid != 0 {
                let _g = lock(&ROVER);
                let taken = port_taken(a.nl_pid);
                let mut st = lock(&self.st);
                st.port = a.nl_pid;
                if taken {
                    return Err(Errno::EADDRINUSE);
                }
                st.bound = true;
            } else {
                self.autobind(tgid);
            }
        }
        lock(&self.st).groups = a.nl_groups;
        Ok(())
    }

    /// NETLINK_ADD_MEMBERSHIP / NETLINK_DROP_MEMBERSHIP of `group`.
    pub fn membership(&self, group: u32, add: bool) -> KResult<()> {
        if group == 0 || group > 32 {
            return Err(Errno::EINVAL);
        }
        let mut st = lock(&self.st);
        let bit = 1u32 << (group - 1);
        if add {
            st.groups |= bit;
        } else {
            st.groups &= !bit;
        }
        Ok(())
    }

    /// struct sockaddr_nl with `pid` and `groups`.
    pub fn sockaddr(pid: u32, groups: u32) -> Vec<u8> {
        let a = SockaddrNl {
            nl_family: AF_NETLINK,
            nl_pid: pid,
            nl_groups: groups,
            ..Default::default()
        };
        abi::bytes(&a).to_vec()
    }

    /// getsockname: its port and the first 32 groups.
    pub fn name(&self) -> Vec<u8> {
        let st = lock(&self.st);
        Self::sockaddr(st.port, st.groups)
    }

    pub fn set_rcvbuf(&self, bytes: usize) {
        lock(&self.st).rcvbuf = bytes;
    }
    pub fn rcvbuf(&self) -> usize {
        lock(&self.st).rcvbuf
    }
    pub fn set_passcred(&self, on: bool) {
        lock(&self.st).passcred = on;
    }
    pub fn passcred(&self) -> bool {
        lock(&self.st).passcred
    }

    /// A SOL_NETLINK flag option (NETLINK_PKTINFO, BROADCAST_ERROR,
    /// NO_ENOBUFS, CAP_ACK, EXT_ACK, GET_STRICT_CHK): set or cleared.
    pub fn set_nl_flag(&self, opt: i32, on: bool) {
        let mut st = lock(&self.st);
        if on {
            st.nl_flags |= 1 << opt;
        } else {
            st.nl_flags &= !(1 << opt);
        }
    }

    /// Whether SOL_NETLINK flag option `opt` is set.
    pub fn nl_flag(&self, opt: i32) -> bool {
        lock(&self.st).nl_flags & 1 << opt != 0
    }

    /// SO_ATTACH_FILTER (a checked program) / SO_DETACH_FILTER (ENOENT
    /// without one).
    pub fn set_filter(&self, f: Option<Filter>) -> KResult<()> {
        let mut st = lock(&self.st);
        if f.is_none() && st.filter.is_none() {
            return Err(Errno::ENOENT);
        }
        st.filter = f;
        Ok(())
    }

    /// Queue a message that came on `group`: through the filter (which
    /// may cut it short or drop it), dropped with an overrun when the
    /// receive buffer is full.
    fn deliver(&self, data: &[u8], group: u32) {
        {
            let mut st = lock(&self.st);
            let keep = match &st.filter {
                Some(f) => (f.run(data) as usize).min(data.len()),
                None => data.len(),
            };
            if keep == 0 {
                return;
            }
            if st.queued + keep > st.rcvbuf {
                // NETLINK_NO_ENOBUFS: drop it without telling.
                if st.nl_flags & 1 << NETLINK_NO_ENOBUFS == 0 {
                    st.overrun = true;
                }
                return;
            }
            st.queued += keep;
            st.queue.push_back(Datagram {
                data: data[..keep].to_vec(),
                group,
            });
        }
        self.wq.wake_all();
        self.fasync.kill(crate::fs::fown::POLL_IN);
    }

    /// The next message: up to `max` bytes of it, its full length, the
    /// group it came on and whether SO_PASSCRED asks for credentials.
    /// EAGAIN when there is none; ENOBUFS once after an overrun.
    pub fn recv(&self, max: usize, peek: bool) -> KResult<(Vec<u8>, usize, u32, bool)> {
        let mut st = lock(&self.st);
        if st.overrun {
            st.overrun = false;
            return Err(Errno::ENOBUFS);
        }
        let Some(d) = st.queue.front() else {
            return Err(Errno::EAGAIN);
        };
        let r = (
            d.data[..max.min(d.data.len())].to_vec(),
            d.data.len(),
            d.group,
            st.passcred,
        );
        if !peek {
            if let Some(d) = st.queue.pop_front() {
                st.queued -= d.data.len();
            }
        }
        Ok(r)
    }

    /// A process's send: to port 0 (the kernel) it is dropped; to group
    /// bits of `dest_groups` it reaches their members, as udevd's
    /// messages to its listeners (pid 0 in the sender address stays
    /// unknown to them; they check credentials).
    pub fn send(&self, data: &[u8], dest_groups: u32) -> usize {
        if dest_groups != 0 {
            let group = dest_groups.trailing_zeros() + 1;
            let bit = 1u32 << (group - 1);
            for s in sockets() {
                if !std::ptr::eq(Arc::as_ptr(&s), self) && lock(&s.st).groups & bit != 0 {
                    s.deliver(data, group);
                }
            }
        }
        data.len()
    }
}

/// Send a kernel uevent to group 1: "ACTION@DEVPATH" and the
/// environment ACTION, DEVPATH, SUBSYSTEM, `env`, SEQNUM, each
/// NUL-terminated, as kobject_uevent_env builds it.
pub fn broadcast(action: &str, devpath: &str, subsystem: &str, env: &[(&str, String)]) {
    let seq = SEQNUM.fetch_add(1, Ordering::Relaxed) + 1;
    let mut m = Vec::new();
    let mut put = |s: &str| {
        m.extend_from_slice(s.as_bytes());
        m.push(0);
    };
    put(&format!("{action}@{devpath}"));
    put(&format!("ACTION={action}"));
    put(&format!("DEVPATH={devpath}"));
    put(&format!("SUBSYSTEM={subsystem}"));
    for (k, v) in env {
        put(&format!("{k}={v}"));
    }
    put(&format!("SEQNUM={seq}"));
    for s in sockets() {
        if lock(&s.st).groups & 1 != 0 {
            s.deliver(&m, 1);
        }
    }
}

impl FileOps for UeventSocket {
    fn fasync_list(&self) -> Option<&crate::fs::fown::FasyncList> {
        Some(&self.fasync)
    }
    /// SO_RCVTIMEO / SO_SNDTIMEO.
    fn io_timeout(&self, write: bool) -> Option<i64> {
        lock(&self.opts).timeout(write)
    }
    fn write_task(
        &self,
        _f: &File,
        t: &Arc<crate::kernel::task::Task>,
        buf: &[u8],
    ) -> KResult<usize> {
        self.autobind(t.tgid() as u32);
        Ok(buf.len())
    }
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        let (d, _, _, _) = self.recv(buf.len(), false)?;
        buf[..d.len()].copy_from_slice(&d);
        Ok(d.len())
    }
    fn poll(&self, _f: &File) -> u32 {
        let st = lock(&self.st);
        let ready = !st.queue.is_empty() || st.overrun;
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
