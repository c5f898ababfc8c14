//! The IPv4 neighbour table as `ip neigh` and /proc/net/arp show it.
//! smoltcp keeps its ARP cache to itself, so this table learns the same
//! way beside it: from the ARP frames each Ethernet interface receives
//! (the sender's address of requests and replies), seen by the device
//! layer before smoltcp takes them.

use crate::kernel::task::lock;
use smoltcp::wire::Ipv4Address;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// (interface index, IPv4 address) → MAC.
static TABLE: Mutex<BTreeMap<(u32, [u8; 4]), [u8; 6]>> = Mutex::new(BTreeMap::new());

const ETH_P_ARP: [u8; 2] = [0x08, 0x06];

/// Learn from frame `f` received on interface `index`, if it is an
/// Ethernet/IPv4 ARP request or reply.
pub fn learn(index: u32, f: &[u8]) {
    // Ethernet header, then htype 1, ptype 0x0800, hlen 6, plen 4, op.
    if f.len() < 42 || f[12..14] != ETH_P_ARP || f[14..20] != [0, 1, 8, 0, 6, 4] {
        return;
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&f[22..28]);
    let mut ip = [0u8; 4];
    ip.copy_from_slice(&f[28..32]);
    if ip == [0; 4] || mac[0] & 1 != 0 {
        return;
    }
    lock(&TABLE).insert((index, ip), mac);
}

/// Every entry: (interface index, address, MAC).
pub fn entries() -> Vec<(u32, Ipv4Address, [u8; 6])> {
    lock(&TABLE)
        .iter()
        .map(|(&(i, a), &m)| (i, Ipv4Address::from(a), m))
        .collect()
}

/// Forget what interface `index` learnt (it went down), or everything
/// (`None`: a new stack).
pub fn flush(index: Option<u32>) {
    lock(&TABLE).retain(|&(i, _), _| index.is_some_and(|x| x != i));
}

/// /proc/net/arp in Linux's format.
pub fn proc_net_arp(names: &[(u32, String)]) -> String {
    let mut s = String::from(
        "IP address       HW type     Flags       HW address            Mask     Device\n",
    );
    for (i, a, m) in entries() {
        let name = names
            .iter()
            .find(|(n, _)| *n == i)
            .map_or("?", |(_, n)| n.as_str());
        let mac = m
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        // ATF_COM: a complete entry.
        s.push_str(&format!(
            "{:<16} 0x1         0x2         {mac}     *        {name}\n",
            a.to_string()
        ));
    }
    s
}
