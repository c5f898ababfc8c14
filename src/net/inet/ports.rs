//! Local port bindings of TCP and UDP sockets: who holds which port on
//! which address, Linux's conflict rules (SO_REUSEADDR), and ephemeral
//! port allocation. smoltcp itself does not check any of this.

use crate::kernel::errno::{Errno, KResult};
use smoltcp::wire::IpAddress;
use std::collections::BTreeMap;

/// Linux's default ip_local_port_range.
const EPHEMERAL: std::ops::RangeInclusive<u16> = 32768..=60999;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Proto {
    Tcp,
    Udp,
    /// UDP-Lite's ports are a namespace of their own (Linux's udplite_table).
    UdpLite,
}

/// One socket's hold on a port.
#[derive(Clone, Debug)]
pub struct Binding {
    pub id: u64,
    /// The bound address; unspecified is the wildcard of its family.
    pub addr: IpAddress,
    /// An AF_INET6 wildcard without IPV6_V6ONLY: it covers IPv4 too.
    pub dual: bool,
    pub reuse: bool,
    pub listening: bool,
    /// A closed connection waiting out TIME-WAIT: new outgoing
    /// connections may take its port (Linux's tcp_tw_reuse on loopback).
    pub time_wait: bool,
}

impl Binding {
    /// Linux's bind conflict test (inet_bind_conflict without
    /// SO_REUSEPORT): overlapping families (a dual-stack wildcard overlaps
    /// IPv4), overlapping addresses, and not both SO_REUSEADDR with the
    /// holder not listening.
    fn conflicts(&self, new: &Binding) -> bool {
        let same_family = self.addr.version() == new.addr.version() || self.dual || new.dual;
        self.id != new.id
            && same_family
            && (self.addr.is_unspecified() || new.addr.is_unspecified() || self.addr == new.addr)
            && !(self.reuse && new.reuse && !self.listening)
    }
}

#[derive(Default)]
pub struct Ports {
    map: BTreeMap<(Proto, u16), Vec<Binding>>,
    next: u16,
}

impl Ports {
    /// Take `port` (0: an ephemeral one) for `b`; returns the port.
    pub fn bind(&mut self, proto: Proto, port: u16, b: Binding) -> KResult<u16> {
        let port = if port == 0 {
            self.free_port(proto)?
        } else {
            self.check(proto, port, &b)?;
            port
        };
        self.map.entry((proto, port)).or_default().push(b);
        Ok(port)
    }

    /// Hold `port` without checks (an accepted connection shares its
    /// listener's port).
    pub fn share(&mut self, proto: Proto, port: u16, b: Binding) {
        self.map.entry((proto, port)).or_default().push(b);
    }

    /// Could `b` hold `port` next to everyone holding it now?
    pub fn check(&self, proto: Proto, port: u16, b: &Binding) -> KResult<()> {
        let holders = self
            .map
            .get(&(proto, port))
            .map(|v| v.as_slice())
            .unwrap_or(&[]);
        if holders.iter().any(|h| h.conflicts(b)) {
            return Err(Errno::EADDRINUSE);
        }
        Ok(())
    }

    /// `id` on `port` starts (or stops) listening: checked again as Linux's
    /// listen() does, since a listener may not share with SO_REUSEADDR.
    pub fn set_listening(&mut self, proto: Proto, port: u16, id: u64) -> KResult<()> {
        let mine = self
            .map
            .get(&(proto, port))
            .and_then(|v| v.iter().find(|h| h.id == id).cloned())
            .ok_or(Errno::EINVAL)?;
        let holders = &self.map[&(proto, port)];
        if holders.iter().any(|h| h.listening && h.conflicts(&mine)) {
            return Err(Errno::EADDRINUSE);
        }
        for h in self.map.get_mut(&(proto, port)).unwrap() {
            if h.id == id {
                h.listening = true;
            }
        }
        Ok(())
    }

