//! AF_UNIX sockets: stream, datagram and seqpacket, named in the file
//! system or in the abstract namespace, connected pairs (socketpair),
//! listen/accept, passing open files (SCM_RIGHTS) and the sender's
//! credentials (SCM_CREDENTIALS, to receivers with SO_PASSCRED).

use crate::fs::file::{File, FileOps, POLLHUP, POLLIN, POLLOUT};
use crate::fs::fown::{FasyncList, POLL_HUP, POLL_IN, POLL_OUT};
use crate::fs::vfs::{Inode, Stat};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{lock, Pid};
use crate::kernel::wait::WaitQueue;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, Weak};

pub const SOCK_STREAM: u32 = 1;
pub const SOCK_DGRAM: u32 = 2;
pub const SOCK_SEQPACKET: u32 = 5;

/// Bytes a socket may hold unread (Linux's default SO_RCVBUF is ~208 KiB).
const RCVBUF: usize = 212_992;

/// A socket address: a file-system path or an abstract name.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum UnixAddr {
    Path(String),
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// The sockaddr_un bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let h = crate::abi::net::SockaddrUnHead {
            sun_family: crate::abi::net::AF_UNIX,
        };
        let mut v = crate::abi::bytes(&h).to_vec();
        match self {
            UnixAddr::Path(p) => {
                v.extend_from_slice(&crate::fs::name::to_bytes(p));
                v.push(0);
            }
            UnixAddr::Abstract(a) => {
                v.push(0);
                v.extend_from_slice(a);
            }
        }
        v
    }
}

/// Who is on the other end (SO_PEERCRED), or who sent a message
/// (SCM_CREDENTIALS): a global pid, real uid and gid.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Cred {
    pub pid: Pid,
    pub uid: u32,
    pub gid: u32,
}

/// One datagram or seqpacket record.
struct Message {
    data: Vec<u8>,
    from: Option<UnixAddr>,
    rights: Vec<Arc<File>>,
    /// The sender's, at the send (Linux's scm creds of the skb).
    cred: Cred,
}

/// What a receive returns: data, sender, full message length, passed files.
pub type Received = (Vec<u8>, Option<UnixAddr>, usize, Vec<Arc<File>>);

struct Inner {
    bound: Option<UnixAddr>,
    /// The S_IFSOCK inode of a path name bound to: held until the socket
    /// goes, as Linux's unix_sock holds its path, so an unlinked node's
    /// inode is released when the socket closes.
    node: Option<Arc<dyn Inode>>,
    /// Stream/seqpacket: the other end. Datagram: the default destination.
    peer: Option<Weak<UnixSocket>>,
    peer_addr: Option<UnixAddr>,
    peer_cred: Cred,
    connected: bool,
    /// Our end was told the peer closed (stream EOF / EPIPE).
    peer_gone: bool,
    shut_rd: bool,
    shut_wr: bool,
    listening: bool,
    backlog: usize,
    accept_queue: VecDeque<Arc<UnixSocket>>,
    /// Stream bytes.
    bytes: VecDeque<u8>,
    /// Datagram/seqpacket messages with their sender and passed files.
    msgs: VecDeque<Message>,
    queued: usize,
    /// A send of this socket found no room (Linux's SOCKWQ_ASYNC_NOSPACE):
    /// room appearing sends it POLL_OUT once.
    nospace: bool,
    /// Stream: files passed along, at the byte offset they were sent with.
    rights: VecDeque<(u64, Vec<Arc<File>>)>,
    /// Stream: who sent the bytes from each offset on (a new entry when
    /// the sender's credentials change).
    creds: VecDeque<(u64, Cred)>,
    /// Stream: bytes ever queued here / ever read from here.
    rx_total: u64,
    rx_read: u64,
}

pub struct UnixSocket {
    pub kind: u32,
    /// The network namespace it was made in (its abstract names live
    /// there).
    net: u64,
    ino: u64,
    inner: Mutex<Inner>,
    wq: Mutex<Arc<WaitQueue>>,
    pub cred: Mutex<Cred>,
    /// SO_PASSCRED: receives come with the sender's SCM_CREDENTIALS.
    pub passcred: AtomicBool,
    /// O_ASYNC descriptions of this socket: SIGIO when data arrives or
    /// the peer goes (Linux's sk_wake_async with SOCK_WAKE_WAITD).
    fasync: FasyncList,
}

