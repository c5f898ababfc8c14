//! Capabilities (issue 15): capget/capset, set*id fix-ups, keep-caps,
//! the ambient and bounding sets, file capabilities and /proc/PID/status,
//! compared with the native run (as root).

mod common;

use common::*;

#[test]
fn capabilities_match_native() {
    compare_with_native("caps", "caps done");
}
