//! Route netlink requests on the unit-test stack (lo only): the answers
//! and their errnos.

use super::*;
use crate::abi::netlink::RtMsg;

/// One request of type `ty` with `flags`, body `body`; the answer
/// datagrams.
fn ask(ty: u16, flags: u16, body: &[u8], admin: bool) -> Vec<Vec<u8>> {
    let s = NetlinkSocket::new(NETLINK_ROUTE).unwrap();
    let mut m = Msg::new(ty, flags | 1, 9, 0);
    m.put(body);
    let req = m.done();
    assert_eq!(s.request(&req, 4242, admin), Ok(req.len()));
    let mut out = Vec::new();
    while let Ok((d, _)) = s.reply(65536, false) {
        out.push(d);
    }
    out
}

/// The errno of a single NLMSG_ERROR answer.
fn errno_of(answers: &[Vec<u8>]) -> i32 {
    assert_eq!(answers.len(), 1, "one answer");
    let h: NlMsgHdr = abi::read_at(&answers[0], 0);
    assert_eq!(h.nlmsg_type, NLMSG_ERROR);
    assert_eq!(h.nlmsg_seq, 9);
    -abi::read_at::<i32>(&answers[0], size_of::<NlMsgHdr>())
}

fn newaddr_body(index: u32, family: u8) -> Vec<u8> {
    let mut m = Msg(Vec::new());
    m.put(abi::bytes(&IfAddrMsg {
        ifa_family: family,
        ifa_prefixlen: 24,
        ifa_index: index,
        ..Default::default()
    }));
    m.attr(IFA_LOCAL, &[10, 9, 0, 2]);
    m.0
}

#[test]
fn changes_need_cap_net_admin() {
    let a = ask(RTM_NEWADDR, NLM_F_ACK, &newaddr_body(1, AF_INET), false);
    assert_eq!(errno_of(&a), Errno::EPERM.0);
}

#[test]
fn address_errors() {
    // lo keeps its IPv4 addresses; an unknown index; an IPv6 request
    // with a 4-byte address; a short body.
    let a = ask(RTM_NEWADDR, NLM_F_ACK, &newaddr_body(1, AF_INET), true);
    assert_eq!(errno_of(&a), Errno::EOPNOTSUPP.0);
    let a = ask(RTM_NEWADDR, NLM_F_ACK, &newaddr_body(99, AF_INET), true);
    assert_eq!(errno_of(&a), Errno::ENODEV.0);
    let a = ask(RTM_NEWADDR, 0, &newaddr_body(1, AF_INET6), true);
    assert_eq!(
        errno_of(&a),
        Errno::EINVAL.0,
        "errors come without NLM_F_ACK"
    );
    let a = ask(RTM_DELADDR, NLM_F_ACK, &[2, 0], true);
    assert_eq!(errno_of(&a), Errno::EINVAL.0);
}

fn addr6_body(index: u32, a: [u8; 16], prefix: u8) -> Vec<u8> {
    let mut m = Msg(Vec::new());
    m.put(abi::bytes(&IfAddrMsg {
        ifa_family: AF_INET6,
        ifa_prefixlen: prefix,
        ifa_index: index,
        ..Default::default()
    }));
    m.attr(IFA_LOCAL, &a);
    m.0
}

#[test]
fn ipv6_addresses_on_lo() {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[15] = 0x77;
    let excl = NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE;
    assert_eq!(
        errno_of(&ask(RTM_NEWADDR, excl, &addr6_body(1, a, 129), true)),
        Errno::EINVAL.0
    );
    let mut mc = a;
    mc[0] = 0xff;
    assert_eq!(
        errno_of(&ask(RTM_NEWADDR, excl, &addr6_body(1, mc, 64), true)),
        Errno::EADDRNOTAVAIL.0
    );
    assert_eq!(
        errno_of(&ask(RTM_NEWADDR, excl, &addr6_body(1, a, 64), true)),
        0
    );
    assert_eq!(
        errno_of(&ask(RTM_NEWADDR, excl, &addr6_body(1, a, 64), true)),
        Errno::EEXIST.0
    );
    let dump = ask(RTM_GETADDR, NLM_F_DUMP, &[AF_INET6], true).concat();
    assert!(dump.windows(16).any(|w| w == a), "the dump lists it");
    // The prefix length must match to delete.
    assert_eq!(
        errno_of(&ask(RTM_DELADDR, NLM_F_ACK, &addr6_body(1, a, 48), true)),
        Errno::EADDRNOTAVAIL.0
    );
    assert_eq!(
        errno_of(&ask(RTM_DELADDR, NLM_F_ACK, &addr6_body(1, a, 64), true)),
        0
    );
    let dump = ask(RTM_GETADDR, NLM_F_DUMP, &[AF_INET6], true).concat();
    assert!(!dump.windows(16).any(|w| w == a), "gone");
}

#[test]
fn setlink_acks_and_checks_the_mtu() {
    let mut m = Msg(Vec::new());
    m.put(abi::bytes(&IfInfoMsg {
        ifi_index: 1,
        ifi_flags: IFF_UP,
        ifi_change: IFF_UP,
        ..Default::default()
    }));
    let up = m.0.clone();
    assert_eq!(errno_of(&ask(RTM_SETLINK, NLM_F_ACK, &up, true)), 0);
    // No NLM_F_ACK, no error: no answer.
    assert!(ask(RTM_SETLINK, 0, &up, true).is_empty());
    m.attr(IFLA_MTU, abi::bytes(&1000u32));
    assert_eq!(
        errno_of(&ask(RTM_SETLINK, NLM_F_ACK, &m.0, true)),
        Errno::EINVAL.0
    );
    // RTM_NEWLINK of an existing link with NLM_F_EXCL.
    let a = ask(
        RTM_NEWLINK,
        NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        &up,
        true,
    );
    assert_eq!(errno_of(&a), Errno::EEXIST.0);
}

#[test]
fn routes() {
    let mut m = Msg(Vec::new());
    m.put(abi::bytes(&RtMsg {
        rtm_family: AF_INET,
        rtm_table: 254,
        rtm_type: 1,
        ..Default::default()
    }));
    // RTA_GATEWAY on no interface's subnet.
    m.attr(5, &[10, 77, 0, 1]);
    let a = ask(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, &m.0, true);
    assert_eq!(errno_of(&a), Errno::ENETUNREACH.0);
    let a = ask(RTM_DELROUTE, NLM_F_ACK, &m.0, true);
    assert_eq!(errno_of(&a), Errno::ESRCH.0);
    // The dump of the main table: lo's routes are not in it.
    let d = ask(RTM_GETROUTE, NLM_F_DUMP, &[AF_INET], true);
    assert_eq!(d.len(), 1);
    let h: NlMsgHdr = abi::read_at(&d[0], 0);
    assert_eq!(h.nlmsg_type, NLMSG_DONE);
}

#[test]
fn one_link_without_dump() {
    let mut m = Msg(Vec::new());
    m.put(abi::bytes(&IfInfoMsg::default()));
    m.attr(IFLA_IFNAME, b"lo\0");
    let a = ask(RTM_GETLINK, 0, &m.0, false);
    assert_eq!(a.len(), 1);
    let h: NlMsgHdr = abi::read_at(&a[0], 0);
    assert_eq!((h.nlmsg_type, h.nlmsg_flags), (RTM_NEWLINK, 0));
    let i: IfInfoMsg = abi::read_at(&a[0], size_of::<NlMsgHdr>());
    assert_eq!(i.ifi_index, 1);
}
