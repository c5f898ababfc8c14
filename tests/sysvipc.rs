//! System V IPC: a guest program compared with the host, and ipcs/ipcrm
//! listing and removing objects. Debian's busybox-static has no ipcs or
//! ipcrm applets, so the guest gets util-linux's (always on a Debian
//! host; they read /proc/sysvipc and /proc/sys/kernel too).

mod common;

use common::*;
use std::time::Duration;

#[test]
fn sysvipc_matches_native() {
    compare_with_native("sysvipc", "sysvipc done");
}

#[test]
fn ipcs_lists_and_ipcrm_removes() {
    let dir = test_dir("sysvipc-ipcs-build");
    let bin = dir.join("sysvipc");
    compile_c(&repo_root().join("tests/guest/sysvipc.c"), &bin, &[]);
    let ipcs = std::path::Path::new("/usr/bin/ipcs");
    let ipcrm = std::path::Path::new("/usr/bin/ipcrm");
    let initrd = build_initramfs(
        "sysvipc-ipcs",
        &[
            (bin.as_path(), "/bin/sysvipc"),
            (ipcs, "/usr/bin/ipcs"),
            (ipcrm, "/usr/bin/ipcrm"),
        ],
    );
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (out, st) = g.run_status_timeout("/bin/sysvipc --leave 0x1234", Duration::from_secs(60));
    assert_eq!(st, 0, "{out}");
    assert!(
        out.contains("shm 1") && out.contains("sem 1") && out.contains("msg 1"),
        "{out}"
    );

    let out = g.run("/usr/bin/ipcs");
    assert!(out.contains("0x00001234"), "shm key missing:\n{out}");
    assert!(out.contains("0x00001235"), "sem key missing:\n{out}");
    assert!(out.contains("0x00001236"), "msg key missing:\n{out}");
    assert!(out.contains("8192"), "shm size missing:\n{out}");

    let out = g.run("cat /proc/sysvipc/shm");
    assert!(
        out.contains(" 4660 "),
        "shm line missing (key 0x1234 = 4660):\n{out}"
    );

    let (out, st) = g.run_status_timeout(
        "/usr/bin/ipcrm -M 0x1234 -S 0x1235 -Q 0x1236",
        Duration::from_secs(60),
    );
    assert_eq!(st, 0, "{out}");
    let out = g.run("/usr/bin/ipcs");
    assert!(
        !out.contains("0x00001234") && !out.contains("0x00001235") && !out.contains("0x00001236"),
        "objects still listed after ipcrm:\n{out}"
    );
    let out = g.run("cat /proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg | wc -l");
    assert!(out.contains('3'), "only the headers should be left:\n{out}");

    // Root may lower a limit, and it applies: no second queue.
    g.run("echo 1 > /proc/sys/kernel/msgmni");
    g.run("echo '250 32000 32 128' > /proc/sys/kernel/sem");
    let out = g.run("cat /proc/sys/kernel/msgmni /proc/sys/kernel/sem");
    assert!(out.contains("250\t32000\t32\t128"), "{out}");
    let out = g.run("/bin/sysvipc --leave 0x2000; /usr/bin/ipcs -q");
    assert!(out.contains("msg 1") && out.contains("0x00002002"), "{out}");
    let out = g.run("/bin/sysvipc --leave 0x3000");
    assert!(
        out.contains("msg 0"),
        "msgmni=1 should refuse a second queue:\n{out}"
    );

    // A reboot starts with no objects, as a fresh Linux.
    g.send("reboot -f\n");
    g.expect("Run /init as init process", BOOT_TIMEOUT);
    g.wait_prompt();
    let out = g.run("cat /proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg | wc -l");
    assert!(out.contains('3'), "objects survived a reboot:\n{out}");
}
