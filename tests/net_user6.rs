//! IPv6 over user-mode networking (`eth0=user`), as an unprivileged host
//! user: once eth0 is up the guest solicits a router, the gateway's
//! advertisement gives it a SLAAC address in fd00:10:0:2::/64 and a
//! default route through fe80::2; it then pings the gateway
//! (fd00:10:0:2::2), fetches a file from a server on the host's [::1]
//! through it, and resolves a host /etc/hosts name at the DNS forwarder
//! fd00:10:0:2::3; a `hostfwd` listening on the host's [::1] reaches a
//! guest server.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const NET_TIMEOUT: Duration = Duration::from_secs(90);

/// A host HTTP/1.0 server on [::1] answering every request with `body`;
/// its port (None when the host has no IPv6 loopback).
fn http_server6(body: &'static [u8]) -> Option<u16> {
    let l = match TcpListener::bind("[::1]:0") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("no IPv6 loopback on the host ({e}): skipped");
            return None;
        }
    };
    let port = l.local_addr().unwrap().port();
    http::serve_http(l, body, "application/octet-stream", NET_TIMEOUT);
    Some(port)
}

/// The md5sum of `data`, by the host's md5sum.
fn md5(dir: &std::path::Path, data: &[u8]) -> String {
    let f = dir.join("body");
    std::fs::write(&f, data).unwrap();
    let out = std::process::Command::new("md5sum")
        .arg(&f)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn slaac_ping_wget_and_dns_over_ipv6_through_the_gateway() {
    // 300 KB that is not one byte repeated, so a lost or reordered
    // segment shows in the checksum.
    let body: &'static [u8] = Box::leak(
        (0..300_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect::<Vec<u8>>()
            .into_boxed_slice(),
    );
    let Some(http) = http_server6(body) else {
        return;
    };
    let dir = test_dir("net-user6");
    let want = md5(&dir, body);
    let initrd = build_initramfs("net-user6", &[]);
    let initrd_arg = format!("initrd={}", initrd.display());
    let fwd = TcpListener::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let word = format!("eth0=user,hostfwd=tcp:[::1]:{fwd}-:80");
    let mut g = boot_unprivileged(&["mem=256M", &initrd_arg, &word]);
    g.wait_prompt();

    // Up, and nothing else: router solicitation, advertisement, SLAAC.
    let (out, status) = g.run_status("ip link set eth0 up");
    assert_eq!(status, 0, "ip link printed {out:?}");
    let (addrs, _) = g.run_status_timeout(
        "for i in $(seq 60); do ip -6 addr show dev eth0 | grep -q 'scope global' && break; sleep 1; done; ip -6 addr show dev eth0",
        NET_TIMEOUT,
    );
    assert!(
        addrs.contains("inet6 fd00:10:0:2:") && addrs.contains("scope global dynamic"),
        "ip -6 addr: {addrs}"
    );
    assert!(addrs.contains("scope link"), "ip -6 addr: {addrs}");
    let routes = g.run("ip -6 route");
    assert!(
        routes.contains("default via fe80::2 dev eth0") && routes.contains("expires"),
        "ip -6 route: {routes}"
    );
    assert!(
        routes.contains("fd00:10:0:2::/64 dev eth0"),
        "ip -6 route: {routes}"
    );
    let if6 = g.run("cat /proc/net/if_inet6");
    assert!(
        if6.contains("fd000010000000020"),
        "/proc/net/if_inet6: {if6}"
    );

    // The gateway answers echo requests itself.
    let (out, status) = g.run_status_timeout("ping -6 -c 2 fd00:10:0:2::2", NET_TIMEOUT);
    assert_eq!(status, 0, "ping printed {out:?}");
    assert!(out.contains("2 packets received"), "ping printed {out:?}");

    // TCP to the host's [::1] through the gateway's address.
    let (out, status) = g.run_status_timeout(
        &format!("wget -q -O /tmp/f http://[fd00:10:0:2::2]:{http}/file && md5sum /tmp/f"),
        NET_TIMEOUT,
    );
    assert_eq!(status, 0, "wget printed {out:?}");
    assert!(out.contains(&want), "md5sum printed {out:?}, want {want}");

    // The DNS forwarder over IPv6, answering from the host's /etc/hosts.
    let (out, _) = g.run_status_timeout("nslookup localhost fd00:10:0:2::3", NET_TIMEOUT);
    assert!(
        out.contains("127.0.0.1") || out.contains("::1"),
        "nslookup printed {out:?}"
    );

    // hostfwd from the host's [::1] into the guest (over IPv4).
    let (out, status) = g.run_status(
        "ifconfig eth0 10.0.2.15 netmask 255.255.255.0 && mkdir -p /www && echo 'served over fwd6' > /www/index.html && httpd -p 80 -h /www",
    );
    assert_eq!(status, 0, "httpd printed {out:?}");
    let deadline = Instant::now() + NET_TIMEOUT;
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = TcpStream::connect(("::1", fwd))?;
            s.set_read_timeout(Some(NET_TIMEOUT))?;
            s.write_all(b"GET /index.html HTTP/1.0\r\nHost: guest\r\n\r\n")?;
            let mut r = String::new();
            s.read_to_string(&mut r)?;
            Ok(r)
        })();
        match attempt {
            Ok(r) if r.contains("served over fwd6") => break,
            other => {
                assert!(Instant::now() < deadline, "hostfwd [::1]: {other:?}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }

    g.send("poweroff -f\n");
    let st = g.wait_exit(NET_TIMEOUT).expect("no exit after poweroff");
    assert_eq!(st.code(), Some(0));
}
