//! tests/guest/fullio.c run natively and in a guest booted from an ext4
//! image, outputs compared line by line: regular-file and block-device I/O
//! that completes in full, process-shared futexes across fork, and
//! blocking pipe writes. Each test builds and boots its own image.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Build fullio.c for this test; returns the scratch directory and binary.
fn build(name: &str) -> (PathBuf, PathBuf) {
    let dir = test_dir(&format!("{name}-build"));
    let bin = dir.join("fullio");
    compile_c(&repo_root().join("tests/guest/fullio.c"), &bin, &[]);
    (dir, bin)
}

fn native(bin: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("running fullio natively");
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && s.contains("fullio done"),
        "fullio {args:?} fails natively ({}):\n{s}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    s
}

/// Boot an ext4 root holding the binary (plus `disks` as ubd1...), run
/// `setup` and then fullio with `args`, power off; returns what it printed.
fn in_guest(name: &str, bin: &Path, disks: &[&Path], setup: &[&str], args: &str) -> String {
    let img = build_ext4(name, "ext4", "96M", &[(bin, "/bin/fullio")]);
    let mut words = vec![format!("ubd0={}", img.display())];
    for (i, d) in disks.iter().enumerate() {
        words.push(format!("ubd{}={}", i + 1, d.display()));
    }
    let mut boot = vec!["mem=256M"];
    boot.extend(words.iter().map(String::as_str));
    let mut g = Guest::boot(&boot);
    g.wait_prompt();
    for cmd in setup {
        let (out, code) = g.run_status(cmd);
        assert_eq!(code, 0, "{cmd}: {out}");
    }
    let (out, code) =
        g.run_status_timeout(&format!("/bin/fullio {args}"), Duration::from_secs(300));
    g.send("poweroff -f\n");
    let st = g.wait_exit(Duration::from_secs(60));
    assert!(st.is_some(), "vmlinux did not exit:\n{}", g.output());
    assert_eq!(code, 0, "fullio {args} in the guest:\n{out}");
    out
}

fn assert_same(native: &str, guest: &str) {
    let want: Vec<&str> = native.lines().collect();
    let got: Vec<&str> = guest.lines().map(|l| l.trim_end()).collect();
    if want != got {
        let mut diff = String::new();
        for i in 0..want.len().max(got.len()) {
            let w = want.get(i).copied().unwrap_or("<none>");
            let h = got.get(i).copied().unwrap_or("<none>");
            let mark = if w == h { " " } else { "!" };
            diff.push_str(&format!(
                "{mark} {:>3} native: {w}\n      guest:  {h}\n",
                i + 1
            ));
        }
        panic!("fullio output differs:\n{diff}");
    }
}

#[test]
fn file_and_block_device_io_completes_in_full() {
    let (dir, bin) = build("fullio-io");
    let stand_in = dir.join("standin.img");
    let disk = dir.join("scratch.img");
    for f in [&stand_in, &disk] {
        std::fs::File::create(f).unwrap().set_len(32 << 20).unwrap();
    }
    let f1 = dir.join("f1");
    let f2 = dir.join("f2");
    let dev = format!("dev:{}", stand_in.display());
    let want = native(
        &bin,
        &["io", f1.to_str().unwrap(), f2.to_str().unwrap(), &dev],
    );
    let got = in_guest(
        "fullio-io",
        &bin,
        &[&disk],
        &["mount -t tmpfs tmpfs /mnt"],
        "io /mnt/f /big dev:/dev/ubdb",
    );
    assert_same(&want, &got);
    // What the guest wrote to the block device reached the host file.
    let data = std::fs::read(&disk).unwrap();
    assert!(data[8192..8192 + (1 << 20)].iter().any(|&b| b != 0));
}

#[test]
fn futexes_are_shared_across_fork() {
    let (dir, bin) = build("fullio-futex");
    let want = native(&bin, &["futex", dir.to_str().unwrap()]);
    let got = in_guest("fullio-futex", &bin, &[], &[], "futex /tmp");
    assert_same(&want, &got);
}

#[test]
fn blocking_pipe_writes_complete() {
    let (_dir, bin) = build("fullio-pipe");
    let want = native(&bin, &["pipe"]);
    let got = in_guest("fullio-pipe", &bin, &[], &[], "pipe");
    assert_same(&want, &got);
}
