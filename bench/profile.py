#!/usr/bin/env python3
"""Profile the host side of one guest benchmark.

    python3 bench/profile.py {ruml,uml} METRIC[,METRIC...] [--tool count|strace|perf] [--seconds N]

Boots ruml (or linux.uml) with the benchmark image that bench/bench.py
builds (the same words, --root as there), starts `ubench all --only METRIC`
in the guest and watches the host side while it runs:

  count   (default) the kernel runs under `perf stat -I 500` with host
          syscall tracepoints (every host system call, ptrace by request,
          wait4, mmap, ...), context switches, CPU migrations and on-CPU
          time, counted for the kernel process and every host process it
          starts (inherited: the guests' stub processes too). Guest system
          calls that ptrace intercepts (PTRACE_SYSEMU) never reach the host
          kernel's syscall tracepoint, so they are not counted; what the
          stubs run for the kernel is. The counts over the guest's whole
          loop (less the idle rate before it), divided by the number of
          operations ubench says it ran, give host events per guest
          operation. One METRIC at a time.
  strace  strace -c -p TID... on the kernel process's threads (host
          syscall counts and time per syscall; the guest's host processes
          are left alone: the kernel under test ptraces them already)
  perf    the kernel runs under `perf record -g` (cpu-clock sampling,
          inherited by the stubs), then perf report by command/DSO/symbol
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

# ptrace requests (x86-64) worth counting one by one.
PTRACE_REQ = [
    ("PTRACE_GETREGS", 12), ("PTRACE_SETREGS", 13), ("PTRACE_SYSEMU", 31),
    ("PTRACE_CONT", 7), ("PTRACE_GETSIGINFO", 0x4202), ("PTRACE_GETREGSET", 0x4204),
    ("PTRACE_SETREGSET", 0x4205), ("PTRACE_GETFPREGS", 14), ("PTRACE_SETFPREGS", 15),
    ("PTRACE_PEEKUSER", 3), ("PTRACE_POKEUSER", 6), ("PTRACE_SYSCALL", 24),
]
SYSCALLS = ["wait4", "waitid", "futex", "mmap", "munmap", "mprotect", "madvise", "fork", "vfork", "clone",
            "clone3", "execveat", "kill", "tgkill", "tkill", "timer_settime", "read", "write",
            "pread64", "pwrite64", "fdatasync", "fsync", "rt_sigreturn", "rt_sigprocmask",
            "sched_setaffinity", "ppoll", "epoll_wait", "exit", "exit_group"]
SOFT = ["task-clock", "context-switches", "cpu-migrations", "page-faults"]
STAT_INTERVAL = 0.1  # s


def count_events():
    ev = []
    for name, req in PTRACE_REQ:
        ev.append((name, ["-e", "syscalls:sys_enter_ptrace", "--filter", "request == %d" % req]))
    ev.append(("ptrace (all)", ["-e", "syscalls:sys_enter_ptrace"]))
    for s in SYSCALLS:
        ev.append((s, ["-e", "syscalls:sys_enter_" + s]))
    ev.append(("host syscalls (all)", ["-e", "raw_syscalls:sys_enter"]))
    for s in SOFT:
        ev.append((s, ["-e", s]))
    return ev


def parse_intervals(path, names):
    """perf stat -I -x, output: {interval time: [counts in event order]}."""
    rows = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.strip().split(",")
            try:
                t = float(parts[0])
                v = float(parts[1]) if parts[1] not in ("<not counted>", "<not supported>") else 0.0
            except (ValueError, IndexError):
                continue
            rows.setdefault(t, []).append(v)
    return {t: v for t, v in rows.items() if len(v) == len(names)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kernel", choices=["ruml", "uml"])
    ap.add_argument("metrics")
    ap.add_argument("--tool", choices=["count", "strace", "perf"], default="count")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--pin", metavar="CPUS")
    ap.add_argument("--root", choices=["initramfs", "ext4"])
    ap.add_argument("--uml-shim", choices=["always", "never"], default="always")
    ap.add_argument("--perf-out", default="/tmp/ruml-bench-perf.data")
    ap.add_argument("--call-graph", default="fp",
                    help="perf record --call-graph (fp, default; dwarf for callers in vmlinux)")
    ap.add_argument("--stat-out", default="/tmp/ruml-bench-stat.csv")
    ap.add_argument("--event", action="append", default=[],
                    help="--tool count: another perf event to count (e.g. a uprobe "
                         "made with perf probe -x target/release/vmlinux)")
    args = ap.parse_args()
    args.only, args.no_uml, args.no_cargo, args.rounds, args.idle_rounds = \
        args.metrics, False, True, 1, 0
    if args.root:
        bench.ROOT_MODE = args.root
    # Long enough loops that the tool sees the benchmark, not its end.
    args.target_ms = int((args.seconds + 2) * 1000)

    b = bench.Build(args)
    b.all()  # rebuilds ubench and the image (cheap), not vmlinux
    r = bench.Runner(b, args)
    if args.kernel == "uml" and args.uml_shim == "always":
        r.uml_env = dict(os.environ, LD_PRELOAD=b.shim)
    events = count_events() + [(e, ["-e", e]) for e in args.event]
    if args.tool == "count":
        r.wrap = ["perf", "stat", "-I", str(int(STAT_INTERVAL * 1000)), "-x", ",",
                  "-o", args.stat_out]
        for _, e in events:
            r.wrap += e
        r.wrap.append("--")
    elif args.tool == "perf":
        r.wrap = ["perf", "record", "-e", "cpu-clock", "-F", "2000" if args.call_graph == "fp" else "500",
                  "--call-graph", args.call_graph, "-o", args.perf_out, "--"]
    g, boot_s, end = r.boot(args.kernel)
    print("booted in %.3f s; pid %d" % (boot_s, g.proc.pid))
    if args.tool == "count":
        time.sleep(1.5)  # an idle second to subtract
    t_send = time.monotonic()
    g.send(" ".join(r.ubench_cmd()))
    if args.tool == "strace":
        time.sleep(0.5)
        pid = g.proc.pid
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
        cmd = ["strace", "-c", "-S", "calls"]
        for t in tids:
            cmd += ["-p", str(t)]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(args.seconds)
        p.send_signal(2)
        out, _ = p.communicate()
        print("$ " + " ".join(cmd))
        print(out)
    end2, t_done = g.expect(b"UBENCH-DONE", end, bench.RUN_TIMEOUT)
    metrics, ops = [], []
    for line in g.text()[end:].splitlines():
        f = line.split()
        if len(f) == 3 and f[0] == "OPS":
            ops.append((f[1], int(f[2])))
        if line.startswith("METRIC"):
            print("guest: " + line.strip())
            f = line.split()
            if len(f) >= 4 and f[0] == "METRIC":
                metrics.append((f[1], float(f[2]), f[3]))
    g.expect(bench.PROMPT, end2, bench.RUN_TIMEOUT)
    g.poweroff()
    shutil.rmtree(b.native_tmpfs, ignore_errors=True)
    if args.tool == "count":
        report_counts(args, events, metrics, ops, t_send - g.t_start, t_done - g.t_start)
    elif args.tool == "perf":
        for sort in ("comm,dso", "dso,sym"):
            rep = subprocess.run(["perf", "report", "-i", args.perf_out, "--no-children",
                                  "--sort", sort, "--stdio", "-g", "none"],
                                 capture_output=True, text=True)
            lines = [l for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")]
            print("\n# perf report --sort %s" % sort)
            print("\n".join(lines[:40]))


def report_counts(args, events, metrics, ops, t0, t1):
    """Host events per guest operation: the counts of the intervals that
    cover the guest's ubench run (t0 to t1 s after the kernel started), less
    the idle rate measured before it, divided by the operations ubench says
    it ran (OPS line: every batch of its calibrating loop)."""
    names = [n for n, _ in events]
    rows = parse_intervals(args.stat_out, names)
    if len(ops) != 1:
        sys.exit("profile: --tool count wants one benchmark, got OPS lines %s" % ops)
    name, n_ops = ops[0]
    value = [m for m in metrics if m[0] == name]
    ts = sorted(rows)
    run = [t for t in ts if t > t0 and t - STAT_INTERVAL < t1 + STAT_INTERVAL]
    idle = [t for t in ts if t <= t0 - STAT_INTERVAL and t > t0 - 1.0 - STAT_INTERVAL]
    if not run:
        sys.exit("profile: no interval in %s covers the run (%.1f to %.1f s)" % (args.stat_out, t0, t1))
    span = run[-1] - run[0] + STAT_INTERVAL
    print("\n%s %s: %s; %d operations in %.2f s (perf stat intervals %.1f to %.1f s)"
          % (args.kernel, name,
             " ".join("%s = %g %s" % m for m in metrics) or "-", n_ops, t1 - t0,
             run[0] - STAT_INTERVAL, run[-1]))
    print("%-22s %14s %14s" % ("host event", "per second", "per operation"))
    for i, n in enumerate(names):
        total = sum(rows[t][i] for t in run)
        base = sum(rows[t][i] for t in idle) / (len(idle) * STAT_INTERVAL) if idle else 0.0
        net = max(total - base * span, 0.0)
        if n == "task-clock":  # ms
            print("%-22s %13.1f%% %11.2f us" % ("on-CPU (task-clock)", 100.0 * total / 1e3 / span,
                                               net * 1e3 / n_ops))
            continue
        if total == 0:
            continue
        print("%-22s %14.0f %14.2f" % (n, total / span, net / n_ops))
    if value:
        print("(on-CPU per operation vs the guest's %g %s: the rest of the time the kernel's"
              " host processes were waiting or preempted)" % (value[0][1], value[0][2]))


if __name__ == "__main__":
    main()
