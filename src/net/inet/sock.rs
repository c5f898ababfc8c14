//! One internet socket's kernel state, kept inside the stack: family,
//! protocol state (TCP, UDP or ICMP echo), options, the wait queue its sleepers
//! use, and the readiness last reported (a change wakes them).

use super::addr::Domain;
use super::icmp::Icmp;
use super::stack::Net;
use super::tcp::Tcp;
use super::udp::Udp;
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
    pub ttl: i32,
    pub tos: i32,
    /// IPV6_V6ONLY: an AF_INET6 wildcard leaves IPv4 alone.
    pub v6only: bool,
    /// SO_RCVTIMEO / SO_SNDTIMEO (zero: none).
    pub timeouts: [crate::abi::time::Timeval; 2],
    /// SO_BINDTODEVICE: the interface index sends must leave by.
    pub bind_dev: Option<u32>,
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
            ttl: 64,
            tos: 0,
            v6only: false,
            timeouts: Default::default(),
            bind_dev: None,
        }
    }
}

pub enum Proto {
    Tcp(Tcp),
    Udp(Udp),
    Icmp(Icmp),
}

pub struct Sock {
    pub domain: Domain,
    pub proto: Proto,
    pub opts: Opts,
    pub wq: Arc<WaitQueue>,
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
            Proto::Icmp(i) => i.readiness(net),
        }
    }
}
