//! User-mode networking (`ethN=user`, alias `slirp`): the guest's wire
//! ends in a virtual gateway inside vmlinux that terminates its TCP,
//! UDP and ICMP echo traffic and carries it on over ordinary host
//! sockets, so no host privilege or setup is needed. slirp's layout:
//! guest 10.0.2.15/24, gateway 10.0.2.2 (the host's loopback), DNS
//! 10.0.2.3 (the host's resolver), DHCP handing that out; over IPv6 the
//! prefix fd00:10:0:2::/64 in Router Advertisements (SLAAC), gateway
//! fe80::2 and fd00:10:0:2::2 (the host's ::1), DNS fd00:10:0:2::3.
//!
//! Kernel-independent and safe: `frames` (classify and build frames),
//! `dhcp`, `dns`, `tcp` and `udp` (flows), `host` (host sockets through
//! nix), `gateway` (the helper thread and its poll loop).

pub mod dhcp;
pub mod dns;
pub mod frames;
mod gateway;
mod host;
pub mod tcp;
pub mod udp;

use super::tap::TapShared;
use crate::init::eth_user::UserNet;
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;

/// The hostfwd sockets of a device, bound (before boot, so a port the
/// host refuses stops vmlinux with a message).
pub struct Bound(gateway::Forwards);

/// Bind every `hostfwd` of `net`.
pub fn bind(net: &UserNet) -> Result<Bound, String> {
    let mut fwd = gateway::Forwards {
        tcp: Vec::new(),
        udp: Vec::new(),
    };
    for f in &net.hostfwd {
        let what = format!(
            "hostfwd={}:{}-:{}",
            if f.udp { "udp" } else { "tcp" },
            f.host,
            f.guest.port()
        );
        let err = |e: std::io::Error| format!("{what}: cannot listen on host {}: {e}", f.host);
        if f.udp {
            let s = UdpSocket::bind(f.host).map_err(err)?;
            s.set_nonblocking(true).map_err(err)?;
            fwd.udp.push((*f, s));
        } else {
            let l = TcpListener::bind(f.host).map_err(err)?;
            l.set_nonblocking(true).map_err(err)?;
            fwd.tcp.push((*f, l));
        }
    }
    Ok(Bound(fwd))
}

/// Start the gateway for guest device `name` with MAC `mac`.
pub fn start(name: String, mac: [u8; 6], bound: Bound) -> std::io::Result<Arc<TapShared>> {
    TapShared::attach(name, mac, move |name, rx| {
        gateway::start(name, mac, bound.0, rx)
    })
}
