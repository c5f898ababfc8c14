//! One internet socket's kernel state, kept inside the stack: family,
//! protocol state (TCP, UDP, UDP-Lite or ICMP echo), options, the wait queue its sleepers
//! use, its O_ASYNC descriptions, and the readiness last reported (a
//! change wakes them).

use super::addr::Domain;
use super::icmp::Icmp;
use super::stack::Net;
use super::tcp::Tcp;
use super::udp::Udp;
use super::udplite::UdpLite;
use crate::fs::fown::FasyncList;
use crate::kernel::wait::WaitQueue;
use std::sync::Arc;

/// Socket options that outlive a connection or pass to accepted sockets.
#[derive(Clone, Debug)]
pub struct Opts {
    pub reuseaddr: bool,
    /// SO_REUSEPORT, kept for getsockopt (binding rules are SO_REUSEADDR's).
    pub reuseport: bool,
    pub keepalive: bool,
    pub nodelay: bool,
    /// SO_RCVBUF / SO_SNDBUF as getsockopt reports them (Linux doubles
    /// what is set; smoltcp's buffers do not change size).
    pub rcvbuf: i32,
    pub sndbuf: i32,
    /// SO_LINGER: (l_onoff, l_linger). On with 0 seconds, close resets.
    pub linger: (i32, i32),
    pub broadcast: bool,
    /// IP_TTL (-1: the default, 64) and IP_MULTICAST_TTL.
    pub ttl: i32,
    pub mc_ttl: i32,
    /// IP_TOS.
    pub tos: i32,
    /// IPV6_UNICAST_HOPS (-1: the default, 64), IPV6_MULTICAST_HOPS,
    /// IPV6_TCLASS.
    pub hops: i32,
    pub mc_hops: i32,
    pub tclass: i32,
    /// The control messages received datagrams come with.
    pub rx: RxOpts,
    /// IPV6_V6ONLY: an AF_INET6 wildcard leaves IPv4 alone.
    pub v6only: bool,
    /// SO_RCVTIMEO / SO_SNDTIMEO (zero: none).
    pub timeouts: [crate::abi::time::Timeval; 2],
    /// SO_BINDTODEVICE: the interface index sends must leave by.
    pub bind_dev: Option<u32>,
}

/// IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IPV6_RECVPKTINFO,
/// IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS.
#[derive(Clone, Copy, Debug, Default)]
pub struct RxOpts {
    pub pktinfo: bool,
    pub ttl: bool,
    pub tos: bool,
    pub pktinfo6: bool,
    pub hoplimit6: bool,
    pub tclass6: bool,
}

/// What a sendmsg's control messages ask of one datagram
/// (IP_PKTINFO/IPV6_PKTINFO, IP_TTL/IPV6_HOPLIMIT, IP_TOS/IPV6_TCLASS).
#[derive(Clone, Copy, Debug, Default)]
pub struct SendCtl {
    /// Source address (unspecified: the route's).
    pub src: Option<smoltcp::wire::IpAddress>,
    /// Interface to leave by (0: the route's).
    pub ifindex: u32,
    pub ttl: Option<u8>,
    pub tos: Option<u8>,
}

/// Where a received datagram was going: its destination address, the
/// interface index it came in by, its TTL/hop limit and TOS/traffic class.
#[derive(Clone, Copy, Debug)]
pub struct RxInfo {
    pub dst: smoltcp::wire::IpAddress,
    pub ifindex: u32,
    pub fields: super::hdrinfo::Fields,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            reuseaddr: false,
            reuseport: false,
            keepalive: false,
            nodelay: false,
            rcvbuf: 131_072,
            sndbuf: 16_384,
            linger: (0, 0),
            broadcast: false,
            ttl: -1,
            mc_ttl: 1,
            tos: 0,
            hops: -1,
            mc_hops: 1,
            tclass: 0,
            rx: RxOpts::default(),
            v6only: false,
            timeouts: Default::default(),
            bind_dev: None,
        }
    }
}

pub enum Proto {
    Tcp(Tcp),
    Udp(Udp),
    UdpLite(UdpLite),
    Icmp(Icmp),
}

pub struct Sock {
    pub domain: Domain,
    pub proto: Proto,
    pub opts: Opts,
    pub wq: Arc<WaitQueue>,
    /// The descriptions that set O_ASYNC (the stack's poll signals them).
    pub fasync: Arc<FasyncList>,
    /// Readiness (POLL* bits) when sleepers were last told.
    pub mask: u32,
    /// Bytes readable then: more wakes MSG_WAITALL readers too.
    pub readable: usize,
    /// Room to send then: more wakes writers waiting to write whole.
    pub room: usize,
    /// Its file is closed; it stays until its connection has ended.
    pub orphan: bool,
    /// The inode number its file shows (/proc/net lists it).
    pub ino: u64,
}

impl Sock {
    pub fn new(domain: Domain, proto: Proto, wq: Arc<WaitQueue>, ino: u64) -> Sock {
        Sock {
            domain,
            proto,
            opts: Opts::default(),
            wq,
            fasync: Arc::new(FasyncList::new()),
            mask: 0,
            readable: 0,
            room: 0,
            orphan: false,
            ino,
        }
    }

    /// Ready events now (POLLIN, POLLOUT, POLLERR, POLLHUP, ...).
    pub fn readiness(&self, net: &Net) -> u32 {
        match &self.proto {
            Proto::Tcp(t) => t.readiness(net),
            Proto::Udp(u) => u.readiness(net),
            Proto::UdpLite(u) => u.readiness(net),
            Proto::Icmp(i) => i.readiness(net),
        }
    }
}
