//! Socket syscalls: socket, socketpair, bind, listen, connect, accept4,
//! sendto/recvfrom, sendmsg/recvmsg, shutdown, getsockname, getpeername,
//! getsockopt, setsockopt. Each call decodes its arguments here and goes to
//! the socket's address family through the `Socket` trait
//! (`sys_net_unix` for AF_UNIX, `sys_net_inet` for AF_INET/AF_INET6).

use super::caps::CAP_NET_RAW;
use super::errno::{Errno, KResult};
use super::signal::{self, SigInfo, SIGPIPE};
use super::sys_fs::{self, IoWait};
use super::task::{lock, Task};
use crate::abi::{
    self,
    net::{CmsgHdr, Ucred, SCM_CREDENTIALS, SCM_RIGHTS, SOL_SOCKET},
};
use crate::fs::file::{File, FileOps, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::net::inet::InetSocket;
use crate::net::unix::{Cred, UnixSocket};
use crate::net::Cmsg;
use std::sync::Arc;

// socket(2)'s domain argument is an int.
const AF_UNIX: i32 = abi::net::AF_UNIX as i32;
const AF_INET: i32 = abi::net::AF_INET as i32;
const AF_INET6: i32 = abi::net::AF_INET6 as i32;
const AF_NETLINK: i32 = abi::net::AF_NETLINK as i32;
const AF_PACKET: i32 = abi::net::AF_PACKET as i32;
const SOCK_DGRAM: u32 = 2;
const SOCK_RAW: u32 = 3;
pub const SOCK_NONBLOCK: u32 = O_NONBLOCK;
pub const SOCK_CLOEXEC: u32 = O_CLOEXEC;
pub const MSG_PEEK: u32 = 2;
const MSG_TRUNC: u32 = 0x20;
const MSG_DONTWAIT: u32 = 0x40;
pub const MSG_WAITALL: u32 = 0x100;
const MSG_NOSIGNAL: u32 = 0x4000;

/// What a receive returns: data, the sender's sockaddr (None: no address,
/// as for TCP), the message's full length, open files passed with it.
pub type Received = (Vec<u8>, Option<Vec<u8>>, usize, Vec<Arc<File>>);

/// What the socket syscalls ask of one address family. Addresses are raw
/// sockaddr bytes as the guest passes and gets them. Calls that would
/// block return EAGAIN; the syscall sleeps on the file's wait queue.
pub trait Socket: Send + Sync {
    fn bind(self: Arc<Self>, t: &Arc<Task>, addr: &[u8]) -> KResult<()>;
    fn listen(&self, backlog: i32) -> KResult<()>;
    /// May put `t` to sleep itself (`sched::wait`): where to wait is the
    /// family's.
    fn connect(self: Arc<Self>, t: &Arc<Task>, f: &File, addr: &[u8]) -> KResult<()>;
    /// A new connection and its peer's address.
    fn accept(&self) -> KResult<(Arc<dyn FileOps>, Vec<u8>)>;
    /// `blocking`: the caller may sleep (no O_NONBLOCK, no MSG_DONTWAIT).
    fn send(
        &self,
        t: &Arc<Task>,
        data: &[u8],
        dest: Option<&[u8]>,
        rights: Vec<Arc<File>>,
        blocking: bool,
    ) -> KResult<usize>;
    fn recv(&self, max: usize, flags: u32) -> KResult<Received>;
    /// sendmsg: `send` with the control messages other than SCM_RIGHTS
    /// (families without any of their own ignore them).
    fn send_msg(
        &self,
        t: &Arc<Task>,
        data: &[u8],
        dest: Option<&[u8]>,
        rights: Vec<Arc<File>>,
        _cmsgs: &[Cmsg],
        blocking: bool,
    ) -> KResult<usize> {
        self.send(t, data, dest, rights, blocking)
    }
    /// recvmsg: `recv` and the control messages the data comes with
    /// (other than SCM_RIGHTS).
    fn recv_msg(&self, max: usize, flags: u32) -> KResult<(Received, Vec<Cmsg>)> {
        Ok((self.recv(max, flags)?, Vec::new()))
    }
    fn shutdown(&self, how: i32) -> KResult<()>;
    fn sockname(&self) -> KResult<Vec<u8>>;
    fn peername(&self) -> KResult<Vec<u8>>;
    fn getsockopt(&self, level: i32, opt: i32) -> KResult<Vec<u8>>;
    fn setsockopt(&self, level: i32, opt: i32, val: &[u8]) -> KResult<()>;
}

/// A TCP socket: a blocking write or send goes in whole (sleeping as the
/// send buffer fills), as Linux's tcp_sendmsg; a signal or timeout ends
/// it with the count so far.
pub fn stream_socket(f: &File) -> bool {
    f.ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<InetSocket>().ok())
        .is_some_and(|s| s.kind == crate::net::inet::socket::SOCK_STREAM)
}

