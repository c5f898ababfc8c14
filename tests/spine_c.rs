//! Run tests/guest/spine.c natively and in the guest; the outputs must match.

mod common;

use common::*;
use std::process::{Command, Stdio};

#[test]
fn spine_matches_native() {
    let dir = test_dir("spine-build");
    let src = repo_root().join("tests/guest/spine.c");
    let bin = dir.join("spine");
    compile_c(&src, &bin, &[]);

    let native = Command::new(&bin)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("running spine natively");
    let native_out = String::from_utf8_lossy(&native.stdout).into_owned();
    assert!(
        native.status.success() && native_out.contains("spine done"),
        "spine fails natively ({}):\n{}{}",
        native.status,
        native_out,
        String::from_utf8_lossy(&native.stderr)
    );

    // --add brings glibc and the dynamic loader along.
    let initrd = build_initramfs("spine", &[(bin.as_path(), "/bin/spine")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (guest_out, status) =
        g.run_status_timeout("/bin/spine", std::time::Duration::from_secs(120));

    let want: Vec<&str> = native_out.lines().collect();
    let got: Vec<&str> = guest_out.lines().map(|l| l.trim_end()).collect();
    if want != got {
        let mut diff = String::new();
        for i in 0..want.len().max(got.len()) {
            let (w, h) = (
                want.get(i).copied().unwrap_or("<none>"),
                got.get(i).copied().unwrap_or("<none>"),
            );
            diff.push_str(&format!(
                "{} {:>3} native: {}\n            guest:  {}\n",
                if w == h { " " } else { "!" },
                i + 1,
                w,
                h
            ));
        }
        panic!(
            "spine output differs (guest exit status {}):\n{}",
            status, diff
        );
    }
    assert_eq!(status, 0);
}
