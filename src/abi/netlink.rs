//! rtnetlink message structs: the netlink header, route attributes, and
//! the link, address, route and neighbour message bodies.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// struct nlmsghdr.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct NlMsgHdr {
    pub nlmsg_len: u32,
    pub nlmsg_type: u16,
    pub nlmsg_flags: u16,
    pub nlmsg_seq: u32,
    pub nlmsg_pid: u32,
}
abi_size!(NlMsgHdr, 16);

/// struct rtattr / nlattr head; the payload follows, padded to 4.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct RtAttr {
    pub rta_len: u16,
    pub rta_type: u16,
}
abi_size!(RtAttr, 4);

/// struct ifinfomsg (RTM_NEWLINK).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct IfInfoMsg {
    pub ifi_family: u8,
    pub _pad: u8,
    pub ifi_type: u16,
    pub ifi_index: i32,
    pub ifi_flags: u32,
    pub ifi_change: u32,
}
abi_size!(IfInfoMsg, 16);

/// struct ifaddrmsg (RTM_NEWADDR).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct IfAddrMsg {
    pub ifa_family: u8,
    pub ifa_prefixlen: u8,
    pub ifa_flags: u8,
    pub ifa_scope: u8,
    pub ifa_index: u32,
}
abi_size!(IfAddrMsg, 8);

/// struct ifa_cacheinfo (IFA_CACHEINFO): an address's lifetimes left,
/// in seconds (0xffffffff: forever), and its creation and update times.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct IfaCacheinfo {
    pub ifa_prefered: u32,
    pub ifa_valid: u32,
    pub cstamp: u32,
    pub tstamp: u32,
}
abi_size!(IfaCacheinfo, 16);

/// struct rta_cacheinfo (RTA_CACHEINFO): `rta_expires` is the time left
/// in clock ticks (USER_HZ).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct RtaCacheinfo {
    pub rta_clntref: u32,
    pub rta_lastuse: u32,
    pub rta_expires: i32,
    pub rta_error: u32,
    pub rta_used: u32,
    pub rta_id: u32,
    pub rta_ts: u32,
    pub rta_tsage: u32,
}
abi_size!(RtaCacheinfo, 32);

/// struct rtmsg (RTM_NEWROUTE).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct RtMsg {
    pub rtm_family: u8,
    pub rtm_dst_len: u8,
    pub rtm_src_len: u8,
    pub rtm_tos: u8,
    pub rtm_table: u8,
    pub rtm_protocol: u8,
    pub rtm_scope: u8,
    pub rtm_type: u8,
    pub rtm_flags: u32,
}
abi_size!(RtMsg, 12);

/// struct ndmsg (RTM_NEWNEIGH).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct NdMsg {
    pub ndm_family: u8,
    pub ndm_pad1: u8,
    pub ndm_pad2: u16,
    pub ndm_ifindex: i32,
    pub ndm_state: u16,
    pub ndm_flags: u8,
    pub ndm_type: u8,
}
abi_size!(NdMsg, 12);
