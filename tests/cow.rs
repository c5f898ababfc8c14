//! COW overlays (`ubdN=COWFILE,BACKING`) in UML's file format: guests
//! write only into their own overlay, several share one backing image at
//! once, and the files are interchangeable with linux.uml and
//! uml-utilities (uml_mkcow makes the same header, uml_moo merges ours).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Removes a test's scratch directory (images, overlays, merged copies)
/// when the test passes; a failing test leaves it for a look, and
/// test_dir sweeps it once this process is gone.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn power_off(g: &mut Guest, who: &str) {
    g.send("sync; poweroff -f\n");
    let st = g
        .wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("{who} did not exit:\n{}", g.output()));
    assert!(st.success(), "{who} exit status {st:?}:\n{}", g.output());
}

fn boot(ubd: &str) -> Guest {
    let mut g = Guest::boot(&["mem=256M", ubd, "rw"]);
    g.wait_prompt();
    g
}

fn md5_file(p: &Path) -> String {
    let out = Command::new("md5sum").arg(p).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Is a uml-utilities / user-mode-linux program installed? (Tests that
/// need one say so and pass vacuously without it.)
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipping: {tool} is not installed (rootfs/host-deps.sh --with-uml)");
    }
    found
}

/// `uml_moo COW OUT`: the backing image with the overlay's sectors merged.
fn uml_moo(cow: &Path, out: &Path) {
    let r = Command::new("uml_moo")
        .arg(cow)
        .arg(out)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        r.status.success() && out.is_file(),
        "uml_moo {} {}: {}{}",
        cow.display(),
        out.display(),
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
}

fn fsck_clean(img: &Path) {
    let (code, out) = e2fsck(img);
    assert_eq!(code, 0, "e2fsck -fn {}:\n{out}", img.display());
}

/// Two guests on one backing image at the same time, each with its own
/// overlay; the backing image never changes, and uml_moo merges an
/// overlay into an image e2fsck finds clean and that holds the write.
#[test]
fn overlays_share_a_backing_image_and_merge_with_uml_moo() {
    let base = build_ext4("cowshare", "ext4", "64M", &[]);
    let dir = base.parent().unwrap().to_path_buf();
    let _cleanup = Cleanup(dir.clone());
    let before = md5_file(&base);
    let (a, b) = (dir.join("a.cow"), dir.join("b.cow"));

    let mut ga = boot(&format!("ubd0={},{}", a.display(), base.display()));
    assert!(
        ga.output().contains("as COW file for"),
        "no creation message:\n{}",
        ga.output()
    );
    ga.run("mkdir -p /data && seq 1 3000 > /data/from-a && sync");

    // A second guest on the same backing image while the first runs.
    let mut gb = boot(&format!("ubd0={},{}", b.display(), base.display()));
    assert_eq!(
        gb.run("test -e /data/from-a && echo leaked || echo absent")
            .trim(),
        "absent"
    );
    gb.run("echo from-b > /root/b-was-here && sync");
    // The backing image is read-locked and each overlay write-locked:
    // nobody may write either while the guests run.
    for word in [
        format!("ubd0={}", base.display()),
        format!("ubd0={}", a.display()),
    ] {
        let (code, out) = run_in(&dir, &[&word]);
        assert_eq!(code, Some(2), "{word}: {out}");
        assert!(out.contains("in use"), "{word}: {out}");
    }
    assert_eq!(ga.run("wc -l < /data/from-a").trim(), "3000");
    power_off(&mut gb, "guest b");
    power_off(&mut ga, "guest a");
    assert_eq!(md5_file(&base), before, "the backing image changed");

    // The overlay alone finds its backing image from its header.
    let mut ga = boot(&format!("ubd0={}", a.display()));
    assert_eq!(ga.run("tail -n 1 /data/from-a").trim(), "3000");
    assert_eq!(
        ga.run("test -e /root/b-was-here && echo leaked || echo absent")
            .trim(),
        "absent"
    );
    power_off(&mut ga, "guest a again");
    assert_eq!(md5_file(&base), before, "the backing image changed");

    if !have("uml_moo") {
        return;
    }
    let merged = dir.join("merged.img");
    uml_moo(&a, &merged);
    fsck_clean(&merged);
    let seq: String = (1..=3000).map(|i| format!("{i}\n")).collect();
    assert_eq!(
        String::from_utf8_lossy(&debugfs_cat(&merged, "/data/from-a")),
        seq
    );
    let merged_b = dir.join("merged-b.img");
    uml_moo(&b, &merged_b);
    fsck_clean(&merged_b);
    assert_eq!(debugfs_cat(&merged_b, "/root/b-was-here"), b"from-b\n");
}

