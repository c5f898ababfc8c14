#!/usr/bin/env python3
"""ruml vs linux.uml vs native, side by side.

    python3 bench/bench.py [--rounds N] [--idle-rounds N] [--quick] ...
    (or: make bench)

Builds vmlinux, the static guest program bench/guest/ubench.c and one guest
image holding it plus busybox; then, for several rounds, alternates a run of
ubench natively, inside linux.uml and inside ruml (with the same kernel
command-line words), plus idle boots that measure boot time, poweroff time,
resident memory and host CPU of an idle guest. Prints one table of medians
and writes bench/results/latest.json (and latest.txt, the same table).

Only the Python standard library is used. See docs/performance.md.
"""

import argparse
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# The guest's root file system. "ext4" (default): both kernels boot
# ubd0=IMG root=/dev/ubda rw from one busybox ext4 image made by
# rootfs/mkext4.sh (busybox init, bench/guest/inittab), each run on its own
# fresh copy of it. "initramfs" (--root initramfs): they boot initrd=IMG and
# the root is a RAM file system. Everything else (image build, words, row
# labels) follows this one setting.
ROOT_MODE = "ext4"

MEM = "256M"
# Sequential I/O size: 256 MiB, but with mem=256M a RAM-backed root
# (initramfs) or a tmpfs cannot hold a 256 MiB file, so those use 64 MiB.
TMPFS_IO_MIB = 64
EXT4_IMAGE_SIZE = "640M"


def root_io_mib():
    return TMPFS_IO_MIB if ROOT_MODE == "initramfs" else 256
GUEST_UBENCH = "/bench/ubench"
GUEST_SCRIPT = "/bench/procs.sh"
GUEST_ROOTDIR = "/var/tmp"  # on the root file system
GUEST_TMPFSDIR = "/mnt/tmpfs"  # a tmpfs the guest's /init mounts
PROMPT = b"bench# "
UML = "/usr/bin/linux.uml"

BOOT_TIMEOUT = 60.0
RUN_TIMEOUT = 300.0
POWEROFF_TIMEOUT = 30.0
IDLE_SETTLE = 2.0
IDLE_SECONDS = 10.0

ENVS = ("native", "uml", "ruml")
LABEL = {"native": "native", "uml": "UML", "ruml": "ruml"}

# name, unit, lower_is_better, description
METRICS = [
    ("getppid", "ns", True, "getppid() round trip"),
    ("clock_gettime", "ns", True, "clock_gettime(CLOCK_MONOTONIC)"),
    ("fork_exit_wait", "us", True, "fork + _exit + waitpid"),
    ("fork_exec_wait", "us", True, "fork + execve(static) + waitpid"),
    ("pipe_pingpong", "us", True, "pipe ping-pong round trip, 2 processes"),
    ("pagefault", "us/page", True, "anonymous page fault, 4 KiB, over 64 MiB"),
    ("mmap_munmap_1m", "us", True, "mmap + munmap 1 MiB anonymous"),
    ("file_create_fsync", "us", True, "create + write 4K + fsync + unlink, root fs"),
    ("seqwrite_root", "MiB/s", False, "sequential write N MiB, root fs"),
    ("seqread_root", "MiB/s", False, "sequential read N MiB, root fs"),
    ("seqwrite_tmpfs", "MiB/s", False, "sequential write %d MiB, tmpfs" % TMPFS_IO_MIB),
    ("seqread_tmpfs", "MiB/s", False, "sequential read %d MiB, tmpfs" % TMPFS_IO_MIB),
    ("shell_script", "ms", True, "shell script running 200 small processes"),
    ("boot", "s", True, "boot: exec to shell prompt (host clock)"),
    ("poweroff", "s", True, "poweroff -f to host process exit"),
    ("idle_cpu", "%CPU", True, "idle guest, host CPU over %g s (utime+stime)" % IDLE_SECONDS),
    ("idle_pss", "MB", True, "idle guest, PSS of vmlinux + descendants"),
]
GUEST_ONLY = {"boot", "poweroff", "idle_cpu", "idle_pss"}


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------- build


