//! Paths and /proc corners (execveat, non-UTF-8 names, /proc/self/fd,
//! trailing slashes, /proc files, SIGBUS past a file's end): a guest C
//! program whose output must match a native run line for line.

mod common;

use common::*;

#[test]
fn pathsproc_matches_native() {
    compare_with_native("pathsproc", "pathsproc done");
}

/// The names section on an ext4 root: the bytes must reach the disk as
/// they are (e2fsck agrees afterwards) and come back the same.
#[test]
fn non_utf8_names_on_ext4_match_native() {
    let dir = test_dir("pathsproc-ext4-build");
    let bin = dir.join("pathsproc");
    compile_c(
        &repo_root().join("tests/guest/pathsproc.c"),
        &bin,
        &["-static"],
    );
    // A directory of this run's own: another run of this test (or of
    // the same program) at the same time must not share its names.
    let native_dir = test_dir("pathsproc-native");
    let native = std::process::Command::new(&bin)
        .arg("names")
        .arg(&native_dir)
        .output()
        .expect("running pathsproc natively");
    let want = String::from_utf8_lossy(&native.stdout).into_owned();
    assert!(want.contains("pathsproc done"), "native run: {want}");

    let img = build_ext4("pathsproc-ext4", "ext4", "32M", &[(&bin, "/bin/pathsproc")]);
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", &ubd, "rw"]);
    g.wait_prompt();
    g.run("mkdir -p /ppnames");
    let (got, status) = g.run_status_timeout(
        "/bin/pathsproc names /ppnames",
        std::time::Duration::from_secs(60),
    );
    let got: Vec<&str> = got.lines().map(|l| l.trim_end()).collect();
    assert_eq!(want.lines().collect::<Vec<_>>(), got);
    assert_eq!(status, 0);
    g.send("poweroff -f\n");
    let st = g
        .wait_exit(std::time::Duration::from_secs(60))
        .unwrap_or_else(|| panic!("vmlinux did not exit:\n{}", g.output()));
    assert_eq!(st.code(), Some(0));
    let (code, out) = e2fsck(&img);
    assert_eq!(code, 0, "e2fsck -fn reported problems:\n{out}");
}
