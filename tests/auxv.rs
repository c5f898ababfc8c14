//! /proc/PID/auxv: the binary auxiliary vector, compared with the native run.

mod common;
use common::*;

#[test]
fn auxv_matches_native() {
    compare_with_native("auxv", "auxv done");
}
