//! Socket and event semantics found wrong by third-party suites: epoll
//! edge-triggered and one-shot modes and epoll_ctl errors, sendfile to a
//! socket whose buffer fills, AF_UNIX autobind and socket options, all
//! compared line by line with a native run.

mod common;

use common::*;

#[test]
fn netsem_matches_native() {
    compare_with_native("netsem", "netsem done");
}
