/*
 * ubench: the microbenchmarks that bench/bench.py runs natively, inside
 * linux.uml and inside ruml. Build: gcc -O2 -static -o ubench ubench.c
 *
 *   ubench all --rootdir DIR --tmpfsdir DIR [--exe PATH] [--sh PATH]
 *              [--script FILE] [--io-mib N] [--tmpfs-io-mib N] [--only NAME,...]
 *              [--target-ms N]
 *   ubench nop                 exit 0 at once (the execve target)
 *
 * Every result is one line on stdout:
 *   METRIC <name> <value> <unit>
 * and the run ends with "UBENCH-DONE <number of failures>". A benchmark that
 * cannot run prints "METRIC-FAIL <name> <reason>" instead.
 *
 * Loop benchmarks calibrate themselves: the batch size doubles until one
 * batch takes at least TARGET_NS, so a slow kernel runs fewer iterations and
 * a fast one more, and each reports the mean over its last batch
 * (--target-ms changes the 200 ms, e.g. to profile one loop for longer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t TARGET_NS = 200000000ULL; /* 0.2 s per loop benchmark */
static int target_set; /* --target-ms given */
static uint64_t total_iters; /* iterations of every batch of the last loop */
#define MAX_ITERS (1ULL << 26)

static const char *rootdir = "/var/tmp";
static const char *tmpfsdir = "/mnt/tmpfs";
static const char *exe = "/proc/self/exe";
static const char *shpath = "/bin/sh";
static const char *script;
static long io_mib = 64, tmpfs_io_mib = -1;
static const char *only;
static int failures;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int selected(const char *name)
{
    if (!only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static void metric(const char *name, double value, const char *unit)
{
    printf("METRIC %s %.6g %s\n", name, value, unit);
    fflush(stdout);
}

static void fail(const char *name, const char *what)
{
    printf("METRIC-FAIL %s %s: %s\n", name, what, strerror(errno));
    fflush(stdout);
    failures++;
}

/* Run fn(iters) with growing iteration counts until one call takes
 * TARGET_NS; return ns per iteration of that call, or -1 if fn failed. */
static double calibrate(int (*fn)(uint64_t))
{
    uint64_t iters = 1;
    total_iters = 0;
    for (;;) {
        uint64_t t0 = now_ns();
        if (fn(iters) < 0)
            return -1;
        total_iters += iters;
        uint64_t dt = now_ns() - t0;
        if (dt >= TARGET_NS || iters >= MAX_ITERS)
            return (double)dt / (double)iters;
        /* Jump close to the target once a batch is long enough to time. */
        if (dt > TARGET_NS / 64)
            iters = (uint64_t)((double)iters * (double)TARGET_NS * 1.1 / (double)dt) + 1;
        else
            iters *= 4;
    }
}

/* ---- syscalls -------------------------------------------------------- */

static int do_getppid(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        syscall(SYS_getppid);
    return 0;
}

static int do_clock_gettime(uint64_t n)
{
    struct timespec ts;
    for (uint64_t i = 0; i < n; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    return 0;
}

/* ---- processes ------------------------------------------------------- */

static int wait_ok(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        errno = ECHILD;
        return -1;
    }
    return 0;
}

static int do_fork(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0)
            _exit(0);
        if (wait_ok(pid) < 0)
            return -1;
    }
    return 0;
}

static int do_fork_exec(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            char *argv[] = {"ubench", "nop", NULL};
            char *envp[] = {NULL};
            execve(exe, argv, envp);
            _exit(127);
        }
        if (wait_ok(pid) < 0)
            return -1;
    }
    return 0;
}

