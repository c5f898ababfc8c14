//! The socket syscalls for AF_NETLINK, NETLINK_KOBJECT_UEVENT: `Socket`
//! for `net::uevent::UeventSocket` and its socket options (SO_RCVBUF,
//! SO_PASSCRED, SO_ATTACH_FILTER with the program already read by
//! `sys_net`, the netlink memberships; the other SOL_SOCKET ones are
//! `net::sockopt`'s, ENOPROTOOPT past those).

use super::errno::{Errno, KResult};
use super::sys_net::{cred_cmsg, Received, Socket, MSG_PEEK};
use super::sys_net_packet::SO_ATTACH_FILTER;
use super::task::Task;
use crate::abi::{self, net::SockFilter, net::SockaddrNl, net::SOL_SOCKET};
use crate::fs::file::{File, FileOps};
use crate::net::packet::bpf::Filter;
use crate::net::uevent::{
    UeventSocket, MIN_RCVBUF, NETLINK_BROADCAST_ERROR, NETLINK_CAP_ACK, NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK, NETLINK_KOBJECT_UEVENT, NETLINK_NO_ENOBUFS, NETLINK_PKTINFO, RMEM_MAX,
};
use crate::net::unix::Cred;
use crate::net::Cmsg;
use std::sync::Arc;

const SO_DETACH_FILTER: i32 = 27;
const SO_TYPE: i32 = 3;
const SO_ERROR: i32 = 4;
const SO_PEERCRED: i32 = 17;
const SO_RCVBUF: i32 = 8;
const SO_PASSCRED: i32 = 16;
pub const SO_SNDBUFFORCE: i32 = 32;
pub const SO_RCVBUFFORCE: i32 = 33;
const SO_PROTOCOL: i32 = 38;
const SO_DOMAIN: i32 = 39;
const SOL_NETLINK: i32 = 270;
const NETLINK_ADD_MEMBERSHIP: i32 = 1;
const NETLINK_DROP_MEMBERSHIP: i32 = 2;

/// The SOL_NETLINK options that are flags.
const NL_FLAGS: [i32; 6] = [
    NETLINK_PKTINFO,
    NETLINK_BROADCAST_ERROR,
    NETLINK_NO_ENOBUFS,
    NETLINK_CAP_ACK,
    NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK,
];

fn int(v: i32) -> Vec<u8> {
    abi::bytes(&v).to_vec()
}

/// An int option's value (EINVAL when shorter than an int).
fn int_of(val: &[u8]) -> KResult<i32> {
    abi::from_prefix::<i32>(val).ok_or(Errno::EINVAL)
}

