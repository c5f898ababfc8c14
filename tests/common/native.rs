//! Guest programs checked against the host: the same C program runs
//! natively and inside a guest, and the outputs must match line for line.

use super::{build_initramfs, compile_c, repo_root, test_dir, Guest};
use std::process::{Command, Stdio};

/// Build tests/guest/NAME.c (dynamic glibc), run it on the host and in a
/// guest, and compare.
pub fn compare_with_native(name: &str, last_line: &str) {
    compare_with_native_booted(name, last_line, &[]);
}

/// `compare_with_native` with extra command-line words for the guest
/// (`ncpus=2`).
pub fn compare_with_native_booted(name: &str, last_line: &str, words: &[&str]) {
    drop(compare_with_native_keep(name, last_line, words));
}

/// `compare_with_native_booted`, handing back the guest (still running,
/// at its prompt) for checks after the program's run.
pub fn compare_with_native_keep(name: &str, last_line: &str, words: &[&str]) -> Guest {
    let dir = test_dir(&format!("{name}-build"));
    let src = repo_root().join(format!("tests/guest/{name}.c"));
    let bin = dir.join(name);
    compile_c(&src, &bin, &[]);
    let guest_path = format!("/bin/{name}");

    let native = Command::new(&bin)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("running the program natively");
    let native_out = String::from_utf8_lossy(&native.stdout).into_owned();
    assert!(
        native.status.success() && native_out.contains(last_line),
        "{name} fails natively ({}):\n{}{}",
        native.status,
        native_out,
        String::from_utf8_lossy(&native.stderr)
    );

    // --add brings glibc and the dynamic loader along.
    let initrd = build_initramfs(name, &[(bin.as_path(), guest_path.as_str())]);
    let mut g = Guest::boot_initramfs(&initrd, words);
    g.wait_prompt();
    let (guest_out, status) =
        g.run_status_timeout(&guest_path, std::time::Duration::from_secs(120));

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
            "{name} output differs (guest exit status {}):\n{}",
            status, diff
        );
    }
    assert_eq!(status, 0);
    g
}
