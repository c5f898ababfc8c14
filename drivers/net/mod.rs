//! Virtual Ethernet devices (UML's `ethN=` words): each `ethN` is a
//! `NetDevice` under one more interface of the stack. Transports: `tuntap`
//! (a host TAP interface; `tap`, `tap_host`), `user` (a user-mode
//! gateway over host sockets, reusing `tap`'s queues), and UML's vector
//! words `vecN:transport=tap|raw` (the TAP host half again, or an
//! AF_PACKET socket on a host interface, `raw_host`).

#[allow(unsafe_code)]
pub mod raw_host;
pub mod tap;
#[allow(unsafe_code)]
pub mod tap_host;
pub mod user;

use crate::init::cmdline::Cmdline;
use crate::init::eth_word::EthSpec;
use crate::net::inet::device::NetDevice;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tap::{TapDevice, TapShared};

/// The attached devices, in `ethN` order; they live as long as vmlinux.
static DEVICES: Mutex<Vec<Arc<TapShared>>> = Mutex::new(Vec::new());

/// Attach every `ethN=` device's host side. Before anything boots: an
/// error is one line for stderr and vmlinux exits with status 2, as for a
/// missing disk image (a guest booted without its network is worse).
pub fn open_all(c: &Cmdline) -> Result<(), String> {
    let mut specs = c.eth.clone();
    specs.sort_by_key(|e| (e.vector, e.index));
    let mut devs = Vec::new();
    for e in specs {
        devs.push(open_one(&e, c.umid.as_deref())?);
    }
    *DEVICES.lock().unwrap_or_else(|e| e.into_inner()) = devs;
    Ok(())
}

/// Attach one `ethN=` device's host side (`umid` for its default MAC).
fn open_one(e: &EthSpec, umid: Option<&str>) -> Result<Arc<TapShared>, String> {
    let name = e.name();
    // Vector devices' default MACs differ from the ethN ones'.
    let n = e.index + if e.vector { 16 } else { 0 };
    if let Some(net) = &e.user {
        let word = format!("{name}=user");
        let bound = user::bind(net).map_err(|err| format!("{word}: {err}"))?;
        let mac = e
            .mac
            .unwrap_or_else(|| default_mac(umid.unwrap_or("user"), n));
        return user::start(name, mac, bound)
            .map_err(|err| format!("{word}: cannot start its gateway: {err}"));
    }
    let (word, host) = if e.raw {
        let word = format!("{name}:transport=raw,ifname={}", e.tap);
        let host = raw_host::open(&e.tap).map_err(|err| {
            format!("{word}: cannot open host interface {}: {err} (it must exist, and raw access needs root)", e.tap)
        })?;
        (word, host)
    } else {
        let word = if e.vector {
            format!("{name}:transport=tap,ifname={}", e.tap)
        } else {
            format!("{name}=tuntap,{}", e.tap)
        };
        let host = tap_host::HostTap::open(&e.tap).map_err(|err| {
            format!("{word}: cannot attach host TAP interface {}: {err} (create it with `ip tuntap add dev {} mode tap user $USER`, or run as root)", e.tap, e.tap)
        })?;
        (word, host)
    };
    let mac = e
        .mac
        .unwrap_or_else(|| default_mac(umid.unwrap_or(&e.tap), n));
    TapShared::start(name, mac, host)
        .map_err(|err| format!("{word}: cannot start its helper threads: {err}"))
}

/// Is `ethN` attached?
pub fn exists(name: &str) -> bool {
    DEVICES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|d| d.name == name)
}

/// Hot-plug a device (mconsole `config ethN=...`): its host side, then
/// one more interface of the running stack (down, as a new device is).
pub fn hotplug(e: &EthSpec, umid: Option<&str>) -> Result<(), String> {
    let d = open_one(e, umid)?;
    DEVICES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(d.clone());
    let dev = Box::new(TapDevice(d.clone())) as Box<dyn NetDevice>;
    crate::net::inet::stack::add_device(&d.name, d.mac, dev);
    log::info!("{}: hot-plugged", d.name);
    Ok(())
}

/// Unplug a device (mconsole `remove ethN`): the stack lets go of its
/// interface (EBUSY while it is up, as UML refuses an open device), then
/// its host side stops and closes its TAP fd, packet socket or gateway
/// sockets, so the host interface or hostfwd ports are free again.
pub fn remove(name: &str) -> crate::kernel::errno::KResult<()> {
    let mut devs = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
    let n = devs
        .iter()
        .position(|d| d.name == name)
        .ok_or(crate::kernel::errno::Errno::ENODEV)?;
    crate::net::inet::stack::remove_device(name)?;
    let d = devs.remove(n);
    drop(devs);
    d.detach();
    log::info!("{name}: removed");
    Ok(())
}

/// A stable, locally administered unicast MAC for `ethN` of machine
/// `umid` (the TAP's name when no umid= is given, since a random umid
/// would change it at every boot): 02 then four bytes of an FNV-1a hash,
/// then N.
pub fn default_mac(umid: &str, n: u8) -> [u8; 6] {
    let mut h: u32 = 0x811c9dc5;
    for b in umid.bytes() {
        h = (h ^ b as u32).wrapping_mul(0x01000193);
    }
    let b = h.to_be_bytes();
    [0x02, b[0], b[1], b[2], b[3], n]
}

/// The devices for a fresh stack: (name, MAC, device).
pub fn stack_devices() -> Vec<(String, [u8; 6], Box<dyn NetDevice>)> {
    DEVICES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.mac,
                Box::new(TapDevice(d.clone())) as Box<dyn NetDevice>,
            )
        })
        .collect()
}

/// Interrupt work: frames arrived, so let the stack take them.
pub fn interrupt() {
    let any = DEVICES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .fold(false, |any, d| d.irq.swap(false, Ordering::SeqCst) | any);
    if any {
        crate::net::inet::stack::op_in(crate::net::inet::stack::INIT_NET, |_| ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_macs_are_stable_local_unicast() {
        let a = default_mac("m1", 0);
        assert_eq!(a, default_mac("m1", 0));
        assert_ne!(a, default_mac("m1", 1));
        assert_ne!(a, default_mac("m2", 0));
        assert_eq!(a[0] & 3, 2, "locally administered unicast");
    }
}
