//! Bad input from the host side: command lines that cannot work (console
//! channels on host fds that are not usable, a disk given twice), disk
//! images that are empty or junk, images another instance (ruml or
//! linux.uml) is using, and panics under `quiet`. Each ends in one clear
//! message, never in a Rust backtrace or a silent exit.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Wait for `g` to end; its status.
fn exited(g: &mut Guest) -> ExitStatus {
    g.wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("did not exit; output:\n{}", g.output()))
}

/// Boot vmlinux with `args`, expect a command-line refusal: status 2 and
/// one line on stderr; that line.
fn refused(args: &[&str]) -> String {
    let mut g = Guest::boot(args);
    let st = exited(&mut g);
    let err = g.stderr_output();
    assert_eq!(st.code(), Some(2), "{args:?}: {st:?}\n{}", g.output());
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    err
}

/// `len` bytes that are the same on every run (xorshift), so a junk image
/// can never happen to look like a filesystem on some runs only.
fn junk(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn console_on_a_closed_host_fd_is_refused() {
    // The test process must not have fd 99 open itself (vmlinux would
    // inherit it).
    assert!(!Path::new("/proc/self/fd/99").exists());
    for word in [
        "ssl0=fd:99",
        "con0=fd:99",
        "con=fd:0,fd:99",
        "ssl3=null,fd:99",
    ] {
        let err = refused(&["mem=64M", word]);
        assert!(
            err.contains(&format!("{word}: host fd 99 is not open")),
            "{err}"
        );
    }
}

#[test]
fn console_on_a_host_fd_of_the_wrong_direction_is_refused() {
    // The harness gives vmlinux a pipe's read end as stdin and write ends
    // as stdout and stderr.
    let err = refused(&["mem=64M", "ssl0=fd:0"]);
    assert!(
        err.contains("ssl0=fd:0: host fd 0 is not open for writing"),
        "{err}"
    );
    let err = refused(&["mem=64M", "con1=fd:1,fd:2"]);
    assert!(
        err.contains("con1=fd:1,fd:2: host fd 1 is not open for reading"),
        "{err}"
    );
}

#[test]
fn a_disk_given_twice_is_refused() {
    let dir = test_dir("badinput-ubdtwice");
    let a = write_file(&dir, "a.img", &[0; 4096]);
    let b = write_file(&dir, "b.img", &[0; 4096]);
    let first = format!("ubd0={}", a.display());
    for second in [
        format!("ubd0={}", b.display()),
        format!("ubd0r={}", a.display()),
    ] {
        let err = refused(&["mem=64M", &first, &second]);
        assert!(
            err.contains(&format!("{second}: ubd0 is already configured")),
            "{err}"
        );
    }
}

/// Boot with `img` as the root disk; expect a kernel panic: status 1, the
/// reason on stderr, no Rust backtrace anywhere. Returns stderr.
fn root_panics(img: &Path) -> String {
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=64M", &ubd]);
    let st = exited(&mut g);
    let (out, err) = (g.output(), g.stderr_output());
    assert_eq!(st.code(), Some(1), "{out}");
    assert!(
        err.contains("Kernel panic - not syncing: VFS: Unable to mount root fs on ubda"),
        "stderr: {err}\noutput: {out}"
    );
    for rust in ["Call Trace", "panicked at", "BUG:", "rust_begin"] {
        assert!(!out.contains(rust), "{rust}: {out}");
    }
    err
}

#[test]
fn an_empty_root_image_is_a_kernel_panic_with_a_reason() {
    let dir = test_dir("badinput-emptyroot");
    let img = write_file(&dir, "empty.img", &[]);
    let err = root_panics(&img);
    assert!(err.contains("VFS: ubda is empty (0 bytes)"), "{err}");
}

#[test]
fn a_junk_root_image_is_a_kernel_panic_with_a_reason() {
    let dir = test_dir("badinput-junkroot");
    let img = write_file(&dir, "junk.img", &junk(1 << 20));
    let err = root_panics(&img);
    assert!(err.contains("No filesystem could mount root"), "{err}");
}

#[test]
fn junk_and_empty_second_disks_do_not_mount() {
    let root = build_ext4("badinput-junkdisk", "ext4", "32M", &[]);
    let dir = root.parent().unwrap().to_path_buf();
    let junk_img = write_file(&dir, "junk.img", &junk(1 << 20));
    let empty = write_file(&dir, "empty.img", &[]);
    // A real filesystem whose superblock is intact and whose group
    // descriptors, bitmaps and inode table are junk.
    let mut fs = std::fs::read(&root).unwrap();
    fs[4096..1 << 20].copy_from_slice(&junk((1 << 20) - 4096));
    let fuzzed = write_file(&dir, "fuzzed.img", &fs);
    let words: Vec<String> = [&root, &junk_img, &empty, &fuzzed]
        .iter()
        .enumerate()
        .map(|(i, p)| format!("ubd{i}={}", p.display()))
        .collect();
    let mut args = vec!["mem=128M"];
    args.extend(words.iter().map(String::as_str));
    let mut g = Guest::boot(&args);
    g.wait_prompt();
    for dev in ["ubdb", "ubdc", "ubdd"] {
        let (out, code) = g.run_status(&format!("mount /dev/{dev} /mnt"));
        assert_ne!(code, 0, "{dev}: {out}");
        assert!(
            out.contains("Invalid argument") || out.contains("Structure needs cleaning"),
            "{dev}: {out}"
        );
    }
    // The kernel is fine and nothing got mounted.
    assert!(!g.run("cat /proc/mounts").contains("/mnt"));
    g.send("poweroff -f\n");
    assert_eq!(exited(&mut g).code(), Some(0), "{}", g.output());
}

#[test]
fn a_panic_under_quiet_still_says_why_on_stderr() {
    let img = build_ext4("badinput-quietpanic", "ext4", "32M", &[]);
    let ubd = format!("ubd0={}", img.display());
    for (words, reason) in [
        (
            ["quiet", "init=/bin/does-not-exist"],
            "Kernel panic - not syncing: Requested init /bin/does-not-exist failed",
        ),
        (
            ["loglevel=0", "init=/bin/false"],
            "Kernel panic - not syncing: Attempted to kill init!",
        ),
    ] {
        let mut args = vec!["mem=64M", ubd.as_str()];
        args.extend(words);
        let mut g = Guest::boot(&args);
        let st = exited(&mut g);
        let err = g.stderr_output();
        assert!(!st.success(), "{words:?}: {st:?}");
        assert!(
            err.contains(reason),
            "{words:?}: stderr: {err}\n{}",
            g.output()
        );
        // On the console too, as Linux's console_verbose().
        let out = g.output();
        assert!(out.matches(reason).count() >= 2, "{words:?}: {out}");
    }
}

#[test]
fn an_image_linux_uml_uses_is_refused() {
    if !Path::new(UML).exists() {
        eprintln!("skipping: {UML} is not installed (apt-get install user-mode-linux)");
        return;
    }
    let img = build_ext4("badinput-umlholds", "ext4", "32M", &[]);
    let ubd = format!("ubd0={}", img.display());
    // UML locks its disk (fcntl F_SETLK) when it opens it for the root.
    let mut u = Guest::boot_uml("badinput-umlholds-shim", &["mem=128M", &ubd]);
    u.wait_prompt();
    for word in [ubd.clone(), format!("ubd0r={}", img.display())] {
        let err = refused(&["mem=64M", &word]);
        assert!(err.contains("in use by another instance"), "{err}");
    }
}

#[test]
fn linux_uml_cannot_open_an_image_ruml_uses() {
    if !Path::new(UML).exists() {
        eprintln!("skipping: {UML} is not installed (apt-get install user-mode-linux)");
        return;
    }
    let img = build_ext4("badinput-rumlholds", "ext4", "32M", &[]);
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=128M", &ubd]);
    g.wait_prompt();
    // UML cannot lock the file, so it cannot open its root device and
    // panics (it aborts).
    let mut u = Guest::boot_uml("badinput-rumlholds-shim", &["mem=128M", &ubd]);
    let st = exited(&mut u);
    let out = u.output();
    assert!(!st.success(), "{out}");
    assert!(out.contains("Failed to lock"), "{out}");
    assert!(
        out.contains("Kernel panic - not syncing: VFS: Unable to mount root fs"),
        "{out}"
    );
    // ruml was not disturbed.
    assert!(g.run("echo still-here").contains("still-here"));
    g.send("poweroff -f\n");
    assert_eq!(exited(&mut g).code(), Some(0), "{}", g.output());
}
