//! IPv6 in the guest: ::1 on lo and the EUI-64 link-local address an
//! Ethernet interface gets when it comes up (`ip -6 addr`,
//! /proc/net/if_inet6), adding and removing global addresses and routes
//! with busybox `ip -6` and `ifconfig add|del`, `ping -6` of ::1 over
//! ICMPv6 sockets, and tests/guest/ipv6.c (TCP/UDP over ::1, sockaddr_in6
//! forms and errors) compared with the host. The interface is `eth0=user`
//! (no privilege needed; its gateway is IPv4-only, so nothing answers
//! off-guest IPv6 there). `tap_ping_link_local_and_global` pings the
//! guest from the host over a TAP in a network namespace of its own (root
//! only; skipped otherwise).

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// eth0's MAC in these tests, and the link-local address it gives.
const MAC: &str = "02:00:00:12:34:56";
const LINK_LOCAL: &str = "fe80::ff:fe12:3456";

fn boot_user(name: &str) -> Guest {
    let initrd = build_initramfs(name, &[]);
    let word = format!("eth0=user,mac={MAC}");
    let mut g = Guest::boot_initramfs(&initrd, &[&word]);
    g.wait_prompt();
    g
}

#[test]
fn ipv6_guest_program_matches_native() {
    compare_with_native("ipv6", "ipv6 done");
}

#[test]
fn lo_and_link_local_addresses() {
    let mut g = boot_user("ipv6-addrs");
    let out = g.run("cat /proc/net/if_inet6");
    assert!(
        out.contains("00000000000000000000000000000001 01 80 10 80       lo"),
        "{out}"
    );
    // eth0 is down: no link-local address yet.
    assert!(!out.contains("eth0"), "{out}");
    let (out, st) = g.run_status("ip link set eth0 up && ip -6 addr show dev eth0");
    assert_eq!(st, 0, "{out}");
    assert!(
        out.contains(&format!("inet6 {LINK_LOCAL}/64 scope link")),
        "{out}"
    );
    let out = g.run("cat /proc/net/if_inet6");
    assert!(
        out.contains("fe80000000000000000000fffe123456 02 40 20 80     eth0"),
        "{out}"
    );
    let out = g.run("ip -6 addr");
    assert!(out.contains("inet6 ::1/128 scope host"), "{out}");
    assert!(
        out.contains(&format!("inet6 {LINK_LOCAL}/64 scope link")),
        "{out}"
    );
    // Down drops the IPv6 addresses, up brings the link-local one back.
    let out = g.run("ip link set eth0 down; ip -6 addr show dev eth0; echo END");
    assert!(!out.contains("fe80"), "{out}");
    let out = g.run("ip link set eth0 up; ip -6 addr show dev eth0");
    assert!(out.contains(LINK_LOCAL), "{out}");
}

