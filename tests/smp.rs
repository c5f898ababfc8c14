//! Several vCPUs (`ncpus=N`): what a guest sees (CPU counts in /proc and
//! from sched_getaffinity), that processes are spread over the vCPUs and
//! both accumulate CPU time, and that signals, pipes and process-shared
//! futexes work between processes on different vCPUs; a reboot with two
//! vCPUs; sched_setaffinity moving tasks between vCPUs. Whether the host really runs two guests at once depends on its
//! load, so no test asserts it: `make bench` measures the speed-up.

mod common;

use common::*;
use std::path::PathBuf;
use std::time::Duration;

/// tests/guest/smp.c built and packed in an initramfs.
fn smp_initrd(name: &str) -> PathBuf {
    let dir = test_dir(&format!("{name}-build"));
    let bin = dir.join("smp");
    compile_c(&repo_root().join("tests/guest/smp.c"), &bin, &[]);
    build_initramfs(name, &[(bin.as_path(), "/bin/smp")])
}

/// User ticks of each `cpuN` line of /proc/stat.
fn user_ticks(stat: &str) -> Vec<u64> {
    stat.lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect()
}

fn expected(cpus: u32, distinct: bool) -> String {
    format!(
        "online cpus: {cpus}\naffinity cpus: {cpus}\nspinners on distinct cpus: {}\n\
         busy child killed by signal 9\npipe round trips right: 2000\n\
         semaphore hand-offs: 2000\nsmp done",
        if distinct { "yes" } else { "no" }
    )
}

#[test]
fn two_vcpus_seen_from_a_guest() {
    let initrd = smp_initrd("smp2");
    let mut g = Guest::boot_initramfs(&initrd, &["ncpus=2"]);
    g.wait_prompt();
    assert_eq!(g.run("grep -c ^processor /proc/cpuinfo").trim(), "2");
    assert_eq!(g.run("nproc").trim(), "2");
    let before = user_ticks(&g.run("cat /proc/stat"));
    assert_eq!(before.len(), 2, "one cpuN line per vCPU");
    let (out, st) = g.run_status_timeout("/bin/smp", Duration::from_secs(180));
    assert_eq!(st, 0, "{out}");
    let got: Vec<&str> = out.lines().map(|l| l.trim_end()).collect();
    assert_eq!(got.join("\n"), expected(2, true));
    // Each spinner burned its CPU time on its own vCPU.
    let after = user_ticks(&g.run("cat /proc/stat"));
    for (cpu, (a, b)) in after.iter().zip(&before).enumerate() {
        assert!(
            a > b,
            "vCPU {cpu} ran no user time: {before:?} -> {after:?}"
        );
    }
    g.send("poweroff -f\n");
    let st = g
        .wait_exit(Duration::from_secs(60))
        .expect("no exit after poweroff");
    assert_eq!(st.code(), Some(0));
}

#[test]
fn one_vcpu_runs_the_same_program() {
    let initrd = smp_initrd("smp1");
    let mut g = Guest::boot_initramfs(&initrd, &["ncpus=1"]);
    g.wait_prompt();
    let (out, st) = g.run_status_timeout("/bin/smp", Duration::from_secs(180));
    assert_eq!(st, 0, "{out}");
    let got: Vec<&str> = out.lines().map(|l| l.trim_end()).collect();
    assert_eq!(got.join("\n"), expected(1, false));
}

#[test]
fn reboot_with_two_vcpus_while_both_are_busy() {
    let initrd = smp_initrd("smpreboot");
    let mut g = Guest::boot_initramfs(&initrd, &["ncpus=2"]);
    g.wait_prompt();
    let pid = g.pid();
    // Two busy loops, one per vCPU, running across the reboot.
    g.run("(while :; do :; done) & (while :; do :; done) &");
    g.send("reboot -f\n");
    g.expect("Restarting system", Duration::from_secs(60));
    g.expect("Run /init as init process", Duration::from_secs(60));
    g.wait_prompt();
    assert_eq!(g.pid(), pid);
    let (out, st) = g.run_status_timeout("/bin/smp", Duration::from_secs(180));
    assert_eq!(st, 0, "{out}");
    let got: Vec<&str> = out.lines().map(|l| l.trim_end()).collect();
    assert_eq!(got.join("\n"), expected(2, true));
    g.send("poweroff -f\n");
    let st = g
        .wait_exit(Duration::from_secs(60))
        .expect("no exit after poweroff");
    assert_eq!(st.code(), Some(0));
}

/// The multithreaded program's exact counts with its process on a vCPU
/// beside others, as natively.
#[test]
fn threads_match_native_on_two_vcpus() {
    compare_with_native_booted("mthreads", "mthreads done", &["ncpus=2"]);
}

#[test]
fn sched_setaffinity_moves_tasks_between_vcpus() {
    let dir = test_dir("affinity-build");
    let bin = dir.join("affinity");
    compile_c(
        &repo_root().join("tests/guest/affinity.c"),
        &bin,
        &["-pthread"],
    );
    let initrd = build_initramfs("affinity", &[(bin.as_path(), "/bin/affinity")]);
    let mut g = Guest::boot_initramfs(&initrd, &["ncpus=2"]);
    g.wait_prompt();
    let (out, st) = g.run_status_timeout("/bin/affinity", Duration::from_secs(180));
    assert_eq!(st, 0, "{out}");
    let got: Vec<&str> = out.lines().map(|l| l.trim_end()).collect();
    let want = "initial mask: 0x3\nset 0x2: 0\nmask now: 0x2\non cpu 1 and staying: yes\n\
        set 0x1: 0\non cpu 0 and staying: yes\nfpu survives move to 1: yes\n\
        fpu survives move to 0: yes\nmemory kept across moves: yes\n\
        child mask and cpu: 0x2 1\nbusy child: on1\nparent moves it: 0\nbusy child: on0\n\
        its mask is gone with it: ESRCH\nthread set mask 0x2: 0\nthread mask: 0x2\n\
        main thread mask: 0x3\nempty mask: EINVAL\noffline cpu only: EINVAL\n\
        no such pid: ESRCH\nbad pointer: EFAULT\nget with 4 bytes: EINVAL\nget returns: 8\n\
        set with 1 byte: 0\nmask after 1-byte set: 0x2, cpu 1\n\
        moves under load: wrong answers 0, child status 0, fpu sum 1002.002\nother user's task: EPERM\n\
        affinity done";
    assert_eq!(got.join("\n"), want);
    // busybox taskset, and what /proc says of the moved task.
    assert_eq!(
        g.run("taskset 2 cut -d' ' -f39 /proc/self/stat").trim(),
        "1"
    );
    assert_eq!(
        g.run("taskset 2 grep Cpus_allowed /proc/self/status")
            .trim(),
        "Cpus_allowed:\t2\nCpus_allowed_list:\t1"
    );
    assert_eq!(
        g.run("taskset -p 1").trim(),
        "pid 1's current affinity mask: 3"
    );
    g.send("poweroff -f\n");
    g.wait_exit(Duration::from_secs(60))
        .expect("no exit after poweroff");
}
