//! Network interfaces: a name, a smoltcp `Interface` with its addresses,
//! the device under it, and the smoltcp sockets that live on it. The stack
//! keeps a list of these; `lo` is the first. A second device (eth0 over a
//! host TAP, `drivers::net`) is one more `Iface::ethernet` with its
//! `NetDevice`: no address and down until the guest configures it.

use super::device::{Loopback, NetDevice, Phy};
use smoltcp::iface::{Config, Interface, PollResult, SocketSet};
use smoltcp::time::Instant;
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address, Ipv6Address,
};

/// Rounds of `Interface::poll` per call at most: loopback traffic answers
/// itself (SYN, SYN-ACK, ACK, data, ACK...), each round moves it one step.
const MAX_ROUNDS: usize = 64;

pub struct Iface {
    pub name: String,
    pub iface: Interface,
    pub dev: Box<dyn NetDevice>,
    pub sockets: SocketSet<'static>,
    /// A loopback interface reaches its own addresses only.
    pub loopback: bool,
    /// IFF_UP: a down interface neither sends nor takes frames.
    pub up: bool,
    /// The Ethernet address of an Ethernet interface.
    pub mac: Option<[u8; 6]>,
    /// An MTU set below the device's (SIOCSIFMTU, IFLA_MTU).
    pub mtu: Option<usize>,
    /// Its ifindex (1 for lo), set when the stack lists it; 0 once the
    /// device is unplugged.
    pub index: u32,
    /// Unplugged (mconsole `remove ethN`): kept as a placeholder so the
    /// positions that sockets and routes hold stay, but nameless, without
    /// addresses or a device, and left out of every listing.
    pub removed: bool,
    /// The raw IPv4 and IPv6 smoltcp sockets that carry UDP-Lite
    /// (`udplite`), made when the first UDP-Lite socket binds.
    pub lite: Option<[smoltcp::iface::SocketHandle; 2]>,
    /// IPv6 router discovery and autoconfigured addresses (`ndisc`).
    pub ra: super::ndisc::Ra,
}

impl Iface {
    pub fn new(
        name: &str,
        dev: Box<dyn NetDevice>,
        addrs: &[IpCidr],
        now: Instant,
        seed: u64,
    ) -> Iface {
        Iface::with_hw(name, dev, HardwareAddress::Ip, addrs, now, seed)
    }

    /// An Ethernet interface with MAC `mac`: no address, down.
    pub fn ethernet(
        name: &str,
        dev: Box<dyn NetDevice>,
        mac: [u8; 6],
        now: Instant,
        seed: u64,
    ) -> Iface {
        let hw = HardwareAddress::Ethernet(EthernetAddress(mac));
        let mut i = Iface::with_hw(name, dev, hw, &[], now, seed);
        i.up = false;
        i.mac = Some(mac);
        i
    }

    fn with_hw(
        name: &str,
        mut dev: Box<dyn NetDevice>,
        hw: HardwareAddress,
        addrs: &[IpCidr],
        now: Instant,
        seed: u64,
    ) -> Iface {
        let mut cfg = Config::new(hw);
        cfg.random_seed = seed;
        let mut iface = Interface::new(cfg, &mut Phy::new(&mut *dev, None, 0, None), now);
        iface.update_ip_addrs(|a| {
            for c in addrs {
                let _ = a.push(*c);
            }
        });
        Iface {
            name: name.to_string(),
            iface,
            dev,
            sockets: SocketSet::new(Vec::new()),
            loopback: false,
            up: true,
            mac: None,
            mtu: None,
            index: 0,
            removed: false,
            lite: None,
            ra: Default::default(),
        }
    }

    /// `lo` with 127.0.0.1/8 and ::1/128.
    pub fn loopback(now: Instant, seed: u64) -> Iface {
        let addrs = [
            IpCidr::new(IpAddress::Ipv4(Ipv4Address::LOCALHOST), 8),
            IpCidr::new(IpAddress::Ipv6(Ipv6Address::LOCALHOST), 128),
        ];
        let mut lo = Iface::new("lo", Box::new(Loopback::default()), &addrs, now, seed);
        lo.loopback = true;
        lo
    }

