//! Paths and /proc corners (execveat, non-UTF-8 names, /proc/self/fd,
//! trailing slashes, /proc files, SIGBUS past a file's end): a guest C
//! program whose output must match a native run line for line.

mod common;

use common::*;

#[test]
fn pathsproc_matches_native() {
    compare_with_native("pathsproc", "pathsproc done");
}