fn sock_of(t: &Task, fd: i32) -> KResult<(Arc<File>, Arc<dyn Socket>)> {
    let f = lock(&t.files()).get(fd)?;
    let any = f.ops.clone().into_any().ok_or(Errno::ENOTSOCK)?;
    let s: Arc<dyn Socket> = match any.downcast::<UnixSocket>() {
        Ok(u) => u,
        Err(any) => match any.downcast::<InetSocket>() {
            Ok(i) => i,
            Err(any) => match any.downcast::<crate::net::netlink::NetlinkSocket>() {
                Ok(n) => n,
                Err(any) => match any.downcast::<crate::net::uevent::UeventSocket>() {
                    Ok(u) => u,
                    Err(any) => match any.downcast::<crate::net::packet::PacketSocket>() {
                        Ok(p) => p,
                        Err(any) => any
                            .downcast::<crate::net::inet::raw::RawIpSocket>()
                            .map_err(|_| Errno::ENOTSOCK)?,
                    },
                },
            },
        },
    };
    Ok((f, s))
}

pub fn new_file(t: &Task, s: Arc<dyn FileOps>, flags: u32) -> KResult<i32> {
    let f = File::new(s, None, None, O_RDWR | (flags & SOCK_NONBLOCK));
    let nofile = t.nofile();
    lock(&t.files()).install(f, flags & SOCK_CLOEXEC != 0, nofile)
}

