//! Run tests/guest/ttycheck.c natively (Linux is the reference) and in the
//! guest; the facts it prints about ptys, termios and job control must
//! match line by line.

mod common;

use common::*;
use std::process::{Command, Stdio};

#[test]
fn tty_semantics_match_native() {
    let dir = test_dir("ttycheck-build");
    let bin = dir.join("ttycheck");
    compile_c(
        &repo_root().join("tests/guest/ttycheck.c"),
        &bin,
        &["-static"],
    );

    let native = Command::new("setsid")
        .arg("-w")
        .arg(&bin)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("running ttycheck natively");
    let native_out = String::from_utf8_lossy(&native.stdout).into_owned();
    assert!(
        native.status.success() && native_out.contains("ttycheck done"),
        "ttycheck fails natively ({}):\n{}{}",
        native.status,
        native_out,
        String::from_utf8_lossy(&native.stderr)
    );

    let initrd = build_initramfs("ttycheck", &[(bin.as_path(), "/bin/ttycheck")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (guest_out, _) = g.run_status_timeout(
        "setsid /bin/ttycheck </dev/null; sleep 0.5",
        std::time::Duration::from_secs(120),
    );
    let want: Vec<&str> = native_out.lines().collect();
    let got: Vec<&str> = guest_out.lines().map(|l| l.trim_end()).collect();
    if want != got {
        let mut diff = String::new();
        for i in 0..want.len().max(got.len()) {
            let w = want.get(i).copied().unwrap_or("<missing>");
            let o = got.get(i).copied().unwrap_or("<missing>");
            diff.push_str(&format!(
                "{} {:<50} | {}\n",
                if w == o { " " } else { "!" },
                w,
                o
            ));
        }
        panic!("ttycheck differs (native | guest):\n{diff}");
    }
}
