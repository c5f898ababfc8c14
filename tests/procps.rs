//! busybox ps and top over ruml's /proc: memory sizes and CPU time that a
//! busy process accumulates.

mod common;

use common::*;
use std::time::{Duration, Instant};

fn boot(name: &str) -> Guest {
    let initrd = build_initramfs(name, &[]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    g
}

/// Field `n` (Linux's 1-based numbering) of /proc/PID/stat.
fn stat_field(g: &mut Guest, pid: &str, n: usize) -> u64 {
    let out = g.run(&format!("cat /proc/{pid}/stat"));
    let after = out.rsplit(')').next().unwrap_or("");
    after
        .split_whitespace()
        .nth(n - 3)
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("no field {n} in {out:?}"))
}

/// busybox's size columns: kB, or "10m", "2g" once they get wide.
fn kb(v: &str) -> u64 {
    let (num, mult) = match v.chars().last() {
        Some('m') => (&v[..v.len() - 1], 1024),
        Some('g') => (&v[..v.len() - 1], 1024 * 1024),
        _ => (v, 1),
    };
    num.parse::<u64>().unwrap_or(0) * mult
}

#[test]
fn ps_shows_vsz_and_a_busy_process_accumulates_time() {
    let mut g = boot("ps-time");
    g.run("while :; do :; done &");
    let pid = g.run("echo $!").trim().to_string();
    let line = g.run(&format!("ps -o pid,vsz,rss,comm | grep '^ *{pid} '"));
    let f: Vec<&str> = line.split_whitespace().collect();
    let vsz = f.get(1).map_or(0, |v| kb(v));
    let rss = f.get(2).map_or(0, |v| kb(v));
    assert!(
        vsz > 0 && rss > 0 && rss <= vsz,
        "ps shows VSZ {vsz}, RSS {rss}: {line:?}"
    );
    // The loop runs beside the shell: its user time (stat field 14, in
    // ticks) passes a second sooner or later however loaded the host is.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let utime = stat_field(&mut g, &pid, 14);
        if utime >= 100 {
            break;
        }
        assert!(Instant::now() < deadline, "busy loop's utime stays {utime}");
        g.run("sleep 1");
    }
    // The shell mostly sleeps: it has used less than the loop.
    assert!(stat_field(&mut g, "1", 14) < stat_field(&mut g, &pid, 14));
    g.run("kill $!; wait");
}

#[test]
fn top_shows_cpu_use_of_a_busy_process() {
    let mut g = boot("top-cpu");
    g.run("while :; do :; done &");
    let pid = g.run("echo $!").trim().to_string();
    g.run("sleep 1");
    // top measures %CPU between two samples (-d 1).
    let out = g.run("top -b -n 2 -d 1");
    let line = out
        .lines()
        .rev()
        .find(|l| l.split_whitespace().next() == Some(pid.as_str()))
        .unwrap_or_else(|| panic!("no line for {pid} in top's output:\n{out}"));
    let f: Vec<&str> = line.split_whitespace().collect();
    // PID PPID USER STAT VSZ %VSZ CPU %CPU COMMAND (busybox's columns).
    let cpu: f64 = f
        .iter()
        .rev()
        .skip(1)
        .find_map(|x| x.trim_end_matches('%').parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(cpu > 0.0, "busy loop shows no %CPU: {line:?}\n{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("CPU:") && !l.contains(" 0% usr")),
        "top's CPU line shows no user time:\n{out}"
    );
    g.run("kill $!; wait");
}

/// /proc/PID/maps names the device and inode of file mappings, as stat(2)
/// reports them (major 98 = 0x62 for ubda), so tools can match them.
#[test]
fn maps_show_the_device_of_mapped_files() {
    let img = build_ext4("maps", "ext4", "32M", &[]);
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=256M", &ubd]);
    g.wait_prompt();
    let maps = g.run("grep -m1 /bin/busybox /proc/self/maps");
    let ino = g.run("stat -c %i /bin/busybox");
    let want = format!(" 62:00 {} ", ino.trim());
    assert!(maps.contains(&want), "{maps:?} lacks {want:?}");
    g.send("poweroff -f\n");
    g.wait_exit(Duration::from_secs(60)).expect("poweroff");
}
