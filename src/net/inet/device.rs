//! Network devices under the stack: the `NetDevice` trait every interface's
//! device implements (whole packets in, whole packets out), its adapter to
//! smoltcp's `Device`, and the loopback device.
//!
//! A host transport (TAP) only has to implement `NetDevice`: packets are
//! owned vectors, so smoltcp's borrowing tokens stay in this file.

use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium, PacketMeta};
use smoltcp::time::Instant;
use std::collections::VecDeque;

/// One network device: a queue of received packets and a way to send.
pub trait NetDevice: Send {
    /// MTU, medium and checksum offloads.
    fn capabilities(&self) -> DeviceCapabilities;
    /// The next received packet, if any.
    fn recv(&mut self) -> Option<Vec<u8>>;
    /// Send one packet (dropped when the device cannot take it, as a wire would).
    fn send(&mut self, packet: Vec<u8>);
    /// Received packets are waiting (the stack polls again until none are).
    fn has_rx(&self) -> bool;
    /// Packets and bytes moved so far (/proc/net/dev, ifconfig).
    fn stats(&self) -> DevStats;
}

/// A device's traffic counters.
#[derive(Clone, Copy, Default, Debug)]
pub struct DevStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
}

/// What an unplugged interface is left with: it sends nothing anywhere
/// and receives nothing.
pub struct Unplugged;

impl NetDevice for Unplugged {
    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = 1514;
        c
    }
    fn recv(&mut self) -> Option<Vec<u8>> {
        None
    }
    fn send(&mut self, _packet: Vec<u8>) {}
    fn has_rx(&self) -> bool {
        false
    }
    fn stats(&self) -> DevStats {
        DevStats::default()
    }
}

/// `lo`: every packet sent is received again, in order.
#[derive(Default)]
pub struct Loopback {
    queue: VecDeque<Vec<u8>>,
    stats: DevStats,
}

/// Linux's loopback MTU is 65536, one more than an IPv4 packet can carry.
const LOOPBACK_MTU: usize = 65535;

impl NetDevice for Loopback {
    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ip;
        c.max_transmission_unit = LOOPBACK_MTU;
        // Packets never leave memory: checksums would only cost time.
        c.checksum = ChecksumCapabilities::ignored();
        c
    }
    fn recv(&mut self) -> Option<Vec<u8>> {
        let p = self.queue.pop_front()?;
        self.stats.rx_packets += 1;
        self.stats.rx_bytes += p.len() as u64;
        Some(p)
    }
    fn send(&mut self, packet: Vec<u8>) {
        self.stats.tx_packets += 1;
        self.stats.tx_bytes += packet.len() as u64;
        self.queue.push_back(packet);
    }
    fn has_rx(&self) -> bool {
        !self.queue.is_empty()
    }
    fn stats(&self) -> DevStats {
        self.stats
    }
}

/// A `NetDevice` seen as a smoltcp device for one `Interface::poll`:
/// with the interface's MTU and index, so every frame in and out is
/// shown to packet sockets (`net::packet::tap`) on the way.
pub struct Phy<'a> {
    dev: &'a mut dyn NetDevice,
    mtu: Option<usize>,
    ifindex: u32,
    mac: Option<[u8; 6]>,
    /// Where copies of received Router Advertisements go (`ndisc`).
    adverts: Option<&'a mut Vec<Vec<u8>>>,
}

impl<'a> Phy<'a> {
    pub fn new(
        dev: &'a mut dyn NetDevice,
        mtu: Option<usize>,
        ifindex: u32,
        mac: Option<[u8; 6]>,
    ) -> Phy<'a> {
        Phy {
            dev,
            mtu,
            ifindex,
            mac,
            adverts: None,
        }
    }

    /// Keep a copy of each Router Advertisement received in `to`.
    pub fn with_adverts(mut self, to: &'a mut Vec<Vec<u8>>) -> Phy<'a> {
        self.adverts = Some(to);
        self
    }
}

/// A received frame and its packet id (`hdrinfo`: its TTL and TOS).
pub struct RxToken(Vec<u8>, PacketMeta);

pub struct TxToken<'a> {
    dev: &'a mut dyn NetDevice,
    ifindex: u32,
    mac: Option<[u8; 6]>,
    /// The sending socket's packet id: header fields to write.
    meta: PacketMeta,
}

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
    fn meta(&self) -> PacketMeta {
        self.1
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        let ethernet = self.dev.capabilities().medium == Medium::Ethernet;
        super::hdrinfo::apply(self.meta, &mut buf, ethernet);
        send_frame(self.dev, self.ifindex, self.mac, buf, 0);
        r
    }
    fn set_meta(&mut self, meta: PacketMeta) {
        self.meta = meta;
    }
}

/// Send `frame` on `dev` (interface `ifindex`, MAC `mac`), showing it
/// to packet sockets first (the copies ETH_P_ALL sockets see as
/// PACKET_OUTGOING), except to the one sending it (`origin`; 0: the
/// stack).
pub fn send_frame(
    dev: &mut dyn NetDevice,
    ifindex: u32,
    mac: Option<[u8; 6]>,
    frame: Vec<u8>,
    origin: u64,
) {
    if dev.capabilities().medium == Medium::Ethernet {
        crate::net::packet::tap(ifindex, mac, &frame, true, origin);
    }
    dev.send(frame);
}

impl phy::Device for Phy<'_> {
    type RxToken<'b>
        = RxToken
    where
        Self: 'b;
    type TxToken<'b>
        = TxToken<'b>
    where
        Self: 'b;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let p = self.dev.recv()?;
        let ethernet = self.dev.capabilities().medium == Medium::Ethernet;
        let meta = super::hdrinfo::received(&p, ethernet);
        if ethernet {
            // Packet sockets see every frame before the stack does.
            super::neigh::learn(self.ifindex, &p);
            crate::net::packet::tap(self.ifindex, self.mac, &p, false, 0);
            if let Some(to) = self.adverts.as_deref_mut() {
                if super::ndisc::is_router_advert(&p) && to.len() < 8 {
                    to.push(p.clone());
                }
            }
        }
        let tx = TxToken {
            dev: &mut *self.dev,
            ifindex: self.ifindex,
            mac: self.mac,
            meta: PacketMeta::default(),
        };
        Some((RxToken(p, meta), tx))
    }
    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        Some(TxToken {
            dev: &mut *self.dev,
            ifindex: self.ifindex,
            mac: self.mac,
            meta: PacketMeta::default(),
        })
    }
    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = self.dev.capabilities();
        if let Some(m) = self.mtu {
            // smoltcp counts the Ethernet header in an Ethernet MTU.
            let hdr = if c.medium == Medium::Ethernet { 14 } else { 0 };
            c.max_transmission_unit = c.max_transmission_unit.min(m + hdr);
        }
        c
    }
}