class Build:
    """Paths of everything the runs need, built under build/bench/."""

    def __init__(self, args):
        self.dir = os.path.join(REPO, "build", "bench")
        os.makedirs(self.dir, exist_ok=True)
        self.vmlinux = os.path.join(REPO, "target", "release", "vmlinux")
        self.ubench = os.path.join(self.dir, "ubench")
        self.shim = os.path.join(self.dir, "uml_xstate_shim.so")
        self.script = os.path.join(HERE, "guest", "procs.sh")
        self.init = os.path.join(HERE, "guest", "init.sh")
        self.guest_files = [
            (os.path.join(HERE, "guest", "setup.sh"), "/bench/setup.sh"),
            (os.path.join(HERE, "guest", "inittab"), "/etc/inittab"),
            (os.path.join(HERE, "guest", "profile"), "/etc/profile"),
        ]
        self.bindir = os.path.join(self.dir, "bin")
        self.native_root = os.path.join(self.dir, "native-root")
        self.native_tmpfs = "/dev/shm/ruml-bench-%d" % os.getpid()
        if ROOT_MODE == "initramfs":
            self.image = os.path.join(self.dir, "initramfs.cpio.gz")
        else:
            self.image = os.path.join(self.dir, "root.img")
        self.args = args

    def all(self):
        if not self.args.no_cargo:
            run(["cargo", "build", "--release", "--quiet"], cwd=REPO)
        if not os.access(self.vmlinux, os.X_OK):
            sys.exit("bench: %s missing (cargo build --release)" % self.vmlinux)
        run(["gcc", "-O2", "-Wall", "-static", "-o", self.ubench,
             os.path.join(HERE, "guest", "ubench.c")])
        if os.access(UML, os.X_OK):
            run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", self.shim,
                 os.path.join(HERE, "uml", "xstate_shim.c"), "-ldl"])
        adds = ["--add", "%s:%s" % (self.ubench, GUEST_UBENCH),
                "--add", "%s:%s" % (self.script, GUEST_SCRIPT)]
        for host, guest in self.guest_files:
            adds += ["--add", "%s:%s" % (host, guest)]
        tool = "mkinitramfs.sh" if ROOT_MODE == "initramfs" else "mkext4.sh"
        cmd = ["bash", os.path.join(REPO, "rootfs", tool), self.image]
        if ROOT_MODE != "initramfs":
            cmd.append(EXT4_IMAGE_SIZE)
        prefix = [] if os.getuid() == 0 else ["fakeroot"]
        run(prefix + cmd + ["--init", self.init] + adds, stdout=subprocess.DEVNULL)
        if ROOT_MODE != "initramfs" and not os.environ.get("BENCH_SPARSE_JOURNAL"):
            materialize_journal(self.image)
        # Native runs use the same busybox for the shell script.
        os.makedirs(self.bindir, exist_ok=True)
        busybox = os.environ.get("BUSYBOX", "/bin/busybox")
        for applet in ("sh", "ls", "cat", "wc"):
            p = os.path.join(self.bindir, applet)
            if os.path.lexists(p):
                os.unlink(p)
            os.symlink(busybox, p)
        os.makedirs(self.native_root, exist_ok=True)
        os.makedirs(self.native_tmpfs, exist_ok=True)

    def run_image(self, env):
        """The image env's kernel boots: for a disk root, a fresh copy of the
        built image made before every boot, so no run sees another's
        writes (or a kernel's leftovers)."""
        if ROOT_MODE == "initramfs":
            return self.image
        return os.path.join(self.dir, "run-%s.img" % env)

    def fresh_image(self, env):
        if ROOT_MODE == "initramfs":
            return
        dst = self.run_image(env)
        if os.path.exists(dst):
            os.unlink(dst)
        copy_allocated(self.image, dst)

    def root_words(self, env="IMG"):
        img = self.run_image(env) if env != "IMG" else self.image
        if ROOT_MODE == "initramfs":
            return ["initrd=" + img]
        return ["ubd0=" + img, "root=/dev/ubda", "rw"]

    def words(self, env="IMG"):
        # The same words for both kernels, in UML's usual order (a specific
        # conN= wins over con= in both).
        return self.root_words(env) + ["mem=" + MEM, "con0=fd:0,fd:1", "con=null"]


