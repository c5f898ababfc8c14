//! Network devices under the stack: the `NetDevice` trait every interface's
//! device implements (whole packets in, whole packets out), its adapter to
//! smoltcp's `Device`, and the loopback device.
//!
//! A host transport (TAP) only has to implement `NetDevice`: packets are
//! owned vectors, so smoltcp's borrowing tokens stay in this file.

use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium};
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

/// A `NetDevice` seen as a smoltcp device for one `Interface::poll`.
pub struct Phy<'a>(pub &'a mut dyn NetDevice);

pub struct RxToken(Vec<u8>);

pub struct TxToken<'a>(&'a mut dyn NetDevice);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.send(buf);
        r
    }
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
        let p = self.0.recv()?;
        Some((RxToken(p), TxToken(&mut *self.0)))
    }
    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut *self.0))
    }
    fn capabilities(&self) -> DeviceCapabilities {
        self.0.capabilities()
    }
}
