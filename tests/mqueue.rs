//! POSIX message queues: a guest program compared with the host (open
//! rules, priorities, timeouts, notification, two processes exchanging
//! messages with blocking receive and send).

mod common;

use common::*;

#[test]
fn mqueue_matches_native() {
    compare_with_native("mqueue", "mqueue done");
}

/// The mqueue filesystem: queues as files with their status line, files
/// made there as queues, rm as mq_unlink, chmod deciding who may open,
/// EPERM for anything but a queue.
#[test]
fn mqueue_fs_matches_native() {
    compare_with_native("mqueue_fs", "mqueue_fs done");
}