/// Run vmlinux in `dir` with these words and stdin closed until it exits.
fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(vmlinux())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > EXIT_TIMEOUT {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A new overlay ruml makes is the file uml_mkcow makes for the same
/// backing image (named by a relative path, which both store absolute):
/// same header bytes, same padding before the bitmap, same length.
#[test]
fn new_overlay_is_what_uml_mkcow_makes() {
    if !have("uml_mkcow") {
        return;
    }
    let base = build_ext4("cowhdr", "ext4", "32M", &[]);
    let dir = base.parent().unwrap().to_path_buf();
    let _cleanup = Cleanup(dir.clone());
    let name = base.file_name().unwrap().to_str().unwrap().to_owned();
    // No root to mount: vmlinux creates the overlay, then stops before
    // anything could write to it.
    let (code, out) = run_in(&dir, &[&format!("ubd0=r.cow,{name}"), "root=/dev/ubdb"]);
    assert_ne!(code, Some(0), "{out}");
    let r = Command::new("uml_mkcow")
        .args(["m.cow", &name])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));

    let ours = std::fs::read(dir.join("r.cow")).unwrap();
    let theirs = std::fs::read(dir.join("m.cow")).unwrap();
    assert_eq!(ours.len(), theirs.len(), "file lengths differ");
    // Header (4128 bytes) and the zeros up to the bitmap at 8192.
    assert_eq!(&ours[..8192], &theirs[..8192], "headers differ");
    assert_eq!(&ours[..4], b"OOOM");
    let abs = dir.canonicalize().unwrap().join(&name);
    let path_field = &ours[32..32 + abs.as_os_str().len() + 1];
    assert_eq!(
        path_field,
        format!("{}\0", abs.display()).as_bytes(),
        "backing path is not stored absolute"
    );
    assert!(ours == theirs, "bitmaps or data differ");
}

/// Is linux.uml installed? (A note says so when not.)
fn uml_available() -> bool {
    if !Path::new(UML).exists() {
        eprintln!("skipping: {UML} is not installed (rootfs/host-deps.sh --with-uml)");
        return false;
    }
    true
}

fn boot_uml(ubd: &str) -> Guest {
    let mut u = Guest::boot_uml("cow-uml-shim", &["mem=128M", ubd, "root=/dev/ubda", "rw"]);
    u.wait_prompt();
    u
}

/// linux.uml boots an overlay ruml made and sees ruml's write; ruml boots
/// an overlay linux.uml made and sees UML's.
#[test]
fn overlays_move_between_ruml_and_uml() {
    if !uml_available() || !have("uml_moo") {
        return;
    }
    let base = build_ext4("cowuml", "ext4", "64M", &[]);
    let dir: PathBuf = base.parent().unwrap().to_path_buf();
    let _cleanup = Cleanup(dir.clone());
    // Where boot_uml builds its shim (test_dir's naming).
    let _shim = Cleanup(
        std::env::temp_dir()
            .join("ruml-tests")
            .join(format!("cow-uml-shim-{}", std::process::id())),
    );
    let before = md5_file(&base);

    // ruml makes r.cow; UML opens it by the overlay alone.
    let r = dir.join("r.cow");
    let mut g = boot(&format!("ubd0={},{}", r.display(), base.display()));
    g.run("echo written-by-ruml > /root/ruml-file");
    power_off(&mut g, "ruml");
    let mut u = boot_uml(&format!("ubd0={}", r.display()));
    assert_eq!(u.run("cat /root/ruml-file").trim(), "written-by-ruml");
    u.run("echo then-uml > /root/uml-too");
    // A clean unmount: UML leaves its journal to replay otherwise.
    u.run("sync; mount -o remount,ro /");
    power_off(&mut u, "linux.uml on ruml's overlay");
    let mut g = boot(&format!("ubd0={}", r.display()));
    assert_eq!(g.run("cat /root/uml-too").trim(), "then-uml");
    power_off(&mut g, "ruml again");

    // UML makes u.cow; ruml opens it.
    let uc = dir.join("u.cow");
    let mut u = boot_uml(&format!("ubd0={},{}", uc.display(), base.display()));
    u.run("mkdir /root/umldir && echo written-by-uml > /root/umldir/f");
    u.run("sync; mount -o remount,ro /");
    power_off(&mut u, "linux.uml");
    let mut g = boot(&format!("ubd0={}", uc.display()));
    assert_eq!(g.run("cat /root/umldir/f").trim(), "written-by-uml");
    assert_eq!(
        g.run("test -e /root/ruml-file && echo leaked || echo absent")
            .trim(),
        "absent"
    );
    g.run("echo back-in-ruml > /root/umldir/g");
    power_off(&mut g, "ruml on UML's overlay");

    assert_eq!(md5_file(&base), before, "the backing image changed");
    for (cow, file, want) in [
        (&r, "/root/uml-too", "then-uml\n"),
        (&uc, "/root/umldir/g", "back-in-ruml\n"),
    ] {
        let merged = cow.with_extension("merged.img");
        uml_moo(cow, &merged);
        fsck_clean(&merged);
        assert_eq!(String::from_utf8_lossy(&debugfs_cat(&merged, file)), want);
    }
}

