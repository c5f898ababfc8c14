//! hostfs: a host directory (`hostfs=DIR`) mounted in the guest with
//! `mount -t hostfs none /mnt -o SUBPATH`. Every operation is checked on
//! the host side, and every escape attempt (`..`, host symlinks, a
//! directory swapped for a symlink under the guest's cwd, renames out of
//! the mount, subpaths leaving the root) must stay inside the export root:
//! the files next to it are never read, and nothing appears outside it.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SECRET: &str = "HOST-SECRET-not-for-the-guest";

/// A test's host side: `export/` (the root given to vmlinux) and, beside
/// it, `outside/` with a secret the guest must never read.
struct Host {
    dir: PathBuf,
    export: PathBuf,
    outside: PathBuf,
}

/// The test's directories go when it ends (the guest, declared later, is
/// gone by then): its own and the initramfs built for it.
impl Drop for Host {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
        let _ = fs::remove_dir_all(initrd_dir(&self.dir));
    }
}

/// Where `initrd(name)` builds, for a test directory `test_dir(name)`.
fn initrd_dir(dir: &Path) -> PathBuf {
    let base = dir.file_name().unwrap().to_str().unwrap();
    let (name, pid) = base.rsplit_once('-').unwrap();
    dir.with_file_name(format!("{name}-initrd-{pid}"))
}

