//! AF_INET and AF_INET6 behind the socket syscalls: `InetSocket` as a
//! `Socket`. A blocking connect sleeps on the socket's own wait queue
//! until the handshake ends.

use super::errno::{Errno, KResult};
use super::sys_fs::IoWait;
use super::sys_net::{Received, Socket, MSG_PEEK, MSG_WAITALL};
use super::task::Task;
use crate::fs::file::{File, FileOps};
use crate::net::inet::InetSocket;
use crate::net::Cmsg;
use std::sync::Arc;

impl Socket for InetSocket {
    fn bind(self: Arc<Self>, t: &Arc<Task>, addr: &[u8]) -> KResult<()> {
        if let Some(ns) = self.bind_needs_cap(addr) {
            if !super::ns::capable_in(t, ns, super::caps::CAP_NET_BIND_SERVICE) {
                return Err(Errno::EACCES);
            }
        }
        InetSocket::bind(&self, addr)
    }

    fn listen(&self, backlog: i32) -> KResult<()> {
        InetSocket::listen(self, backlog)
    }

    fn connect(self: Arc<Self>, t: &Arc<Task>, f: &File, addr: &[u8]) -> KResult<()> {
        let mut w = IoWait::write(f);
        loop {
            match InetSocket::connect(&self, addr, f.nonblocking()) {
                Err(Errno::EAGAIN) => match w.wait(t, f) {
                    Ok(()) => {}
                    // SO_SNDTIMEO ran out: the handshake goes on without us.
                    Err(Errno::EAGAIN) => return Err(Errno::EINPROGRESS),
                    Err(e) => return Err(e),
                },
                r => return r,
            }
        }
    }

    fn accept(&self) -> KResult<(Arc<dyn FileOps>, Vec<u8>)> {
        let (s, peer) = InetSocket::accept(self)?;
        Ok((s, peer))
    }

    fn send(
        &self,
        _t: &Arc<Task>,
        data: &[u8],
        dest: Option<&[u8]>,
        _rights: Vec<Arc<File>>,
        blocking: bool,
    ) -> KResult<usize> {
        InetSocket::send(self, data, dest, blocking)
    }

    fn recv(&self, max: usize, flags: u32) -> KResult<Received> {
        Ok(Socket::recv_msg(self, max, flags)?.0)
    }

    fn send_msg(
        &self,
        _t: &Arc<Task>,
        data: &[u8],
        dest: Option<&[u8]>,
        _rights: Vec<Arc<File>>,
        cmsgs: &[Cmsg],
        blocking: bool,
    ) -> KResult<usize> {
        InetSocket::send_msg(self, data, dest, blocking, cmsgs)
    }

    fn recv_msg(&self, max: usize, flags: u32) -> KResult<(Received, Vec<Cmsg>)> {
        let (peek, waitall) = (flags & MSG_PEEK != 0, flags & MSG_WAITALL != 0);
        let ((data, from, full), c) = InetSocket::recv_msg(self, max, peek, waitall)?;
        Ok(((data, from, full, Vec::new()), c))
    }

    fn shutdown(&self, how: i32) -> KResult<()> {
        InetSocket::shutdown(self, how)
    }

    fn sockname(&self) -> KResult<Vec<u8>> {
        InetSocket::sockname(self)
    }

    fn peername(&self) -> KResult<Vec<u8>> {
        InetSocket::peername(self)
    }

    fn getsockopt(&self, level: i32, opt: i32) -> KResult<Vec<u8>> {
        InetSocket::getsockopt(self, level, opt)
    }

    fn setsockopt(&self, level: i32, opt: i32, val: &[u8]) -> KResult<()> {
        InetSocket::setsockopt(self, level, opt, val)
    }
}