def copy_allocated(src, dst):
    """Copy a sparse image keeping its allocation: holes stay holes, and
    every allocated block, even all zeros, is written (cp would skip zeros,
    and then the guest's first write to each journal block would cost the
    host an allocation)."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        size = os.fstat(fi.fileno()).st_size
        off = 0
        while off < size:
            try:
                data = os.lseek(fi.fileno(), off, os.SEEK_DATA)
            except OSError:  # no data after off
                break
            hole = os.lseek(fi.fileno(), data, os.SEEK_HOLE)
            fi.seek(data)
            fo.seek(data)
            left = hole - data
            while left > 0:
                buf = fi.read(min(left, 1 << 20))
                fo.write(buf)
                left -= len(buf)
            off = hole
        fo.truncate(size)


def materialize_journal(image):
    """mke2fs leaves the journal as unwritten (fallocated) extents of the
    image file; write them for real (each block rewritten with what it
    reads as), as a used file system's journal is."""
    out = subprocess.run(["debugfs", "-R", "stat <8>", image], capture_output=True,
                         text=True).stdout
    with open(image, "r+b") as f:
        for _, _, p0, p1 in re.findall(r"\((\d+)-(\d+)\):(\d+)-(\d+)", out):
            start, end = int(p0) * 4096, (int(p1) + 1) * 4096
            for off in range(start, end, 1 << 20):
                f.seek(off)
                buf = f.read(min(1 << 20, end - off))
                f.seek(off)
                f.write(buf)


def fs_type(path):
    try:
        return subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", path],
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


# ---------------------------------------------------------------- host process tree


def proc_tree(root):
    """pids of root and all its descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        # utime stime cutime cstime are fields 14-17 (1-based) of stat
        total += sum(int(x) for x in fields[11:15])
    return total


def cpu_ns(pids):
    """On-CPU time of all threads of pids in ns (schedstat's sum_exec_runtime,
    the precise form of utime+stime), or None without schedstats."""
    total = 0
    for p in pids:
        try:
            tids = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for t in tids:
            try:
                with open("/proc/%d/task/%s/schedstat" % (p, t)) as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                continue
            except (OSError, ValueError, IndexError):
                return None
    return total


def pss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


# ---------------------------------------------------------------- a booted guest


class Guest:
    """One vmlinux or linux.uml whose console is a pair of pipes."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.buf = bytearray()
        self.cv = threading.Condition()
        self.eof = False
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self.cv:
                if not chunk:
                    self.eof = True
                    self.cv.notify_all()
                    return
                self.buf += chunk.replace(b"\r\n", b"\n")
                self.cv.notify_all()

    def expect(self, pattern, start, timeout):
        """Wait until `pattern` (bytes) appears in the output at or after
        offset `start`; return (offset just past it, time seen) or raise."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                i = self.buf.find(pattern, start)
                if i >= 0:
                    return i + len(pattern), time.monotonic()
                if self.eof:
                    raise GuestError("exited before printing %r" % pattern.decode(), self)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GuestError("timed out waiting for %r" % pattern.decode(), self)
                self.cv.wait(left)

    def mark(self):
        with self.cv:
            return len(self.buf)

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def text(self):
        with self.cv:
            return self.buf.decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()

    def poweroff(self):
        """Type poweroff -f; return seconds until the host process exits."""
        # Popen.wait(timeout) polls with sleeps of up to 50 ms; a pidfd
        # becomes readable the moment the process exits.
        pidfd = os.pidfd_open(self.proc.pid)
        try:
            t0 = time.monotonic()
            self.send("poweroff -f")
            ready, _, _ = select.select([pidfd], [], [], POWEROFF_TIMEOUT)
            dt = time.monotonic() - t0
        finally:
            os.close(pidfd)
        if not ready:
            raise GuestError("did not exit within %gs of poweroff -f" % POWEROFF_TIMEOUT, self)
        self.proc.wait()
        self.reader.join(5)
        if self.proc.returncode != 0:
            raise GuestError("exit status %d after poweroff -f" % self.proc.returncode, self)
        return dt


class GuestError(Exception):
    def __init__(self, what, guest):
        super().__init__(what)
        self.what = what
        self.output = guest.text() if guest else ""
        self.reason = failure_reason(self.output) or what


def failure_reason(text):
    """The line of a console log that best explains a failed boot."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    pats = [r"ptrace .*failed", r"[Kk]ernel panic.*", r"panicked", r"segfault at",
            r"\bfailed\b", r"\berror\b"]
    for pat in pats:
        for l in lines:
            if re.search(pat, l):
                return l[:200]
    return None


