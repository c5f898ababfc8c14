//! eth0 over user-mode networking (`eth0=user`): no host privilege and no
//! host setup. The guest, configured statically as slirp's 10.0.2.15,
//! fetches a file from a host HTTP server through the gateway 10.0.2.2
//! (the host's loopback), resolves a host /etc/hosts name at 10.0.2.3,
//! exchanges UDP with a host socket, pings the gateway, gets "connection
//! refused" for a closed host port, and serves a file to the host through
//! a `hostfwd`, one boot as an unprivileged host user. Malformed words
//! stop vmlinux with status 2.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

const NET_TIMEOUT: Duration = Duration::from_secs(90);

/// The guest's static configuration (the last test leases with udhcpc
/// instead).
const CONFIGURE: &str =
    "ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up && route add default gw 10.0.2.2";

/// A host HTTP/1.0 server on 127.0.0.1 that answers every request with
/// `body`, until the test ends; its port.
fn http_server(body: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    http::serve_http(l, body.as_bytes(), "text/plain", NET_TIMEOUT);
    port
}

/// A host UDP responder on 127.0.0.1 that answers each DNS query with
/// `udptest.` → 192.0.2.77 (A) or no data (other types); its port.
fn udp_dns_responder() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            let q = &buf[..n];
            let qtype = u16::from_be_bytes([q[n - 4], q[n - 3]]);
            let mut r = q.to_vec();
            r[2] = 0x81;
            r[3] = 0x80;
            if qtype == 1 {
                r[7] = 1; // one answer
                r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77]);
            }
            let _ = s.send_to(&r, from);
        }
    });
    port
}

/// User and system CPU ticks of process `pid` (all its threads).
fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest: Vec<&str> = s[s.rfind(')').unwrap() + 1..].split_whitespace().collect();
    // Fields 14 and 15 of stat; rest[0] is field 3.
    rest[11].parse::<u64>().unwrap() + rest[12].parse::<u64>().unwrap()
}

/// A port nothing listens on right now.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn guest_reaches_host_services_through_the_gateway() {
    let http = http_server("hello from the host\n");
    let udp = udp_dns_responder();
    let refused = closed_port();
    let initrd = build_initramfs("net-user", &[]);
    let mut g = Guest::boot_initramfs(&initrd, &["eth0=user"]);
    g.wait_prompt();
    let (out, status) = g.run_status(CONFIGURE);
    assert_eq!(status, 0, "ifconfig/route printed {out:?}");

    // ARP for the gateway, then its own echo replies.
    let (out, status) = g.run_status_timeout("ping -c 2 10.0.2.2", NET_TIMEOUT);
    assert_eq!(status, 0, "ping printed {out:?}");
    assert!(out.contains("2 packets received"), "ping printed {out:?}");

    // Beyond the gateway, pings go out through a host ICMP socket when the
    // host allows them (net.ipv4.ping_group_range) and are dropped
    // otherwise; TEST-NET-1 answers neither way.
    let (out, status) = g.run_status_timeout("ping -c 1 -W 2 192.0.2.1", NET_TIMEOUT);
    assert_ne!(status, 0, "ping printed {out:?}");
    assert!(out.contains("0 packets received"), "ping printed {out:?}");

    // TCP to the host's loopback.
    let (out, status) = g.run_status_timeout(
        &format!("wget -q -O - http://10.0.2.2:{http}/file"),
        NET_TIMEOUT,
    );
    assert_eq!(status, 0, "wget printed {out:?}");
    assert!(out.contains("hello from the host"), "wget printed {out:?}");

    // Two MiB: the relay's buffers fill and drain many times over.
    let big = http_server(Box::leak("y".repeat(2 << 20).into_boxed_str()));
    let (out, status) = g.run_status_timeout(
        &format!("wget -q -O - http://10.0.2.2:{big}/big | wc -c"),
        NET_TIMEOUT,
    );
    assert_eq!(status, 0, "wget printed {out:?}");
    assert_eq!(
        out.trim(),
        (2u32 << 20).to_string(),
        "wget | wc -c printed {out:?}"
    );

    // A closed host port: the guest's connect is refused.
    let (out, status) = g.run_status_timeout(
        &format!("wget -q -O - http://10.0.2.2:{refused}/ 2>&1"),
        NET_TIMEOUT,
    );
    assert_ne!(status, 0, "wget printed {out:?}");
    assert!(out.contains("refused"), "wget printed {out:?}");

    // UDP both ways with a host socket (a DNS query, as busybox has no
    // UDP netcat).
    let (out, _) = g.run_status_timeout(&format!("nslookup udptest 10.0.2.2:{udp}"), NET_TIMEOUT);
    assert!(out.contains("192.0.2.77"), "nslookup printed {out:?}");

    // DNS at 10.0.2.3, answered from the host's /etc/hosts.
    let (out, _) = g.run_status_timeout("nslookup localhost 10.0.2.3", NET_TIMEOUT);
    assert!(out.contains("127.0.0.1"), "nslookup printed {out:?}");

    // An idle connection through the gateway costs (next to) no CPU: the
    // gateway blocks in poll, the guest's stack has no timers to run.
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let hold_port = holder.local_addr().unwrap().port();
    g.run(&format!(
        "sleep 1000 | nc 10.0.2.2 {hold_port} > /dev/null &"
    ));
    let (_held, _) = holder.accept().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(g.pid());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(g.pid()) - before;
    assert!(
        used < 10,
        "vmlinux used {used} ticks in 2 s with an idle connection"
    );

    // The gateway's traffic shows in the guest's counters.
    let out = g.run("cat /proc/net/dev");
    assert!(out.contains("eth0:"), "/proc/net/dev: {out:?}");
    g.send("poweroff -f\n");
    assert!(g.wait_exit(Duration::from_secs(60)).is_some(), "poweroff");
}

