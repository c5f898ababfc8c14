//! AF_UNIX behind the socket syscalls: sockaddr_un names (file-system
//! nodes created by bind, abstract names), socketpair, connect that waits
//! for room in the listener's queue, and SOL_SOCKET options.

use super::errno::{Errno, KResult};
use super::sched;
use super::sys_fs;
use super::sys_net::{self, new_file, Received, Socket, MSG_PEEK};
use super::task::{lock, Task};
use crate::fs::file::{File, FileOps};
use crate::fs::permission;
use crate::fs::vfs::{S_IFMT, S_IFSOCK};
use crate::net::unix::{Cred, UnixAddr, UnixSocket, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
use crate::net::Cmsg;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::abi::net::AF_UNIX;

fn cred(t: &Task) -> Cred {
    let c = t.creds();
    Cred {
        pid: t.tgid(),
        uid: c.euid,
        gid: c.egid,
    }
}

fn check_kind(k: u32) -> KResult<u32> {
    match k {
        SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET => Ok(k),
        _ => Err(Errno::EPROTONOSUPPORT),
    }
}

/// socket(AF_UNIX, `kind`).
pub fn new(t: &Task, kind: u32) -> KResult<Arc<UnixSocket>> {
    Ok(UnixSocket::new(check_kind(kind)?, cred(t)))
}

/// socketpair(AF_UNIX, ...): two connected sockets, their fds at `sv`.
pub fn socketpair(t: &Arc<Task>, kind: u32, ty: u32, sv: u64) -> KResult<u64> {
    let k = check_kind(kind)?;
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
    crate::abi::write_val(&t.mm(), sv, &[fa, fb])?;
    Ok(0)
}

fn parse_addr(b: &[u8]) -> KResult<UnixAddr> {
    if !(2..=110).contains(&b.len()) || crate::abi::read_at::<u16>(b, 0) != AF_UNIX {
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
    let s = crate::fs::name::from_bytes(&p[..end]);
    Ok(UnixAddr::Path(s))
}

/// The sockaddr_un of `a` (just the family when unnamed).
fn addr_bytes(a: Option<UnixAddr>) -> Vec<u8> {
    a.map(|a| a.to_bytes())
        .unwrap_or_else(|| crate::abi::bytes(&AF_UNIX).to_vec())
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

/// Bind `s` to a free abstract name of five hex digits, as Linux's
/// unix_autobind; a socket that already has a name keeps it.
fn autobind(s: &Arc<UnixSocket>) -> KResult<()> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    if s.local_addr().is_some() {
        return Ok(());
    }
    for _ in 0..=0xfffff {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0xfffff;
        let name = format!("{n:05x}").into_bytes();
        match s.bind_node(UnixAddr::Abstract(name), None) {
            Err(Errno::EADDRINUSE) => continue,
            r => return r,
        }
    }
    Err(Errno::ENOSPC)
}

impl Socket for UnixSocket {
    fn bind(self: Arc<Self>, t: &Arc<Task>, addr: &[u8]) -> KResult<()> {
        // Just the family: pick an abstract name (Linux's unix_autobind).
        if addr.len() == 2 && crate::abi::read_at::<u16>(addr, 0) == AF_UNIX {
            return autobind(&self);
        }
        let a = parse_addr(addr)?;
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
        self.bind_node(a, node)
    }

    fn listen(&self, backlog: i32) -> KResult<()> {
        UnixSocket::listen(self, backlog)
    }

    fn connect(self: Arc<Self>, t: &Arc<Task>, f: &File, addr: &[u8]) -> KResult<()> {
        let a = parse_addr(addr)?;
        let target = resolve(t, &a)?;
        loop {
            match self.connect_to(&target, a.clone()) {
                // The listener's queue is full: wait for an accept there.
                Err(Errno::EAGAIN) if !f.nonblocking() => {
                    if let Some(wq) = target.wait_queue() {
                        wq.add(t.tid);
                    }
                    sched::wait(t, None)?;
                }
                r => return r,
            }
        }
    }

    fn accept(&self) -> KResult<(Arc<dyn FileOps>, Vec<u8>)> {
        let c = UnixSocket::accept(self)?;
        let (peer, _, _) = c.peer_info();
        Ok((c, addr_bytes(peer)))
    }

    fn send(
        &self,
        t: &Arc<Task>,
        data: &[u8],
        dest: Option<&[u8]>,
        rights: Vec<Arc<File>>,
        blocking: bool,
    ) -> KResult<usize> {
        self.send_msg(t, data, dest, rights, &[], blocking)
    }

    /// Every message carries its sender's credentials (the real uid and
    /// gid, as scm_send), or those its SCM_CREDENTIALS gave (checked by
    /// sendmsg); other control messages are ignored, as by Linux.
    fn send_msg(
        &self,
        t: &Arc<Task>,
        data: &[u8],
        dest: Option<&[u8]>,
        rights: Vec<Arc<File>>,
        cmsgs: &[Cmsg],
        _blocking: bool,
    ) -> KResult<usize> {
        let cred = sys_net::cmsg_cred(cmsgs);
        // Stream sockets ignore a destination, as Linux does.
        let dest = match dest {
            Some(a) if self.kind != SOCK_STREAM => Some(resolve(t, &parse_addr(a)?)?),
            _ => None,
        };
        let cred = cred.unwrap_or_else(|| {
            let c = t.creds();
            Cred {
                pid: t.tgid(),
                uid: c.uid,
                gid: c.gid,
            }
        });
        UnixSocket::send(self, data, dest, rights, cred)
    }

    fn recv(&self, max: usize, flags: u32) -> KResult<Received> {
        Ok(self.recv_msg(max, flags)?.0)
    }

    /// SCM_CREDENTIALS only with SO_PASSCRED on.
    fn recv_msg(&self, max: usize, flags: u32) -> KResult<(Received, Vec<Cmsg>)> {
        let ((data, from, full, rights), cred) =
            UnixSocket::recv(self, max, flags & MSG_PEEK != 0)?;
        let cmsgs = cred
            .filter(|_| self.passcred.load(Ordering::Relaxed))
            .map(sys_net::cred_cmsg)
            .into_iter()
            .collect();
        Ok(((data, Some(addr_bytes(from)), full, rights), cmsgs))
    }

    fn shutdown(&self, how: i32) -> KResult<()> {
        UnixSocket::shutdown(self, how)
    }

    fn sockname(&self) -> KResult<Vec<u8>> {
        Ok(addr_bytes(self.local_addr()))
    }

    fn peername(&self) -> KResult<Vec<u8>> {
        let (peer, _, connected) = self.peer_info();
        if !connected {
            return Err(Errno::ENOTCONN);
        }
        Ok(addr_bytes(peer))
    }

    /// SOL_SOCKET: SO_TYPE, SO_ERROR, SO_SNDBUF, SO_RCVBUF, SO_PEERCRED,
    /// SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN.
    fn getsockopt(&self, level: i32, opt: i32) -> KResult<Vec<u8>> {
        if level != 1 {
            return Err(Errno::ENOPROTOOPT);
        }
        Ok(match opt {
            3 => int(self.kind as i32),
            4 => int(0),
            7 | 8 => int(212_992),
            17 => {
                let (_, c, _) = self.peer_info();
                // The peer's pid in the caller's pid namespace (0 outside).
                let ns = crate::kernel::ns::current_pid();
                let u = crate::abi::net::Ucred {
                    pid: crate::kernel::ns::pid::nr_in(c.pid, &ns),
                    uid: c.uid,
                    gid: c.gid,
                };
                crate::abi::bytes(&u).to_vec()
            }
            // SO_PASSCRED
            16 => int(self.passcred.load(Ordering::Relaxed) as i32),
            // SO_ACCEPTCONN
            30 => int(self.is_listening() as i32),
            38 => int(0),
            39 => int(AF_UNIX as i32),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }

    /// SO_PASSCRED turns SCM_CREDENTIALS on receives on or off; the
    /// rest is accepted at SOL_SOCKET (buffer sizes and other flags have
    /// no effect).
    fn setsockopt(&self, level: i32, opt: i32, val: &[u8]) -> KResult<()> {
        if level != 1 {
            return Err(Errno::ENOPROTOOPT);
        }
        if opt == 16 {
            // sock_setsockopt reads an int: EINVAL when shorter.
            if val.len() < 4 {
                return Err(Errno::EINVAL);
            }
            let on: i32 = crate::abi::read_at(val, 0);
            self.passcred.store(on != 0, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// An int-valued socket option's bytes.
fn int(v: i32) -> Vec<u8> {
    crate::abi::bytes(&v).to_vec()
}
