//! Host sockets std does not make for us, through nix's safe wrappers: a
//! TCP connect that does not block the gateway's thread, its outcome, an
//! abortive close, and an unprivileged ICMP echo ("ping") socket.

use nix::sys::socket::{
    connect, getsockopt, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockProtocol,
    SockType, SockaddrStorage,
};
use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};

/// Start connecting to `to`; the socket is writable (poll) when the
/// attempt is over, and `connect_result` says how it went.
pub fn start_connect(to: SocketAddr) -> io::Result<OwnedFd> {
    let fd = socket(
        if to.is_ipv6() {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        },
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    match connect(fd.as_raw_fd(), &SockaddrStorage::from(to)) {
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

/// An ICMP (`v6`: ICMPv6) echo socket (SOCK_DGRAM, IPPROTO_ICMP or
/// IPPROTO_ICMPV6): no privilege needed when the user's group is in
/// net.ipv4.ping_group_range (which rules both). The kernel owns the
/// echo identifier and the checksum.
pub fn ping_socket(v6: bool) -> io::Result<UdpSocket> {
    let (fam, proto) = if v6 {
        (AddressFamily::Inet6, SockProtocol::IcmpV6)
    } else {
        (AddressFamily::Inet, SockProtocol::Icmp)
    };
    let fd = socket(
        fam,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        proto,
    )?;
    Ok(UdpSocket::from(fd))
}
