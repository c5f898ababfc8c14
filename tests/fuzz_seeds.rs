//! The fuzz entry points (src/fuzz_entry.rs) over the seed corpora that
//! fuzz/make-seeds.sh generates: valid inputs must pass every check the
//! fuzzers make (no panic, files read back, no frames leaked), so a crash
//! the fuzzers report is the parser's, not the harness's.

mod common;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The seeds, made once per test binary.
fn seeds() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::test_dir("fuzz-seeds");
        let st = std::process::Command::new("sh")
            .arg(common::repo_root().join("fuzz/make-seeds.sh"))
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("running fuzz/make-seeds.sh");
        assert!(st.success(), "fuzz/make-seeds.sh failed");
        dir
    })
}

/// The entry points share the frame allocator and check it for leaks:
/// one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn run(target: &str, entry: fn(&[u8]), at_least: usize) {
    let dir = seeds().join(target);
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        eprintln!("{target}: {}", p.display());
        entry(&std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n >= at_least, "only {n} seeds in {}", dir.display());
}

#[test]
fn ext4_seeds() {
    run("ext4", ruml::fuzz_entry::fuzz_ext4, 7);
}

/// Valid images get through every stage, so the fuzzer's mutations start
/// from inputs that reach the writers too.
#[test]
fn ext4_seeds_mount_and_change() {
    let dir = seeds().join("ext4");
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let r = ruml::fuzz_entry::ext4_run(&std::fs::read(&p).unwrap());
        let all = ruml::fuzz_entry::Ext4Run {
            mounted_ro: true,
            mounted_rw: true,
            changed: true,
        };
        assert_eq!(r, all, "{}", p.display());
    }
}

#[test]
fn elf_seeds() {
    run("elf", ruml::fuzz_entry::fuzz_elf, 1);
}

#[test]
fn cpio_seeds() {
    run("cpio", ruml::fuzz_entry::fuzz_cpio, 4);
}

#[test]
fn cmdline_seeds() {
    run("cmdline", ruml::fuzz_entry::fuzz_cmdline, 7);
}

#[test]
fn mconsole_seeds() {
    run("mconsole", ruml::fuzz_entry::fuzz_mconsole, 10);
}

#[test]
fn telnet_seeds() {
    run("telnet", ruml::fuzz_entry::fuzz_telnet, 2);
}