#[test]
fn global_addresses_and_routes() {
    let mut g = boot_user("ipv6-global");
    let (out, st) = g.run_status(
        "ip link set eth0 up && ip -6 addr add 2001:db8::2/64 dev eth0 && ip -6 addr show dev eth0",
    );
    assert_eq!(st, 0, "{out}");
    assert!(out.contains("inet6 2001:db8::2/64 scope global"), "{out}");
    let out = g.run("ip -6 addr add 2001:db8::2/64 dev eth0; echo status $?");
    assert!(
        out.contains("status 1") || out.contains("status 2"),
        "{out}"
    );
    assert!(
        out.contains("File exists") || out.contains("exists"),
        "{out}"
    );
    // The connected route, and a default route through a neighbour.
    let (out, st) = g.run_status("ip -6 route add default via 2001:db8::1 dev eth0 && ip -6 route");
    assert_eq!(st, 0, "{out}");
    assert!(out.contains("2001:db8::/64 dev eth0"), "{out}");
    assert!(out.contains("fe80::/64 dev eth0"), "{out}");
    assert!(out.contains("default via 2001:db8::1 dev eth0"), "{out}");
    // /proc/net/ipv6_route (busybox `route -A inet6` reads it).
    let out = g.run("cat /proc/net/ipv6_route; route -n -A inet6");
    assert!(
        out.contains(
            "00000000000000000000000000000000 00 00000000000000000000000000000000 00 \
             20010db8000000000000000000000001 00000400 00000001 00000000 00000003     eth0"
        ),
        "{out}"
    );
    assert!(out.contains("2001:db8::/64"), "{out}");
    // A gateway off every subnet is refused.
    let out = g.run("ip -6 route add 2001:db8:9::/48 via 2001:db8:5::1; echo status $?");
    assert!(!out.contains("status 0"), "{out}");
    let (out, st) = g.run_status("ip -6 route del default via 2001:db8::1 dev eth0 && ip -6 route");
    assert_eq!(st, 0, "{out}");
    assert!(!out.contains("default"), "{out}");
    // Bound sockets see the new address; an absent one is refused.
    let (out, st) =
        g.run_status("ip -6 addr del 2001:db8::2/64 dev eth0 && ip -6 addr show dev eth0");
    assert_eq!(st, 0, "{out}");
    assert!(!out.contains("2001:db8::2"), "{out}");
    let out = g.run("ip -6 addr del 2001:db8::2/64 dev eth0; echo status $?");
    assert!(!out.contains("status 0"), "{out}");
    // ifconfig's in6_ifreq ioctls.
    let (out, st) = g.run_status("ifconfig eth0 add 2001:db8:1::7/64 && ip -6 addr show dev eth0");
    assert_eq!(st, 0, "{out}");
    assert!(out.contains("inet6 2001:db8:1::7/64 scope global"), "{out}");
    let out = g.run("ifconfig eth0");
    assert!(
        out.contains("inet6 addr: 2001:db8:1::7/64 Scope:Global"),
        "{out}"
    );
    let (out, st) = g.run_status("ifconfig eth0 del 2001:db8:1::7/64 && ip -6 addr show dev eth0");
    assert_eq!(st, 0, "{out}");
    assert!(!out.contains("2001:db8:1::7"), "{out}");
    // Addresses past the interface's slots: ENOSPC.
    let mut adds = String::new();
    for n in 1..=8 {
        adds.push_str(&format!(
            "ip -6 addr add 2001:db8:2::{n}/64 dev eth0 2>&1; "
        ));
    }
    let out = g.run(&adds);
    assert!(out.contains("No space left on device"), "{out}");
}

#[test]
fn ping6_loopback() {
    let mut g = boot_user("ipv6-ping");
    let (out, st) = g.run_status_timeout("ping -6 -c 1 -W 10 ::1", Duration::from_secs(60));
    assert_eq!(st, 0, "{out}");
    assert!(out.contains("1 packets received"), "{out}");
    let (out, st) = g.run_status_timeout("ping6 -c 2 -W 10 ::1", Duration::from_secs(60));
    assert_eq!(st, 0, "{out}");
    assert!(out.contains("2 packets received"), "{out}");
    // Without CAP_NET_RAW no raw socket (Debian's busybox ping does not
    // fall back to a ping socket, so it gives up).
    let out = g.run("su -s /bin/sh nobody -c 'ping -6 -c 1 -W 10 ::1' 2>&1");
    assert!(out.contains("permission denied"), "{out}");
}

/// A network namespace with a TAP, gone (with the TAP) when dropped.
struct Netns {
    ns: String,
    tap: String,
}

fn sh(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args[0]))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Netns {
    fn create(n: u32) -> Result<Netns, String> {
        let ns = format!("ruml6ns{n}");
        let tap = format!("ruml6tap{n}");
        sh(&["ip", "netns", "add", &ns])?;
        // From here on the guard deletes it (and the TAP with it).
        let me = Netns { ns, tap };
        me.exec(&["ip", "tuntap", "add", "dev", &me.tap, "mode", "tap"])?;
        me.exec(&["ip", "link", "set", "lo", "up"])?;
        me.exec(&["ip", "link", "set", &me.tap, "up"])?;
        Ok(me)
    }

    fn exec(&self, args: &[&str]) -> Result<String, String> {
        let mut v = vec!["ip", "netns", "exec", &self.ns];
        v.extend_from_slice(args);
        sh(&v)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.exec(&["ip", "tuntap", "del", "dev", &self.tap, "mode", "tap"]);
        let _ = sh(&["ip", "netns", "del", &self.ns]);
    }
}