/// The socket type without SOCK_NONBLOCK/SOCK_CLOEXEC (EINVAL for other
/// flag bits).
fn kind_of(ty: u32) -> KResult<u32> {
    if ty & !(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(ty & 0xf)
}

/// socket
pub fn sys_socket(t: &Arc<Task>, domain: i32, ty: u32, proto: i32) -> KResult<u64> {
    let k = kind_of(ty)?;
    let s: Arc<dyn FileOps> = match domain {
        AF_UNIX => super::sys_net_unix::new(t, k)?,
        // Raw IPv4 sockets of protocols other than ICMP: ioctls only.
        AF_INET if k == SOCK_RAW && proto != 1 => {
            crate::net::inet::raw::RawIpSocket::new(proto, t.creds().capable(CAP_NET_RAW))?
        }
        // Raw sockets need CAP_NET_RAW (ping then falls back to a
        // SOCK_DGRAM ping socket).
        AF_INET | AF_INET6 if k == SOCK_RAW && !t.creds().capable(CAP_NET_RAW) => {
            return Err(Errno::EPERM)
        }
        AF_INET | AF_INET6 => InetSocket::new(domain == AF_INET6, k, proto)?,
        AF_NETLINK => {
            if k != SOCK_RAW && k != SOCK_DGRAM {
                return Err(Errno::ESOCKTNOSUPPORT);
            }
            if proto == crate::net::uevent::NETLINK_KOBJECT_UEVENT {
                crate::net::uevent::UeventSocket::new(k)
            } else {
                crate::net::netlink::NetlinkSocket::new(proto)?
            }
        }
        AF_PACKET => {
            crate::net::packet::PacketSocket::new(k, proto, t.creds().capable(CAP_NET_RAW))?
        }
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    Ok(new_file(t, s, ty)? as u64)
}

/// socketpair
pub fn sys_socketpair(t: &Arc<Task>, domain: i32, ty: u32, _proto: i32, sv: u64) -> KResult<u64> {
    match domain {
        AF_UNIX => super::sys_net_unix::socketpair(t, kind_of(ty)?, ty, sv),
        AF_INET | AF_INET6 => Err(Errno::EOPNOTSUPP),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// The sockaddr at `addr` (Linux takes at most a sockaddr_storage).
fn read_sockaddr(t: &Task, addr: u64, len: u32) -> KResult<Vec<u8>> {
    if len > 128 {
        return Err(Errno::EINVAL);
    }
    t.mm().read_vec(addr, len as usize)
}

/// Store a sockaddr for the guest: as much as `*lenp` has room for, and
/// its full length in `*lenp` (0 when there is no address).
fn write_sockaddr(t: &Task, addr: u64, lenp: u64, a: Option<&[u8]>) -> KResult<()> {
    if addr == 0 || lenp == 0 {
        return Ok(());
    }
    let mm = t.mm();
    let room = mm.read_u32(lenp)? as usize;
    let a = a.unwrap_or(&[]);
    let n = room.min(a.len());
    mm.write(addr, &a[..n])?;
    mm.write_u32(lenp, a.len() as u32)?;
    Ok(())
}

/// bind
pub fn sys_bind(t: &Arc<Task>, fd: i32, addr: u64, len: u32) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    s.bind(t, &read_sockaddr(t, addr, len)?)?;
    Ok(0)
}

/// listen
pub fn sys_listen(t: &Arc<Task>, fd: i32, backlog: i32) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    s.listen(backlog)?;
    Ok(0)
}

/// connect
pub fn sys_connect(t: &Arc<Task>, fd: i32, addr: u64, len: u32) -> KResult<u64> {
    let (f, s) = sock_of(t, fd)?;
    s.connect(t, &f, &read_sockaddr(t, addr, len)?)?;
    Ok(0)
}

/// accept, accept4
pub fn sys_accept4(t: &Arc<Task>, fd: i32, addr: u64, lenp: u64, flags: u32) -> KResult<u64> {
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let (f, s) = sock_of(t, fd)?;
    let mut w = IoWait::read(&f);
    let (c, peer) = loop {
        match s.accept() {
            Err(Errno::EAGAIN) => w.wait(t, &f)?,
            r => break r?,
        }
    };
    let nfd = new_file(t, c, flags)?;
    write_sockaddr(t, addr, lenp, Some(&peer))?;
    Ok(nfd as u64)
}

fn do_send(
    t: &Arc<Task>,
    f: &File,
    s: &dyn Socket,
    data: &[u8],
    flags: u32,
    dest: Option<&[u8]>,
    rights: Vec<Arc<File>>,
    cmsgs: &[Cmsg],
) -> KResult<u64> {
    let blocking = flags & MSG_DONTWAIT == 0 && !f.nonblocking();
    // A blocking send on a TCP socket goes in whole.
    let whole = blocking && stream_socket(f);
    let mut w = IoWait::write(f);
    let mut done = 0;
    let r = loop {
        // Passed files go with the first bytes (again if nothing went).
        let r = if done == 0 {
            rights.clone()
        } else {
            Vec::new()
        };
        match s.send_msg(t, &data[done..], dest, r, cmsgs, blocking) {
            Ok(n) => {
                done += n;
                if !whole || n == 0 || done == data.len() {
                    break Ok(done);
                }
            }
            Err(Errno::EAGAIN) if flags & MSG_DONTWAIT == 0 => {
                if let Err(e) = w.wait(t, f) {
                    break if done > 0 { Ok(done) } else { Err(e) };
                }
            }
            Err(_) if done > 0 => break Ok(done),
            Err(e) => break Err(e),
        }
    };
    match r {
        Ok(n) => Ok(n as u64),
        Err(Errno::EPIPE) => {
            if flags & MSG_NOSIGNAL == 0 {
                signal::send_to_thread(t, SigInfo::user(SIGPIPE, t.tgid(), signal::SI_USER));
            }
            Err(Errno::EPIPE)
        }
        Err(e) => Err(e),
    }
}

/// sendto
pub fn sys_sendto(
    t: &Arc<Task>,
    fd: i32,
    buf: u64,
    len: usize,
    flags: u32,
    addr: u64,
    alen: u32,
) -> KResult<u64> {
    let (f, s) = sock_of(t, fd)?;
    if flags == 0 && addr == 0 && stream_socket(&f) {
        // send(2) with no flags is write(2): whole, in bounded chunks.
        return super::pipe_rw::write(t, &f, super::rw_full::UserBuf::Flat(buf), len);
    }
    let data = t.mm().read_vec(buf, len.min(1 << 20))?;
    let dest = if addr != 0 {
        Some(read_sockaddr(t, addr, alen)?)
    } else {
        None
    };
    do_send(t, &f, &*s, &data, flags, dest.as_deref(), Vec::new(), &[])
}

fn do_recv(t: &Arc<Task>, f: &File, s: &dyn Socket, max: usize, flags: u32) -> KResult<Received> {
    Ok(do_recv_msg(t, f, s, max, flags)?.0)
}

/// `do_recv` with the control messages that come with the data.
fn do_recv_msg(
    t: &Arc<Task>,
    f: &File,
    s: &dyn Socket,
    max: usize,
    flags: u32,
) -> KResult<(Received, Vec<Cmsg>)> {
    let nonblocking = flags & MSG_DONTWAIT != 0 || f.nonblocking();
    // A receive that may not sleep takes what is there, MSG_WAITALL or not.
    let flags = if nonblocking {
        flags & !MSG_WAITALL
    } else {
        flags
    };
    let mut w = IoWait::read(f);
    loop {
        match s.recv_msg(max, flags) {
            Err(Errno::EAGAIN) if !nonblocking => w.wait(t, f)?,
            r => return r,
        }
    }
}

/// recvfrom
pub fn sys_recvfrom(
    t: &Arc<Task>,
    fd: i32,
    buf: u64,
    len: usize,
    flags: u32,
    addr: u64,
    lenp: u64,
) -> KResult<u64> {
    let (f, s) = sock_of(t, fd)?;
    let (data, from, full, _) = do_recv(t, &f, &*s, len.min(1 << 20), flags)?;
    t.mm().write(buf, &data)?;
    write_sockaddr(t, addr, lenp, from.as_deref())?;
    Ok(if flags & MSG_TRUNC != 0 {
        full
    } else {
        data.len()
    } as u64)
}

/// Where recvmsg writes back into the guest's struct msghdr.
const MSGHDR_NAMELEN: u64 = core::mem::offset_of!(abi::net::MsgHdr, msg_namelen) as u64;
const MSGHDR_CONTROLLEN: u64 = core::mem::offset_of!(abi::net::MsgHdr, msg_controllen) as u64;
const MSGHDR_FLAGS: u64 = core::mem::offset_of!(abi::net::MsgHdr, msg_flags) as u64;

struct MsgHdr {
    name: u64,
    namelen: u32,
    iov: u64,
    iovlen: u64,
    control: u64,
    controllen: u64,
}

const MSG_CTRUNC: i32 = 8;
const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;

/// The files named by SCM_RIGHTS control messages of a sendmsg, and its
/// other control messages.
fn control_msgs(t: &Task, h: &MsgHdr) -> KResult<(Vec<Arc<File>>, Vec<Cmsg>)> {
    let mut files = Vec::new();
    let mut other = Vec::new();
    if h.control == 0 || h.controllen < 16 {
        return Ok((files, other));
    }
    if h.controllen > 64 * 1024 {
        return Err(Errno::ENOBUFS);
    }
    let c = t.mm().read_vec(h.control, h.controllen as usize)?;
    let mut off = 0usize;
    while off + CmsgHdr::len(0) <= c.len() {
        let hdr: CmsgHdr = abi::read_at(&c, off);
        let len = hdr.cmsg_len as usize;
        let (level, ty) = (hdr.cmsg_level, hdr.cmsg_type);
        if len < CmsgHdr::len(0) || off + len > c.len() {
            return Err(Errno::EINVAL);
        }
        if level == SOL_SOCKET && ty == SCM_RIGHTS {
            let table = t.files();
            let g = lock(&table);
            for k in 0..(len - CmsgHdr::len(0)) / 4 {
                let fd: i32 = abi::read_at(&c, off + CmsgHdr::len(k * 4));
                files.push(g.get(fd)?);
            }
            if files.len() > 253 {
                return Err(Errno::EINVAL);
            }
        } else if level == SOL_SOCKET && ty == SCM_CREDENTIALS {
            // Checked here for every family (only AF_UNIX passes them on).
            if len != CmsgHdr::len(std::mem::size_of::<Ucred>()) {
                return Err(Errno::EINVAL);
            }
            let u: Ucred = abi::read_at(&c, off + CmsgHdr::len(0));
            other.push(cred_cmsg(check_creds(t, &u)?));
        } else {
            other.push(Cmsg {
                level,
                ty,
                data: c[off + CmsgHdr::len(0)..off + len].to_vec(),
            });
        }
        off += CmsgHdr::align(len);
    }
    Ok((files, other))
}

/// SCM_CREDENTIALS a sender may give (Linux's scm_check_creds): its own
/// pid unless CAP_SYS_ADMIN, one of its uids unless CAP_SETUID, one of
/// its gids unless CAP_SETGID (EPERM); ids of -1 are EINVAL, a pid no
/// process has ESRCH. The pid is the caller's number for it.
fn check_creds(t: &Task, u: &Ucred) -> KResult<Cred> {
    if u.uid == u32::MAX || u.gid == u32::MAX {
        return Err(Errno::EINVAL);
    }
    let c = t.creds();
    let own_pid = u.pid == crate::kernel::ns::pid::vnr(t, t.tgid());
    let uid_ok = [c.uid, c.euid, c.suid].contains(&u.uid);
    let gid_ok = [c.gid, c.egid, c.sgid].contains(&u.gid);
    if !((own_pid || c.capable(super::caps::CAP_SYS_ADMIN))
        && (uid_ok || c.capable(super::caps::CAP_SETUID))
        && (gid_ok || c.capable(super::caps::CAP_SETGID)))
    {
        return Err(Errno::EPERM);
    }
    let pid = crate::kernel::ns::pid::find(t, u.pid).ok_or(Errno::ESRCH)?;
    Ok(Cred {
        pid,
        uid: u.uid,
        gid: u.gid,
    })
}

/// Credentials as the SCM_CREDENTIALS message that carries them inside
/// the kernel: a struct ucred holding the global pid (recvmsg gives the
/// receiver its own number for it).
pub fn cred_cmsg(c: Cred) -> Cmsg {
    let u = Ucred {
        pid: c.pid,
        uid: c.uid,
        gid: c.gid,
    };
    Cmsg {
        level: SOL_SOCKET,
        ty: SCM_CREDENTIALS,
        data: abi::bytes(&u).to_vec(),
    }
}

/// The credentials an (already checked) SCM_CREDENTIALS among `cmsgs`
/// gives, the last one winning as in Linux's __scm_send.
pub fn cmsg_cred(cmsgs: &[Cmsg]) -> Option<Cred> {
    cmsgs
        .iter()
        .filter(|m| m.level == SOL_SOCKET && m.ty == SCM_CREDENTIALS)
        .filter(|m| m.data.len() == std::mem::size_of::<Ucred>())
        .map(|m| {
            let u: Ucred = abi::read_at(&m.data, 0);
            Cred {
                pid: u.pid,
                uid: u.uid,
                gid: u.gid,
            }
        })
        .next_back()
}

/// Linux's put_cmsg: append a control message to `out`, which may grow
/// to `room` bytes; one that does not fit is cut short (MSG_CTRUNC).
fn put_cmsg(out: &mut Vec<u8>, room: usize, c: &Cmsg, mflags: &mut i32) {
    let left = room.saturating_sub(out.len());
    if left < CmsgHdr::len(0) {
        *mflags |= MSG_CTRUNC;
        return;
    }
    let want = CmsgHdr::len(c.data.len());
    let len = if want > left {
        *mflags |= MSG_CTRUNC;
        left
    } else {
        want
    };
    let start = out.len();
    let hdr = CmsgHdr {
        cmsg_len: len as u64,
        cmsg_level: c.level,
        cmsg_type: c.ty,
    };
    out.extend_from_slice(abi::bytes(&hdr));
    out.extend_from_slice(&c.data[..len - CmsgHdr::len(0)]);
    out.resize(start + CmsgHdr::align(want).min(left), 0);
}

fn read_msghdr(t: &Task, msg: u64) -> KResult<MsgHdr> {
    let m: abi::net::MsgHdr = abi::read_val(&t.mm(), msg)?;
    Ok(MsgHdr {
        name: m.msg_name,
        namelen: m.msg_namelen,
        iov: m.msg_iov,
        iovlen: m.msg_iovlen,
        control: m.msg_control,
        controllen: m.msg_controllen,
    })
}

/// sendmsg (SCM_RIGHTS passes open files; other control data is ignored)
pub fn sys_sendmsg(t: &Arc<Task>, fd: i32, msg: u64, flags: u32) -> KResult<u64> {
    let (f, s) = sock_of(t, fd)?;
    let h = read_msghdr(t, msg)?;
    if h.iovlen > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    let iov = sys_fs::read_iovec(t, h.iov, h.iovlen as i32)?;
    let data = sys_fs::gather(t, &iov)?;
    let dest = if h.name != 0 {
        Some(read_sockaddr(t, h.name, h.namelen)?)
    } else {
        None
    };
    let (rights, cmsgs) = control_msgs(t, &h)?;
    do_send(t, &f, &*s, &data, flags, dest.as_deref(), rights, &cmsgs)
}

/// recvmsg
pub fn sys_recvmsg(t: &Arc<Task>, fd: i32, msg: u64, flags: u32) -> KResult<u64> {
    let (f, s) = sock_of(t, fd)?;
    let h = read_msghdr(t, msg)?;
    if h.iovlen > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    let iov = sys_fs::read_iovec(t, h.iov, h.iovlen as i32)?;
    let total: usize = iov.iter().map(|x| x.1).sum();
    let ((data, from, full, rights), cmsgs) = do_recv_msg(t, &f, &*s, total.min(1 << 20), flags)?;
    sys_fs::scatter(t, &iov, &data)?;
    let mm = t.mm();
    if h.name != 0 {
        write_sockaddr(t, h.name, msg + MSGHDR_NAMELEN, from.as_deref())?;
    }
    let mut mflags: i32 = if full > data.len() {
        MSG_TRUNC as i32
    } else {
        0
    };
    let space = if h.control == 0 {
        0
    } else {
        h.controllen as usize
    };
    // The credentials and the family's own messages (a datagram's IP
    // header fields) first, as scm_recv puts SCM_CREDENTIALS before the
    // passed files; each cut short as put_cmsg when the buffer is small.
    let mut c = Vec::new();
    for m in &cmsgs {
        if m.level == SOL_SOCKET && m.ty == SCM_CREDENTIALS {
            // The receiver's number for the sender's pid.
            if let Some(cred) = cmsg_cred(std::slice::from_ref(m)) {
                let pid = crate::kernel::ns::pid::vnr(t, cred.pid);
                put_cmsg(&mut c, space, &cred_cmsg(Cred { pid, ..cred }), &mut mflags);
            }
        } else {
            put_cmsg(&mut c, space, m, &mut mflags);
        }
    }
    // Passed files become descriptors of the receiver, as far as the
    // rest of the control buffer has room (the rest are closed:
    // MSG_CTRUNC).
    let room = space
        .saturating_sub(c.len())
        .saturating_sub(CmsgHdr::len(0))
        / 4;
    let mut fds = Vec::new();
    if !rights.is_empty() {
        if rights.len() > room {
            mflags |= MSG_CTRUNC;
        }
        let nofile = t.nofile();
        let table = t.files();
        let mut g = lock(&table);
        for fl in rights.into_iter().take(room) {
            fds.push(g.install(fl, flags & MSG_CMSG_CLOEXEC != 0, nofile)?);
        }
    }
    let mut used = c.len();
    if !fds.is_empty() {
        let len = CmsgHdr::len(fds.len() * 4);
        let hdr = CmsgHdr {
            cmsg_len: len as u64,
            cmsg_level: SOL_SOCKET,
            cmsg_type: SCM_RIGHTS,
        };
        c.extend_from_slice(abi::bytes(&hdr));
        c.extend_from_slice(bytemuck::cast_slice(&fds));
        used += CmsgHdr::align(len).min(space - used);
    }
    if !c.is_empty() {
        mm.write(h.control, &c)?;
    }
    abi::write_val(&mm, msg + MSGHDR_CONTROLLEN, &(used as u64))?;
    abi::write_val(&mm, msg + MSGHDR_FLAGS, &mflags)?;
    Ok(if flags & MSG_TRUNC != 0 {
        full
    } else {
        data.len()
    } as u64)
}

/// shutdown
pub fn sys_shutdown(t: &Arc<Task>, fd: i32, how: i32) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    s.shutdown(how)?;
    Ok(0)
}

/// getsockname
pub fn sys_getsockname(t: &Arc<Task>, fd: i32, addr: u64, lenp: u64) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    write_sockaddr(t, addr, lenp, Some(&s.sockname()?))?;
    Ok(0)
}