/// `e2fsck -fy IMG` (replays the journal, repairs): exit code and stdout.
fn e2fsck_fix(img: &Path) -> (Option<i32>, String) {
    let out = Command::new("e2fsck").arg("-fy").arg(img).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `kill -9` of vmlinux while the guest writes through an overlay: the
/// merged image needs only a journal replay, and ruml boots the same
/// overlay again (replaying the journal itself) to a clean filesystem.
#[test]
fn kill_9_during_overlay_writes_needs_only_journal_replay() {
    if !have("uml_moo") {
        return;
    }
    let base = build_ext4("cowkill", "ext4", "64M", &[]);
    let dir = base.parent().unwrap().to_path_buf();
    let _cleanup = Cleanup(dir.clone());
    let before = md5_file(&base);
    let cow = dir.join("k.cow");
    let mut g = boot(&format!("ubd0={},{}", cow.display(), base.display()));
    // Writes of every size and alignment the filesystem makes, with syncs
    // in between so journal commits are under way when the kill comes.
    g.send(
        "cd /root; i=0; while true; do \
         mkdir -p d$((i%7)); cp /bin/busybox d$((i%7))/f$i; echo $i > n$((i%5)); \
         dd if=/dev/urandom of=r$((i%3)) bs=1000 count=$((i%9+1)) 2>/dev/null; \
         mv n$((i%5)) m$((i%3)); rm -f d$(((i+3)%7))/*; \
         [ $((i%3)) = 0 ] && sync; i=$((i+1)); done\n",
    );
    // Let it get going (the check after the reboot sees whether it did).
    std::thread::sleep(Duration::from_secs(3));
    g.kill(9);
    g.wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("vmlinux survived kill -9"));
    assert_eq!(md5_file(&base), before, "the backing image changed");

    let merged = dir.join("killed.img");
    uml_moo(&cow, &merged);
    let (code, text) = e2fsck_fix(&merged);
    assert_eq!(code, Some(0), "journal replay was not enough:\n{text}");
    assert!(!text.contains("Fix?"), "{text}");
    fsck_clean(&merged);

    // ruml replays the journal through the overlay itself.
    let mut g = boot(&format!("ubd0={}", cow.display()));
    assert_eq!(g.run("test -d /root/d0 && echo there").trim(), "there");
    power_off(&mut g, "ruml after the kill");
    let merged = dir.join("rebooted.img");
    uml_moo(&cow, &merged);
    fsck_clean(&merged);
}

/// An overlay whose backing image changed since (here: its mtime) is
/// refused before boot with UML's message and status 2; so is a backing
/// file given for a file that is not an overlay.
#[test]
fn changed_backing_image_is_refused() {
    let base = build_ext4("cowmtime", "ext4", "32M", &[]);
    let dir = base.parent().unwrap().to_path_buf();
    let _cleanup = Cleanup(dir.clone());
    let cow = dir.join("m.cow");
    let mut g = boot(&format!("ubd0={},{}", cow.display(), base.display()));
    power_off(&mut g, "ruml");

    let t = Command::new("touch")
        .args(["-d", "2001-02-03 04:05:06"])
        .arg(&base)
        .status()
        .unwrap();
    assert!(t.success());
    for words in [
        vec![format!("ubd0={}", cow.display())],
        vec![format!("ubd0={},{}", cow.display(), base.display())],
    ] {
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let (code, out) = run_in(&dir, &args);
        assert_eq!(code, Some(2), "{out}");
        assert!(
            out.contains("mtime mismatch") && out.contains("of COW header vs backing file"),
            "{out}"
        );
        assert_eq!(out.trim().lines().count(), 1, "not one line:\n{out}");
    }

    let (code, out) = run_in(
        &dir,
        &[&format!("ubd0={},{}", base.display(), cow.display())],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not a COW file"), "{out}");
}

/// A backing image that moved (same size and mtime) is given under its new
/// name: the header is rewritten to it, as UML does, and the overlay alone
/// finds it from then on; before that, the overlay alone is refused.
#[test]
fn moved_backing_image_is_switched_to() {
    let base = build_ext4("cowmove", "ext4", "32M", &[]);
    let dir = base.parent().unwrap().to_path_buf();
    let _cleanup = Cleanup(dir.clone());
    let cow = dir.join("s.cow");
    let mut g = boot(&format!("ubd0={},{}", cow.display(), base.display()));
    g.run("echo before-the-move > /root/f");
    power_off(&mut g, "ruml");
    let moved = dir.join("moved.img");
    std::fs::rename(&base, &moved).unwrap();

    let (code, out) = run_in(&dir, &[&format!("ubd0={}", cow.display())]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("is missing"), "{out}");

    let mut g = boot(&format!("ubd0={},{}", cow.display(), moved.display()));
    assert!(
        g.output().contains("Switching backing file to"),
        "{}",
        g.output()
    );
    assert_eq!(g.run("cat /root/f").trim(), "before-the-move");
    power_off(&mut g, "ruml after the move");
    let mut g = boot(&format!("ubd0={}", cow.display()));
    assert_eq!(g.run("cat /root/f").trim(), "before-the-move");
    power_off(&mut g, "ruml on the overlay alone");
}
