#!/usr/bin/env python3
"""SMP benchmark: two CPU-bound processes in a guest with ncpus=1 and
ncpus=2 (same binary, same run, alternating), and natively on one and two
host CPUs. Reports wall times and the ratio ncpus=2 / ncpus=1 (the
target is <= 0.6). linux.uml (Debian's, no SMP) is not compared: it runs
one CPU.

    python3 bench/smp.py [--rounds N] [--vmlinux PATH] [--out FILE.json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def build(tmp):
    spin = os.path.join(tmp, "spin")
    subprocess.run(["gcc", "-O2", "-static", "-o", spin, os.path.join(HERE, "guest", "spin.c")],
                   check=True)
    initrd = os.path.join(tmp, "initrd.cpio.gz")
    subprocess.run([os.path.join(ROOT, "rootfs", "mkinitramfs.sh"), initrd,
                    "--add", spin + ":/bin/spin"], check=True, stdout=subprocess.DEVNULL)
    return spin, initrd


def guest_ms(vmlinux, initrd, ncpus, procs, n, tmp):
    """Boot, run spin, power off; the wall time the guest measured."""
    cmd = [vmlinux, "initrd=" + initrd, "mem=256M", "ncpus=%d" % ncpus,
           "uml_dir=" + os.path.join(tmp, "uml"), "con0=fd:0,fd:1"]
    script = "spin %d %d\npoweroff -f\n" % (procs, n)
    out = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=600)
    m = re.search(r"SPIN procs=\d+ ms=([\d.]+)", out.stdout)
    if not m:
        raise RuntimeError("no result from ncpus=%d:\n%s" % (ncpus, out.stdout[-2000:]))
    return float(m.group(1))


def native_ms(spin, cpus, procs, n):
    out = subprocess.run(["taskset", "-c", cpus, spin, str(procs), str(n)],
                         capture_output=True, text=True, check=True)
    return float(re.search(r"ms=([\d.]+)", out.stdout).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=300000000)
    ap.add_argument("--vmlinux", default=os.path.join(ROOT, "target", "release", "vmlinux"))
    ap.add_argument("--out")
    a = ap.parse_args()
    if os.cpu_count() < 2:
        sys.exit("smp bench: needs at least 2 host CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        spin, initrd = build(tmp)
        res = {"ruml ncpus=1": [], "ruml ncpus=2": [], "native 1 cpu": [], "native 2 cpus": []}
        for r in range(a.rounds):
            order = [1, 2] if r % 2 == 0 else [2, 1]
            for c in order:
                res["ruml ncpus=%d" % c].append(
                    guest_ms(a.vmlinux, initrd, c, 2, a.iterations, tmp))
            res["native 1 cpu"].append(native_ms(spin, "0", 2, a.iterations))
            res["native 2 cpus"].append(native_ms(spin, "0,1", 2, a.iterations))
            print("round %d: %s" % (r + 1, {k: v[-1] for k, v in res.items()}), file=sys.stderr)
    med = {k: statistics.median(v) for k, v in res.items()}
    report = {
        "rounds": a.rounds,
        "load_after": os.getloadavg(),
        "median_ms": med,
        "ruml ratio ncpus=2/ncpus=1": med["ruml ncpus=2"] / med["ruml ncpus=1"],
        "native ratio 2 cpus/1 cpu": med["native 2 cpus"] / med["native 1 cpu"],
        "samples": res,
    }
    print(json.dumps(report, indent=2))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
