//! Linux semantics of less common families (issue 14), each a C program
//! run natively and in the guest with the outputs compared line for line.

mod common;

use common::*;

/// RLIMIT_FSIZE (short writes, EFBIG, SIGXFSZ), RLIMIT_CPU (SIGXCPU each
/// second, SIGKILL at the hard limit), RLIMIT_AS and RLIMIT_DATA on mmap,
/// mremap and brk.
#[test]
fn rlimits_enforced_match_native() {
    compare_with_native("rlimits", "rlimits done");
}

/// mlock, mlock2, munlock, mlockall and munlockall: VmLck, RLIMIT_MEMLOCK
/// for an unprivileged user (ENOMEM, EAGAIN, EPERM), mremap and fork.
#[test]
fn memlock_matches_native() {
    compare_with_native("memlock", "memlock done");
}

/// fallocate on tmpfs: mode 0, KEEP_SIZE and PUNCH_HOLE (st_blocks,
/// zeros), unsupported modes, and vfs_fallocate's order of errors.
#[test]
fn fallocate_tmpfs_matches_native() {
    compare_with_native("fallocate", "fallocate done");
}

/// posix_fadvise, readahead, sync_file_range, preadv2/pwritev2 and the
/// RWF_* flags: errors per file kind and what the flags do to the data.
#[test]
fn fadvise_and_rwf_flags_match_native() {
    compare_with_native("fadvise", "fadvise done");
}

/// pidfd_open, pidfd_send_signal, pidfd_getfd, CLONE_PIDFD, poll on a
/// pidfd and waitid(P_PIDFD).
#[test]
fn pidfd_matches_native() {
    compare_with_native("pidfd", "pidfd done");
}

/// clone3: a fork-like child, a thread on its own stack, CLONE_PIDFD,
/// CLONE_CLEAR_SIGHAND, set_tid, and the struct's size, flag, signal
/// and set_tid errors.
#[test]
fn clone3_matches_native() {
    compare_with_native("clone3", "clone3 done");
}

/// /proc/PID/stat, status and cmdline of a zombie: state Z, its name and
/// parent, no memory, the exit code.
#[test]
fn zombie_proc_files_match_native() {
    compare_with_native("zombieproc", "zombieproc done");
}
