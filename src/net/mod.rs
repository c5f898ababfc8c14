//! Networking: sockets (AF_UNIX, AF_INET over smoltcp, netlink) come in a
//! later issue; socket(2) answers EAFNOSUPPORT until then.
