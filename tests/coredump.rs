//! Core dumps: tests/guest/coredump.c crashes children under different
//! RLIMIT_CORE values and core_pattern settings in a guest on an ext4
//! image; the core files are then read out of the image and host gdb
//! must find the crashing function in their backtraces.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

const RUN_TIMEOUT: Duration = Duration::from_secs(120);
const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// `gdb -batch -ex bt BIN CORE`'s output, or None without gdb.
fn gdb_bt(bin: &std::path::Path, core: &std::path::Path) -> Option<String> {
    let out = Command::new("gdb")
        .args(["-batch", "-nx", "-ex", "bt"])
        .arg(bin)
        .arg(core)
        .output()
        .ok()?;
    Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[test]
fn fatal_signals_write_elf_cores_gdb_can_read() {
    let dir = test_dir("coredump-build");
    let bin = dir.join("coredump");
    compile_c(
        &repo_root().join("tests/guest/coredump.c"),
        &bin,
        &["-static", "-g", "-O1"],
    );
    let img = build_ext4(
        "coredump",
        "ext4",
        "64M",
        &[(bin.as_path(), "/bin/coredump")],
    );
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", ubd.as_str()]);
    g.wait_prompt();
    let (out, st) = g.run_status_timeout("/bin/coredump /root", RUN_TIMEOUT);
    assert_eq!(st, 0, "{out}");
    for want in [
        "segv: signaled=1 sig=11 core=1 file=1 mode=600 elf=1",
        "abort: signaled=1 sig=6 core=1 file=1 mode=600 elf=1",
        "limit0: signaled=1 sig=11 core=0 file=0",
        "pattern: signaled=1 sig=11 core=1 file=1 mode=600 elf=1",
        "coredump done",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // The shell reports the dump.
    let sh = g.run("cd /root/c3 && sh -c 'ulimit -c unlimited; kill -SEGV $$'; ls; cd /");
    assert!(sh.contains("core dumped"), "{sh}");
    g.send("poweroff -f\n");
    g.wait_exit(EXIT_TIMEOUT);

    let segv = debugfs_cat(&img, "/root/c0/core");
    let abort = debugfs_cat(&img, "/root/c1/core");
    assert_eq!(&segv[..4], b"\x7fELF");
    assert_eq!(u16::from_le_bytes([segv[16], segv[17]]), 4, "ET_CORE");
    let host = test_dir("coredump-out");
    let (c0, c1) = (host.join("segv.core"), host.join("abort.core"));
    std::fs::write(&c0, &segv).unwrap();
    std::fs::write(&c1, &abort).unwrap();
    let Some(bt) = gdb_bt(&bin, &c0) else {
        eprintln!("gdb not installed: backtraces not checked");
        return;
    };
    eprintln!("{bt}");
    assert!(bt.contains("crash_segv"), "{bt}");
    assert!(bt.contains("signal 11") || bt.contains("SIGSEGV"), "{bt}");
    let bt = gdb_bt(&bin, &c1).unwrap_or_default();
    eprintln!("{bt}");
    assert!(bt.contains("crash_abort"), "{bt}");
    assert!(bt.contains("signal 6") || bt.contains("SIGABRT"), "{bt}");
}
