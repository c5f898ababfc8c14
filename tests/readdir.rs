//! Directory reading checked against the host (tests/guest/readdir_unlink.c).

mod common;

use common::*;

/// rm -r's pattern: unlink each entry as readdir returns it; every entry
/// is still visited and the directory ends empty.
#[test]
fn unlinking_while_reading_visits_every_entry() {
    compare_with_native("readdir_unlink", "readdir_unlink done");
}
