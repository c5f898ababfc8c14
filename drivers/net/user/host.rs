//! Host sockets std does not make for us, through nix's safe wrappers: a
//! TCP connect that does not block the gateway's thread, its outcome, an
//! abortive close, and an unprivileged ICMP echo ("ping") socket.

use nix::sys::socket::{
    connect, getsockopt, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockProtocol,
    SockType, SockaddrIn,
};
use std::io;
use std::net::{SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};

/// Start connecting to `to`; the socket is writable (poll) when the
/// attempt is over, and `connect_result` says how it went.
pub fn start_connect(to: SocketAddrV4) -> io::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    match connect(fd.as_raw_fd(), &SockaddrIn::from(to)) {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => Ok(fd),
        Err(e) => Err(e.into()),
    }
}

/// The outcome of a finished `start_connect`: the connected stream.
pub fn connect_result(fd: OwnedFd) -> io::Result<TcpStream> {
    match getsockopt(&fd, sockopt::SocketError)? {
        0 => {
            let s = TcpStream::from(fd);
            s.set_nodelay(true)?;
            Ok(s)
        }
        e => Err(io::Error::from_raw_os_error(e)),
    }
}

/// Make closing `s` reset the connection (the guest reset its side).
pub fn reset_on_close(s: &TcpStream) {
    let _ = setsockopt(
        s,
        sockopt::Linger,
        &libc::linger {
            l_onoff: 1,
            l_linger: 0,
        },
    );
}

/// An ICMP echo socket (SOCK_DGRAM, IPPROTO_ICMP): no privilege needed
/// when the user's group is in net.ipv4.ping_group_range. The kernel
/// owns the echo identifier and the checksum.
pub fn ping_socket() -> io::Result<UdpSocket> {
    let fd = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        SockProtocol::Icmp,
    )?;
    Ok(UdpSocket::from(fd))
}
