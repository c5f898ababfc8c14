//! Restartable sequences: tests/guest/rseq.c (glibc's registration, the
//! syscall's errnos, the CPU fields, aborts by a signal and by
//! preemption, a bad signature, fork/vfork/exec/threads) compared with
//! the native run, on one vCPU and on two (the CPU fields follow a move
//! between vCPUs).

mod common;
use common::*;

/// One test for both boots: they build and run the same program file,
/// which two tests at once would race on.
#[test]
fn rseq_matches_native_on_one_and_two_vcpus() {
    compare_with_native("rseq", "rseq done");
    compare_with_native_booted("rseq", "rseq done", &["ncpus=2"]);
}
