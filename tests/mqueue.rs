//! POSIX message queues: a guest program compared with the host (open
//! rules, priorities, timeouts, notification, two processes exchanging
//! messages with blocking receive and send).

mod common;

use common::*;

#[test]
fn mqueue_matches_native() {
    compare_with_native("mqueue", "mqueue done");
}
