//! seccomp for guest programs (seccomp(2), prctl's seccomp and
//! no_new_privs options, the filter actions, strict mode): a guest C
//! program compared with the native run.

mod common;

use common::*;

#[test]
fn seccomp_filters_match_native() {
    compare_with_native("seccomp_filter", "seccomp_filter done");
}

/// User notification: a supervisor receives, checks and answers the
/// syscalls a filter hands it, installs fds into the caller; signals,
/// closing the listener and its hang-up, with Linux's errnos.
#[test]
fn seccomp_user_notification_matches_native() {
    compare_with_native("seccomp_notify", "seccomp_notify done");
}