# ---------------------------------------------------------------- runners


class Runner:
    def __init__(self, build, args):
        self.b = build
        self.args = args
        self.uml_env = None  # environment for linux.uml (LD_PRELOAD shim or not)
        self.uml_dir = os.path.join(build.dir, "uml")
        self.status = {e: {"status": "ok"} for e in ENVS}
        self.samples = {e: {} for e in ENVS}
        self.logs = {}
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)

    # argv of each kernel
    # A command the kernel runs under (bench/profile.py: perf stat/record).
    wrap = []

    def argv(self, env):
        if env == "ruml":
            # RUML_BENCH_PLATFORM=seccomp measures ruml on that platform.
            extra = ["platform=" + os.environ["RUML_BENCH_PLATFORM"]] \
                if os.environ.get("RUML_BENCH_PLATFORM") else []
            return self.pin() + self.wrap + [self.b.vmlinux] + self.b.words(env) + extra
        # uml_dir= keeps UML's per-instance directories out of ~/.uml.
        return self.pin() + self.wrap + [UML] + self.b.words(env) + ["uml_dir=" + self.uml_dir]

    def pin(self):
        return ["taskset", "-c", self.args.pin] if self.args.pin else []

    def ubench_cmd(self):
        cmd = [GUEST_UBENCH, "all", "--rootdir", GUEST_ROOTDIR, "--tmpfsdir", GUEST_TMPFSDIR,
               "--exe", GUEST_UBENCH, "--script", GUEST_SCRIPT, "--io-mib", str(root_io_mib()),
               "--tmpfs-io-mib", str(TMPFS_IO_MIB)]
        if self.args.only:
            cmd += ["--only", self.args.only]
        if getattr(self.args, "target_ms", None):
            cmd += ["--target-ms", str(self.args.target_ms)]
        return cmd

    def add(self, env, name, value):
        self.samples[env].setdefault(name, []).append(value)

    def boot(self, env):
        """Boot env's kernel to its prompt; return (guest, boot seconds)."""
        envvars = self.uml_env if env == "uml" else None
        self.b.fresh_image(env)
        g = Guest(self.argv(env), env=envvars)
        try:
            end, t = g.expect(PROMPT, 0, BOOT_TIMEOUT)
        except GuestError:
            g.kill()
            raise
        return g, t - g.t_start, end

    # --- UML: probe, and fall back to the xstate shim
    def probe_uml(self):
        st = self.status["uml"]
        if not os.access(UML, os.X_OK):
            st.update(status="failed", reason="%s not installed (apt-get install user-mode-linux)" % UML)
            return
        tries = [("plain", None)]
        if self.args.uml_shim != "never" and os.path.exists(self.b.shim):
            e = dict(os.environ, LD_PRELOAD=self.b.shim)
            tries = [("shim", e)] if self.args.uml_shim == "always" else tries + [("shim", e)]
        for kind, envvars in tries:
            self.uml_env = envvars
            try:
                g, _, _ = self.boot("uml")
                g.send("echo probe-$((6*7))")
                g.expect(b"probe-42", 0, BOOT_TIMEOUT)
                g.poweroff()
            except GuestError as e:
                log("linux.uml (%s) failed: %s" % (kind, e.reason))
                self.logs["uml-probe-" + kind] = e.output
                st["plain_failure" if kind == "plain" else "shim_failure"] = e.reason
                continue
            st["xstate_shim"] = kind == "shim"
            if kind == "shim":
                st["note"] = ("plain linux.uml failed (%s); ran with LD_PRELOAD=bench/uml/xstate_shim.c"
                              % st.get("plain_failure"))
            log("linux.uml works (%s)" % kind)
            return
        st["status"] = "failed"
        st["reason"] = st.get("plain_failure") or st.get("shim_failure")

    # --- one benchmark run
    def bench_native(self):
        b = self.b
        env = dict(os.environ, PATH=b.bindir + ":" + os.environ.get("PATH", ""))
        cmd = [b.ubench, "all", "--rootdir", b.native_root, "--tmpfsdir", b.native_tmpfs,
               "--exe", b.ubench, "--sh", os.path.join(b.bindir, "sh"),
               "--script", b.script, "--io-mib", str(root_io_mib()),
               "--tmpfs-io-mib", str(TMPFS_IO_MIB)]
        if self.args.only:
            cmd += ["--only", self.args.only]
        out = subprocess.run(self.pin() + cmd, env=env, capture_output=True, text=True,
                             timeout=RUN_TIMEOUT)
        self.parse("native", out.stdout)
        if out.returncode != 0:
            log("native ubench exit %d: %s" % (out.returncode, out.stdout[-500:] + out.stderr[-500:]))

    def bench_guest(self, env):
        try:
            g, boot_s, end = self.boot(env)
            self.add(env, "boot", boot_s)
            g.send(" ".join(self.ubench_cmd()))
            end2, _ = g.expect(b"UBENCH-DONE", end, RUN_TIMEOUT)
            g.expect(PROMPT, end2, RUN_TIMEOUT)
            text = g.text()[end:]
            self.add(env, "poweroff", g.poweroff())
            self.parse(env, text)
            self.logs["%s-last-run" % env] = g.text()
            self.check_fs(env)
        except GuestError as e:
            self.fail_run(env, e)

    def check_fs(self, env):
        """e2fsck -fn the image env's kernel just powered off (poweroff -f,
        so no unmount: a journal to replay is fine, damage is not)."""
        if ROOT_MODE == "initramfs" or not shutil.which("e2fsck"):
            return
        img = self.b.run_image(env)
        # Replay the journal on a scratch copy first, as the next mount would.
        tmp = img + ".fsck"
        subprocess.run(["cp", "--sparse=always", img, tmp], check=True)
        try:
            subprocess.run(["e2fsck", "-E", "journal_only", "-y", tmp],
                           capture_output=True, text=True)
            out = subprocess.run(["e2fsck", "-fn", tmp], capture_output=True, text=True)
        finally:
            os.unlink(tmp)
        self.add(env, "fsck_clean", 1.0 if out.returncode == 0 else 0.0)
        if out.returncode != 0:
            msg = "e2fsck -fn after the run: exit %d: %s" % (
                out.returncode, " / ".join(l.strip() for l in out.stdout.splitlines()[1:6]))
            log("%s: %s" % (env, msg))
            self.logs["%s-fsck" % env] = out.stdout + out.stderr
            self.status[env].setdefault("fs_failures", []).append(msg[:300])

    def idle_guest(self, env):
        try:
            g, boot_s, _ = self.boot(env)
            self.add(env, "boot", boot_s)
            time.sleep(IDLE_SETTLE)
            pids = proc_tree(g.proc.pid)
            c0, n0 = cpu_ticks(pids), cpu_ns(pids)
            t0 = time.monotonic()
            time.sleep(IDLE_SECONDS)
            pids = proc_tree(g.proc.pid)
            c1, n1 = cpu_ticks(pids), cpu_ns(pids)
            dt = time.monotonic() - t0
            pss = pss_kb(pids)
            hz = os.sysconf("SC_CLK_TCK")
            ticks_pct = 100.0 * (c1 - c0) / hz / dt
            self.add(env, "idle_cpu_ticks", ticks_pct)
            if n0 is not None and n1 is not None and n1 >= n0:
                self.add(env, "idle_cpu", 100.0 * (n1 - n0) / 1e9 / dt)
            else:
                self.add(env, "idle_cpu", ticks_pct)
            self.add(env, "idle_pss", pss / 1024.0)
            self.add(env, "idle_host_processes", float(len(pids)))
            self.add(env, "poweroff", g.poweroff())
            self.check_fs(env)
        except GuestError as e:
            self.fail_run(env, e)

    def fail_run(self, env, e):
        log("%s run failed: %s" % (env, e.reason))
        self.logs["%s-failed" % env] = e.output
        st = self.status[env]
        st.setdefault("run_failures", []).append(e.reason)

    def parse(self, env, text):
        for line in text.splitlines():
            m = re.match(r"^METRIC (\S+) (\S+) (\S+)", line.strip())
            if m:
                self.add(env, m.group(1), float(m.group(2)))
            elif line.startswith("METRIC-FAIL"):
                log("%s: %s" % (env, line.strip()))
                self.status[env].setdefault("metric_failures", []).append(line.strip())

    def active(self):
        return [e for e in ENVS if self.status[e]["status"] == "ok"
                and not (e == "uml" and self.args.no_uml)]

    def go(self):
        if self.args.no_uml:
            self.status["uml"].update(status="skipped", reason="--no-uml")
        else:
            self.probe_uml()
        envs = self.active()
        self.load_before = os.getloadavg()
        t_start = time.monotonic()
        for r in range(self.args.rounds):
            # Rotate the order each round so no kernel always goes first.
            order = envs[r % len(envs):] + envs[:r % len(envs)]
            for env in order:
                log("round %d/%d: %s" % (r + 1, self.args.rounds, env))
                if env == "native":
                    self.bench_native()
                else:
                    self.bench_guest(env)
        guests = [e for e in envs if e != "native"]
        for r in range(self.args.idle_rounds):
            order = guests[r % len(guests):] + guests[:r % len(guests)] if guests else []
            for env in order:
                log("idle %d/%d: %s" % (r + 1, self.args.idle_rounds, env))
                self.idle_guest(env)
        self.elapsed = time.monotonic() - t_start
        self.load_after = os.getloadavg()
        shutil.rmtree(self.b.native_tmpfs, ignore_errors=True)
        shutil.rmtree(self.uml_dir, ignore_errors=True)


