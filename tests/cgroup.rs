//! cgroup v2 in the busybox guest: mounted at /sys/fs/cgroup by the init
//! scripts, groups made with mkdir, controllers passed down with
//! cgroup.subtree_control, memory.max OOM-kills a memory hog and
//! pids.max contains a fork bomb.

mod common;

use common::*;

fn boot_with_helpers(name: &str) -> Guest {
    let dir = test_dir(&format!("{name}-build"));
    let mut adds = Vec::new();
    for prog in ["cghog", "cgfork", "clone3"] {
        let src = repo_root().join(format!("tests/guest/{prog}.c"));
        let bin = dir.join(prog);
        compile_c(&src, &bin, &["-static"]);
        adds.push((bin, format!("/bin/{prog}")));
    }
    let adds: Vec<(&std::path::Path, &str)> = adds
        .iter()
        .map(|(b, g)| (b.as_path(), g.as_str()))
        .collect();
    let initrd = build_initramfs(name, &adds);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    g
}

#[test]
fn cgroup2_files_and_errnos() {
    let mut g = boot_with_helpers("cgroup-files");
    let out =
        g.run("grep cgroup2 /proc/mounts; grep cgroup2 /proc/filesystems; cat /proc/self/cgroup");
    assert!(out.contains("cgroup2 /sys/fs/cgroup cgroup2 rw"), "{out}");
    assert!(out.contains("nodev\tcgroup2"), "{out}");
    assert!(out.lines().any(|l| l.trim() == "0::/"), "{out}");
    let out = g.run("cd /sys/fs/cgroup && cat cgroup.controllers cgroup.subtree_control && ls");
    assert!(out.contains("cpu memory pids"), "{out}");
    assert!(
        out.contains("cgroup.procs") && !out.contains("memory.max"),
        "{out}"
    );
    let out = g.run(
        "cd /sys/fs/cgroup && mkdir a && ls a | tr '\\n' ' '; echo; \
         echo +memory +pids +cpu > cgroup.subtree_control; cat cgroup.subtree_control a/cgroup.controllers; \
         ls a | grep -c -e memory.max -e pids.max -e cpu.max; cat a/memory.max a/pids.max a/cpu.max a/cpu.weight a/cgroup.type a/cgroup.events",
    );
    let ls = out
        .lines()
        .find(|l| l.starts_with("cgroup.controllers"))
        .unwrap_or("");
    assert!(
        ls.contains("cgroup.procs") && !ls.contains("memory"),
        "{out}"
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.trim() == "cpu memory pids")
            .count(),
        2,
        "{out}"
    );
    for want in ["3", "max", "max 100000", "100", "domain", "populated 0"] {
        assert!(out.lines().any(|l| l.trim() == want), "{want}: {out}");
    }
    let out = g.run(
        "cd /sys/fs/cgroup; echo +bogus > cgroup.subtree_control; echo 0 > a/cpu.weight; \
         echo 1k > a/cpu.max; echo -1 > a/pids.max; echo 3x > a/memory.max; echo 5M > a/memory.max; cat a/memory.max; \
         echo 1 > a/memory.current; echo x > a/cgroup.procs; echo 99999 > a/cgroup.procs; \
         rmdir a/cgroup.procs; mkdir a/b; echo +pids > a/cgroup.subtree_control; \
         echo -pids > cgroup.subtree_control; rmdir a; echo rc=$?",
    );
    for want in [
        "Invalid argument",
        "Numerical result out of range",
        "5242880",
        "Permission denied",
        "No such process",
        "Not a directory",
        "resource busy",
        "rc=1",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let out = g.run(
        "cd /sys/fs/cgroup; rmdir a/b; echo -pids > a/cgroup.subtree_control; sh -c 'echo $$ > a/cgroup.procs; cat /proc/self/cgroup; cat a/cgroup.procs | wc -l; cat a/pids.current; cat a/cgroup.events'; \
         cat a/cgroup.procs | wc -l; rmdir a; echo rc=$?; ls | grep -c '^a$'",
    );
    assert!(out.contains("0::/a"), "{out}");
    assert!(out.contains("populated 1"), "{out}");
    assert!(out.contains("rc=0"), "{out}");
}