static int do_pipe_pingpong(uint64_t n)
{
    int a[2], b[2];
    if (pipe(a) < 0 || pipe(b) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char c;
        close(a[1]);
        close(b[0]);
        while (read(a[0], &c, 1) == 1)
            if (write(b[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    close(a[0]);
    close(b[1]);
    int rc = 0;
    char c = 'x';
    for (uint64_t i = 0; i < n; i++) {
        if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) {
            rc = -1;
            break;
        }
    }
    close(a[1]);
    close(b[0]);
    if (wait_ok(pid) < 0)
        rc = -1;
    return rc;
}

/* ---- memory ---------------------------------------------------------- */

static int do_mmap_munmap(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return -1;
        if (munmap(p, 1 << 20) < 0)
            return -1;
    }
    return 0;
}

static void bench_pagefault(void)
{
    const size_t len = 64UL << 20, page = 4096;
    double best = -1;
    uint64_t start = now_ns(), pages = 0;
    int pass;
    /* Three fresh mappings; the fastest pass is the cost of a fault. With
     * --target-ms (profiling), more passes until that much time is spent,
     * and also the average over all of them, mmap and munmap included. */
    for (pass = 0; pass < 3 || (target_set && now_ns() - start < TARGET_NS); pass++) {
        volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            fail("pagefault", "mmap 64 MiB");
            return;
        }
        uint64_t t0 = now_ns();
        for (size_t off = 0; off < len; off += page)
            p[off] = 1;
        uint64_t dt = now_ns() - t0;
        munmap((void *)p, len);
        double per = (double)dt / (double)(len / page);
        if (best < 0 || per < best)
            best = per;
        pages += len / page;
    }
    metric("pagefault", best / 1000.0, "us/page");
    if (target_set) {
        metric("pagefault_avg", (double)(now_ns() - start) / (double)pages / 1000.0, "us/page");
        printf("OPS pagefault %llu\n", (unsigned long long)pages);
    }
}

/* ---- files ----------------------------------------------------------- */

static char fsync_path[512];

static int do_file_fsync(uint64_t n)
{
    static char buf[4096];
    memset(buf, 'f', sizeof buf);
    for (uint64_t i = 0; i < n; i++) {
        int fd = open(fsync_path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        if (fd < 0)
            return -1;
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fsync(fd) < 0) {
            close(fd);
            return -1;
        }
        close(fd);
        if (unlink(fsync_path) < 0)
            return -1;
    }
    return 0;
}

static void bench_seq(const char *tag, const char *dir, long mib)
{
    char path[512], name[64];
    static char buf[1 << 20];
    size_t total = (size_t)mib << 20;
    memset(buf, 0x5a, sizeof buf);
    snprintf(path, sizeof path, "%s/ubench-seq.%d", dir, (int)getpid());

    snprintf(name, sizeof name, "seqwrite_%s", tag);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) {
        fail(name, path);
        return;
    }
    uint64_t t0 = now_ns();
    for (size_t done = 0; done < total; done += sizeof buf) {
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
            fail(name, "write");
            close(fd);
            unlink(path);
            return;
        }
    }
    if (fsync(fd) < 0) {
        fail(name, "fsync");
        close(fd);
        unlink(path);
        return;
    }
    close(fd);
    uint64_t dt = now_ns() - t0;
    metric(name, (double)total / 1048576.0 / ((double)dt / 1e9), "MiB/s");

    snprintf(name, sizeof name, "seqread_%s", tag);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        fail(name, path);
        unlink(path);
        return;
    }
    t0 = now_ns();
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) {
            fail(name, "read");
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    dt = now_ns() - t0;
    close(fd);
    unlink(path);
    if (got != total) {
        errno = EIO;
        fail(name, "short read");
        return;
    }
    metric(name, (double)total / 1048576.0 / ((double)dt / 1e9), "MiB/s");
}

/* ---- macro: a shell script that runs many small processes ------------ */

static void bench_macro(void)
{
    if (!script)
        return;
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        fail("shell_script", "fork");
        return;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            close(null);
        }
        execl(shpath, "sh", script, (char *)NULL);
        _exit(127);
    }
    if (wait_ok(pid) < 0) {
        fail("shell_script", script);
        return;
    }
    metric("shell_script", (double)(now_ns() - t0) / 1e6, "ms");
}

/* ---- driver ---------------------------------------------------------- */

static void run_loop(const char *name, int (*fn)(uint64_t), double scale, const char *unit)
{
    if (!selected(name))
        return;
    double ns = calibrate(fn);
    if (ns < 0) {
        fail(name, "loop");
        return;
    }
    metric(name, ns / scale, unit);
    /* For bench/profile.py: how many operations the whole loop ran. */
    if (target_set)
        printf("OPS %s %llu\n", name, (unsigned long long)total_iters);
}

static void usage(void)
{
    fprintf(stderr, "usage: ubench all --rootdir DIR --tmpfsdir DIR [--exe PATH] [--sh PATH]\n"
                    "                  [--script FILE] [--io-mib N] [--tmpfs-io-mib N]\n"
                    "                  [--only NAME,...] [--target-ms N]\n"
                    "       ubench nop\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "nop") == 0)
        return 0;
    if (argc < 2 || strcmp(argv[1], "all") != 0)
        usage();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--rootdir"))
            rootdir = v;
        else if (!strcmp(a, "--tmpfsdir"))
            tmpfsdir = v;
        else if (!strcmp(a, "--exe"))
            exe = v;
        else if (!strcmp(a, "--sh"))
            shpath = v;
        else if (!strcmp(a, "--script"))
            script = v;
        else if (!strcmp(a, "--io-mib"))
            io_mib = atol(v);
        else if (!strcmp(a, "--tmpfs-io-mib"))
            tmpfs_io_mib = atol(v);
        else if (!strcmp(a, "--only"))
            only = v;
        else if (!strcmp(a, "--target-ms"))
            TARGET_NS = (uint64_t)atol(v) * 1000000ULL, target_set = 1;
        else
            usage();
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("UBENCH-START\n");

    run_loop("getppid", do_getppid, 1.0, "ns");
    run_loop("clock_gettime", do_clock_gettime, 1.0, "ns");
    run_loop("fork_exit_wait", do_fork, 1000.0, "us");
    run_loop("fork_exec_wait", do_fork_exec, 1000.0, "us");
    run_loop("pipe_pingpong", do_pipe_pingpong, 1000.0, "us");
    if (selected("pagefault"))
        bench_pagefault();
    run_loop("mmap_munmap_1m", do_mmap_munmap, 1000.0, "us");
    snprintf(fsync_path, sizeof fsync_path, "%s/ubench-fsync.%d", rootdir, (int)getpid());
    run_loop("file_create_fsync", do_file_fsync, 1000.0, "us");
    if (selected("seq_root"))
        bench_seq("root", rootdir, io_mib);
    if (selected("seq_tmpfs"))
        bench_seq("tmpfs", tmpfsdir, tmpfs_io_mib >= 0 ? tmpfs_io_mib : io_mib);
    if (selected("shell_script"))
        bench_macro();

    printf("UBENCH-DONE %d\n", failures);
    return failures ? 1 : 0;
}
