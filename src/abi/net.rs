//! Socket structs: address headers, msghdr, cmsghdr, ucred, linger.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

pub const AF_UNIX: u16 = 1;
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
pub const AF_NETLINK: u16 = 16;
pub const SOL_SOCKET: i32 = 1;
pub const SCM_RIGHTS: i32 = 1;
pub const SCM_CREDENTIALS: i32 = 2;

/// struct sockaddr_in (port and address in network order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SockaddrIn {
    pub sin_family: u16,
    pub sin_port: [u8; 2],
    pub sin_addr: [u8; 4],
    pub sin_zero: [u8; 8],
}
abi_size!(SockaddrIn, 16);

/// struct sockaddr_in6.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SockaddrIn6 {
    pub sin6_family: u16,
    pub sin6_port: [u8; 2],
    pub sin6_flowinfo: [u8; 4],
    pub sin6_addr: [u8; 16],
    pub sin6_scope_id: u32,
}
abi_size!(SockaddrIn6, 28);

/// struct in6_ifreq: SIOCSIFADDR/SIOCDIFADDR on an AF_INET6 socket.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct In6Ifreq {
    pub ifr6_addr: [u8; 16],
    pub ifr6_prefixlen: u32,
    pub ifr6_ifindex: i32,
}
abi_size!(In6Ifreq, 24);

/// The head of struct sockaddr_un; up to 108 path bytes follow.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SockaddrUnHead {
    pub sun_family: u16,
}
abi_size!(SockaddrUnHead, 2);

/// struct sockaddr_nl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SockaddrNl {
    pub nl_family: u16,
    pub nl_pad: u16,
    pub nl_pid: u32,
    pub nl_groups: u32,
}
abi_size!(SockaddrNl, 12);

/// struct msghdr.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MsgHdr {
    pub msg_name: u64,
    pub msg_namelen: u32,
    pub _pad: u32,
    pub msg_iov: u64,
    pub msg_iovlen: u64,
    pub msg_control: u64,
    pub msg_controllen: u64,
    pub msg_flags: u32,
    pub _pad2: u32,
}
abi_size!(MsgHdr, 56);

/// struct cmsghdr; the data follows, the whole padded to 8 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct CmsgHdr {
    pub cmsg_len: u64,
    pub cmsg_level: i32,
    pub cmsg_type: i32,
}
abi_size!(CmsgHdr, 16);

impl CmsgHdr {
    /// CMSG_LEN: header plus `n` data bytes.
    pub const fn len(n: usize) -> usize {
        core::mem::size_of::<CmsgHdr>() + n
    }
    /// CMSG_ALIGN.
    pub const fn align(n: usize) -> usize {
        n.div_ceil(8) * 8
    }
}

/// struct in_pktinfo (IP_PKTINFO control messages); addresses in
/// network order.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct InPktinfo {
    pub ipi_ifindex: i32,
    pub ipi_spec_dst: [u8; 4],
    pub ipi_addr: [u8; 4],
}
abi_size!(InPktinfo, 12);

/// struct in6_pktinfo (IPV6_PKTINFO control messages).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct In6Pktinfo {
    pub ipi6_addr: [u8; 16],
    pub ipi6_ifindex: u32,
}
abi_size!(In6Pktinfo, 20);

/// struct ucred (SO_PEERCRED, SCM_CREDENTIALS).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Ucred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}
abi_size!(Ucred, 12);

/// struct linger.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Linger {
    pub l_onoff: i32,
    pub l_linger: i32,
}
abi_size!(Linger, 8);

/// struct ifreq: the interface name and a 24-byte union whose arm the
/// request selects (a sockaddr, flags, an index, the MTU...).
pub const IFNAMSIZ: usize = 16;

/// struct ifconf (SIOCGIFCONF).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Ifconf {
    pub ifc_len: i32,
    pub _pad: i32,
    pub ifc_buf: u64,
}
abi_size!(Ifconf, 16);

/// struct sockaddr as the ifreq union holds it (SIOCGIFHWADDR: the
/// hardware type and the MAC address).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Sockaddr {
    pub sa_family: u16,
    pub sa_data: [u8; 14],
}
abi_size!(Sockaddr, 16);

/// struct rtentry (SIOCADDRT, SIOCDELRT).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Rtentry {
    pub rt_pad1: u64,
    pub rt_dst: Sockaddr,
    pub rt_gateway: Sockaddr,
    pub rt_genmask: Sockaddr,
    pub rt_flags: u16,
    pub rt_pad2: u16,
    pub _pad: u32,
    pub rt_pad3: u64,
    pub rt_pad4: u64,
    pub rt_metric: i16,
    pub _pad5: [u8; 6],
    pub rt_dev: u64,
    pub rt_mtu: u64,
    pub rt_window: u64,
    pub rt_irtt: u16,
    pub _pad6: [u8; 6],
}
abi_size!(Rtentry, 120);

pub const AF_PACKET: u16 = 17;

/// struct sockaddr_ll (AF_PACKET): protocol in network order, interface,
/// hardware type, packet type, address length and address.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SockaddrLl {
    pub sll_family: u16,
    pub sll_protocol: u16,
    pub sll_ifindex: i32,
    pub sll_hatype: u16,
    pub sll_pkttype: u8,
    pub sll_halen: u8,
    pub sll_addr: [u8; 8],
}
abi_size!(SockaddrLl, 20);

/// struct sock_fprog (SO_ATTACH_FILTER): instruction count and a pointer
/// to them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SockFprog {
    pub len: u16,
    pub _pad: [u8; 6],
    pub filter: u64,
}
abi_size!(SockFprog, 16);

/// struct sock_filter: one classic BPF instruction.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}
abi_size!(SockFilter, 8);

/// struct packet_mreq (PACKET_ADD_MEMBERSHIP).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct PacketMreq {
    pub mr_ifindex: i32,
    pub mr_type: u16,
    pub mr_alen: u16,
    pub mr_address: [u8; 8],
}
abi_size!(PacketMreq, 16);
