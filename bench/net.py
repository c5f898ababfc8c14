#!/usr/bin/env python3
"""Network rows: ruml vs linux.uml on the same TAP, and ruml over `user`.

    sudo python3 bench/net.py [--no-uml] [--no-cargo]   (or: make bench-net)

Needs root (a network namespace of its own with a TAP at 10.210.0.1/24, so
no traffic leaves the machine). Boots the bench image (bench.py's Build)
under each kernel with eth0 on that TAP (`eth0=tuntap,TAP`, the same word
for both) and measures, in the guest with busybox:

- ping round trip to the host's side of the TAP (median of the averages),
- TCP guest -> host: `dd | nc` of 256 MiB to a host receiver in the
  namespace, MB/s as the receiver counts it;
- TCP host -> guest: the host sends 256 MiB to `nc -l` in the guest;
- the same two over ruml's `eth0=user` (the host end on 127.0.0.1).

Not iperf3: neither the bench image (busybox) nor this host has it, so
these are busybox nc over one TCP connection; the numbers compare the two
kernels on equal terms, not with iperf3's. Results: bench/results/net.json.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

NS = "rumlbenchnet"
TAP = "rumlbtap0"
HOST = "10.210.0.1"
GUEST = "10.210.0.2"
MIB = 256
PORT = 5201


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def netns_up():
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
    sh("ip", "netns", "add", NS)
    for c in (["ip", "tuntap", "add", "dev", TAP, "mode", "tap"],
              ["ip", "addr", "add", HOST + "/24", "dev", TAP],
              ["ip", "link", "set", TAP, "up"],
              ["ip", "link", "set", "lo", "up"]):
        sh("ip", "netns", "exec", NS, *c)


def netns_down():
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)


# A receiver or sender run in the namespace (or not): prints bytes, seconds.
RECV = r"""
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(1)
print("ready", flush=True)
c, _ = l.accept(); n = 0; t0 = None
while True:
    b = c.recv(1 << 16)
    if not b: break
    if t0 is None: t0 = time.monotonic()
    n += len(b)
print(n, time.monotonic() - t0, flush=True)
"""

SEND = r"""
import socket, sys, time
for _ in range(200):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2]))); break
    except OSError:
        time.sleep(0.1)
buf = b"x" * (1 << 16); n = int(sys.argv[3]) << 20; t0 = time.monotonic(); sent = 0
while sent < n:
    sent += s.send(buf)
s.shutdown(socket.SHUT_WR); s.recv(1)
print(sent, time.monotonic() - t0, flush=True)
"""


def helper(code, args, netns):
    pre = ["ip", "netns", "exec", NS] if netns else []
    return subprocess.Popen(pre + [sys.executable, "-c", code] + args,
                            stdout=subprocess.PIPE, text=True)


def mb_s(line):
    n, secs = line.split()
    return int(n) / float(secs) / 1e6


def run_cmd(g, cmd, timeout=300):
    start = g.mark()
    # The console echoes the command: wait for what only running it prints.
    g.send(cmd + "; echo __net_$((40+2))__")
    end, _ = g.expect(b"__net_42__\n", start, timeout)
    return g.text()[start:end]


def measure(runner, env, words, netns, host, guest_cfg):
    """One boot of env with `words`: its rows."""
    argv = runner.argv(env) + words
    if netns:
        argv = ["ip", "netns", "exec", NS] + argv
    envvars = runner.uml_env if env == "uml" else None
    runner.b.fresh_image(env)
    g = bench.Guest(argv, env=envvars)
    rows = {}
    try:
        g.expect(bench.PROMPT, 0, bench.BOOT_TIMEOUT)
        run_cmd(g, guest_cfg)
        if netns:
            out = run_cmd(g, "ping -c 20 -i 0.2 %s" % host, 60)
            m = re.search(r"min/avg/max = [\d.]+/([\d.]+)/", out)
            if not m:
                print("%s: ping printed %r" % (env, out[-600:]), file=sys.stderr)
            rows["ping RTT over TAP (ms)"] = float(m.group(1)) if m else None
        r = helper(RECV, [host if netns else "127.0.0.1", str(PORT)], netns)
        r.stdout.readline()
        run_cmd(g, "dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc %s %d" % (MIB * 16, host, PORT))
        rows["TCP guest->host (MB/s)"] = mb_s(r.stdout.readline())
        r.wait()
        start = g.mark()
        g.send("nc -l -p %d > /dev/null; echo __recv_$((40+2))__" % (PORT + 1))
        time.sleep(1)
        s = helper(SEND, [GUEST if netns else "127.0.0.1", str(PORT + 1 if netns else PORT + 2), str(MIB)], netns)
        rows["TCP host->guest (MB/s)"] = mb_s(s.stdout.readline())
        s.wait()
        g.expect(b"__recv_42__\n", start, 120)
        g.poweroff()
    except bench.GuestError as e:
        g.kill()
        print("%s: %s\n%s" % (env, e.reason, e.output[-2000:]), file=sys.stderr)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-uml", action="store_true")
    ap.add_argument("--no-cargo", action="store_true")
    ap.add_argument("--uml-shim", choices=["auto", "always", "never"], default="auto")
    ap.add_argument("--out", default=os.path.join(bench.HERE, "results", "net.json"))
    args = ap.parse_args()
    args.pin = None
    args.only = None
    if os.getuid() != 0:
        sys.exit("bench/net.py: needs root (a network namespace with a TAP)")
    b = bench.Build(args)
    b.all()
    runner = bench.Runner(b, args)
    results = {}
    tap_cfg = "ifconfig eth0 %s netmask 255.255.255.0 up" % GUEST
    netns_up()
    try:
        envs = ["ruml"]
        if not args.no_uml:
            runner.probe_uml()
            if runner.status["uml"]["status"] == "ok":
                envs.append("uml")
        for env in envs:
            results[env + " tap"] = measure(runner, env, ["eth0=tuntap," + TAP], True, HOST, tap_cfg)
    finally:
        netns_down()
    user_cfg = "ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up && route add default gw 10.0.2.2"
    fwd = "eth0=user,hostfwd=tcp:127.0.0.1:%d-:%d" % (PORT + 2, PORT + 1)
    results["ruml user"] = measure(runner, "ruml", [fwd], False, "10.0.2.2", user_cfg)
    names = sorted({k for r in results.values() for k in r})
    print("%-26s" % "" + "".join("%14s" % k for k in results))
    for n in names:
        cells = "".join("%14s" % ("-" if results[k].get(n) is None else "%.3g" % results[k][n])
                        for k in results)
        print("%-26s%s" % (n, cells))
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
