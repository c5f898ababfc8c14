//! The socket syscalls for AF_NETLINK (route): `Socket` for
//! `net::netlink::NetlinkSocket`.

use super::errno::{Errno, KResult};
use super::sys_net::{Received, Socket, MSG_PEEK};
use super::task::Task;
use crate::fs::file::{File, FileOps};
use crate::net::netlink::NetlinkSocket;
use std::sync::Arc;

impl Socket for NetlinkSocket {
    fn bind(self: Arc<Self>, t: &Arc<Task>, addr: &[u8]) -> KResult<()> {
        NetlinkSocket::bind(&self, addr, t.tgid() as u32)
    }
    fn listen(&self, _backlog: i32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn connect(self: Arc<Self>, _t: &Arc<Task>, _f: &File, _addr: &[u8]) -> KResult<()> {
        // Connecting to the kernel (port 0) changes nothing.
        Ok(())
    }
    fn accept(&self) -> KResult<(Arc<dyn FileOps>, Vec<u8>)> {
        Err(Errno::EOPNOTSUPP)
    }
    fn send(
        &self,
        t: &Arc<Task>,
        data: &[u8],
        _dest: Option<&[u8]>,
        _rights: Vec<Arc<File>>,
        _blocking: bool,
    ) -> KResult<usize> {
        self.request(data, t.tgid() as u32, self.admin(t))
    }
    fn recv(&self, max: usize, flags: u32) -> KResult<Received> {
        // The full length lets MSG_TRUNC report it (glibc sizes its buffer
        // with MSG_PEEK|MSG_TRUNC).
        let (data, full) = self.reply(max, flags & MSG_PEEK != 0)?;
        Ok((data, Some(NetlinkSocket::sockaddr(0)), full, Vec::new()))
    }
    fn shutdown(&self, _how: i32) -> KResult<()> {
        Ok(())
    }
    fn sockname(&self) -> KResult<Vec<u8>> {
        Ok(NetlinkSocket::sockaddr(self.port(0)))
    }
    fn peername(&self) -> KResult<Vec<u8>> {
        Ok(NetlinkSocket::sockaddr(0))
    }
    fn getsockopt(&self, _level: i32, _opt: i32) -> KResult<Vec<u8>> {
        Ok(crate::abi::bytes(&0i32).to_vec())
    }
    fn setsockopt(&self, _level: i32, _opt: i32, _val: &[u8]) -> KResult<()> {
        // Buffer sizes, extended acks, strict checking: nothing to change.
        Ok(())
    }
}
