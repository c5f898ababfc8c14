#!/usr/bin/env python3
"""Profile the host side of one guest benchmark.

    python3 bench/profile.py {ruml,uml} METRIC[,METRIC...] [--tool strace|perf] [--seconds N]

Boots ruml (or linux.uml) with the benchmark image that bench/bench.py built
(run that once first, or `make bench`), starts `ubench all --only METRIC`
in the guest and, while it runs, attaches to every thread of the vmlinux
(or linux.uml) host process:

  strace  strace -c -p TID... (host syscall counts and time per syscall;
          the guest's host processes are left alone: they are ptraced by
          the kernel under test already)
  perf    perf record -g -p PID (sampling with cpu-clock), then perf report

It also prints the guest's own result line, so host calls per guest
operation can be worked out: calls / (seconds * 1e9 / ns per op).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kernel", choices=["ruml", "uml"])
    ap.add_argument("metrics")
    ap.add_argument("--tool", choices=["strace", "perf"], default="strace")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--pin", metavar="CPUS")
    ap.add_argument("--uml-shim", choices=["always", "never"], default="always")
    ap.add_argument("--perf-out", default="/tmp/ruml-bench-perf.data")
    args = ap.parse_args()
    args.only, args.no_uml, args.no_cargo, args.rounds, args.idle_rounds = \
        args.metrics, False, True, 1, 0
    # Long enough loops that the tool sees the benchmark, not its end.
    args.target_ms = int((args.seconds + 2) * 1000)

    b = bench.Build(args)
    b.all()  # rebuilds ubench and the image (cheap), not vmlinux
    if not os.path.exists(b.image):
        sys.exit("profile: %s missing: run make bench (or bench/bench.py --quick) first" % b.image)
    r = bench.Runner(b, args)
    if args.kernel == "uml" and args.uml_shim == "always":
        r.uml_env = dict(os.environ, LD_PRELOAD=b.shim)
    g, boot_s, end = r.boot(args.kernel)
    print("booted in %.3f s; pid %d" % (boot_s, g.proc.pid))
    # The kernel's pid (skip taskset if pinned: it execs, so same pid).
    pid = g.proc.pid
    g.send(" ".join(r.ubench_cmd()))
    time.sleep(0.5)
    tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    if args.tool == "strace":
        cmd = ["strace", "-c", "-S", "calls"]
        for t in tids:
            cmd += ["-p", str(t)]
    else:
        cmd = ["perf", "record", "-e", "cpu-clock", "-F", "2000", "-g", "-o", args.perf_out,
               "-p", str(pid)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(args.seconds)
    p.send_signal(2)
    out, _ = p.communicate()
    print("$ " + " ".join(cmd))
    print(out)
    end2, _ = g.expect(b"UBENCH-DONE", end, bench.RUN_TIMEOUT)
    for line in g.text()[end:].splitlines():
        if line.startswith("METRIC"):
            print("guest: " + line.strip())
    g.expect(bench.PROMPT, end2, bench.RUN_TIMEOUT)
    g.poweroff()
    shutil.rmtree(b.native_tmpfs, ignore_errors=True)
    if args.tool == "perf":
        rep = subprocess.run(["perf", "report", "-i", args.perf_out, "--no-children",
                              "--sort", "dso,sym", "--stdio", "-g", "none"],
                             capture_output=True, text=True)
        print("\n".join(rep.stdout.splitlines()[:60]))


if __name__ == "__main__":
    main()
