//! NETLINK_KOBJECT_UEVENT sockets: tests/guest/uevent.c (creation, bind
//! and getsockname, memberships, buffer sizes, SO_PASSCRED, filters,
//! receiving with nothing queued) compared with the native run.

mod common;

use common::*;

#[test]
fn uevent_sockets_match_native() {
    compare_with_native("uevent", "uevent done");
}
