//! RTM_GETNEIGH: the IPv4 neighbour table (`inet::neigh`) for
//! `ip neigh show`.

use super::{Msg, AF_INET, NLM_F_MULTI, RTM_NEWNEIGH};
use crate::abi::{self, netlink::NdMsg};
use crate::net::inet::neigh;

const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const NUD_REACHABLE: u16 = 0x02;
const RTN_UNICAST: u8 = 1;

/// The dump: one RTM_NEWNEIGH per entry (IPv4 only, so an AF_INET6
/// request gets none).
pub fn dump(body: &[u8], seq: u32, pid: u32) -> Vec<Vec<u8>> {
    let family = body.first().copied().unwrap_or(0);
    if family != 0 && family != AF_INET {
        return Vec::new();
    }
    neigh::entries()
        .into_iter()
        .map(|(index, a, mac)| {
            let mut m = Msg::new(RTM_NEWNEIGH, NLM_F_MULTI, seq, pid);
            let nd = NdMsg {
                ndm_family: AF_INET,
                ndm_ifindex: index as i32,
                ndm_state: NUD_REACHABLE,
                ndm_type: RTN_UNICAST,
                ..Default::default()
            };
            m.put(abi::bytes(&nd));
            m.attr(NDA_DST, &a.octets());
            m.attr(NDA_LLADDR, &mac);
            m.done()
        })
        .collect()
}
