//! Guest programs must never crash the kernel: random system calls with
//! random arguments, and corrupt executables.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn random_syscalls_do_not_crash_the_kernel() {
    let dir = test_dir("sysfuzz-build");
    let bin = dir.join("sysfuzz");
    compile_c(
        &repo_root().join("tests/guest/sysfuzz.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("sysfuzz", &[(bin.as_path(), "/bin/sysfuzz")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    for seed in [1, 2, 3] {
        let (out, status) = g.run_status_timeout(
            &format!("/bin/sysfuzz 150 {seed}"),
            Duration::from_secs(120),
        );
        assert!(
            out.contains("sysfuzz: 150 rounds, 7500 calls"),
            "seed {seed}: {out}"
        );
        assert_eq!(status, 0, "seed {seed}: {out}");
    }
    assert_eq!(g.run("echo still alive").trim(), "still alive");
    assert!(!g.output().contains("Kernel panic"), "{}", g.output());
}

#[test]
fn corrupt_executables_get_an_errno() {
    let dir = test_dir("badelf-build");
    // A valid ELF header followed by garbage program headers, and pure
    // noise: both must fail to exec with an error, not crash anything.
    let mut elf = std::fs::read("/bin/true").expect("/bin/true");
    for (i, b) in elf.iter_mut().enumerate().skip(64).take(400) {
        *b = (i as u8).wrapping_mul(151).wrapping_add(7);
    }
    let bad = dir.join("badelf");
    std::fs::write(&bad, &elf).unwrap();
    let noise = dir.join("noise");
    std::fs::write(
        &noise,
        (0..5000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    for p in [&bad, &noise] {
        let mut perm = std::fs::metadata(p).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(p, perm).unwrap();
    }
    let initrd = build_initramfs(
        "badelf",
        &[
            (bad.as_path(), "/bin/badelf"),
            (noise.as_path(), "/bin/noise"),
        ],
    );
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (_, status) = g.run_status("/bin/badelf");
    assert_ne!(status, 0);
    let (_, status) = g.run_status("/bin/noise");
    assert_ne!(status, 0);
    assert_eq!(g.run("echo fine").trim(), "fine");
}