impl Socket for UeventSocket {
    fn bind(self: Arc<Self>, t: &Arc<Task>, addr: &[u8]) -> KResult<()> {
        UeventSocket::bind(&self, addr, t.tgid() as u32)
    }
    fn listen(&self, _backlog: i32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn connect(self: Arc<Self>, t: &Arc<Task>, _f: &File, addr: &[u8]) -> KResult<()> {
        let a = abi::from_prefix::<SockaddrNl>(addr).ok_or(Errno::EINVAL)?;
        if a.nl_family != abi::net::AF_NETLINK && a.nl_family != 0 {
            return Err(Errno::EINVAL);
        }
        self.autobind(t.tgid() as u32);
        Ok(())
    }
    fn accept(&self) -> KResult<(Arc<dyn FileOps>, Vec<u8>)> {
        Err(Errno::EOPNOTSUPP)
    }
    fn send(
        &self,
        t: &Arc<Task>,
        data: &[u8],
        dest: Option<&[u8]>,
        _rights: Vec<Arc<File>>,
        _blocking: bool,
    ) -> KResult<usize> {
        let groups = match dest {
            Some(d) => {
                let a = abi::from_prefix::<SockaddrNl>(d).ok_or(Errno::EINVAL)?;
                if a.nl_family != abi::net::AF_NETLINK {
                    return Err(Errno::EINVAL);
                }
                a.nl_groups
            }
            None => 0,
        };
        // Only CAP_NET_ADMIN may send to this family's groups.
        if groups != 0 && !t.creds().capable(super::caps::CAP_NET_ADMIN) {
            return Err(Errno::EPERM);
        }
        self.autobind(t.tgid() as u32);
        Ok(UeventSocket::send(self, data, groups))
    }
    fn recv(&self, max: usize, flags: u32) -> KResult<Received> {
        Ok(self.recv_msg(max, flags)?.0)
    }
    /// The sender is the kernel (port 0) on the message's group;
    /// SO_PASSCRED adds the kernel's credentials (pid 0, uid 0, gid 0).
    fn recv_msg(&self, max: usize, flags: u32) -> KResult<(Received, Vec<Cmsg>)> {
        let (data, full, group, passcred) = UeventSocket::recv(self, max, flags & MSG_PEEK != 0)?;
        // As netlink_recvmsg: the group first (NETLINK_PKTINFO's struct
        // nl_pktinfo), then the credentials.
        let mut cmsgs = Vec::new();
        if self.nl_flag(NETLINK_PKTINFO) {
            cmsgs.push(Cmsg {
                level: SOL_NETLINK,
                ty: NETLINK_PKTINFO,
                data: group.to_ne_bytes().to_vec(),
            });
        }
        if passcred {
            cmsgs.push(cred_cmsg(Cred::default()));
        }
        let from = UeventSocket::sockaddr(0, group);
        Ok(((data, Some(from), full, Vec::new()), cmsgs))
    }
    fn shutdown(&self, _how: i32) -> KResult<()> {
        Ok(())
    }
    fn sockname(&self) -> KResult<Vec<u8>> {
        Ok(self.name())
    }
    fn peername(&self) -> KResult<Vec<u8>> {
        Ok(UeventSocket::sockaddr(0, 0))
    }
    fn getsockopt(&self, level: i32, opt: i32) -> KResult<Vec<u8>> {
        Ok(match (level, opt) {
            (SOL_SOCKET, SO_TYPE) => int(self.kind as i32),
            (SOL_SOCKET, SO_ERROR) => int(0),
            (SOL_SOCKET, SO_RCVBUF) => int(self.rcvbuf() as i32),
            (SOL_SOCKET, SO_PASSCRED) => int(self.passcred() as i32),
            (SOL_SOCKET, SO_PROTOCOL) => int(NETLINK_KOBJECT_UEVENT),
            (SOL_SOCKET, SO_DOMAIN) => int(abi::net::AF_NETLINK as i32),
            (SOL_SOCKET, SO_PEERCRED) => {
                // The kernel end: no pid, no ids (-1).
                let u = abi::net::Ucred {
                    pid: 0,
                    uid: u32::MAX,
                    gid: u32::MAX,
                };
                abi::bytes(&u).to_vec()
            }
            (SOL_SOCKET, o) => match self.opts.lock().unwrap_or_else(|e| e.into_inner()).get(o) {
                Some(r) => r?,
                None => return Err(Errno::ENOPROTOOPT),
            },
            (SOL_NETLINK, o) if NL_FLAGS.contains(&o) => int(self.nl_flag(o) as i32),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }
    fn setsockopt(&self, level: i32, opt: i32, val: &[u8]) -> KResult<()> {
        match (level, opt) {
            (SOL_SOCKET, SO_ATTACH_FILTER) => {
                let prog: Vec<SockFilter> = val
                    .chunks_exact(size_of::<SockFilter>())
                    .map(|c| abi::read_at(c, 0))
                    .collect();
                self.set_filter(Some(Filter::new(prog)?))
            }
            (SOL_SOCKET, SO_DETACH_FILTER) => self.set_filter(None),
            // Doubled as Linux keeps it, capped at rmem_max unless forced
            // (the capability is checked by `sys_net`).
            (SOL_SOCKET, SO_RCVBUF | SO_RCVBUFFORCE) => {
                let mut v = i64::from(int_of(val)?.max(0));
                if opt == SO_RCVBUF {
                    v = v.min(RMEM_MAX);
                }
                let v = (v.min(i64::from(i32::MAX / 2)) * 2).max(MIN_RCVBUF);
                self.set_rcvbuf(v as usize);
                Ok(())
            }
            (SOL_SOCKET, SO_PASSCRED) => {
                self.set_passcred(int_of(val)? != 0);
                Ok(())
            }
            (SOL_SOCKET, o) => {
                let mut g = self.opts.lock().unwrap_or_else(|e| e.into_inner());
                g.set(o, val).unwrap_or(Err(Errno::ENOPROTOOPT))
            }
            (SOL_NETLINK, NETLINK_ADD_MEMBERSHIP | NETLINK_DROP_MEMBERSHIP) => {
                let g = abi::from_prefix::<u32>(val).unwrap_or(0);
                self.membership(g, opt == NETLINK_ADD_MEMBERSHIP)
            }
            // Flags: PKTINFO adds the group to each message, NO_ENOBUFS
            // hides overruns; BROADCAST_ERROR, CAP_ACK, EXT_ACK and
            // GET_STRICT_CHK shape acks and errors of requests to the
            // kernel, which this socket never answers: kept and reported.
            // A value shorter than an int reads as 0, as netlink_setsockopt.
            (SOL_NETLINK, o) if NL_FLAGS.contains(&o) => {
                self.set_nl_flag(o, val.len() >= 4 && int_of(val)? != 0);
                Ok(())
            }
            (SOL_NETLINK, _) => Err(Errno::ENOPROTOOPT),
            _ => Err(Errno::ENOPROTOOPT),
        }
    }
}