#[test]
fn tap_ping_link_local_and_global() {
    let n = 20 + std::process::id() % 200;
    let ns = match Netns::create(n) {
        Ok(ns) => ns,
        Err(e) => {
            eprintln!("SKIPPED: cannot make a network namespace with a TAP ({e}); run as root");
            return;
        }
    };
    let initrd = build_initramfs("ipv6-tap", &[]);
    let dir = test_dir("ipv6-tap-run");
    let vm = vmlinux();
    let initrd_arg = format!("initrd={}", initrd.display());
    let uml_dir = format!("uml_dir={}", dir.join("uml").display());
    let word = format!("eth0=tuntap,{},{MAC}", ns.tap);
    let args = [
        "netns",
        "exec",
        &ns.ns,
        vm.to_str().unwrap(),
        "mem=256M",
        &initrd_arg,
        "con0=fd:0,fd:1",
        &uml_dir,
        &word,
    ];
    let mut g = Guest::spawn(Path::new("/usr/sbin/ip"), &args, &[]);
    g.wait_prompt();
    let (out, st) = g.run_status(&format!(
        "ip link set eth0 up && ip -6 addr add 2001:db8:{n:x}::2/64 dev eth0"
    ));
    assert_eq!(st, 0, "{out}");
    ns.exec(&[
        "ip",
        "-6",
        "addr",
        "add",
        &format!("2001:db8:{n:x}::1/64"),
        "dev",
        &ns.tap,
        "nodad",
    ])
    .unwrap();
    // The host reaches the guest's link-local address (NDP, then echo),
    // then its global one; ping retries within its 10 s deadline.
    let ll = format!("{LINK_LOCAL}%{}", ns.tap);
    let r = ns.exec(&["busybox", "ping", "-6", "-c", "1", "-w", "20", &ll]);
    assert!(r.is_ok(), "{r:?}\n{}", g.output());
    let global = format!("2001:db8:{n:x}::2");
    let r = ns.exec(&["busybox", "ping", "-6", "-c", "1", "-w", "20", &global]);
    assert!(r.is_ok(), "{r:?}\n{}", g.output());
    // TCP over IPv6 both ways across the TAP: a busybox nc server in the
    // guest (a wildcard listener, listed in /proc/net/tcp6) answers the
    // host.
    g.run("nc -l -p 7777 -e echo hello-over-v6 >/dev/null 2>&1 &");
    let out = g.run(
        "for i in $(seq 20); do grep -q ':1E61 0.* 0A ' /proc/net/tcp6 && break; sleep 1; done; cat /proc/net/tcp6",
    );
    assert!(
        out.contains(":1E61 00000000000000000000000000000000:0000 0A"),
        "{out}"
    );
    let r = ns.exec(&["busybox", "nc", "-w", "20", &global, "7777"]);
    assert!(
        r.as_ref().is_ok_and(|o| o.contains("hello-over-v6")),
        "{r:?}\n{}",
        g.output()
    );
    // The guest reaches the host's link-local address through eth0's
    // scope (once the host's duplicate address detection lets it be used).
    let mut host_ll = None;
    for _ in 0..30 {
        let o = ns
            .exec(&["ip", "-6", "addr", "show", "dev", &ns.tap, "scope", "link"])
            .unwrap();
        if !o.contains("tentative") {
            host_ll = o
                .split_whitespace()
                .skip_while(|w| *w != "inet6")
                .nth(1)
                .and_then(|a| a.split('/').next())
                .map(str::to_string);
        }
        if host_ll.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let host_ll = host_ll.expect("the host's TAP has a link-local address");
    let (out, st) = g.run_status_timeout(
        &format!("ping -6 -c 1 -W 10 {host_ll}%eth0"),
        Duration::from_secs(60),
    );
    assert_eq!(st, 0, "{out}");
    // And the guest reaches the host's global address.
    let (out, st) = g.run_status_timeout(
        &format!("ping -6 -c 1 -W 10 2001:db8:{n:x}::1"),
        Duration::from_secs(60),
    );
    assert_eq!(st, 0, "{out}");
}
