//! Restartable sequences: tests/guest/rseq.c (glibc's registration, the
//! syscall's errnos, the CPU fields, an abort by a signal, a bad
//! signature, fork/vfork/exec) compared with the native run, on one vCPU
//! and on two (the CPU fields follow a move between vCPUs).

mod common;
use common::*;

#[test]
fn rseq_matches_native() {
    compare_with_native("rseq", "rseq done");
}

#[test]
fn rseq_on_two_vcpus_matches_native() {
    compare_with_native_booted("rseq", "rseq done", &["ncpus=2"]);
}