/// getpeername
pub fn sys_getpeername(t: &Arc<Task>, fd: i32, addr: u64, lenp: u64) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    write_sockaddr(t, addr, lenp, Some(&s.peername()?))?;
    Ok(0)
}

/// getsockopt
pub fn sys_getsockopt(
    t: &Arc<Task>,
    fd: i32,
    level: i32,
    opt: i32,
    val: u64,
    lenp: u64,
) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    let mm = t.mm();
    let room = mm.read_u32(lenp)? as i32;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let bytes = s.getsockopt(level, opt)?;
    let n = (room as usize).min(bytes.len());
    mm.write(val, &bytes[..n])?;
    mm.write_u32(lenp, n as u32)?;
    Ok(0)
}

const SO_PRIORITY: i32 = 12;
const SO_MARK: i32 = 36;

/// setsockopt
pub fn sys_setsockopt(
    t: &Arc<Task>,
    fd: i32,
    level: i32,
    opt: i32,
    val: u64,
    len: u32,
) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    if len > 4096 {
        return Err(Errno::EINVAL);
    }
    let v = if len == 0 {
        Vec::new()
    } else {
        t.mm().read_vec(val, len as usize)?
    };
    if level == SOL_SOCKET
        && opt == crate::net::inet::options::SO_BINDTODEVICE
        && !t.creds().capable(CAP_NET_RAW)
    {
        // Linux asks for CAP_NET_RAW to bind a socket to an interface.
        return Err(Errno::EPERM);
    }
    if level == SOL_SOCKET
        && [
            super::sys_net_uevent::SO_SNDBUFFORCE,
            super::sys_net_uevent::SO_RCVBUFFORCE,
        ]
        .contains(&opt)
        && !t.creds().capable(super::caps::CAP_NET_ADMIN)
    {
        // Going past rmem_max/wmem_max needs CAP_NET_ADMIN.
        return Err(Errno::EPERM);
    }
    let c = t.creds();
    let net_priv = c.capable(super::caps::CAP_NET_ADMIN) || c.capable(super::caps::CAP_NET_RAW);
    if level == SOL_SOCKET && v.len() >= 4 && !net_priv {
        // SO_PRIORITY past 6 and SO_MARK want CAP_NET_ADMIN (or
        // CAP_NET_RAW), as Linux's sk_setsockopt asks.
        let val: i32 = abi::read_at(&v, 0);
        if (opt == SO_PRIORITY && !(0..=6).contains(&val)) || opt == SO_MARK {
            return Err(Errno::EPERM);
        }
    }
    if level == SOL_SOCKET && opt == super::sys_net_packet::SO_ATTACH_FILTER {
        // struct sock_fprog points at the program: hand the family the
        // instructions themselves.
        let p: abi::net::SockFprog = abi::from_prefix(&v).ok_or(Errno::EINVAL)?;
        // bpf_check_basics_ok: no program or a bad length is EINVAL
        // before anything is read.
        if p.filter == 0 || p.len == 0 || p.len > 4096 {
            return Err(Errno::EINVAL);
        }
        let n = p.len as usize * size_of::<abi::net::SockFilter>();
        let prog = t.mm().read_vec(p.filter, n)?;
        s.setsockopt(level, opt, &prog)?;
        return Ok(0);
    }
    s.setsockopt(level, opt, &v)?;
    Ok(0)
}
