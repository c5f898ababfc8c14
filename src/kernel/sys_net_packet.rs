//! The socket syscalls for AF_PACKET: `Socket` for
//! `net::packet::PacketSocket`, and its socket options (SO_ATTACH_FILTER
//! with the program already read from the guest by `sys_net`); and for
//! the ioctl-only raw IP sockets (`net::inet::raw`).

use super::errno::{Errno, KResult};
use super::sys_net::{Received, Socket, MSG_PEEK};
use super::task::Task;
use crate::abi::{self, net::SockFilter, net::SOL_SOCKET};
use crate::fs::file::{File, FileOps};
use crate::net::packet::{bpf::Filter, PacketSocket};
use std::sync::Arc;

pub const SO_ATTACH_FILTER: i32 = 26;
const SO_DETACH_FILTER: i32 = 27;
const SO_TYPE: i32 = 3;
const SO_ERROR: i32 = 4;
const SO_RCVBUF: i32 = 8;
const SO_SNDBUF: i32 = 7;
const SO_PROTOCOL: i32 = 38;
const SO_DOMAIN: i32 = 39;
const SOL_PACKET: i32 = 263;
const PACKET_ADD_MEMBERSHIP: i32 = 1;
const PACKET_DROP_MEMBERSHIP: i32 = 2;
const PACKET_AUXDATA: i32 = 8;

fn int(v: i32) -> Vec<u8> {
    abi::bytes(&v).to_vec()
}

impl Socket for PacketSocket {
    fn bind(self: Arc<Self>, _t: &Arc<Task>, addr: &[u8]) -> KResult<()> {
        PacketSocket::bind(&self, addr)
    }
    fn listen(&self, _backlog: i32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn connect(self: Arc<Self>, _t: &Arc<Task>, _f: &File, _addr: &[u8]) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn accept(&self) -> KResult<(Arc<dyn FileOps>, Vec<u8>)> {
        Err(Errno::EOPNOTSUPP)
    }
    fn send(
        &self,
        _t: &Arc<Task>,
        data: &[u8],
        dest: Option<&[u8]>,
        _rights: Vec<Arc<File>>,
        _blocking: bool,
    ) -> KResult<usize> {
        PacketSocket::send(self, data, dest)
    }
    fn recv(&self, max: usize, flags: u32) -> KResult<Received> {
        let (data, from, full) = PacketSocket::recv(self, max, flags & MSG_PEEK != 0)?;
        Ok((data, Some(from), full, Vec::new()))
    }
    fn shutdown(&self, _how: i32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn sockname(&self) -> KResult<Vec<u8>> {
        Ok(PacketSocket::sockname(self))
    }
    fn peername(&self) -> KResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }
    fn getsockopt(&self, level: i32, opt: i32) -> KResult<Vec<u8>> {
        Ok(match (level, opt) {
            (SOL_SOCKET, SO_TYPE) => int(self.kind as i32),
            (SOL_SOCKET, SO_ERROR) => int(0),
            (SOL_SOCKET, SO_RCVBUF | SO_SNDBUF) => int(212_992),
            (SOL_SOCKET, SO_PROTOCOL) => int(0),
            (SOL_SOCKET, SO_DOMAIN) => int(crate::abi::net::AF_PACKET as i32),
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
            // Buffer sizes, priorities, timestamps: nothing to change.
            (SOL_SOCKET, _) => Ok(()),
            // Every frame of the interface reaches packet sockets already
            // (the TAP delivers all it gets), so memberships and the
            // promiscuous mode change nothing. Auxiliary data is accepted
            // but no PACKET_AUXDATA control message is produced: readers
            // (udhcpc) treat its absence as "checksums are complete".
            (SOL_PACKET, PACKET_ADD_MEMBERSHIP | PACKET_DROP_MEMBERSHIP) => {
                if val.len() < size_of::<crate::abi::net::PacketMreq>() {
                    return Err(Errno::EINVAL);
                }
                Ok(())
            }
            (SOL_PACKET, PACKET_AUXDATA) => {
                if val.len() < 4 {
                    return Err(Errno::EINVAL);
                }
                Ok(())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }
}

impl Socket for crate::net::inet::raw::RawIpSocket {
    fn bind(self: Arc<Self>, _t: &Arc<Task>, _addr: &[u8]) -> KResult<()> {
        Ok(())
    }
    fn listen(&self, _backlog: i32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn connect(self: Arc<Self>, _t: &Arc<Task>, _f: &File, _addr: &[u8]) -> KResult<()> {
        Ok(())
    }
    fn accept(&self) -> KResult<(Arc<dyn FileOps>, Vec<u8>)> {
        Err(Errno::EOPNOTSUPP)
    }
    fn send(
        &self,
        _t: &Arc<Task>,
        _data: &[u8],
        _dest: Option<&[u8]>,
        _rights: Vec<Arc<File>>,
        _blocking: bool,
    ) -> KResult<usize> {
        Err(Errno::EOPNOTSUPP)
    }
    fn recv(&self, _max: usize, _flags: u32) -> KResult<Received> {
        Err(Errno::EAGAIN)
    }
    fn shutdown(&self, _how: i32) -> KResult<()> {
        Err(Errno::ENOTCONN)
    }
    fn sockname(&self) -> KResult<Vec<u8>> {
        let a = crate::abi::net::SockaddrIn {
            sin_family: crate::abi::net::AF_INET,
            ..Default::default()
        };
        Ok(abi::bytes(&a).to_vec())
    }
    fn peername(&self) -> KResult<Vec<u8>> {
        Err(Errno::ENOTCONN)
    }
    fn getsockopt(&self, level: i32, opt: i32) -> KResult<Vec<u8>> {
        match (level, opt) {
            (SOL_SOCKET, SO_TYPE) => Ok(int(3)),
            (SOL_SOCKET, SO_PROTOCOL) => Ok(int(self.protocol)),
            (SOL_SOCKET, SO_DOMAIN) => Ok(int(crate::abi::net::AF_INET as i32)),
            (SOL_SOCKET, SO_ERROR) => Ok(int(0)),
            _ => Err(Errno::ENOPROTOOPT),
        }
    }
    fn setsockopt(&self, _level: i32, _opt: i32, _val: &[u8]) -> KResult<()> {
        Ok(())
    }
}
