//! RTM_GETLINK of one interface, and RTM_NEWLINK/RTM_SETLINK changing an
//! existing one: IFF_UP, IFLA_MTU, IFLA_ADDRESS, through the same
//! operations as the SIOCSIF* ioctls (`inet::ifconfig`). Creating links
//! (NLM_F_CREATE of a new name) is not supported.

use super::{attr, attrs, body_of, IFF_UP, IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU};
use super::{NLM_F_CREATE, NLM_F_EXCL};
use crate::abi::{self, netlink::IfInfoMsg};
use crate::kernel::errno::{Errno, KResult};
use crate::net::inet::{ifconfig, netdev};

/// The interface a request names: ifi_index, else IFLA_IFNAME.
fn index_of(ifi: &IfInfoMsg, list: &[(u16, &[u8])]) -> KResult<Option<u32>> {
    if ifi.ifi_index > 0 {
        let i = ifi.ifi_index as u32;
        return netdev::interfaces()
            .iter()
            .any(|x| x.index == i)
            .then_some(Some(i))
            .ok_or(Errno::ENODEV);
    }
    match attr(list, IFLA_IFNAME) {
        Some(n) => {
            let end = n.iter().position(|&b| b == 0).unwrap_or(n.len());
            let name = std::str::from_utf8(&n[..end]).map_err(|_| Errno::EINVAL)?;
            Ok(ifconfig::index_of(name).ok())
        }
        None => Ok(None),
    }
}

/// RTM_GETLINK without NLM_F_DUMP: that one interface (ENODEV).
pub fn get(body: &[u8]) -> KResult<netdev::IfInfo> {
    let (ifi, rest): (IfInfoMsg, _) = body_of(body)?;
    let index = index_of(&ifi, &attrs(rest))?.ok_or(Errno::ENODEV)?;
    netdev::interfaces()
        .into_iter()
        .find(|i| i.index == index)
        .ok_or(Errno::ENODEV)
}

/// RTM_NEWLINK (`new`) or RTM_SETLINK on an existing interface.
pub fn set(body: &[u8], new: bool, flags: u16) -> KResult<()> {
    let (ifi, rest): (IfInfoMsg, _) = body_of(body)?;
    let list = attrs(rest);
    let index = match index_of(&ifi, &list)? {
        Some(i) => i,
        // RTM_NEWLINK with NLM_F_CREATE would make a device of a kind
        // (IFLA_LINKINFO) we do not have.
        None if new && flags & NLM_F_CREATE != 0 => return Err(Errno::EOPNOTSUPP),
        None => return Err(Errno::ENODEV),
    };
    if new && flags & NLM_F_EXCL != 0 {
        return Err(Errno::EEXIST);
    }
    if let Some(m) = attr(&list, IFLA_MTU) {
        if m.len() != 4 {
            return Err(Errno::EINVAL);
        }
        ifconfig::set_mtu(index, abi::read_at::<u32>(m, 0))?;
    }
    if let Some(a) = attr(&list, IFLA_ADDRESS) {
        let mac: [u8; 6] = a.try_into().map_err(|_| Errno::EINVAL)?;
        ifconfig::set_mac(index, mac)?;
    }
    // ifi_change says which flags to change; 0 means all of them.
    let change = if ifi.ifi_change == 0 {
        u32::MAX
    } else {
        ifi.ifi_change
    };
    if (ifi.ifi_flags != 0 || ifi.ifi_change != 0) && change & IFF_UP != 0 {
        ifconfig::set_up(index, ifi.ifi_flags & IFF_UP != 0)?;
    }
    Ok(())
}
