//! ptrace inside the guest (issue 15): tracer and tracee programs
//! compared with the native run.

mod common;

use common::*;

#[test]
fn ptrace_matches_native() {
    compare_with_native("ptrace", "ptrace done");
}
