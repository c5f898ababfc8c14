//! Network interfaces in sysfs: /sys/devices/virtual/net/<name> with
//! address, mtu, operstate, flags, ifindex, type and statistics/, linked
//! from /sys/class/net. The attributes are read live from the stack, so
//! `ip link set` and traffic show at the next read.

use super::node::SysNode;
use crate::net::inet::netdev::{self, IfInfo};
use std::sync::Arc;

/// Interface `index`'s state now, through `f` ("" if it is gone).
fn live(index: u32, f: fn(&IfInfo) -> String) -> impl Fn() -> String + Send + Sync {
    move || {
        netdev::interfaces()
            .iter()
            .find(|i| i.index == index)
            .map(f)
            .unwrap_or_default()
    }
}

pub(super) fn add(root: &Arc<SysNode>) {
    root.dir("class/net");
    for i in netdev::interfaces() {
        let path = format!("devices/virtual/net/{}", i.name);
        let dir = root.dir(&path);
        let ix = i.index;
        dir.attr("ifindex", format!("{ix}\n"));
        // ARPHRD_LOOPBACK or ARPHRD_ETHER.
        dir.attr("type", if i.loopback { "772\n" } else { "1\n" });
        dir.attr("uevent", format!("INTERFACE={}\nIFINDEX={ix}\n", i.name));
        dir.attr_live("address", live(ix, |i| format!("{}\n", mac_text(i))));
        dir.attr_live("mtu", live(ix, |i| format!("{}\n", i.mtu)));
        dir.attr_live(
            "operstate",
            live(ix, |i| {
                match (i.loopback, i.up) {
                    (true, _) => "unknown\n",
                    (false, true) => "up\n",
                    (false, false) => "down\n",
                }
                .into()
            }),
        );
        dir.attr_live(
            "flags",
            live(ix, |i| {
                // IFF_UP, IFF_LOOPBACK, IFF_BROADCAST|IFF_MULTICAST for
                // Ethernet.
                let mut f = if i.up { 0x1 } else { 0 };
                f |= if i.loopback { 0x8 } else { 0x1002 };
                format!("{f:#x}\n")
            }),
        );
        let st = root.dir(&format!("{path}/statistics"));
        st.attr_live("rx_bytes", live(ix, |i| format!("{}\n", i.stats.rx_bytes)));
        st.attr_live(
            "rx_packets",
            live(ix, |i| format!("{}\n", i.stats.rx_packets)),
        );
        st.attr_live("tx_bytes", live(ix, |i| format!("{}\n", i.stats.tx_bytes)));
        st.attr_live(
            "tx_packets",
            live(ix, |i| format!("{}\n", i.stats.tx_packets)),
        );
        root.dir("class/net").link(&i.name, format!("../../{path}"));
    }
}

fn mac_text(i: &IfInfo) -> String {
    i.mac
        .unwrap_or([0; 6])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
