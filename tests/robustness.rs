//! Guest programs must never crash the kernel: random system calls with
//! random arguments, and corrupt executables.

mod common;

use common::*;
use std::time::Duration;

/// Boot an initramfs with tests/guest/sysfuzz.c as /bin/sysfuzz.
fn boot_sysfuzz(name: &str) -> Guest {
    let dir = test_dir(&format!("{name}-build"));
    let bin = dir.join("sysfuzz");
    compile_c(
        &repo_root().join("tests/guest/sysfuzz.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs(name, &[(bin.as_path(), "/bin/sysfuzz")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    g
}

/// Run `sysfuzz ROUNDS SEED PER_ROUND`; returns the calls it made.
fn sysfuzz_run(g: &mut Guest, rounds: u32, seed: u32, per_round: u32, timeout: Duration) -> u64 {
    let (out, status) = g.run_status_timeout(
        &format!("/bin/sysfuzz {rounds} {seed} {per_round}"),
        timeout,
    );
    let planned = format!(
        "sysfuzz: {rounds} rounds, {} calls",
        rounds as u64 * per_round as u64
    );
    assert!(out.contains(&planned), "seed {seed}: {out}");
    assert_eq!(status, 0, "seed {seed}: {out}");
    assert!(!g.output().contains("Kernel panic"), "{}", g.output());
    for l in out.lines().filter(|l| l.starts_with("sysfuzz:")) {
        eprintln!("seed {seed}: {l}");
    }
    out.split("sysfuzz: ")
        .filter_map(|l| l.split_once(" calls made").map(|(n, _)| n))
        .find_map(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("seed {seed}: no call count in {out}"))
}

#[test]
fn random_syscalls_do_not_crash_the_kernel() {
    let mut g = boot_sysfuzz("sysfuzz");
    for seed in [1, 2, 3] {
        let made = sysfuzz_run(&mut g, 60, seed, 50, Duration::from_secs(240));
        assert!(made > 0, "seed {seed}: no calls made");
    }
    assert_eq!(g.run("echo still alive").trim(), "still alive");
}

/// Seed 14 reached `clone(CLONE_VM|CLONE_VFORK|SIGCONT)` with a child that
/// exits at once in round 24: the parent's vfork wait restarted into new
/// clones until every pid was a zombie and `alloc_pid` spun with the task
/// lists locked (a kernel hang). It must now finish like any seed.
#[test]
fn vfork_with_another_exit_signal_does_not_hang() {
    let mut g = boot_sysfuzz("sysfuzz-vfork");
    let made = sysfuzz_run(&mut g, 25, 14, 500, Duration::from_secs(300));
    assert!(made > 0, "no calls made");
    let procs: usize = g
        .run("ls /proc | grep -c '^[0-9]'")
        .trim()
        .parse()
        .unwrap_or(usize::MAX);
    assert!(procs < 100, "{procs} processes left: zombies piled up");
    assert_eq!(g.run("echo still alive").trim(), "still alive");
}

/// The long run (at least 10^6 calls made; tens of minutes):
/// `cargo test --release --test robustness long -- --ignored --nocapture`
/// (or `make fuzz-long`). Seeds 11, 12, ... run until RUML_FUZZ_CALLS
/// calls were made (default 10^6); RUML_FUZZ_SEEDS=a,b,c runs exactly
/// those. Afterwards the kernel must still run a shell, the guest's host
/// processes must be back to what they were before, and none may be left
/// once vmlinux powers off.
#[test]
#[ignore = "long: make fuzz-long"]
fn long_random_syscalls() {
    let fixed: Option<Vec<u32>> = std::env::var("RUML_FUZZ_SEEDS").ok().map(|v| {
        v.split(',')
            .map(|s| s.trim().parse().expect("RUML_FUZZ_SEEDS: numbers"))
            .collect()
    });
    let target: u64 = std::env::var("RUML_FUZZ_CALLS")
        .map(|s| s.parse().expect("RUML_FUZZ_CALLS: a number"))
        .unwrap_or(1_000_000);
    let (rounds, per_round) = (250, 500);
    let mut g = boot_sysfuzz("sysfuzz-long");
    let before = host_descendants(g.pid());
    let started = std::time::Instant::now();
    let mut made = 0;
    let mut seeds = Vec::new();
    for seed in 11.. {
        let seed = match &fixed {
            Some(v) if seeds.len() == v.len() => break,
            Some(v) => v[seeds.len()],
            None if made >= target => break,
            None => seed,
        };
        made += sysfuzz_run(&mut g, rounds, seed, per_round, Duration::from_secs(3600));
        seeds.push(seed);
    }
    eprintln!(
        "sysfuzz long: seeds {seeds:?}, {} rounds of {per_round}, {made} calls made in {:?}",
        rounds as usize * seeds.len(),
        started.elapsed()
    );
    assert_eq!(g.run("echo still alive").trim(), "still alive");
    // Every guest process of the runs has exited: its host process too.
    let count = || host_descendants(g.pid()).len();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while count() > before.len() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let now = host_descendants(g.pid());
    assert!(
        now.len() <= before.len(),
        "host processes left: before {before:?}, now {now:?}"
    );
    // A round may have set the shell's (init's) RLIMIT_CPU to 0 as guest
    // root (seed 29): then, as on Linux, every program it forks is
    // SIGKILLed at once, poweroff too. Root lifts it again.
    g.run("ulimit -t unlimited");
    g.send("poweroff -f\n");
    let st = g.wait_exit(Duration::from_secs(60)).expect("vmlinux exits");
    assert_eq!(st.code(), Some(0), "{}", g.output());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while now.iter().any(still_alive) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left: Vec<_> = now.iter().filter(|p| still_alive(p)).collect();
    assert!(
        left.is_empty(),
        "host processes left after poweroff: {left:?}"
    );
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

/// mremap may not move a mapping over the stub at TASK_SIZE (which would
/// put guest code where the kernel runs its host-side stub) nor make the
/// host unmap zero bytes (which killed the process): EINVAL, as in Linux.
#[test]
fn mremap_cannot_reach_the_stub() {
    let dir = test_dir("stubguard-build");
    let bin = dir.join("stubguard");
    compile_c(
        &repo_root().join("tests/guest/stubguard.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("stubguard", &[(bin.as_path(), "/bin/stubguard")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let (out, status) = g.run_status("/bin/stubguard");
    assert!(out.contains("stubguard ok"), "{out}");
    assert_eq!(status, 0, "{out}");
    assert!(!g.output().contains("host process died"), "{}", g.output());
}

/// Seed 29 of the long run (on platform=seccomp) set init's RLIMIT_CPU to
/// 0 (prlimit64 as guest root). Past the hard limit the kernel sends
/// SIGKILL, which init survives; the scheduler then kept arming its timer
/// for a CPU budget of 0, so the shell never ran again while the vCPU
/// spun (a kernel hang). Like Linux's check_process_timers, nothing more
/// is armed after that SIGKILL.
#[test]
fn init_past_its_hard_cpu_limit_keeps_running() {
    let mut g = Guest::boot_busybox("cpulimit-init");
    assert_eq!(g.run("echo $$").trim(), "1");
    assert_eq!(
        g.run("ulimit -t 0; ulimit -H -t; echo still alive").trim(),
        "0\nstill alive"
    );
    assert_eq!(g.run("echo again").trim(), "again");
}