# ---------------------------------------------------------------- report


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    hypervisor = None
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Hypervisor vendor:"):
                hypervisor = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    virt = ""
    try:
        virt = subprocess.run(["systemd-detect-virt"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "kernel_version": platform.version(),
        "mem_gib": round(mem_kb / 1048576, 1),
        "hypervisor": hypervisor,
        "container": virt or None,
        "cpu_features": sorted(flags & {"avx2", "avx512f", "amx_tile", "xsave", "xsaves"}),
        "uml_version": uml_version(),
        "ruml_platform": ruml_platform(),
        "python": platform.python_version(),
    }


def ruml_platform():
    """The platform ruml runs on in this bench: RUML_BENCH_PLATFORM when
    set, else vmlinux's own default (seccomp where the host enables
    user-space FSGSBASE, AT_HWCAP2 bit 1; ptrace elsewhere)."""
    named = os.environ.get("RUML_BENCH_PLATFORM")
    if named:
        return named
    try:
        with open("/proc/self/auxv", "rb") as f:
            data = f.read()
        for i in range(0, len(data) - 15, 16):
            key, val = struct.unpack_from("<QQ", data, i)
            if key == 26:  # AT_HWCAP2
                return "seccomp" if val & 2 else "ptrace"
    except OSError:
        pass
    return "ptrace"


def uml_version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "user-mode-linux"],
                             capture_output=True, text=True)
        return out.stdout.strip() or None
    except OSError:
        return None


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3f" % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def targets(med):
    """The issue's targets for ruml; (text, met or None, detail)."""
    r, u = med["ruml"], med["uml"]

    def g(d, k):
        return d.get(k)

    out = []

    def add(text, ok, detail):
        out.append({"target": text, "met": ok, "detail": detail})

    v = g(r, "boot")
    add("boot to prompt < 0.3 s [UML 1.3 s]", None if v is None else v < 0.3,
        "ruml %s s, UML %s s" % (fmt(v), fmt(g(u, "boot"))))
    v, w = g(r, "fork_exit_wait"), g(u, "fork_exit_wait")
    ref = w if w is not None else 1200.0
    add("fork + wait faster than UML [1.2 ms]", None if v is None else v < ref,
        "ruml %s us, UML %s us%s" % (fmt(v), fmt(w), "" if w is not None else " (using 1.2 ms)"))
    v, w = g(r, "fork_exec_wait"), g(u, "fork_exec_wait")
    ref = w if w is not None else 12000.0
    add("fork + exec + wait <= half of UML [12 ms]", None if v is None else v <= ref / 2,
        "ruml %s us, UML %s us%s" % (fmt(v), fmt(w), "" if w is not None else " (using 12 ms)"))
    v = g(r, "pagefault")
    add("anonymous page fault < 10 us [UML 70 us]", None if v is None else v < 10,
        "ruml %s us, UML %s us" % (fmt(v), fmt(g(u, "pagefault"))))
    v = g(r, "idle_cpu")
    add("idle guest < 0.5% of a CPU", None if v is None else v < 0.5,
        "ruml %s %%, UML %s %%" % (fmt(v), fmt(g(u, "idle_cpu"))))
    v = g(r, "idle_pss")
    add("idle PSS < 40 MB with mem=256M [UML 120 MB]", None if v is None else v < 40,
        "ruml %s MB, UML %s MB" % (fmt(v), fmt(g(u, "idle_pss"))))
    return out


