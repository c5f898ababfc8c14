//! sysfs: the device directories, /sys/dev, /sys/class and /sys/block
//! links that busybox `mdev -s` walks to make /dev nodes, on a disk with
//! an MBR partition; and the same listing from real UML (linux.uml).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// A busybox ext4 image as partition 1 of an MBR disk; returns the disk.
fn partitioned_disk(name: &str) -> PathBuf {
    let fs_img = build_ext4(name, "ext4", "32M", &[]);
    let disk = fs_img.with_file_name("disk.img");
    mbr_disk(&fs_img, &disk, 40 << 20);
    disk
}

fn poweroff(g: &mut Guest, who: &str) {
    g.send("poweroff -f\n");
    let st = g
        .wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("{who} did not exit:\n{}", g.output()));
    assert!(st.success(), "{who} exit status {st:?}:\n{}", g.output());
}

/// `ls -l` lines of device nodes: name -> (type char, major, minor).
fn nodes(ls: &str) -> Vec<(String, char, u32, u32)> {
    ls.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let kind = w.first()?.chars().next()?;
            let major = w.get(4)?.trim_end_matches(',').parse().ok()?;
            let minor = w.get(5)?.parse().ok()?;
            Some((w.last()?.to_string(), kind, major, minor))
        })
        .collect()
}

#[test]
fn mdev_makes_dev_nodes_from_sysfs() {
    let disk = partitioned_disk("sysfs-mdev");
    let ubd = format!("ubd0={}", disk.display());
    let mut g = Guest::boot(&["mem=256M", &ubd, "root=/dev/ubda1"]);
    g.wait_prompt();
    // The cgroup2 mount on /sys/fs/cgroup goes first: a mount with another
    // under it is busy, as on Linux. (Short lines: the console wraps.)
    assert_eq!(g.run_status("umount /sys/fs/cgroup; umount /sys").1, 0);
    let (out, st) = g.run_status("mount -t sysfs sysfs /sys && stat -f -c '%T %b' /sys");
    assert_eq!((out.trim(), st), ("sysfs 0", 0), "{out}");

    assert_eq!(
        g.run("readlink /sys/dev/block/98:0").trim(),
        "../../devices/platform/uml-blkdev.0/block/ubda"
    );
    let uevent = g.run("cat /sys/dev/block/98:0/uevent");
    for l in ["MAJOR=98", "MINOR=0", "DEVNAME=ubda", "DEVTYPE=disk"] {
        assert!(uevent.lines().any(|x| x == l), "{l} missing:\n{uevent}");
    }
    assert_eq!(g.run("ls /sys/block").trim(), "ubda");
    assert_eq!(
        g.run("readlink /sys/class/block/ubda1").trim(),
        "../../devices/platform/uml-blkdev.0/block/ubda/ubda1"
    );
    let part = g.run("cd /sys/class/block/ubda1 && cat uevent dev start partition");
    for l in [
        "DEVNAME=ubda1",
        "DEVTYPE=partition",
        "PARTN=1",
        "98:1",
        "2048",
        "1",
    ] {
        assert!(part.lines().any(|x| x == l), "{l} missing:\n{part}");
    }
    let null = g.run("cat /sys/class/mem/null/uevent");
    assert!(null.contains("DEVNAME=null\nDEVMODE=0666"), "{null}");
    // Attributes are the kernel's: only uevent takes writes.
    let (out, st) = g.run_status("echo 1 > /sys/block/ubda/size");
    assert_ne!(st, 0, "{out}");
    assert_eq!(g.run_status("echo add > /sys/block/ubda/uevent").1, 0);

    let devs = "/dev/ubda /dev/ubda1 /dev/null /dev/tty1 /dev/ttyS0";
    let out = g.run(&format!(
        "rm {devs}; for d in {devs}; do [ -e $d ] && echo still$d; done; mdev -s; ls -l {devs}"
    ));
    assert!(
        !out.contains("still/dev"),
        "the nodes were not removed first:\n{out}"
    );
    let made = nodes(&out);
    for want in [
        ("/dev/ubda", 'b', 98, 0),
        ("/dev/ubda1", 'b', 98, 1),
        ("/dev/null", 'c', 1, 3),
        ("/dev/tty1", 'c', 4, 1),
        ("/dev/ttyS0", 'c', 4, 64),
    ] {
        let want = (want.0.to_string(), want.1, want.2, want.3);
        assert!(made.contains(&want), "{want:?} not made by mdev -s:\n{out}");
    }
    poweroff(&mut g, "ruml");
}

/// What a guest shows of sysfs, in a form two kernels can agree on.
const LISTING: &str = "cd /sys; \
    for f in dev/block/* class/block/* block/* dev/char/1:3 dev/char/1:11 \
      dev/char/5:0 dev/char/5:1 dev/char/5:2 dev/char/4:1 dev/char/4:64 \
      class/tty/console class/mem/zero; do \
      echo \"$f -> $(readlink $f)\"; cat $f/dev $f/uevent; \
      readlink $f/subsystem; done; \
    for a in size ro removable range ext_range ubda1/size ubda1/start ubda1/partition; do \
      echo \"$a=$(cat block/ubda/$a)\"; done";

#[test]
fn sysfs_matches_uml() {
    if !Path::new(UML).exists() {
        eprintln!("skipping: {UML} is not installed (apt-get install user-mode-linux)");
        return;
    }
    let disk = partitioned_disk("sysfs-uml");
    let uml_disk = disk.with_file_name("uml-disk.img");
    std::fs::copy(&disk, &uml_disk).unwrap();

    let ubd = format!("ubd0={}", disk.display());
    let mut g = Guest::boot(&["mem=256M", &ubd, "root=/dev/ubda1"]);
    g.wait_prompt();
    let ruml = g.run(LISTING);
    poweroff(&mut g, "ruml");

    let ubd = format!("ubd0={}", uml_disk.display());
    let mut u = Guest::boot_uml("sysfs-uml-shim", &["mem=128M", &ubd, "root=/dev/ubda1"]);
    u.wait_prompt();
    let uml = u.run(LISTING);
    poweroff(&mut u, "linux.uml");
    assert!(uml.contains("block/ubda -> "), "UML listing:\n{uml}");
    assert_eq!(ruml, uml);
}