/// Named sockets: abstract names (per network namespace, keyed by its
/// id) and file-system nodes (keyed by inode).
type AbstractKey = (u64, Vec<u8>);
static ABSTRACT: Mutex<Option<HashMap<AbstractKey, Weak<UnixSocket>>>> = Mutex::new(None);
static BY_INODE: Mutex<Option<HashMap<usize, Weak<UnixSocket>>>> = Mutex::new(None);

fn inode_key(i: &Arc<dyn Inode>) -> usize {
    Arc::as_ptr(i) as *const () as usize
}

impl UnixSocket {
    /// FIONREAD (Linux's unix_inq_len): all queued bytes of a stream or
    /// seqpacket socket, the next datagram's length; EINVAL when listening.
    pub fn inq_len(&self) -> KResult<usize> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.listening {
            return Err(Errno::EINVAL);
        }
        Ok(match self.kind {
            SOCK_STREAM => g.bytes.len(),
            SOCK_SEQPACKET => g.msgs.iter().map(|m| m.data.len()).sum(),
            _ => g.msgs.front().map_or(0, |m| m.data.len()),
        })
    }

    pub fn new(kind: u32, cred: Cred) -> Arc<UnixSocket> {
        Arc::new(UnixSocket {
            kind,
            net: crate::kernel::ns::current_net().ino,
            ino: crate::net::new_ino(),
            inner: Mutex::new(Inner {
                bound: None,
                node: None,
                peer: None,
                peer_addr: None,
                peer_cred: Cred::default(),
                connected: false,
                peer_gone: false,
                shut_rd: false,
                shut_wr: false,
                listening: false,
                backlog: 0,
                accept_queue: VecDeque::new(),
                bytes: VecDeque::new(),
                msgs: VecDeque::new(),
                queued: 0,
                nospace: false,
                rights: VecDeque::new(),
                creds: VecDeque::new(),
                rx_total: 0,
                rx_read: 0,
            }),
            wq: Mutex::new(Arc::new(WaitQueue::new())),
            cred: Mutex::new(cred),
            passcred: AtomicBool::new(false),
            fasync: FasyncList::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    fn wake(&self) {
        lock(&self.wq).clone().wake_all();
    }

    /// Join two sockets as a connected pair sharing one wait queue.
    pub fn pair(a: &Arc<UnixSocket>, b: &Arc<UnixSocket>) {
        let wq = Arc::new(WaitQueue::new());
        *lock(&a.wq) = wq.clone();
        *lock(&b.wq) = wq;
        let (ca, cb) = (*lock(&a.cred), *lock(&b.cred));
        let (na, nb) = (a.lock().bound.clone(), b.lock().bound.clone());
        {
            let mut i = a.lock();
            i.peer = Some(Arc::downgrade(b));
            i.peer_cred = cb;
            i.peer_addr = nb;
            i.connected = true;
        }
        let mut i = b.lock();
        i.peer = Some(Arc::downgrade(a));
        i.peer_cred = ca;
        i.peer_addr = na;
        i.connected = true;
    }

    /// bind(2): `node` is the S_IFSOCK inode made for a path name.
    pub fn bind_node(
        self: &Arc<Self>,
        addr: UnixAddr,
        node: Option<Arc<dyn Inode>>,
    ) -> KResult<()> {
        if self.lock().bound.is_some() {
            return Err(Errno::EINVAL);
        }
        match (&addr, node) {
            (UnixAddr::Abstract(name), _) => {
                let mut g = lock(&ABSTRACT);
                let m = g.get_or_insert_with(HashMap::new);
                let key = (self.net, name.clone());
                if m.get(&key).is_some_and(|w| w.strong_count() > 0) {
                    return Err(Errno::EADDRINUSE);
                }
                m.insert(key, Arc::downgrade(self));
            }
            (UnixAddr::Path(_), Some(node)) => {
                lock(&BY_INODE)
                    .get_or_insert_with(HashMap::new)
                    .insert(inode_key(&node), Arc::downgrade(self));
                // The socket holds the node, so its key stays its own.
                self.lock().node = Some(node);
            }
            _ => return Err(Errno::EINVAL),
        }
        self.lock().bound = Some(addr);
        Ok(())
    }

    pub fn listen(&self, backlog: i32) -> KResult<()> {
        if self.kind == SOCK_DGRAM {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut i = self.lock();
        if i.bound.is_none() || i.connected {
            return Err(Errno::EINVAL);
        }
        i.listening = true;
        i.backlog = backlog.clamp(1, 4096) as usize;
        Ok(())
    }

    /// Find the socket bound to `addr` (`node` for path names; abstract
    /// names in the caller's network namespace).
    pub fn lookup(addr: &UnixAddr, node: Option<&Arc<dyn Inode>>) -> KResult<Arc<UnixSocket>> {
        let w = match (addr, node) {
            (UnixAddr::Abstract(name), _) => {
                let key = (crate::kernel::ns::current_net().ino, name.clone());
                lock(&ABSTRACT).as_ref().and_then(|m| m.get(&key).cloned())
            }
            (UnixAddr::Path(_), Some(n)) => lock(&BY_INODE)
                .as_ref()
                .and_then(|m| m.get(&inode_key(n)).cloned()),
            _ => None,
        };
        w.and_then(|w| w.upgrade()).ok_or(Errno::ECONNREFUSED)
    }

    /// connect(2) to `target`.
    pub fn connect_to(
        self: &Arc<Self>,
        target: &Arc<UnixSocket>,
        target_addr: UnixAddr,
    ) -> KResult<()> {
        if self.kind != target.kind {
            return Err(Errno::EPROTOTYPE);
        }
        if self.kind == SOCK_DGRAM {
            let mut i = self.lock();
            i.peer = Some(Arc::downgrade(target));
            i.peer_addr = Some(target_addr);
            i.connected = true;
            return Ok(());
        }
        if self.lock().connected {
            return Err(Errno::EISCONN);
        }
        {
            let t = target.lock();
            if !t.listening {
                return Err(Errno::ECONNREFUSED);
            }
            if t.accept_queue.len() >= t.backlog {
                return Err(Errno::EAGAIN);
            }
        }
        let server = UnixSocket::new(self.kind, *lock(&target.cred));
        server.lock().bound = target.lock().bound.clone();
        UnixSocket::pair(self, &server);
        self.lock().peer_addr = Some(target_addr);
        target.lock().accept_queue.push_back(server);
        target.wake();
        Ok(())
    }

    /// accept(2): a connected socket, or EAGAIN.
    pub fn accept(&self) -> KResult<Arc<UnixSocket>> {
        let mut i = self.lock();
        if !i.listening {
            return Err(Errno::EINVAL);
        }
        i.accept_queue.pop_front().ok_or(Errno::EAGAIN)
    }

    fn peer(&self) -> Option<Arc<UnixSocket>> {
        self.lock().peer.as_ref().and_then(|w| w.upgrade())
    }

    /// Send `data` (to `dest` for unconnected datagram sockets), with
    /// `rights`: open files passed along (SCM_RIGHTS), as `cred` (the
    /// sender's, or what its SCM_CREDENTIALS said).
    pub fn send(
        &self,
        data: &[u8],
        dest: Option<Arc<UnixSocket>>,
        rights: Vec<Arc<File>>,
        cred: Cred,
    ) -> KResult<usize> {
        if self.lock().shut_wr {
            return Err(Errno::EPIPE);
        }
        let target = match dest {
            Some(d) => d,
            None => match self.peer() {
                Some(p) => p,
                None => {
                    let i = self.lock();
                    return Err(if i.connected || i.peer_gone {
                        if self.kind == SOCK_DGRAM {
                            Errno::ECONNREFUSED
                        } else {
                            Errno::EPIPE
                        }
                    } else if self.kind == SOCK_DGRAM {
                        Errno::EDESTADDRREQ
                    } else {
                        Errno::ENOTCONN
                    });
                }
            },
        };
        let from = self.lock().bound.clone();
        let mut t = target.lock();
        if t.shut_rd {
            return Err(Errno::EPIPE);
        }
        let room = RCVBUF.saturating_sub(t.queued);
        let n = if self.kind == SOCK_STREAM {
            if room == 0 {
                drop(t);
                return Err(self.no_room());
            }
            let n = data.len().min(room);
            let at = t.rx_total;
            if !rights.is_empty() {
                t.rights.push_back((at, rights));
            }
            if t.creds.back().map(|c| c.1) != Some(cred) {
                t.creds.push_back((at, cred));
            }
            t.bytes.extend(&data[..n]);
            t.rx_total += n as u64;
            n
        } else {
            if data.len() > RCVBUF {
                return Err(Errno::EMSGSIZE);
            }
            if data.len() > room {
                drop(t);
                return Err(self.no_room());
            }
            t.msgs.push_back(Message {
                data: data.to_vec(),
                from,
                rights,
                cred,
            });
            data.len()
        };
        t.queued += n;
        drop(t);
        target.wake();
        self.wake();
        target.fasync.kill(POLL_IN);
        Ok(n)
    }

    /// Receive up to `max` bytes: (data, sender, untruncated length, files
    /// passed with them), and who sent them (a stream's first byte's
    /// sender; none at end of file).
    pub fn recv(&self, max: usize, peek: bool) -> KResult<(Received, Option<Cred>)> {
        let mut i = self.lock();
        if self.kind == SOCK_STREAM {
            if i.bytes.is_empty() {
                if i.shut_rd
                    || i.peer_gone
                    || (i.connected && i.peer.as_ref().is_some_and(|w| w.strong_count() == 0))
                {
                    return Ok(((Vec::new(), None, 0, Vec::new()), None));
                }
                if !i.connected {
                    return Err(Errno::EINVAL);
                }
                return Err(Errno::EAGAIN);
            }
            let n = max.min(i.bytes.len());
            let start = i.rx_read;
            let cred = i
                .creds
                .iter()
                .take_while(|c| c.0 <= start)
                .last()
                .map(|c| c.1);
            let v: Vec<u8> = if peek {
                i.bytes.iter().take(n).copied().collect()
            } else {
                i.bytes.drain(..n).collect()
            };
            let mut files = Vec::new();
            if !peek {
                i.queued -= n;
                let end = i.rx_read + n as u64;
                while i.rights.front().is_some_and(|r| r.0 < end) {
                    files.extend(i.rights.pop_front().unwrap().1);
                }
                // Keep the entry that covers the next unread byte.
                while i.creds.get(1).is_some_and(|c| c.0 <= end) {
                    i.creds.pop_front();
                }
                i.rx_read = end;
            }
            let from = i.peer_addr.clone();
            drop(i);
            self.wake();
            if !peek {
                self.room_made();
            }
            return Ok(((v, from, n, files), cred));
        }
        let front = if peek {
            i.msgs.front().map(|m| Message {
                data: m.data.clone(),
                from: m.from.clone(),
                rights: Vec::new(),
                cred: m.cred,
            })
        } else {
            i.msgs.pop_front()
        };
        let Some(Message {
            data: msg,
            from,
            rights,
            cred,
        }) = front
        else {
            if i.shut_rd
                || (self.kind == SOCK_SEQPACKET
                    && (i.peer_gone || i.peer.as_ref().is_some_and(|w| w.strong_count() == 0)))
            {
                return Ok(((Vec::new(), None, 0, Vec::new()), None));
            }
            return Err(Errno::EAGAIN);
        };
        if !peek {
            i.queued -= msg.len();
        }
        drop(i);
        self.wake();
        if !peek {
            self.room_made();
        }
        let full = msg.len();
        let mut msg = msg;
        msg.truncate(max);
        Ok(((msg, from, full, rights), Some(cred)))
    }

    /// A send found no room: EAGAIN, and POLL_OUT when room comes.
    fn no_room(&self) -> Errno {
        self.lock().nospace = true;
        Errno::EAGAIN
    }

    /// A read made room: the connected writer that found none gets
    /// POLL_OUT once this queue is down to a quarter (unix_write_space).
    fn room_made(&self) {
        let (peer, queued) = {
            let i = self.lock();
            (i.peer.as_ref().and_then(|w| w.upgrade()), i.queued)
        };
        let Some(p) = peer else {
            return;
        };
        if queued * 4 > RCVBUF || !std::mem::take(&mut p.lock().nospace) {
            return;
        }
        p.fasync.kill(POLL_OUT);
    }

    pub fn shutdown(&self, how: i32) -> KResult<()> {
        {
            let mut i = self.lock();
            match how {
                0 => i.shut_rd = true,
                1 => i.shut_wr = true,
                2 => {
                    i.shut_rd = true;
                    i.shut_wr = true;
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        if how != 0 {
            if let Some(p) = self.peer() {
                p.lock().peer_gone = true;
                p.wake();
                // The peer can read no more: POLL_IN, or POLL_HUP when
                // both directions closed (unix_shutdown).
                p.fasync.kill(if how == 2 { POLL_HUP } else { POLL_IN });
            }
        }
        self.wake();
        Ok(())
    }

    /// SO_ACCEPTCONN: listen(2) was called.
    pub fn is_listening(&self) -> bool {
        self.lock().listening
    }

    pub fn local_addr(&self) -> Option<UnixAddr> {
        self.lock().bound.clone()
    }

    pub fn peer_info(&self) -> (Option<UnixAddr>, Cred, bool) {
        let i = self.lock();
        (i.peer_addr.clone(), i.peer_cred, i.connected)
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        // Forget the bound node's name entry (unless another socket took
        // it over), then let the node go.
        let node = self.inner.get_mut().ok().and_then(|i| i.node.take());
        if let Some(n) = &node {
            if let Some(m) = lock(&BY_INODE).as_mut() {
                let k = inode_key(n);
                if m.get(&k).is_some_and(|w| w.strong_count() == 0) {
                    m.remove(&k);
                }
            }
        }
        drop(node);
        let peer = self
            .inner
            .get_mut()
            .ok()
            .and_then(|i| i.peer.take())
            .and_then(|w| w.upgrade());
        if let Some(p) = peer {
            p.lock().peer_gone = true;
            p.wake();
            if self.kind != SOCK_DGRAM {
                p.fasync.kill(POLL_HUP);
            }
        }
    }
}

impl FileOps for UnixSocket {
    fn fasync_list(&self) -> Option<&crate::fs::fown::FasyncList> {
        Some(&self.fasync)
    }
    fn ioctl(
        &self,
        _f: &crate::fs::file::File,
        t: &Arc<crate::kernel::task::Task>,
        cmd: u32,
        arg: u64,
    ) -> KResult<u64> {
        if cmd == crate::abi::ioctl::FIONREAD {
            let n = self.inq_len()?;
            t.mm().write_u32(arg, n.min(i32::MAX as usize) as u32)?;
            return Ok(0);
        }
        crate::net::inet::netdev::socket_ioctl(t, cmd, arg).unwrap_or(Err(Errno::ENOTTY))
    }
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        // Files passed along are dropped (closed) by a plain read, as Linux.
        let ((v, _, _, _), _) = self.recv(buf.len(), false)?;
        buf[..v.len()].copy_from_slice(&v);
        Ok(v.len())
    }
    fn write(&self, _f: &File, buf: &[u8]) -> KResult<usize> {
        use crate::kernel::current;
        let cred = current::with_creds(|c| Cred {
            pid: current::tgid().unwrap_or(0),
            uid: c.uid,
            gid: c.gid,
        });
        self.send(buf, None, Vec::new(), cred)
    }
    fn poll(&self, _f: &File) -> u32 {
        let i = self.lock();
        let mut ev = 0;
        let peer_dead = i.peer_gone || i.peer.as_ref().is_some_and(|w| w.strong_count() == 0);
        if !i.bytes.is_empty() || !i.msgs.is_empty() || !i.accept_queue.is_empty() || i.shut_rd {
            ev |= POLLIN;
        }
        if self.kind != SOCK_DGRAM && i.connected && peer_dead {
            ev |= POLLIN | POLLHUP;
        }
        let peer = i.peer.as_ref().and_then(|w| w.upgrade());
        drop(i);
        match peer {
            Some(p) => {
                if p.lock().queued < RCVBUF {
                    ev |= POLLOUT;
                }
            }
            None => {
                if self.kind == SOCK_DGRAM {
                    ev |= POLLOUT;
                }
            }
        }
        ev
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(lock(&self.wq).clone())
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