#[test]
fn hostfwd_serves_a_guest_file_to_the_host_unprivileged() {
    let http = http_server("fetched unprivileged\n");
    let port = closed_port();
    let uport = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let dir = test_dir("net-user-fwd-build");
    let bin = dir.join("udpecho");
    compile_c(
        &repo_root().join("tests/guest/udpecho.c"),
        &bin,
        &["-static"],
    );
    let initrd = build_initramfs("net-user-fwd", &[(bin.as_path(), "/bin/udpecho")]);
    let initrd_arg = format!("initrd={}", initrd.display());
    let word =
        format!("eth0=user,hostfwd=tcp:127.0.0.1:{port}-:80,hostfwd=udp:127.0.0.1:{uport}-:7");
    let mut g = if std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .contains("\nUid:\t0\t")
    {
        boot_unprivileged(&["mem=256M", &initrd_arg, &word])
    } else {
        Guest::boot(&["mem=256M", &initrd_arg, &word])
    };
    g.wait_prompt();
    let (out, status) = g.run_status(CONFIGURE);
    assert_eq!(status, 0, "ifconfig/route printed {out:?}");

    // Outbound works for an unprivileged vmlinux too.
    let (out, status) = g.run_status_timeout(
        &format!("wget -q -O - http://10.0.2.2:{http}/"),
        NET_TIMEOUT,
    );
    assert_eq!(status, 0, "wget printed {out:?}");
    assert!(out.contains("fetched unprivileged"), "wget printed {out:?}");

    let (out, status) = g.run_status(
        "mkdir -p /www && echo 'served from the guest' > /www/index.html && head -c 1048576 /dev/zero > /www/big && httpd -p 80 -h /www",
    );
    assert_eq!(status, 0, "httpd printed {out:?}");

    // The host fetches it through the forwarded port; the guest's httpd
    // may take a moment to listen.
    let deadline = Instant::now() + NET_TIMEOUT;
    let body = loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = TcpStream::connect(("127.0.0.1", port))?;
            s.set_read_timeout(Some(NET_TIMEOUT))?;
            s.write_all(b"GET /index.html HTTP/1.0\r\nHost: guest\r\n\r\n")?;
            let mut r = String::new();
            s.read_to_string(&mut r)?;
            Ok(r)
        })();
        match attempt {
            Ok(r) if r.contains("served from the guest") => break r,
            other => {
                assert!(Instant::now() < deadline, "hostfwd fetch: {other:?}");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    };
    assert!(body.starts_with("HTTP/1."), "{body:?}");
    // A MiB the other way.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(NET_TIMEOUT)).unwrap();
    s.write_all(b"GET /big HTTP/1.0\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers")
        + 4;
    assert_eq!(
        all.len() - at,
        1 << 20,
        "{:?}",
        String::from_utf8_lossy(&all[..at])
    );

    // UDP through its hostfwd, both ways, to a server bound to the
    // wildcard address (it receives on eth0 as well as lo).
    g.run("/bin/udpecho 7 > /tmp/udpecho.log &");
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let deadline = Instant::now() + NET_TIMEOUT;
    let mut buf = [0u8; 64];
    let got = loop {
        s.send_to(b"ping-udp", ("127.0.0.1", uport)).unwrap();
        match s.recv_from(&mut buf) {
            Ok((n, _)) => break String::from_utf8_lossy(&buf[..n]).into_owned(),
            Err(e) => assert!(Instant::now() < deadline, "no UDP echo: {e}"),
        }
    };
    assert_eq!(got, "echo:ping-udp");
    g.send("poweroff -f\n");
    assert!(g.wait_exit(Duration::from_secs(60)).is_some(), "poweroff");
}

