//! Kernel keyrings and asynchronous I/O: guest C programs compared with
//! the native run.

mod common;

use common::*;

#[test]
fn keyrings_match_native() {
    compare_with_native("keys", "keys done");
}
