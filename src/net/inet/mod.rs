//! AF_INET and AF_INET6 sockets over smoltcp: TCP, UDP and ICMP echo (ping)
//! on a loopback interface `lo` (127.0.0.1/8, ::1).
//!
//! - `stack`: the interface list, port table and every socket's state
//!   behind one lock; polling, waking sleepers, timers for the scheduler.
//! - `iface`, `device`: interfaces and the devices under them (loopback);
//!   `hdrinfo`: the TTL/TOS of packets received and sent, by packet id.
//! - `sock`, `tcp`, `udp`, `icmp`, `ports`, `options`: per-socket
//!   protocol state; `udplite` (over raw smoltcp sockets) and
//!   `udplite_wire`: UDP-Lite; `dgram`: what UDP and UDP-Lite share.
//! - `socket`: `InetSocket`, the open file the syscalls work on.
//! - `addr`: sockaddr_in/sockaddr_in6; `cmsg`: UDP control messages.
//! - `procfs`: /proc/net/tcp, tcp6, udp, udp6, udplite, udplite6.
//! - `ifconfig`, `ifconfig6`, `route`, `neigh`: interface configuration
//!   (IPv6 addresses: `ifconfig6`), the IPv4 and IPv6 routing table, the
//!   neighbour table.
//! - `ndisc`: IPv6 router solicitation, advertisements, SLAAC.
//! - `raw`: raw IP sockets kept for their interface ioctls.

pub mod addr;
pub mod cmsg;
pub mod device;
pub mod dgram;
pub mod hdrinfo;
pub mod icmp;
pub mod iface;
pub mod ifconfig;
pub mod ifconfig6;
pub mod ndisc;
pub mod neigh;
pub mod netdev;
pub mod options;
pub mod ports;
pub mod procfs;
pub mod raw;
pub mod route;
pub mod sock;
pub mod socket;
pub mod stack;
pub mod tcp;
pub mod udp;
pub mod udplite;
pub mod udplite_wire;

pub use socket::InetSocket;