    /// A new network namespace's `lo`: down and without addresses until
    /// it is brought up (`ifconfig::set_up`), as Linux's.
    pub fn loopback_down(now: Instant, seed: u64) -> Iface {
        let mut lo = Iface::new("lo", Box::new(Loopback::default()), &[], now, seed);
        lo.loopback = true;
        lo.up = false;
        lo
    }

    /// The loopback addresses `lo` gets when it comes up.
    pub fn add_loopback_addrs(&mut self) {
        let addrs = [
            IpCidr::new(IpAddress::Ipv4(Ipv4Address::LOCALHOST), 8),
            IpCidr::new(IpAddress::Ipv6(Ipv6Address::LOCALHOST), 128),
        ];
        self.iface.update_ip_addrs(|a| {
            for c in addrs {
                if !a.contains(&c) {
                    let _ = a.push(c);
                }
            }
        });
    }

    /// `a` is one of this interface's addresses.
    pub fn has_addr(&self, a: IpAddress) -> bool {
        self.iface.ip_addrs().iter().any(|c| c.address() == a)
    }

    /// The source address for packets to `dst` if this interface reaches it
    /// (its own address, or on one of its subnets). `lo` answers only for
    /// its own addresses: smoltcp would drop packets to the rest of
    /// 127.0.0.0/8, and a connect there would wait forever.
    pub fn source_for(&self, dst: IpAddress) -> Option<IpAddress> {
        if self.has_addr(dst) {
            return Some(dst);
        }
        if self.loopback || !self.up {
            return None;
        }
        self.iface
            .ip_addrs()
            .iter()
            .find(|c| c.contains_addr(&dst))
            .map(|c| c.address())
    }

    /// The largest MTU its device takes (IP packet size: smoltcp counts
    /// an Ethernet header in an Ethernet device's MTU, Linux does not).
    pub fn dev_mtu(&self) -> usize {
        let c = self.dev.capabilities();
        let hdr = if self.mac.is_some() { 14 } else { 0 };
        c.max_transmission_unit - hdr
    }

    /// Its MTU now (what smoltcp sizes packets by).
    pub fn mtu_now(&self) -> usize {
        self.mtu.unwrap_or_else(|| self.dev_mtu())
    }

    /// The source of packets routed through this interface to `dst`:
    /// its first IPv4 address, or for IPv6 its first global address (a
    /// link-local one when it has no other).
    pub fn routed_source(&self, dst: IpAddress) -> Option<IpAddress> {
        if !self.up {
            return None;
        }
        let addrs = self.iface.ip_addrs().iter().map(|c| c.address());
        match dst {
            IpAddress::Ipv4(_) => addrs.clone().find(|a| matches!(a, IpAddress::Ipv4(_))),
            IpAddress::Ipv6(_) => {
                let v6 = addrs.filter_map(|a| match a {
                    IpAddress::Ipv6(a) => Some(a),
                    _ => None,
                });
                v6.clone()
                    .find(|a| !a.is_unicast_link_local() && !a.is_loopback())
                    .or_else(|| v6.clone().find(|a| a.is_unicast_link_local()))
                    .map(IpAddress::Ipv6)
            }
        }
    }

    /// Run the interface until its device has nothing more to receive.
    /// Returns whether any socket may have changed.
    pub fn poll(&mut self, now: Instant) -> bool {
        if !self.up {
            // Frames reaching a down interface are dropped, as Linux does.
            while self.dev.recv().is_some() {}
            return false;
        }
        let mut changed = false;
        for _ in 0..MAX_ROUNDS {
            let r = self.iface.poll(
                now,
                &mut Phy::new(&mut *self.dev, self.mtu, self.index, self.mac)
                    .with_adverts(&mut self.ra.frames),
                &mut self.sockets,
            );
            changed |= r == PollResult::SocketStateChanged;
            if !self.dev.has_rx() {
                break;
            }
        }
        changed
    }

    /// When a timer of this interface's sockets is due next.
    pub fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        self.iface.poll_at(now, &self.sockets)
    }
}
