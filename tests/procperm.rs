//! /proc/PID files that expose another process's memory, files or
//! environment (environ, maps, fd/, cwd, root, exe) are guarded as Linux
//! guards them (ptrace read access: same user ids and dumpable, or root),
//! with Linux's modes; and prctl(PR_SET_DUMPABLE) counts. The expected
//! results are what native Linux gives (`tests/guest/procperm.c` run with
//! `setpriv --reuid=65534 --regid=65534 --clear-groups`).

mod common;

use common::*;
use std::time::Duration;

const EXIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Run `cmd` as user nobody.
fn as_nobody(cmd: &str) -> String {
    format!("su -s /bin/sh nobody -c '{cmd}'")
}

/// Start `cmd` in the background (as nobody with `nobody`) and return
/// its pid (from `$!`).
fn start(g: &mut Guest, cmd: &str, nobody: bool) -> String {
    let line = format!("{cmd} >/dev/null 2>&1 & echo PID=$!");
    let out = g.run(&if nobody { as_nobody(&line) } else { line });
    // Only a number: the echo of a long command line may wrap.
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("PID="))
        .find(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no pid in {out:?}"))
        .to_string()
}

/// The `ls -l` line of `name` in `out`.
fn ls_line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().nth(8) == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

fn poweroff(mut g: Guest) {
    g.send("poweroff -f\n");
    g.wait_exit(EXIT_TIMEOUT).expect("poweroff");
}

#[test]
fn other_users_cannot_read_a_process_environment_maps_fds_or_links() {
    let mut g = Guest::boot_busybox("procperm-busybox");
    let pid = start(&mut g, "env DB_PASSWORD=hunter2 sleep 1000", false);

    // Another user: refused, and the secret never shows.
    for (cmd, what) in [
        (format!("cat /proc/{pid}/environ"), "environ"),
        (format!("cat /proc/{pid}/maps"), "maps"),
        (format!("ls /proc/{pid}/fd"), "fd"),
        (format!("ls /proc/{pid}/cwd/"), "cwd/"),
        (format!("ls /proc/{pid}/root/"), "root/"),
    ] {
        let (out, status) = g.run_status(&as_nobody(&cmd));
        assert_ne!(status, 0, "{what}: {out}");
        assert!(out.contains("Permission denied"), "{what}: {out}");
        assert!(!out.contains("hunter2"), "{what}: {out}");
    }
    for link in ["cwd", "root", "exe", "fd/0"] {
        let (out, status) = g.run_status(&as_nobody(&format!("readlink /proc/{pid}/{link}")));
        assert_ne!(status, 0, "readlink {link}: {out}");
        assert!(!out.contains('/'), "readlink {link}: {out}");
    }
    // What stays public.
    let (out, status) = g.run_status(&as_nobody(&format!(
        "cat /proc/{pid}/cmdline | tr \"\\0\" \" \"; echo"
    )));
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("sleep"), "{out}");

    // stat hides the layout, wchan and exit code from others (do_task_stat).
    let fields = format!("cut -d' ' -f26-28,35,45-52 /proc/{pid}/stat");
    let out = g.run(&as_nobody(&fields.replace('\'', "\"")));
    assert_eq!(out.trim(), "1 1 0 0 0 0 0 0 0 0 0 0", "{out}");
    let out = g.run(&fields);
    assert_ne!(out.split_whitespace().nth(2), Some("0"), "{out}");

    // Linux's modes: environ -r--------, maps -r--r--r--, fd dr-x------,
    // owned by the process's user.
    let ls = g.run(&format!("ls -l /proc/{pid}/"));
    assert!(ls_line(&ls, "environ").starts_with("-r-------- "), "{ls}");
    assert!(ls_line(&ls, "maps").starts_with("-r--r--r-- "), "{ls}");
    assert!(ls_line(&ls, "fd").starts_with("dr-x------ "), "{ls}");

    // The same user on its own process: everything works.
    let out = g.run(&as_nobody(
        "env MINE=visible cat /proc/self/environ | tr \"\\0\" \"\\n\"",
    ));
    assert!(out.contains("MINE=visible"), "{out}");
    let out = g.run(&as_nobody("cat /proc/self/maps"));
    assert!(out.contains("[stack]"), "{out}");
    let (out, status) = g.run_status(&as_nobody("ls /proc/self/fd"));
    assert_eq!(status, 0, "{out}");
    let out = g.run(&as_nobody("cd /bin && readlink /proc/self/cwd"));
    assert_eq!(out.trim(), "/bin");

    // And on another of its processes (same ids, dumpable).
    let npid = start(&mut g, "env NB_SECRET=s2 sleep 1000", true);
    let out = g.run(&as_nobody(&format!(
        "ls -l /proc/{npid}/ | grep environ; cat /proc/{npid}/environ | tr \"\\0\" \"\\n\""
    )));
    assert!(out.contains("NB_SECRET=s2"), "{out}");
    assert!(out.contains(" nobody "), "environ owned by nobody: {out}");

    // Root reads everyone's.
    let out = g.run(&format!("cat /proc/{pid}/environ | tr '\\0' '\\n'"));
    assert!(out.contains("DB_PASSWORD=hunter2"), "{out}");
    let out = g.run(&format!("cat /proc/{npid}/environ | tr '\\0' '\\n'"));
    assert!(out.contains("NB_SECRET=s2"), "{out}");
    let out = g.run(&format!("ls /proc/{npid}/fd; readlink /proc/{npid}/cwd"));
    assert!(out.contains('0') && out.contains('/'), "{out}");
    g.run(&format!("kill {pid} {npid}"));
    poweroff(g);
}

