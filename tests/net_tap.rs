//! eth0 over a host TAP interface (`eth0=tuntap,TAP`): the guest
//! configures it with busybox ifconfig/route, pings the host, talks TCP to
//! a host listener and accepts a host connection. Needs root on the host
//! (to create the TAP); skipped with a message otherwise.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// A host TAP interface with 10.200.N.1/24, deleted when dropped (also
/// when the test fails).
struct Tap {
    name: String,
}

impl Tap {
    /// Create `rumltapN` with 10.200.N.1/24, up; None (with the reason)
    /// when the host does not let us.
    fn create(n: u32) -> Result<Tap, String> {
        let name = format!("rumltap{n}");
        let ip = |args: &[&str]| -> Result<(), String> {
            let out = Command::new("ip")
                .args(args)
                .output()
                .map_err(|e| format!("ip: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "ip {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        };
        ip(&["tuntap", "add", "dev", &name, "mode", "tap"])?;
        // From here on the guard deletes it.
        let tap = Tap { name };
        ip(&["addr", "add", &format!("10.200.{n}.1/24"), "dev", &tap.name])?;
        ip(&["link", "set", &tap.name, "up"])?;
        Ok(tap)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["tuntap", "del", "dev", &self.name, "mode", "tap"])
            .output();
    }
}

/// A subnet number of our own: concurrent test runs use different pids.
fn subnet() -> u32 {
    20 + std::process::id() % 200
}

#[test]
fn tap_ping_and_tcp_both_ways() {
    let n = subnet();
    let tap = match Tap::create(n) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("SKIPPED: cannot create a host TAP interface ({e}); run as root");
            return;
        }
    };
    let host_ip = format!("10.200.{n}.1");
    let guest_ip = format!("10.200.{n}.2");
    let initrd = build_initramfs("net-tap", &[]);
    let word = format!("eth0=tuntap,{},02:00:00:12:34:56", tap.name);
    let mut g = Guest::boot_initramfs(&initrd, &[&word]);
    g.wait_prompt();

    // Configured with the ioctls, as on Linux.
    let (out, status) = g.run_status(&format!(
        "ifconfig eth0 {guest_ip} netmask 255.255.255.0 up && route add default gw {host_ip}"
    ));
    assert_eq!(status, 0, "ifconfig/route printed {out:?}");
    let out = g.run("ifconfig eth0");
    assert!(
        out.contains("HWaddr 02:00:00:12:34:56") && out.contains(&guest_ip) && out.contains("UP"),
        "ifconfig eth0 printed {out:?}"
    );
    let out = g.run("cat /proc/net/dev");
    assert!(out.contains("eth0:"), "/proc/net/dev: {out:?}");

    // ARP, then ICMP echo to the host.
    let (out, status) =
        g.run_status_timeout(&format!("ping -c 3 {host_ip}"), Duration::from_secs(60));
    assert_eq!(status, 0, "ping printed {out:?}");
    assert!(out.contains("3 packets received"), "ping printed {out:?}");

    // Guest to host: a line to a host listener.
    let listener = TcpListener::bind(format!("{host_ip}:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).unwrap();
        line
    });
    let (out, status) = g.run_status_timeout(
        &format!("echo hello-host | nc {host_ip} {port}"),
        Duration::from_secs(60),
    );
    assert_eq!(status, 0, "nc printed {out:?}");
    assert_eq!(got.join().unwrap().trim(), "hello-host");

    // Host to guest: a connection to a guest listener on the wildcard.
    g.run("nc -l -p 7070 > /tmp/got &");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut s = loop {
        match TcpStream::connect_timeout(
            &format!("{guest_ip}:7070").parse().unwrap(),
            Duration::from_secs(5),
        ) {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                eprintln!("connect to the guest: {e}; retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("connect to the guest: {e}\n{}", g.output()),
        }
    };
    s.write_all(b"hello-guest\n").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    // The guest's nc closes after our FIN.
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let out = g.run("wait; cat /tmp/got");
    assert_eq!(out.trim(), "hello-guest");
    let _ = std::fs::remove_file(&initrd);
}

#[test]
fn bad_eth_words_exit_2() {
    for word in [
        "eth0=vde,/tmp/x",
        "eth0=tuntap",
        "eth16=tuntap,tap0",
        "eth0=tuntap,tap0,zz:00:00:00:00:00",
    ] {
        let mut g = Guest::boot(&["mem=64M", word]);
        let st = g
            .wait_exit(Duration::from_secs(30))
            .expect("vmlinux kept running");
        assert_eq!(st.code(), Some(2), "{word}: {}", g.output());
        assert!(
            g.output().contains(word.split('=').next().unwrap()),
            "{word}: message {:?}",
            g.output()
        );
    }
}
