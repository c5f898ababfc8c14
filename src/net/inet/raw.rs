//! Raw IPv4 sockets other than ICMP (socket(AF_INET, SOCK_RAW, proto),
//! root only): opened for their interface ioctls, as udhcpc's
//! `socket(AF_INET, SOCK_RAW, IPPROTO_RAW)` does to look eth0 up. They
//! neither send nor receive: sends are EOPNOTSUPP, receives find nothing.

use crate::fs::file::{File, FileOps, POLLOUT};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::Task;
use std::sync::Arc;

pub struct RawIpSocket {
    pub protocol: i32,
    pub ino: u64,
}

impl RawIpSocket {
    /// socket(2) for a caller with CAP_NET_RAW (`admin`; else EPERM).
    pub fn new(protocol: i32, admin: bool) -> KResult<Arc<RawIpSocket>> {
        if !admin {
            return Err(Errno::EPERM);
        }
        if !(0..=255).contains(&protocol) {
            return Err(Errno::EINVAL);
        }
        Ok(Arc::new(RawIpSocket {
            protocol,
            ino: crate::net::new_ino(),
        }))
    }
}

impl FileOps for RawIpSocket {
    /// O_ASYNC is accepted; no SIGIO is sent yet.
    fn fasync(
        &self,
        _f: &Arc<File>,
        _fd: i32,
        _on: bool,
        _t: &Arc<crate::kernel::task::Task>,
    ) -> bool {
        true
    }
    fn read(&self, _f: &File, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EAGAIN)
    }
    fn poll(&self, _f: &File) -> u32 {
        POLLOUT
    }
    fn ioctl(&self, _f: &File, t: &Arc<Task>, cmd: u32, arg: u64) -> KResult<u64> {
        super::netdev::socket_ioctl(t, cmd, arg).unwrap_or(Err(Errno::ENOTTY))
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
