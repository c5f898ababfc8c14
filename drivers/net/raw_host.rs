//! Raw host half (`vecN:transport=raw,ifname=IF`, as UML's vector
//! driver): an AF_PACKET socket bound to a host interface, so the guest's
//! frames go out on that wire and every frame the wire carries comes in
//! (the interface is put in promiscuous mode: the guest has a MAC of its
//! own). Needs CAP_NET_RAW. The socket then serves as the TAP's fd does:
//! one read is one frame, one write sends one.

use super::tap_host::HostTap;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

const ETH_P_ALL: u16 = 0x0003;
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_MR_PROMISC: libc::c_ushort = 1;
/// Our own sends are not read back (Linux 4.20).
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn setsockopt<T>(fd: libc::c_int, level: libc::c_int, name: libc::c_int, v: &T) -> io::Result<()> {
    // SAFETY: `v` points to a live value of the size passed.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    })
}

/// Open host interface `name` for raw frames.
pub fn open(name: &str) -> io::Result<HostTap> {
    let cname = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: if_nametoindex reads a NUL-terminated string that lives
    // across the call.
    let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socket(2) takes no pointers.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            ETH_P_ALL.to_be() as libc::c_int,
        )
    };
    check(fd)?;
    // SAFETY: `fd` is a new socket that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_ll is plain old data; all zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = ETH_P_ALL.to_be();
    sll.sll_ifindex = index as i32;
    // SAFETY: bind reads one sockaddr_ll of the size passed.
    check(unsafe {
        libc::bind(
            fd,
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    // SAFETY: packet_mreq is plain old data; all zero is a valid value.
    let mut mr: libc::packet_mreq = unsafe { std::mem::zeroed() };
    mr.mr_ifindex = index as i32;
    mr.mr_type = PACKET_MR_PROMISC;
    setsockopt(fd, libc::SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr)?;
    // Older hosts lack it: then the guest sees its own frames too, which
    // its stack ignores.
    let _ = setsockopt(fd, libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, &1i32);
    Ok(HostTap::from_file(File::from(owned)))
}
