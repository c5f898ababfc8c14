//! Networking: AF_UNIX sockets (`unix`), AF_INET/AF_INET6 sockets over
//! smoltcp with a loopback interface (`inet`), route netlink (`netlink`),
//! uevent netlink (`uevent`)
//! and link-level AF_PACKET sockets (`packet`). The socket syscalls live
//! in `kernel::sys_net`, which dispatches each call to the socket's
//! family. Host networking: ethN devices (`drivers::net`) are more
//! interfaces of the inet stack.

pub mod inet;
pub mod netlink;
pub mod packet;
pub mod sockopt;
pub mod uevent;
pub mod unix;

use crate::fs::vfs::{Stat, S_IFSOCK};
use std::sync::atomic::{AtomicU64, Ordering};

/// One control message (struct cmsghdr and its data) of a sendmsg or
/// recvmsg, other than SCM_RIGHTS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmsg {
    pub level: i32,
    pub ty: i32,
    pub data: Vec<u8>,
}

/// Inode numbers of sockets (sockfs), shared by every family.
static NEXT_INO: AtomicU64 = AtomicU64::new(1 << 40);

/// A new socket's inode number.
pub fn new_ino() -> u64 {
    NEXT_INO.fetch_add(1, Ordering::Relaxed)
}

/// fstat of a socket: an S_IFSOCK node of sockfs.
pub fn socket_stat(ino: u64) -> Stat {
    Stat {
        dev: 8,
        ino,
        mode: S_IFSOCK | 0o777,
        nlink: 1,
        blksize: 4096,
        ..Default::default()
    }
}