    /// Change SO_REUSEADDR of `id`'s bindings.
    pub fn set_reuse(&mut self, id: u64, reuse: bool) {
        for h in self.map.values_mut().flatten() {
            if h.id == id {
                h.reuse = reuse;
            }
        }
    }

    /// `id`'s connection is in TIME-WAIT.
    pub fn set_time_wait(&mut self, id: u64) {
        for h in self.map.values_mut().flatten() {
            if h.id == id {
                h.time_wait = true;
            }
        }
    }

    /// Drop every binding of `id`.
    pub fn release(&mut self, id: u64) {
        self.map.retain(|_, v| {
            v.retain(|h| h.id != id);
            !v.is_empty()
        });
    }

    /// An ephemeral port nobody holds but connections in TIME-WAIT.
    fn free_port(&mut self, proto: Proto) -> KResult<u16> {
        let (lo, hi) = (*EPHEMERAL.start(), *EPHEMERAL.end());
        let n = hi - lo + 1;
        for _ in 0..n {
            let p = lo + self.next % n;
            self.next = self.next.wrapping_add(1) % n;
            if self
                .map
                .get(&(proto, p))
                .is_none_or(|v| v.iter().all(|h| h.time_wait))
            {
                return Ok(p);
            }
        }
        Err(Errno::EADDRINUSE)
    }

    /// Start ephemeral ports at a random place, as Linux does.
    pub fn seed(&mut self, s: u64) {
        self.next = (s % 28232) as u16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(id: u64, any: bool, reuse: bool) -> Binding {
        Binding {
            id,
            dual: false,
            addr: if any {
                IpAddress::v4(0, 0, 0, 0)
            } else {
                IpAddress::v4(127, 0, 0, 1)
            },
            reuse,
            listening: false,
            time_wait: false,
        }
    }

    #[test]
    fn reuseaddr_rules() {
        let mut p = Ports::default();
        assert_eq!(p.bind(Proto::Tcp, 5000, b(1, false, false)), Ok(5000));
        assert_eq!(
            p.bind(Proto::Tcp, 5000, b(2, true, false)),
            Err(Errno::EADDRINUSE)
        );
        assert_eq!(p.bind(Proto::Udp, 5000, b(2, true, false)), Ok(5000));
        p.release(1);
        assert_eq!(p.bind(Proto::Tcp, 5000, b(3, false, true)), Ok(5000));
        assert_eq!(p.bind(Proto::Tcp, 5000, b(4, false, true)), Ok(5000));
        assert_eq!(p.set_listening(Proto::Tcp, 5000, 3), Ok(()));
        assert_eq!(p.set_listening(Proto::Tcp, 5000, 4), Err(Errno::EADDRINUSE));
        assert_eq!(
            p.bind(Proto::Tcp, 5000, b(5, false, true)),
            Err(Errno::EADDRINUSE)
        );
    }

    #[test]
    fn dual_stack_wildcard_covers_ipv4() {
        let mut p = Ports::default();
        assert_eq!(p.bind(Proto::Tcp, 6000, b(1, true, false)), Ok(6000));
        let v6 = |id, dual| Binding {
            id,
            dual,
            addr: IpAddress::v6(0, 0, 0, 0, 0, 0, 0, 0),
            reuse: false,
            listening: false,
            time_wait: false,
        };
        assert_eq!(
            p.bind(Proto::Tcp, 6000, v6(2, true)),
            Err(Errno::EADDRINUSE)
        );
        assert_eq!(p.bind(Proto::Tcp, 6000, v6(3, false)), Ok(6000));
    }

    #[test]
    fn ephemeral_ports_are_free_ones() {
        let mut p = Ports::default();
        let a = p.bind(Proto::Tcp, 0, b(1, true, false)).unwrap();
        let c = p.bind(Proto::Tcp, 0, b(2, true, false)).unwrap();
        assert!(EPHEMERAL.contains(&a) && EPHEMERAL.contains(&c) && a != c);
    }
}
