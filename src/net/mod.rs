//! Networking: AF_UNIX sockets today; AF_INET/INET6 over smoltcp and
//! netlink come with the networking issue (socket(2) answers
//! EAFNOSUPPORT for them until then).

pub mod unix;
