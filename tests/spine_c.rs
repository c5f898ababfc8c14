//! Run C programs from tests/guest natively and in the guest; the outputs
//! must match line for line.

mod common;

use common::*;

#[test]
fn spine_matches_native() {
    compare_with_native("spine", "spine done");
}

#[test]
fn mm_and_signal_corners_match_native() {
    compare_with_native("mmsig", "mmsig done");
}

#[test]
fn epoll_and_eventfd_match_native() {
    compare_with_native("events", "events done");
}

#[test]
fn unix_sockets_match_native() {
    compare_with_native("sockets", "sockets done");
}

#[test]
fn signalfd_matches_native() {
    compare_with_native("signalfd", "signalfd done");
}

#[test]
fn pty_packet_mode_matches_native() {
    compare_with_native("ptypkt", "ptypkt done");
}

#[test]
fn inotify_matches_native() {
    compare_with_native("inotify", "inotify done");
}

#[test]
fn permissions_match_native() {
    compare_with_native("perm", "perm done");
}

#[test]
fn process_accounting_matches_native() {
    compare_with_native("procacct", "procacct done");
}

#[test]
fn pselect6_and_ppoll_masks_match_native() {
    compare_with_native("pselmask", "pselmask done");
}

#[test]
fn signal_handlers_do_not_change_the_interrupted_fpu_state() {
    compare_with_native("sigfpu", "sigfpu done");
}

#[test]
fn eight_threads_on_one_mutex_futex_and_counter_are_exact() {
    compare_with_native("mthreads", "mthreads done");
}

#[test]
fn splice_tee_vmsplice_copy_file_range_match_native() {
    compare_with_native("splice", "splice done");
}

#[test]
fn unix_credentials_match_native() {
    compare_with_native("scmcred", "scmcred done");
}
