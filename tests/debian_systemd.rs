//! Debian bookworm with systemd as init (rootfs/mkdebian.sh --init
//! systemd) boots to a login prompt on the console; the system comes up
//! "running" or "degraded" with only the failed units docs/systemd.md
//! explains; journald keeps the boot's journal; a unit started and
//! stopped with systemctl runs and goes; daemon-reload keeps PID 1; plain
//! `poweroff` (systemd's own shutdown) exits vmlinux and
//! leaves the file system clean.
//!
//! Needs debootstrap and the Debian mirror; when either is missing the
//! test says so and skips, as tests/debian.rs.

mod common;

use common::*;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(180);

/// The units docs/systemd.md says fail under ruml, and why.
const KNOWN_FAILED: &[&str] = &["systemd-logind.service", "e2scrub_reap.service"];

#[test]
fn debian_systemd_boots_to_login_and_powers_off() {
    let Some(img) = debian::build_image(
        "debian_systemd",
        "debian-systemd.img",
        &["--init", "systemd"],
    ) else {
        return;
    };
    let ubd = format!("ubd0={}", img.display());
    let mut g = Guest::boot(&["mem=512M", &ubd]);
    g.expect("Welcome to", LONG);
    // getty@tty0 (agetty on con0) once multi-user.target is reached.
    debian::login_root(&mut g, LONG);
    assert_eq!(g.run("cat /proc/1/comm").trim(), "systemd");

    // --wait: until the boot's jobs are done.
    let (state, _) = g.run_status_timeout("systemctl is-system-running --wait", LONG);
    let state = state.trim();
    assert!(state == "running" || state == "degraded", "{state}");
    let failed =
        g.run("systemctl list-units --failed --plain --no-legend --no-pager | cut -d' ' -f1");
    for unit in failed.split_whitespace() {
        assert!(
            KNOWN_FAILED.contains(&unit),
            "{unit} failed, not explained in docs/systemd.md:\n{}",
            g.run("systemctl status --no-pager -l '{unit}' 2>&1 | tail -20")
        );
    }

    // The system bus: dbus-daemon drops root through libcap-ng (capget's
    // version probe, PR_SET_KEEPCAPS).
    for unit in ["dbus.socket", "dbus"] {
        let state = g.run(&format!("systemctl is-active {unit}"));
        assert_eq!(state.trim(), "active", "{unit}");
    }

    // journald: up, and the boot's messages are in the journal.
    assert_eq!(
        g.run("systemctl is-active systemd-journald").trim(),
        "active"
    );
    let lines: usize = g
        .run("journalctl -b --no-pager | wc -l")
        .trim()
        .parse()
        .unwrap();
    assert!(lines > 50, "{lines} journal lines");
    let started = g.run("journalctl -b --no-pager -o cat | grep -c 'Reached target'");
    assert!(started.trim().parse::<usize>().unwrap() > 0, "{started}");

    // A unit of our own, loaded from disk by systemctl start.
    g.run("printf '[Unit]\\nDescription=ruml tiny\\n[Service]\\nExecStart=/bin/sleep 1000\\n' > /etc/systemd/system/ruml-tiny.service");
    let (out, code) = g.run_status_timeout("systemctl start ruml-tiny 2>&1", LONG);
    assert_eq!(code, 0, "{out}");
    assert_eq!(g.run("systemctl is-active ruml-tiny").trim(), "active");
    let pid = g.run("systemctl show -P MainPID ruml-tiny");
    assert_eq!(
        g.run(&format!("cat /proc/{}/comm", pid.trim())).trim(),
        "sleep"
    );
    let (out, code) = g.run_status_timeout("systemctl stop ruml-tiny 2>&1", LONG);
    assert_eq!(code, 0, "{out}");
    assert_eq!(g.run("systemctl is-active ruml-tiny").trim(), "inactive");
    assert!(
        g.run("journalctl -b --no-pager -o cat -u ruml-tiny")
            .contains("Stopped ruml-tiny"),
        "the unit's stop is not in the journal"
    );

    // PID 1 re-executes its configuration and lives (systemd 252 aborted
    // here without a uevent socket for its device monitor).
    let (out, code) = g.run_status_timeout("systemctl daemon-reload 2>&1", LONG);
    assert_eq!(code, 0, "{out}");
    assert_eq!(g.run("systemctl is-active ruml-tiny").trim(), "inactive");

    g.run("echo kept > /root/kept");
    // systemd's own shutdown: units stop, systemd-shutdown remounts the
    // root read-only and calls reboot(2).
    g.send("poweroff\n");
    let st = g
        .wait_exit(LONG)
        .unwrap_or_else(|| panic!("Debian did not power off:\n{}", g.output()));
    assert_eq!(st.code(), Some(0), "{}", g.output());
    let (code, fsck) = e2fsck(&img);
    assert_eq!(code, 0, "{fsck}");
    assert_eq!(debugfs_cat(&img, "/root/kept"), b"kept\n");
}
