//! AF_INET/AF_INET6 over the loopback interface: a C program run natively
//! and in a guest with the same output, and busybox network applets
//! talking to each other over 127.0.0.1.

mod common;

use common::*;

#[test]
fn inet_matches_native() {
    compare_with_native("inet", "inet done");
}

/// IP_PKTINFO/IP_RECVTTL/IP_RECVTOS and IPV6_RECVPKTINFO/RECVHOPLIMIT/
/// RECVTCLASS control messages with the packets' own fields, sending
/// with them, MSG_CTRUNC, hop-limit options (tests/guest/ipcmsg.c).
#[test]
fn ip_control_messages_match_native() {
    compare_with_native("ipcmsg", "ipcmsg done");
}

/// O_ASYNC on UDP and TCP sockets: SIGIO for datagrams, connections,
/// connect completion, data and the peer's close (tests/guest/sigio_inet.c).
#[test]
fn inet_sigio_matches_native() {
    compare_with_native("sigio_inet", "sigio_inet done");
}

/// UDP-Lite (IPPROTO_UDPLITE): coverage options, partial coverage and the
/// receiver's minimum, ports of its own, connect, control messages, IPv6,
/// dual stack, /proc/net/udplite, a new network namespace
/// (tests/guest/udplite.c).
#[test]
fn udplite_matches_native() {
    compare_with_native("udplite", "udplite done");
}

#[test]
fn busybox_nc_carries_a_line() {
    let mut g = Guest::boot_busybox("inet-nc");
    g.run("nc -l -p 7777 > /tmp/got &");
    let (_, status) = g.run_status("sleep 0.2; echo hello | nc 127.0.0.1 7777");
    assert_eq!(status, 0);
    let out = g.run("wait; cat /tmp/got");
    assert_eq!(out.trim(), "hello", "nc received {:?}", out);
}

#[test]
fn busybox_wget_from_httpd() {
    let mut g = Guest::boot_busybox("inet-httpd");
    g.run("mkdir -p /www && echo 'served over loopback' > /www/index.html");
    let (_, status) = g.run_status("httpd -p 127.0.0.1:8080 -h /www");
    assert_eq!(status, 0);
    // busybox netstat reads /proc/net/tcp.
    let out = g.run("netstat -tln");
    assert!(
        out.lines()
            .any(|l| l.contains("127.0.0.1:8080") && l.contains("LISTEN")),
        "netstat -tln printed {:?}",
        out
    );
    let out = g.run("wget -q -O - http://127.0.0.1:8080/index.html");
    assert_eq!(out.trim(), "served over loopback");
    let (out, status) =
        g.run_status("wget -q -O /tmp/page http://127.0.0.1:8080/ && cat /tmp/page");
    assert_eq!((out.trim(), status), ("served over loopback", 0));
    let (out, status) = g.run_status("wget -O - http://127.0.0.1:8080/missing 2>&1");
    assert_ne!(status, 0);
    assert!(
        out.contains("404"),
        "wget of a missing page printed {:?}",
        out
    );
    // Nothing listens on this port: the connection is refused.
    let (out, status) = g.run_status("wget -O - http://127.0.0.1:8081/ 2>&1");
    assert_ne!(status, 0);
    assert!(
        out.contains("refused"),
        "wget to a closed port printed {:?}",
        out
    );
}

/// CPU time (utime + stime, in clock ticks) the host process `pid` used.
fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest: Vec<&str> = s[s.rfind(')').unwrap() + 1..].split_whitespace().collect();
    // Fields 14 and 15 of stat; rest[0] is field 3.
    rest[11].parse::<u64>().unwrap() + rest[12].parse::<u64>().unwrap()
}

#[test]
fn idle_connections_keep_the_guest_idle() {
    let mut g = Guest::boot_busybox("inet-idle");
    // An open idle connection, and one whose closing side sits in TIME-WAIT.
    // (A background job's stdin is /dev/null: the server would see EOF
    // and close at once.)
    g.run("sleep 1000 | nc -l -p 7777 > /dev/null & sleep 0.2; sleep 1000 | nc 127.0.0.1 7777 &");
    g.run("nc -l -p 7778 > /tmp/got & sleep 0.2; echo x | nc 127.0.0.1 7778; sleep 0.2");
    assert_eq!(g.run("cat /tmp/got").trim(), "x");
    let before = cpu_ticks(g.pid());
    std::thread::sleep(std::time::Duration::from_secs(2));
    let used = cpu_ticks(g.pid()) - before;
    assert!(
        used < 10,
        "vmlinux used {used} ticks in 2 s with idle connections"
    );
    let out = g.run("netstat -tn");
    for state in ["ESTABLISHED", "TIME_WAIT"] {
        assert!(out.contains(state), "no {state} in netstat -tn: {:?}", out);
    }
}

#[test]
fn busybox_ping_gets_echo_replies() {
    let mut g = Guest::boot_busybox("inet-ping");
    let (out, status) = g.run_status("ping -c 2 127.0.0.1");
    assert_eq!(status, 0, "ping printed {:?}", out);
    assert!(
        out.contains("2 packets transmitted, 2 packets received, 0% packet loss"),
        "ping printed {:?}",
        out
    );
    assert!(out.contains("ttl=64"), "ping printed {:?}", out);
}

/// busybox ifconfig finds lo through SIOCGIFCONF and /proc/net/dev and
/// shows its addresses, flags, MTU and the packets a ping moved.
#[test]
fn ifconfig_shows_lo_and_its_traffic() {
    let mut g = Guest::boot_busybox("inet-ifconfig");
    let before = g.run("ifconfig");
    for want in [
        "lo        Link encap:Local Loopback",
        "inet addr:127.0.0.1  Mask:255.0.0.0",
        "inet6 addr: ::1/128 Scope:Host",
        "UP LOOPBACK RUNNING  MTU:65536  Metric:1",
        "RX packets:0 ",
    ] {
        assert!(before.contains(want), "no {want:?} in:\n{before}");
    }
    g.run("ping -c 2 127.0.0.1");
    let after = g.run("ifconfig lo");
    assert!(after.contains("RX packets:4 "), "{after}");
    assert!(after.contains("TX packets:4 "), "{after}");
    let dev = g.run("grep lo: /proc/net/dev");
    assert!(dev.trim_start().starts_with("lo:"), "{dev}");
    assert!(g.run("ifconfig eth7 2>&1").contains("Device not found"));
}

/// busybox ip reads links and addresses over route netlink (the dumps
/// glibc's getifaddrs uses too); changes are refused clearly.
#[test]
fn ip_lists_links_and_addresses_over_netlink() {
    let mut g = Guest::boot_busybox("inet-ip");
    let addr = g.run("ip addr");
    for want in [
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000",
        "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        "inet 127.0.0.1/8 scope host lo",
        "inet6 ::1/128 scope host",
    ] {
        assert!(addr.contains(want), "no {want:?} in:\n{addr}");
    }
    let v4 = g.run("ip -4 addr show dev lo");
    assert!(
        v4.contains("inet 127.0.0.1/8") && !v4.contains("inet6"),
        "{v4}"
    );
    let (out, status) = g.run_status("ip addr add 10.0.0.1/24 dev lo 2>&1");
    assert_ne!(status, 0, "{out}");
    assert!(out.contains("Operation not supported"), "{out}");
}
