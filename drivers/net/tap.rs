//! Ethernet over a host TAP, kernel half: the `NetDevice` the stack's
//! ethN interface sits on. The host half's reader queues frames here and
//! raises an interrupt; the interrupt polls the stack, which takes them.
//! Frames the stack sends go to the host half's writer.
//!
//! The same queue pair serves every frame transport: `attach` takes any
//! host half (the user-mode gateway, `user`, is the other one).

use super::tap_host::{HostTap, Receive, FRAME_MAX};
use crate::net::inet::device::{DevStats, NetDevice};
use smoltcp::phy::{DeviceCapabilities, Medium};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Frames waiting for the stack at most; more are dropped (the guest is
/// not keeping up, as a NIC's full ring).
const RX_QUEUE_MAX: usize = 512;

/// How a transport takes a frame the stack sends; false when it dropped it.
pub type Xmit = Box<dyn Fn(Vec<u8>) -> bool + Send>;

/// How a transport's helpers are told to end (the device is unplugged):
/// they drop their host fds and sockets as they go.
pub type Stop = Box<dyn FnOnce() + Send>;

/// What the vCPU and the host half share for one device.
pub struct TapShared {
    /// The guest's name, `ethN`.
    pub name: String,
    pub mac: [u8; 6],
    rx: Mutex<VecDeque<Vec<u8>>>,
    tx: Mutex<Xmit>,
    stop: Mutex<Option<Stop>>,
    stats: Mutex<DevStats>,
    /// Frames arrived since the last interrupt.
    pub irq: AtomicBool,
}

impl TapShared {
    /// Attach `host` and start its helpers.
    pub fn start(name: String, mac: [u8; 6], host: HostTap) -> std::io::Result<Arc<TapShared>> {
        Self::attach(name, mac, move |name, rx| {
            let (tx, stop) = host.start(name, rx)?;
            Ok((
                Box::new(move |frame| tx.try_send(frame).is_ok()) as Xmit,
                stop,
            ))
        })
    }

    /// Start a host half: `start` gets the device's name and where its
    /// received frames go, and returns where sent frames go and how to
    /// stop it.
    pub fn attach(
        name: String,
        mac: [u8; 6],
        start: impl FnOnce(&str, Receive) -> std::io::Result<(Xmit, Stop)>,
    ) -> std::io::Result<Arc<TapShared>> {
        // The receiver needs the shared state and the state needs the
        // transmitter: start with a placeholder.
        let shared = Arc::new(TapShared {
            name,
            mac,
            rx: Mutex::new(VecDeque::new()),
            tx: Mutex::new(Box::new(|_| false)),
            stop: Mutex::new(None),
            stats: Mutex::new(DevStats::default()),
            irq: AtomicBool::new(false),
        });
        let s = shared.clone();
        let (tx, stop) = start(
            &shared.name,
            Arc::new(move |frame| {
                {
                    let mut q = s.rx.lock().unwrap_or_else(|e| e.into_inner());
                    if q.len() >= RX_QUEUE_MAX {
                        return;
                    }
                    q.push_back(frame);
                }
                s.irq.store(true, Ordering::SeqCst);
                crate::arch::irq::raise();
            }),
        )?;
        *shared.tx.lock().unwrap_or_else(|e| e.into_inner()) = tx;
        *shared.stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop);
        Ok(shared)
    }

    /// Unplug: stop the host half (its threads end and close its fds or
    /// sockets) and drop what is queued; later sends go nowhere.
    pub fn detach(&self) {
        // Dropping the transmitter ends a writer once its queue is empty.
        *self.tx.lock().unwrap_or_else(|e| e.into_inner()) = Box::new(|_| false);
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            stop();
        }
        self.rx.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// The stack's handle on a TAP device (a new one after each reboot; the
/// host side stays).
pub struct TapDevice(pub Arc<TapShared>);

impl NetDevice for TapDevice {
    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        // smoltcp counts the Ethernet header in an Ethernet device's MTU.
        c.max_transmission_unit = FRAME_MAX - 4;
        c
    }
    fn recv(&mut self) -> Option<Vec<u8>> {
        let p = self
            .0
            .rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()?;
        let mut st = self.0.stats.lock().unwrap_or_else(|e| e.into_inner());
        st.rx_packets += 1;
        st.rx_bytes += p.len() as u64;
        Some(p)
    }
    fn send(&mut self, packet: Vec<u8>) {
        let len = packet.len() as u64;
        if self.0.tx.lock().unwrap_or_else(|e| e.into_inner())(packet) {
            let mut st = self.0.stats.lock().unwrap_or_else(|e| e.into_inner());
            st.tx_packets += 1;
            st.tx_bytes += len;
        }
    }
    fn has_rx(&self) -> bool {
        !self
            .0
            .rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }
    fn stats(&self) -> DevStats {
        *self.0.stats.lock().unwrap_or_else(|e| e.into_inner())
    }
}