impl Host {
    fn new(name: &str) -> Host {
        let dir = test_dir(name);
        let export = dir.join("export");
        let outside = dir.join("outside");
        fs::create_dir(&export).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), SECRET).unwrap();
        // The export must be reachable by an unprivileged vmlinux too.
        for d in [&dir, &export, &outside] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o777)).unwrap();
        }
        Host {
            dir,
            export,
            outside,
        }
    }

    /// Everything below the test directory except the export root: names,
    /// sizes and, for files, access times (the host's relatime moves a
    /// fresh file's atime at its first read). Must not change while the
    /// guest runs: nothing is created, written or read there.
    fn snapshot_outside(&self) -> BTreeMap<PathBuf, (u64, i64, i64)> {
        type Snap = BTreeMap<PathBuf, (u64, i64, i64)>;
        fn walk(p: &Path, skip: &Path, out: &mut Snap) {
            for e in fs::read_dir(p).unwrap().flatten() {
                let path = e.path();
                if path == skip {
                    continue;
                }
                let m = fs::symlink_metadata(&path).unwrap();
                let atime = if m.is_file() {
                    (m.atime(), m.atime_nsec())
                } else {
                    (0, 0)
                };
                out.insert(path.clone(), (m.len(), atime.0, atime.1));
                if m.is_dir() {
                    walk(&path, skip, out);
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.dir, &self.export, &mut out);
        out
    }

    fn hostfs_arg(&self) -> String {
        format!("hostfs={}", self.export.display())
    }
}

/// An initramfs with guest files that host symlinks could be confused
/// with: /etc/hostname, /etc/shadow and a marker at the root.
fn initrd(name: &str) -> PathBuf {
    let dir = test_dir(&format!("{name}-files"));
    let files = [
        ("hostname", "guest-hostname\n", "/etc/hostname"),
        ("shadow", "guest-shadow\n", "/etc/shadow"),
        ("marker", "guest\n", "/guest-root-marker"),
    ];
    let mut adds = Vec::new();
    for (f, text, _) in files {
        fs::write(dir.join(f), text).unwrap();
    }
    let paths: Vec<PathBuf> = files.iter().map(|(f, _, _)| dir.join(f)).collect();
    for (p, (_, _, guest)) in paths.iter().zip(files.iter()) {
        adds.push((p.as_path(), *guest));
    }
    let out = build_initramfs(&format!("{name}-initrd"), &adds);
    let _ = fs::remove_dir_all(&dir);
    out
}

fn boot(initrd: &Path, extra: &[&str]) -> Guest {
    let mut g = Guest::boot_initramfs(initrd, extra);
    g.wait_prompt();
    g
}

/// A shell command's output without the final newline.
fn run(g: &mut Guest, cmd: &str) -> String {
    g.run(cmd).trim_end().to_string()
}

fn poweroff(mut g: Guest) {
    g.send("poweroff -f\n");
    let st = g.wait_exit(Duration::from_secs(60));
    assert!(st.is_some(), "vmlinux did not exit:\n{}", g.output());
}

#[test]
fn guest_operations_reach_the_host_export() {
    let h = Host::new("hostfs-ops");
    fs::write(h.export.join("hello.txt"), "hello from the host\n").unwrap();
    fs::copy("/bin/busybox", h.export.join("busybox")).unwrap();
    compile_c(
        &repo_root().join("tests/guest/mmap_write.c"),
        &h.export.join("mmap_write"),
        &["-static"],
    );
    let before = h.snapshot_outside();
    let initrd = initrd("hostfs-ops");
    let mut g = boot(&initrd, &[&h.hostfs_arg()]);
    let (out, st) = g.run_status("mkdir -p /mnt && mount -t hostfs none /mnt");
    assert_eq!(st, 0, "mount failed: {out}");
    assert!(run(&mut g, "grep hostfs /proc/mounts").contains("none /mnt hostfs rw,relatime 0 0"));

    // Read, with the host's size, mode and owner.
    assert_eq!(run(&mut g, "cat /mnt/hello.txt"), "hello from the host");
    let hm = fs::metadata(h.export.join("hello.txt")).unwrap();
    let want = format!(
        "{} {:o} {} {}",
        hm.len(),
        hm.mode() & 0o7777,
        hm.uid(),
        hm.gid()
    );
    assert_eq!(run(&mut g, "stat -c '%s %a %u %g' /mnt/hello.txt"), want);
    assert_eq!(
        run(&mut g, "stat -c %Y /mnt/hello.txt"),
        hm.mtime().to_string(),
        "mtime"
    );

    // Write and create.
    run(&mut g, "echo guest-data > /mnt/new.txt");
    assert_eq!(
        fs::read_to_string(h.export.join("new.txt")).unwrap(),
        "guest-data\n"
    );
    run(&mut g, "echo more >> /mnt/new.txt");
    assert_eq!(
        fs::read_to_string(h.export.join("new.txt")).unwrap(),
        "guest-data\nmore\n"
    );
    // O_TRUNC
    run(&mut g, ": > /mnt/new.txt");
    assert_eq!(fs::metadata(h.export.join("new.txt")).unwrap().len(), 0);
    // A new file gets the guest's mode (the guest applied its umask).
    run(&mut g, "umask 027; echo x > /mnt/masked");
    let m = fs::metadata(h.export.join("masked")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o640);

    // Rename, unlink.
    run(&mut g, "mv /mnt/new.txt /mnt/renamed.txt");
    assert!(!h.export.join("new.txt").exists());
    assert!(h.export.join("renamed.txt").is_file());
    run(&mut g, "rm /mnt/renamed.txt");
    assert!(!h.export.join("renamed.txt").exists());

    // mkdir, a file inside, rmdir.
    run(&mut g, "mkdir /mnt/d && echo in > /mnt/d/f");
    assert!(h.export.join("d").is_dir());
    assert_eq!(fs::read_to_string(h.export.join("d/f")).unwrap(), "in\n");
    let (out, st) = g.run_status("rmdir /mnt/d");
    assert_ne!(st, 0, "rmdir of a non-empty directory: {out}");
    run(&mut g, "rm /mnt/d/f && rmdir /mnt/d");
    assert!(!h.export.join("d").exists());

    // symlink, readlink, hard link.
    run(&mut g, "ln -s hello.txt /mnt/sl");
    assert_eq!(
        fs::read_link(h.export.join("sl")).unwrap(),
        PathBuf::from("hello.txt")
    );
    assert_eq!(run(&mut g, "readlink /mnt/sl"), "hello.txt");
    assert_eq!(run(&mut g, "cat /mnt/sl"), "hello from the host");
    run(&mut g, "ln /mnt/hello.txt /mnt/hard");
    assert_eq!(fs::metadata(h.export.join("hello.txt")).unwrap().nlink(), 2);
    assert_eq!(run(&mut g, "stat -c %h /mnt/hard"), "2");

    // chmod, chown, utimes.
    run(&mut g, "chmod 640 /mnt/hello.txt");
    let m = fs::metadata(h.export.join("hello.txt")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o640);
    run(&mut g, "chown 1234:2345 /mnt/hello.txt");
    let m = fs::metadata(h.export.join("hello.txt")).unwrap();
    assert_eq!(
        (m.uid(), m.gid()),
        (1234, 2345),
        "vmlinux runs as host root"
    );
    run(&mut g, "touch -d '2001-02-03 04:05:06' /mnt/hello.txt");
    let m = fs::metadata(h.export.join("hello.txt")).unwrap();
    assert_eq!(
        run(&mut g, "stat -c %Y /mnt/hello.txt"),
        m.mtime().to_string()
    );
    assert!(
        m.mtime() < 1_000_000_000 + 10 * 365 * 86400,
        "{}",
        m.mtime()
    );

    // A host change is seen at once.
    fs::write(h.export.join("hostside"), "written on the host\n").unwrap();
    assert_eq!(run(&mut g, "cat /mnt/hostside"), "written on the host");
    assert!(run(&mut g, "ls /mnt").contains("hostside"));

    // statfs comes from the host filesystem, with hostfs's magic.
    assert_eq!(run(&mut g, "stat -f -c %t /mnt"), "c0ffee");
    let (_, st) = g.run_status("sync /mnt/hello.txt; fsync /mnt/hello.txt 2>/dev/null; true");
    assert_eq!(st, 0);

    // A static program runs from hostfs (mmap of its pages).
    assert_eq!(run(&mut g, "/mnt/busybox echo static-ok"), "static-ok");
    // A copy made by the guest runs too; rewritten through hostfs after
    // it ran (its pages cached), the new contents are what runs.
    let (out, st) =
        g.run_status("mkdir /mnt/b2 && cp /mnt/busybox /mnt/b2/busybox && /mnt/b2/busybox true");
    assert_eq!(st, 0, "{out}");
    run(&mut g, "echo 'echo rewritten' > /mnt/b2/busybox");
    assert_eq!(run(&mut g, "/mnt/b2/busybox"), "rewritten");

    // Writes through a shared mapping reach the host (msync, munmap).
    assert_eq!(
        run(&mut g, "/mnt/mmap_write /mnt/mapped 10000"),
        "mapped-ok"
    );
    let want: Vec<u8> = (0..10000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let got = fs::read(h.export.join("mapped")).unwrap();
    let same = got.iter().zip(&want).filter(|(a, b)| a == b).count();
    assert!(got == want, "{same} of {} bytes arrived", want.len());

    // A subdirectory as the mount's root, read-only.
    fs::create_dir(h.export.join("sub")).unwrap();
    fs::write(h.export.join("sub/in-sub"), "sub\n").unwrap();
    let (out, st) = g.run_status("mkdir -p /ro && mount -t hostfs -o ro,/sub none /ro");
    assert_eq!(st, 0, "{out}");
    assert_eq!(run(&mut g, "cat /ro/in-sub"), "sub");
    let line = run(&mut g, "grep ' /ro ' /proc/mounts");
    assert!(line.contains("hostfs ro,relatime,/sub "), "{line}");
    let (out, st) = g.run_status("touch /ro/x");
    assert_ne!(st, 0);
    assert!(out.contains("Read-only file system"), "{out}");
    let (out, _) = g.run_status("rm -f /ro/in-sub; mkdir /ro/dd; echo y > /ro/in-sub");
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(!h.export.join("sub/x").exists() && !h.export.join("sub/dd").exists());
    assert_eq!(
        fs::read_to_string(h.export.join("sub/in-sub")).unwrap(),
        "sub\n"
    );
    run(&mut g, "umount /ro; umount /mnt");
    poweroff(g);
    assert_eq!(
        h.snapshot_outside(),
        before,
        "something changed outside the export"
    );
}

#[test]
fn the_guest_cannot_leave_the_export_root() {
    let h = Host::new("hostfs-escape");
    let secret = h.outside.join("secret");
    std::os::unix::fs::symlink("/etc/shadow", h.export.join("shadow")).unwrap();
    std::os::unix::fs::symlink(&secret, h.export.join("leak")).unwrap();
    std::os::unix::fs::symlink(&h.outside, h.export.join("outdir")).unwrap();
    std::os::unix::fs::symlink("../outside/secret", h.export.join("rel")).unwrap();
    std::os::unix::fs::symlink("/", h.export.join("escape")).unwrap();
    fs::create_dir(h.export.join("d")).unwrap();
    fs::write(h.export.join("d/inside-d"), "inside\n").unwrap();
    fs::write(h.export.join("mvprobe-hostfs"), "move me\n").unwrap();
    let before = h.snapshot_outside();
    let initrd = initrd("hostfs-escape");
    let mut g = boot(&initrd, &[&h.hostfs_arg()]);
    run(&mut g, "mkdir -p /mnt && mount -t hostfs none /mnt");

    // ".." stops at the guest's own root.
    assert_eq!(run(&mut g, "cat /mnt/../../etc/hostname"), "guest-hostname");
    assert_eq!(
        run(&mut g, "cat /mnt/../../../../etc/shadow"),
        "guest-shadow"
    );
    // Host symlinks resolve in the guest's namespace.
    assert_eq!(run(&mut g, "cat /mnt/shadow"), "guest-shadow");
    let out = run(&mut g, "cat /mnt/leak /mnt/outdir/secret /mnt/rel 2>&1");
    assert!(!out.contains(SECRET), "{out}");
    assert!(out.contains("No such file"), "{out}");
    let out = run(&mut g, "ls /mnt/escape/");
    assert!(out.contains("guest-root-marker"), "{out}");
    assert!(!out.contains("export") && !out.contains("outside"), "{out}");

    // A directory swapped for a symlink while the guest's cwd is in it:
    // the cwd stays the directory it was, and the symlink is the guest's.
    run(&mut g, "cd /mnt/d");
    assert_eq!(run(&mut g, "ls"), "inside-d");
    fs::rename(h.export.join("d"), h.export.join("d.old")).unwrap();
    std::os::unix::fs::symlink(&h.outside, h.export.join("d")).unwrap();
    assert_eq!(run(&mut g, "ls"), "inside-d");
    let out = run(
        &mut g,
        "cat secret ../d/secret /mnt/d/secret 2>&1; ls ../d/ 2>&1",
    );
    assert!(!out.contains(SECRET) && !out.contains("secret\n"), "{out}");
    fs::remove_file(h.export.join("d")).unwrap();
    std::os::unix::fs::symlink("/", h.export.join("d")).unwrap();
    let out = run(&mut g, "ls /mnt/d/");
    assert!(out.contains("guest-root-marker"), "{out}");
    run(&mut g, "cd /");

    // Renames and links out of the mount: EXDEV (busybox mv then copies
    // into the guest's /tmp); nothing is created on the host.
    let (out, st) = g.run_status("ln /mnt/mvprobe-hostfs /tmp/x-link");
    assert_ne!(st, 0);
    assert!(out.contains("Invalid cross-device link"), "{out}");
    let (out, st) = g.run_status("mv /mnt/mvprobe-hostfs /tmp/");
    assert_eq!(st, 0, "{out}");
    assert_eq!(run(&mut g, "cat /tmp/mvprobe-hostfs"), "move me");
    assert!(!h.export.join("mvprobe-hostfs").exists());
    assert!(!Path::new("/tmp/mvprobe-hostfs").exists());

    // Subpaths that would leave the root, or go through a host symlink.
    run(&mut g, "mkdir -p /m2");
    for opt in [
        "/..",
        "/d.old/../..",
        "../outside",
        "/outdir",
        "/escape",
        "/leak",
    ] {
        let (out, st) = g.run_status(&format!("mount -t hostfs -o {opt} none /m2"));
        assert_ne!(st, 0, "-o {opt} mounted: {out}");
    }
    assert!(!run(&mut g, "cat /proc/mounts").contains("/m2"));
    // Guest names with '/' never reach the host as such; a symlink the
    // guest makes is followed in the guest too.
    run(&mut g, &format!("ln -s {} /mnt/mine", secret.display()));
    let out = run(&mut g, "cat /mnt/mine 2>&1");
    assert!(!out.contains(SECRET), "{out}");
    poweroff(g);
    assert_eq!(
        h.snapshot_outside(),
        before,
        "something changed outside the export"
    );
    assert_eq!(fs::read_to_string(&secret).unwrap(), SECRET);
}

/// vmlinux started by an unprivileged host user: the host's refusals come
/// back as the guest's errno.
#[test]
fn host_permission_errors_reach_the_guest() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: needs root to start vmlinux as another host user");
        return;
    }
    let h = Host::new("hostfs-perm");
    fs::write(h.export.join("roots"), "root's file\n").unwrap();
    fs::set_permissions(h.export.join("roots"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(h.export.join("private"), "private\n").unwrap();
    fs::set_permissions(h.export.join("private"), fs::Permissions::from_mode(0o600)).unwrap();
    let initrd = initrd("hostfs-perm");
    let initrd_arg = format!("initrd={}", initrd.display());
    let hostfs = h.hostfs_arg();
    let vm = vmlinux();
    let mut g = Guest::spawn(
        Path::new("/usr/bin/setpriv"),
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            vm.to_str().unwrap(),
            "mem=256M",
            &initrd_arg,
            &hostfs,
        ],
        &[],
    );
    g.wait_prompt();
    run(&mut g, "mkdir -p /mnt && mount -t hostfs none /mnt");
    // Guest root passes the guest's checks; the host says no.
    let (out, st) = g.run_status("echo x >> /mnt/roots");
    assert_ne!(st, 0);
    assert!(out.contains("Permission denied"), "{out}");
    let (out, st) = g.run_status("cat /mnt/private");
    assert_ne!(st, 0);
    assert!(out.contains("Permission denied"), "{out}");
    let (out, st) = g.run_status("chmod 666 /mnt/roots");
    assert_ne!(st, 0);
    assert!(out.contains("Operation not permitted"), "{out}");
    let (out, st) = g.run_status("chown 0 /mnt/roots");
    assert_ne!(st, 0);
    assert!(out.contains("Operation not permitted"), "{out}");
    // New files belong to the host user vmlinux runs as.
    run(&mut g, "echo mine > /mnt/mine");
    assert_eq!(fs::metadata(h.export.join("mine")).unwrap().uid(), 65534);
    poweroff(g);
    assert_eq!(
        fs::read_to_string(h.export.join("roots")).unwrap(),
        "root's file\n"
    );
}

#[test]
fn without_hostfs_on_the_command_line_the_mount_is_refused() {
    let initrd = initrd("hostfs-none");
    let mut g = boot(&initrd, &[]);
    let (out, st) = g.run_status("mkdir -p /mnt && mount -t hostfs none /mnt");
    assert_ne!(st, 0, "{out}");
    // busybox words EPERM as "permission denied (are you root?)"; the
    // kernel log says why.
    assert!(out.contains("permission denied"), "{out}");
    assert!(out.contains("boot with hostfs=DIR"), "{out}");
    assert!(!run(&mut g, "cat /proc/mounts").contains("hostfs"));
    poweroff(g);
    let _ = fs::remove_dir_all(initrd.parent().unwrap());
}

#[test]
fn a_missing_export_root_is_a_command_line_error() {
    let dir = test_dir("hostfs-badarg");
    let file = dir.join("file");
    fs::write(&file, "").unwrap();
    for (arg, reason) in [
        (dir.join("missing"), "No such file or directory"),
        (file, "Not a directory"),
    ] {
        let word = format!("hostfs={}", arg.display());
        let mut g = Guest::boot(&["mem=64M", &word]);
        let st = g.wait_exit(Duration::from_secs(60)).expect("vmlinux exits");
        assert_eq!(st.code(), Some(2));
        let err = g.stderr_output();
        assert!(err.contains(&word) && err.contains(reason), "{err}");
    }
    let _ = fs::remove_dir_all(&dir);
}