/// Boot with `args`; expect status 2 and one line on stderr; that line.
fn refused(args: &[&str]) -> String {
    let mut g = Guest::boot(args);
    let st = g
        .wait_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("{args:?} did not exit:\n{}", g.output()));
    let err = g.stderr_output();
    assert_eq!(st.code(), Some(2), "{args:?}: {st:?}\n{}", g.output());
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    err
}

#[test]
fn malformed_user_words_are_refused() {
    for (word, says) in [
        ("eth0=user,hostfwd=tcp::8080", "hostfwd"),
        ("eth0=user,hostfwd=sctp::1-:2", "hostfwd"),
        ("eth0=user,hostfwd=tcp::99999-:80", "hostfwd"),
        ("eth0=slirp,mac=02:00:00:00:00", "MAC"),
        ("eth0=user,mac=01:00:00:00:00:00", "multicast"),
        ("eth0=user,restrict=on", "unexpected"),
    ] {
        let err = refused(&[word]);
        assert!(err.contains(says), "{word}: {err}");
    }
    // A port the host will not let us bind: already taken.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = refused(&[&format!("eth0=user,hostfwd=tcp:127.0.0.1:{port}-:80")]);
    assert!(err.contains("cannot listen"), "{err}");
}

/// udhcpc's hook script: configure the interface with `ip` (route
/// netlink), as a distribution's does.
const DHCP_SCRIPT: &str = r#"#!/bin/sh
case "$1" in
deconfig)
    ip link set "$interface" up
    ip addr flush dev "$interface"
    ;;
bound|renew)
    ip addr add "$ip/$mask" dev "$interface"
    for r in $router; do
        ip route add default via "$r" dev "$interface"
    done
    echo "lease $ip/$mask router $router dns $dns" > /tmp/lease
    ;;
esac
exit 0
"#;

/// An unprivileged guest on `eth0=user` whose udhcpc runs DHCP_SCRIPT,
/// at its prompt.
fn dhcp_guest(name: &str) -> Guest {
    use std::os::unix::fs::PermissionsExt;
    let dir = test_dir(&format!("{name}-src"));
    let script = dir.join("default.script");
    std::fs::write(&script, DHCP_SCRIPT).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let initrd = build_initramfs(name, &[(script.as_path(), "/etc/udhcpc/default.script")]);
    let initrd_arg = format!("initrd={}", initrd.display());
    let mut g = boot_unprivileged(&["mem=256M", &initrd_arg, "eth0=user"]);
    g.wait_prompt();
    g
}

/// As an unprivileged host user with nothing set up: busybox udhcpc (its
/// AF_PACKET sockets) gets the gateway's lease, and the guest then
/// fetches a file from a server on the host's 127.0.0.1 through it.
#[test]
fn udhcpc_configures_eth0_and_the_guest_reaches_the_host_unprivileged() {
    let http = http_server("leased and fetched\n");
    let mut g = dhcp_guest("net-user-dhcp");
    let (out, status) = g.run_status_timeout("udhcpc -i eth0 -n -q -t 5 -T 3", NET_TIMEOUT);
    assert_eq!(status, 0, "udhcpc printed {out:?}");
    assert_eq!(
        g.run("cat /tmp/lease").trim(),
        "lease 10.0.2.15/24 router 10.0.2.2 dns 10.0.2.3"
    );
    let routes = g.run("ip route");
    assert!(routes.contains("default via 10.0.2.2 dev eth0"), "{routes}");
    let (out, status) = g.run_status_timeout(
        &format!("wget -q -O - http://10.0.2.2:{http}/file"),
        NET_TIMEOUT,
    );
    assert_eq!(status, 0, "wget printed {out:?}");
    assert_eq!(out.trim(), "leased and fetched");
    g.send("poweroff -f\n");
    let st = g.wait_exit(NET_TIMEOUT).expect("no exit after poweroff");
    assert_eq!(st.code(), Some(0));
}