#[test]
fn memory_max_kills_a_hog_and_pids_max_contains_a_fork_bomb() {
    let mut g = boot_with_helpers("cgroup-limits");
    let out = g.run(
        "cd /sys/fs/cgroup && echo +memory +pids > cgroup.subtree_control && mkdir hog bomb && \
         echo 16M > hog/memory.max && echo 10 > bomb/pids.max && echo ok",
    );
    assert!(out.contains("ok"), "{out}");
    // The hog touches 64 MiB in a group limited to 16 MiB.
    let (out, status) =
        g.run_status("sh -c 'echo $$ > /sys/fs/cgroup/hog/cgroup.procs; exec /bin/cghog 64'");
    assert_eq!(status, 128 + 9, "{out}");
    assert!(!out.contains("touched"), "{out}");
    let out = g.run("cat /sys/fs/cgroup/hog/memory.events; cat /sys/fs/cgroup/hog/memory.current");
    assert!(out.contains("oom_kill 1"), "{out}");
    // Under the limit it runs.
    let (out, status) =
        g.run_status("sh -c 'echo $$ > /sys/fs/cgroup/hog/cgroup.procs; exec /bin/cghog 4'");
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("cghog touched 4 MiB"), "{out}");
    // The bomb itself is one task: nine children, then EAGAIN.
    let (out, status) =
        g.run_status("sh -c 'echo $$ > /sys/fs/cgroup/bomb/cgroup.procs; exec /bin/cgfork'");
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("cgfork forked 9 then Resource temporarily unavailable"),
        "{out}"
    );
    let out =
        g.run("cat /sys/fs/cgroup/bomb/pids.events /sys/fs/cgroup/bomb/pids.current; echo alive");
    assert!(out.contains("max 1"), "{out}");
    assert!(out.contains("alive"), "{out}");
    // A shell that forks sleepers until it cannot: its fork fails, it
    // gives up, the nine sleepers stay; cgroup.kill ends them and the
    // shell outside survives.
    let out = g.run(
        "sh -c 'echo $$ > /sys/fs/cgroup/bomb/cgroup.procs; while :; do sleep 1000 >/dev/null 2>&1 & done' 2>&1 | grep -c fork; \
         cat /sys/fs/cgroup/bomb/pids.current; echo 1 > /sys/fs/cgroup/bomb/cgroup.kill; sleep 1; \
         cat /sys/fs/cgroup/bomb/pids.current; echo outside ok",
    );
    assert!(out.lines().any(|l| l.trim() == "9"), "{out}");
    assert!(out.lines().any(|l| l.trim() == "0"), "{out}");
    assert!(out.contains("outside ok"), "{out}");
}

/// clone3's CLONE_INTO_CGROUP: the child starts in the group whose
/// directory fd it names (the parent stays); a thread cannot go to
/// another group, a control file's fd is not a group.
#[test]
fn clone3_into_cgroup() {
    let mut g = boot_with_helpers("cgroup-clone3");
    let out = g.run("/bin/clone3 cg");
    assert!(out.contains("cgroup child: 0::/clone3"), "{out}");
    assert!(
        out.contains("cgroup parent: 0::/\n")
            || out.lines().any(|l| l.trim() == "cgroup parent: 0::/"),
        "{out}"
    );
    assert!(
        out.contains("thread into another cgroup: EOPNOTSUPP"),
        "{out}"
    );
    assert!(out.contains("into cgroup.procs fd: EBADF"), "{out}");
    assert!(out.contains("rmdir: ok"), "{out}");
    assert!(out.contains("clone3 cg done"), "{out}");
}