#[test]
fn dumpable_flag_is_kept_and_guards_proc_files() {
    let dir = test_dir("procperm-dumpable-src");
    let bin = dir.join("procperm");
    compile_c(
        &repo_root().join("tests/guest/procperm.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("procperm-dumpable", &[(&bin, "/bin/procperm")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();

    let out = g.run(&as_nobody("procperm dumpable"));
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        [
            "get=1",
            "set0=ok",
            "get=0",
            "set2=EINVAL",
            "set1=ok",
            "get=1"
        ],
        "{out}"
    );

    // A setuid program starts non-dumpable, and so does root changing
    // its ids.
    g.run("cp /bin/procperm /bin/procperm_suid && chmod 4755 /bin/procperm_suid");
    let out = g.run(&as_nobody("procperm_suid dumpable"));
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        [
            "get=0",
            "set0=ok",
            "get=0",
            "set2=EINVAL",
            "set1=ok",
            "get=1"
        ],
        "{out}"
    );
    let out = g.run("procperm dropids");
    assert_eq!(out.trim(), "get=0", "{out}");

    let all_ok = [
        "environ=ok",
        "maps=ok",
        "cmdline=ok",
        "status=ok",
        "fd=ok",
        "fd/0=ok",
        "cwd=ok",
        "root=ok",
        "exe=ok",
        "cwd/.=ok",
    ];
    let out = g.run(&as_nobody("procperm self"));
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), all_ok, "{out}");

    // A process that made itself non-dumpable: its files belong to root,
    // so it cannot open its own environ (0400) but keeps its fd directory.
    g.send(&format!(
        "{} > /tmp/nd.out &\n",
        as_nobody("procperm nondump")
    ));
    let mut self_view = String::new();
    for _ in 0..60 {
        self_view = g.run("cat /tmp/nd.out");
        if self_view.contains("ready") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut expected_self = all_ok.to_vec();
    expected_self[0] = "environ=EACCES";
    expected_self.push("ready");
    assert_eq!(
        self_view.split_whitespace().collect::<Vec<_>>(),
        expected_self,
        "{self_view}"
    );
    let nd = g.run("pidof procperm");
    let nd = nd.trim();
    let ls = g.run(&format!("ls -l /proc/{nd}/"));
    assert!(ls_line(&ls, "environ").contains(" root "), "{ls}");

    // The same user from another process: refused.
    let out = g.run(&as_nobody(&format!("procperm peek {nd}")));
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        [
            "environ=EACCES",
            "maps=EACCES",
            "cmdline=ok",
            "status=ok",
            "fd=EACCES",
            "fd/0=EACCES",
            "cwd=EACCES",
            "root=EACCES",
            "exe=EACCES",
            "cwd/.=EACCES",
        ],
        "{out}"
    );
    // Root still may.
    let out = g.run(&format!("procperm peek {nd}"));
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), all_ok, "{out}");
    g.run(&format!("kill {nd}"));
    poweroff(g);
}