def report(runner, build, args):
    med = {e: {} for e in ENVS}
    for e in ENVS:
        for name, vals in runner.samples[e].items():
            med[e][name] = statistics.median(vals)
    root_desc = {"initramfs": "initramfs (RAM, tmpfs)",
                 "ext4": "ext4 (jbd2 journal) on ubd0, a %s image from rootfs/mkext4.sh, "
                         "fresh copy per boot" % EXT4_IMAGE_SIZE}[ROOT_MODE]
    rows = []
    for name, unit, lower, desc in METRICS:
        desc = desc.replace("N MiB", "%d MiB" % root_io_mib())
        row = {"name": name, "unit": unit, "better": "lower" if lower else "higher",
               "description": desc}
        for e in ENVS:
            row[e] = {"median": med[e].get(name), "samples": runner.samples[e].get(name, [])}
        row["ruml_vs_native"] = ratio(med["ruml"].get(name), med["native"].get(name))
        row["ruml_vs_uml"] = ratio(med["ruml"].get(name), med["uml"].get(name))
        rows.append(row)

    known = {m[0] for m in METRICS}
    uml_st = runner.status["uml"]
    uml_head = "UML"
    if uml_st["status"] == "ok" and uml_st.get("xstate_shim"):
        uml_head = "UML*"

    def cell(e, name):
        st = runner.status[e]
        if st["status"] != "ok" or (st.get("run_failures") and not runner.samples[e]):
            return "n/a"
        if e == "native" and name in GUEST_ONLY:
            return "-"
        return fmt(med[e].get(name))

    head = ["metric", "unit", "native", uml_head, "ruml (%s)" % ruml_platform(), "ruml/native",
            "ruml/UML"]
    table = [head]
    for row in rows:
        n = row["name"]
        table.append([row["description"], row["unit"] + (" ↓" if row["better"] == "lower" else " ↑"),
                      cell("native", n), cell("uml", n), cell("ruml", n),
                      fmt(row["ruml_vs_native"]) + ("x" if row["ruml_vs_native"] is not None else ""),
                      fmt(row["ruml_vs_uml"]) + ("x" if row["ruml_vs_uml"] is not None else "")])
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = []
    for i, r in enumerate(table):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])] + \
                [r[j].rjust(widths[j]) for j in range(2, len(head))]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [
        "medians of %d runs (idle rows: %d boots; boot/poweroff: every boot); "
        "ratio = ruml value / other value (↓ lower is better, ↑ higher is better)"
        % (args.rounds, args.idle_rounds),
        "guest root fs: %s%s; native root fs: %s (%s), native tmpfs: /dev/shm"
        % (root_desc, ", so the root-fs rows measure RAM (fsync is a no-op)"
           if ROOT_MODE == "initramfs" else "", build.native_root, fs_type(build.native_root)),
        "sequential I/O on tmpfs%s uses %d MiB, not 256 MiB: mem=%s cannot hold 256 MiB in RAM"
        % (" and the RAM root" if ROOT_MODE == "initramfs" else "", TMPFS_IO_MIB, MEM),
    ]
    if ROOT_MODE != "initramfs":
        for e in ("uml", "ruml"):
            fs = runner.samples[e].get("fsck_clean")
            if fs:
                notes.append("%s: e2fsck -fn of the image after each boot (journal replayed): "
                             "%d of %d clean" % (LABEL[e], sum(fs), len(fs)))
    if uml_st["status"] == "skipped":
        notes.append("UML: n/a (skipped: %s)" % uml_st.get("reason"))
    elif uml_st["status"] != "ok":
        notes.append("UML: n/a (linux.uml failed: %s)" % uml_st.get("reason"))
    elif uml_st.get("xstate_shim"):
        notes.append("UML*: %s" % uml_st["note"])
    notes.append("host load average before/after: %.2f / %.2f (other work on the host adds noise)"
                 % (runner.load_before[0], runner.load_after[0]))
    if args.pin:
        notes.append("all three pinned with taskset -c %s" % args.pin)
    for e in ENVS:
        if runner.status[e]["status"] == "ok" and runner.status[e].get("run_failures") \
                and not runner.samples[e]:
            notes.append("%s: n/a (every run failed: %s)" % (e, runner.status[e]["run_failures"][0]))
        for k in ("run_failures", "metric_failures", "fs_failures"):
            if runner.status[e].get(k):
                notes.append("%s %s: %s" % (e, k.replace("_", " "), "; ".join(runner.status[e][k][:3])))
    tg = targets(med)
    lines.append("")
    lines += ["note: " + n for n in notes]
    lines.append("")
    lines.append("ruml targets:")
    for t in tg:
        mark = {True: "met   ", False: "MISSED", None: "n/a   "}[t["met"]]
        lines.append("  %s  %s  (%s)" % (mark, t["target"], t["detail"]))
    lines.append("")
    lines.append("total %.0f s" % runner.elapsed)
    text = "\n".join(lines) + "\n"

    result = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {
            "rounds": args.rounds, "idle_rounds": args.idle_rounds, "mem": MEM,
            "root_mode": ROOT_MODE, "guest_root": root_desc, "root_io_mib": root_io_mib(),
            "tmpfs_io_mib": TMPFS_IO_MIB,
            "idle_seconds": IDLE_SECONDS, "pin": args.pin or None,
            "words": build.words(),
            "guest_command": " ".join(runner.ubench_cmd()),
            "native_root_fs": fs_type(build.native_root),
        },
        "environments": runner.status,
        "metrics": rows,
        "extra": {e: {n: {"median": statistics.median(v), "samples": v}
                      for n, v in runner.samples[e].items() if n not in known}
                  for e in ENVS},
        "targets": tg,
        "notes": notes,
        "elapsed_s": round(runner.elapsed, 1),
        "host_loadavg_before": runner.load_before,
        "host_loadavg_after": runner.load_after,
    }
    if args.git:
        try:
            result["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                           capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
    return text, result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, help="benchmark rounds (default 5)")
    ap.add_argument("--idle-rounds", type=int, help="idle boots per kernel (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="1 round and 1 idle boot unless given otherwise")
    ap.add_argument("--only", help="comma-separated ubench metrics (e.g. getppid,fork_exit_wait)")
    ap.add_argument("--no-uml", action="store_true", help="leave linux.uml out")
    ap.add_argument("--uml-shim", choices=["auto", "always", "never"], default="auto",
                    help="LD_PRELOAD bench/uml/xstate_shim.c into linux.uml if it fails without "
                         "(auto, default), always, or never")
    ap.add_argument("--root", choices=["initramfs", "ext4"],
                    help="guest root file system (default: ROOT_MODE = %s)" % ROOT_MODE)
    ap.add_argument("--pin", metavar="CPUS", help="run everything under taskset -c CPUS")
    ap.add_argument("--no-cargo", action="store_true", help="do not run cargo build")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"),
                    help="JSON output (default bench/results/latest.json)")
    args = ap.parse_args()
    args.git = True
    if args.root:
        globals()["ROOT_MODE"] = args.root
    if args.rounds is None:
        args.rounds = 1 if args.quick else 5
    if args.idle_rounds is None:
        args.idle_rounds = 1 if args.quick else 3
    if args.pin and not shutil.which("taskset"):
        sys.exit("bench: --pin needs taskset (util-linux)")

    build = Build(args)
    build.all()
    runner = Runner(build, args)
    try:
        runner.go()
    except KeyboardInterrupt:
        sys.exit("bench: interrupted")
    text, result = report(runner, build, args)
    print(text, end="")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    with open(os.path.splitext(args.out)[0] + ".txt", "w") as f:
        f.write(text)
    logdir = os.path.join(build.dir, "logs")
    os.makedirs(logdir, exist_ok=True)
    for old in os.listdir(logdir):  # only this run's logs
        if old.endswith(".log"):
            os.unlink(os.path.join(logdir, old))
    for k, v in runner.logs.items():
        with open(os.path.join(logdir, k + ".log"), "w") as f:
            f.write(v)
    log("wrote %s (console logs in %s)" % (args.out, logdir))


if __name__ == "__main__":
    main()
