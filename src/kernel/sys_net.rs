//! Socket syscalls (AF_UNIX): socket, socketpair, bind, listen, connect,
//! accept4, sendto/recvfrom, sendmsg/recvmsg, shutdown, getsockname,
//! getpeername, getsockopt, setsockopt.

use super::errno::{Errno, KResult};
use super::sched;
use super::signal::{self, SigInfo, SIGPIPE};
use super::sys_fs::{self, would_block};
use super::task::{lock, Task};
use crate::fs::file::{File, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::fs::permission;
use crate::fs::vfs::{S_IFMT, S_IFSOCK};
use crate::net::unix::{
    Cred, Received, UnixAddr, UnixSocket, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM,
};
use std::sync::Arc;

const AF_UNIX: i32 = 1;
const SOCK_NONBLOCK: u32 = O_NONBLOCK;
const SOCK_CLOEXEC: u32 = O_CLOEXEC;
const MSG_PEEK: u32 = 2;
const MSG_TRUNC: u32 = 0x20;
const MSG_DONTWAIT: u32 = 0x40;
const MSG_NOSIGNAL: u32 = 0x4000;

fn sock_of(t: &Task, fd: i32) -> KResult<(Arc<File>, Arc<UnixSocket>)> {
    let f = lock(&t.files()).get(fd)?;
    let s = f
        .ops
        .clone()
        .into_any()
        .and_then(|a| a.downcast::<UnixSocket>().ok())
        .ok_or(Errno::ENOTSOCK)?;
    Ok((f, s))
}

fn cred(t: &Task) -> Cred {
    let c = t.creds();
    Cred {
        pid: t.tgid(),
        uid: c.euid,
        gid: c.egid,
    }
}

fn new_file(t: &Task, s: Arc<UnixSocket>, flags: u32) -> KResult<i32> {
    let f = File::new(s, None, None, O_RDWR | (flags & SOCK_NONBLOCK));
    lock(&t.files()).install(f, flags & SOCK_CLOEXEC != 0)
}

fn kind_of(ty: u32) -> KResult<u32> {
    match ty & 0xf {
        k @ (SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET) => {
            if ty & !(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(k)
        }
        _ => Err(Errno::EPROTONOSUPPORT),
    }
}

/// socket
pub fn sys_socket(t: &Arc<Task>, domain: i32, ty: u32, _proto: i32) -> KResult<u64> {
    if domain != AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    let k = kind_of(ty)?;
    Ok(new_file(t, UnixSocket::new(k, cred(t)), ty)? as u64)
}

/// socketpair
pub fn sys_socketpair(t: &Arc<Task>, domain: i32, ty: u32, _proto: i32, sv: u64) -> KResult<u64> {
    if domain != AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    let k = kind_of(ty)?;
    let (a, b) = (UnixSocket::new(k, cred(t)), UnixSocket::new(k, cred(t)));
    UnixSocket::pair(&a, &b);
    let fa = new_file(t, a, ty)?;
    let fb = match new_file(t, b, ty) {
        Ok(x) => x,
        Err(e) => {
            let _ = lock(&t.files()).remove(fa);
            return Err(e);
        }
    };
    let mut v = fa.to_le_bytes().to_vec();
    v.extend_from_slice(&fb.to_le_bytes());
    t.mm().write(sv, &v)?;
    Ok(0)
}

fn read_addr(t: &Task, addr: u64, len: u32) -> KResult<UnixAddr> {
    if !(2..=110).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let b = t.mm().read_vec(addr, len as usize)?;
    if u16::from_le_bytes([b[0], b[1]]) != AF_UNIX as u16 {
        return Err(Errno::EINVAL);
    }
    let p = &b[2..];
    if p.is_empty() {
        return Err(Errno::EINVAL);
    }
    if p[0] == 0 {
        return Ok(UnixAddr::Abstract(p[1..].to_vec()));
    }
    let end = p.iter().position(|&c| c == 0).unwrap_or(p.len());
    let s = String::from_utf8(p[..end].to_vec()).map_err(|_| Errno::EINVAL)?;
    Ok(UnixAddr::Path(s))
}

fn write_addr(t: &Task, addr: u64, lenp: u64, a: Option<UnixAddr>) -> KResult<()> {
    if addr == 0 || lenp == 0 {
        return Ok(());
    }
    let mm = t.mm();
    let room = mm.read_u32(lenp)? as usize;
    let bytes = a
        .map(|a| a.to_bytes())
        .unwrap_or_else(|| (AF_UNIX as u16).to_le_bytes().to_vec());
    let n = room.min(bytes.len());
    mm.write(addr, &bytes[..n])?;
    mm.write_u32(lenp, bytes.len() as u32)?;
    Ok(())
}

/// The socket bound to `addr`.
fn resolve(t: &Task, addr: &UnixAddr) -> KResult<Arc<UnixSocket>> {
    match addr {
        UnixAddr::Abstract(_) => UnixSocket::lookup(addr, None),
        UnixAddr::Path(p) => {
            let c = t.creds();
            let d = sys_fs::lookup_as(t, &c, sys_fs::AT_FDCWD, p, true)?;
            // Connecting is writing to the socket node (unix_find_bsd).
            let st = d.inode.stat();
            permission::inode_permission(&c, &*d.inode, &st, permission::MAY_WRITE)?;
            if st.mode & S_IFMT != S_IFSOCK {
                return Err(Errno::ECONNREFUSED);
            }
            UnixSocket::lookup(addr, Some(&d.inode))
        }
    }
}

/// bind
pub fn sys_bind(t: &Arc<Task>, fd: i32, addr: u64, len: u32) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    let a = read_addr(t, addr, len)?;
    let node = match &a {
        UnixAddr::Path(p) => {
            let c = t.creds();
            let (parent, name) = sys_fs::lookup_parent(t, &c, sys_fs::AT_FDCWD, p)?;
            if name.is_empty() {
                return Err(Errno::EINVAL);
            }
            let umask = t.fs().umask;
            let m = S_IFSOCK | (0o777 & !umask);
            Some(sys_fs::create_in(&c, &parent, &name, m, 0).map_err(|e| {
                if e == Errno::EEXIST {
                    Errno::EADDRINUSE
                } else {
                    e
                }
            })?)
        }
        UnixAddr::Abstract(_) => None,
    };
    s.bind(a, node)?;
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
    let a = read_addr(t, addr, len)?;
    let target = resolve(t, &a)?;
    match s.connect(&target, a) {
        Err(Errno::EAGAIN) if !f.nonblocking() => {
            if let Some(wq) = target.wait_queue_pub() {
                wq.add(t.tid);
            }
            Err(sched::block(t, None))
        }
        r => r.map(|_| 0),
    }
}

/// accept, accept4
pub fn sys_accept4(t: &Arc<Task>, fd: i32, addr: u64, lenp: u64, flags: u32) -> KResult<u64> {
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let (f, s) = sock_of(t, fd)?;
    let c = match s.accept() {
        Ok(c) => c,
        Err(Errno::EAGAIN) => return Err(would_block(t, &f)),
        Err(e) => return Err(e),
    };
    let (peer, _, _) = c.peer_info();
    let nfd = new_file(t, c, flags)?;
    write_addr(t, addr, lenp, peer)?;
    Ok(nfd as u64)
}

fn do_send(
    t: &Arc<Task>,
    f: &File,
    s: &UnixSocket,
    data: &[u8],
    flags: u32,
    dest: Option<Arc<UnixSocket>>,
    rights: Vec<Arc<File>>,
) -> KResult<u64> {
    match s.send(data, dest, rights) {
        Ok(n) => Ok(n as u64),
        Err(Errno::EAGAIN) if flags & MSG_DONTWAIT == 0 => Err(would_block(t, f)),
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
    let data = t.mm().read_vec(buf, len.min(1 << 20))?;
    let dest = if addr != 0 && s.kind != SOCK_STREAM {
        Some(resolve(t, &read_addr(t, addr, alen)?)?)
    } else {
        None
    };
    do_send(t, &f, &s, &data, flags, dest, Vec::new())
}

fn do_recv(t: &Arc<Task>, f: &File, s: &UnixSocket, max: usize, flags: u32) -> KResult<Received> {
    match s.recv(max, flags & MSG_PEEK != 0) {
        Err(Errno::EAGAIN) if flags & MSG_DONTWAIT == 0 && !f.nonblocking() => {
            Err(would_block(t, f))
        }
        r => r,
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
    let (data, from, full, _) = do_recv(t, &f, &s, len.min(1 << 20), flags)?;
    t.mm().write(buf, &data)?;
    write_addr(t, addr, lenp, from)?;
    Ok(if flags & MSG_TRUNC != 0 {
        full
    } else {
        data.len()
    } as u64)
}

struct MsgHdr {
    name: u64,
    namelen: u32,
    iov: u64,
    iovlen: u64,
    control: u64,
    controllen: u64,
}

const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;
const MSG_CTRUNC: i32 = 8;
const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;

/// The files named by SCM_RIGHTS control messages of a sendmsg.
fn control_rights(t: &Task, h: &MsgHdr) -> KResult<Vec<Arc<File>>> {
    let mut files = Vec::new();
    if h.control == 0 || h.controllen < 16 {
        return Ok(files);
    }
    if h.controllen > 64 * 1024 {
        return Err(Errno::ENOBUFS);
    }
    let c = t.mm().read_vec(h.control, h.controllen as usize)?;
    let mut off = 0usize;
    while off + 16 <= c.len() {
        let len = u64::from_le_bytes(c[off..off + 8].try_into().unwrap()) as usize;
        let level = i32::from_le_bytes(c[off + 8..off + 12].try_into().unwrap());
        let ty = i32::from_le_bytes(c[off + 12..off + 16].try_into().unwrap());
        if len < 16 || off + len > c.len() {
            return Err(Errno::EINVAL);
        }
        if level == SOL_SOCKET && ty == SCM_RIGHTS {
            let table = t.files();
            let g = lock(&table);
            for k in 0..(len - 16) / 4 {
                let p = off + 16 + k * 4;
                let fd = i32::from_le_bytes(c[p..p + 4].try_into().unwrap());
                files.push(g.get(fd)?);
            }
            if files.len() > 253 {
                return Err(Errno::EINVAL);
            }
        }
        off += len.div_ceil(8) * 8;
    }
    Ok(files)
}

fn read_msghdr(t: &Task, msg: u64) -> KResult<MsgHdr> {
    let b = t.mm().read_vec(msg, 56)?;
    let u = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    Ok(MsgHdr {
        name: u(0),
        namelen: u(8) as u32,
        iov: u(16),
        iovlen: u(24),
        control: u(32),
        controllen: u(40),
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
    let dest = if h.name != 0 && s.kind != SOCK_STREAM {
        Some(resolve(t, &read_addr(t, h.name, h.namelen)?)?)
    } else {
        None
    };
    let rights = control_rights(t, &h)?;
    do_send(t, &f, &s, &data, flags, dest, rights)
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
    let (data, from, full, rights) = do_recv(t, &f, &s, total.min(1 << 20), flags)?;
    sys_fs::scatter(t, &iov, &data)?;
    let mm = t.mm();
    if h.name != 0 {
        write_addr(t, h.name, msg + 8, from)?;
    }
    let mut mflags: i32 = if full > data.len() {
        MSG_TRUNC as i32
    } else {
        0
    };
    // Passed files become descriptors of the receiver, as far as the
    // control buffer has room (the rest are closed: MSG_CTRUNC).
    let room = if h.control == 0 {
        0
    } else {
        (h.controllen as usize).saturating_sub(16) / 4
    };
    let mut fds = Vec::new();
    if !rights.is_empty() {
        if rights.len() > room {
            mflags |= MSG_CTRUNC;
        }
        let table = t.files();
        let mut g = lock(&table);
        for fl in rights.into_iter().take(room) {
            fds.push(g.install(fl, flags & MSG_CMSG_CLOEXEC != 0)?);
        }
    }
    if fds.is_empty() {
        mm.write_u64(msg + 40, 0)?;
    } else {
        let len = 16 + fds.len() * 4;
        let mut c = (len as u64).to_le_bytes().to_vec();
        c.extend_from_slice(&SOL_SOCKET.to_le_bytes());
        c.extend_from_slice(&SCM_RIGHTS.to_le_bytes());
        for fd in &fds {
            c.extend_from_slice(&fd.to_le_bytes());
        }
        mm.write(h.control, &c)?;
        mm.write_u64(msg + 40, len.div_ceil(8) as u64 * 8)?;
    }
    mm.write(msg + 48, &mflags.to_le_bytes())?;
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
    write_addr(t, addr, lenp, s.local_addr())?;
    Ok(0)
}

/// getpeername
pub fn sys_getpeername(t: &Arc<Task>, fd: i32, addr: u64, lenp: u64) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    let (peer, _, connected) = s.peer_info();
    if !connected {
        return Err(Errno::ENOTCONN);
    }
    write_addr(t, addr, lenp, peer)?;
    Ok(0)
}

/// getsockopt (SOL_SOCKET: SO_TYPE, SO_ERROR, SO_SNDBUF, SO_RCVBUF,
/// SO_PEERCRED, SO_ACCEPTCONN)
pub fn sys_getsockopt(
    t: &Arc<Task>,
    fd: i32,
    level: i32,
    opt: i32,
    val: u64,
    lenp: u64,
) -> KResult<u64> {
    let (_, s) = sock_of(t, fd)?;
    if level != 1 {
        return Err(Errno::ENOPROTOOPT);
    }
    let bytes: Vec<u8> = match opt {
        3 => (s.kind as i32).to_le_bytes().to_vec(),
        4 => 0i32.to_le_bytes().to_vec(),
        7 | 8 => 212_992i32.to_le_bytes().to_vec(),
        17 => {
            let (_, c, _) = s.peer_info();
            let mut v = c.pid.to_le_bytes().to_vec();
            v.extend_from_slice(&c.uid.to_le_bytes());
            v.extend_from_slice(&c.gid.to_le_bytes());
            v
        }
        30 => 0i32.to_le_bytes().to_vec(),
        _ => return Err(Errno::ENOPROTOOPT),
    };
    let mm = t.mm();
    let room = mm.read_u32(lenp)? as usize;
    let n = room.min(bytes.len());
    mm.write(val, &bytes[..n])?;
    mm.write_u32(lenp, n as u32)?;
    Ok(0)
}

/// setsockopt: accepted (buffer sizes and flags have no effect yet).
pub fn sys_setsockopt(t: &Arc<Task>, fd: i32, level: i32, _opt: i32) -> KResult<u64> {
    sock_of(t, fd)?;
    if level != 1 {
        return Err(Errno::ENOPROTOOPT);
    }
    Ok(0)
}
