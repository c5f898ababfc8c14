//! Namespaces: a guest program compared with the native run (UTS
//! isolation, user namespaces' maps and errnos, setns through
//! /proc/PID/ns fds, NS_GET_* ioctls, clone and unshare flag checks).

mod common;

use common::*;

#[test]
fn ns_matches_native() {
    compare_with_native("ns", "ns done");
}
