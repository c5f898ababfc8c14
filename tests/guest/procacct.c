/* Process accounting: CPU times, faults and context switches through
 * getrusage, times, the CPU clocks and /proc/self/{stat,statm,status},
 * and the memory figures of /proc. Checks relations, never exact times,
 * and prints one "ok"/"FAIL" line per check, so the output is the same
 * natively and in a guest (tests/spine_c.rs compares them). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void check(int ok, const char *name, const char *fmt, long a, long b) {
    if (ok) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s (", name);
        printf(fmt, a, b);
        printf(")\n");
    }
}

/* Linux's RSS counters are per-CPU and lag by batches of pages: the same
 * figure read twice is near, not equal (ruml's are exact). */
static int near(long a, long b) {
    long d = a > b ? a - b : b - a;
    return d <= 64 + b / 2;
}

static long tv_us(struct timeval tv) { return tv.tv_sec * 1000000L + tv.tv_usec; }

static void busy(long n) {
    volatile long x = 0;
    for (long i = 0; i < n; i++) x += i;
}

static struct rusage self_usage(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru;
}

/* Read a whole /proc file into buf with plain syscalls (stdio would
 * allocate, which changes the very figures being compared). */
static char *slurp(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY);
    size_t n = 0;
    if (fd < 0) { buf[0] = 0; return buf; }
    for (;;) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r <= 0) break;
        n += r;
    }
    close(fd);
    buf[n] = 0;
    return buf;
}

static char stat_buf[4096], statm_buf[4096], status_buf[8192];

/* Field `n` (1-based, Linux's numbering) of /proc/self/stat. */
static long stat_field(const char *s, int n) {
    const char *p = strrchr(s, ')');
    if (!p) return -1;
    p += 2; /* field 3 starts here */
    for (int f = 3; f < n; f++) {
        p = strchr(p, ' ');
        if (!p) return -1;
        p++;
    }
    return strtol(p, NULL, 10);
}

static int stat_fields(const char *s) {
    const char *p = strrchr(s, ')');
    int n = 2;
    if (!p) return 0;
    for (p++; *p && *p != '\n'; p++)
        if (*p == ' ') n++;
    return n;
}

/* "Name:\t value kB" from status; -1 if missing. */
static long status_kb(const char *s, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\n%s:", name);
    const char *p = strstr(s, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static unsigned long long status_hex(const char *s, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\n%s:", name);
    const char *p = strstr(s, key);
    return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

static void read_proc(void) {
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    slurp("/proc/self/statm", statm_buf, sizeof statm_buf);
    slurp("/proc/self/stat", stat_buf, sizeof stat_buf);
}

static long cpu_ns(clockid_t c) {
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0) return -1;
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* user and system ticks of /proc/stat's cpu line. */
static void cpu_line(long *user, long *sys) {
    static char buf[65536];
    long nice = 0;
    *user = *sys = -1;
    sscanf(slurp("/proc/stat", buf, sizeof buf), "cpu %ld %ld %ld", user, &nice, sys);
}

static void on_usr1(int sig) { (void)sig; }

int main(void) {
    long hz = sysconf(_SC_CLK_TCK);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("procacct start\n");

    /* User time from a busy loop. */
    long cpu_user0, cpu_sys0, cpu_user1, cpu_sys1;
    cpu_line(&cpu_user0, &cpu_sys0);
    struct rusage a = self_usage();
    long pc0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
    busy(300000000L);
    struct rusage b = self_usage();
    long pc1 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
    cpu_line(&cpu_user1, &cpu_sys1);
    long du = tv_us(b.ru_utime) - tv_us(a.ru_utime);
    long busy_sys = tv_us(b.ru_stime) - tv_us(a.ru_stime);
    check(du > 0, "busy loop adds user time", "%ld us, %ld", du, 0);
    check(pc1 > pc0 && pc1 - pc0 >= du * 1000 / 2, "process cpu clock follows",
          "%ld ns vs user %ld us", pc1 - pc0, du);
    check(cpu_ns(CLOCK_THREAD_CPUTIME_ID) > 0, "thread cpu clock", "%ld %ld",
          cpu_ns(CLOCK_THREAD_CPUTIME_ID), 0);
    clockid_t pclk;
    check(clock_getcpuclockid(getpid(), &pclk) == 0 && cpu_ns(pclk) >= pc1,
          "clock_getcpuclockid", "%ld vs %ld", cpu_ns(pclk), pc1);
    check(cpu_user1 - cpu_user0 >= du * hz / 1000000 - 5, "/proc/stat user grows",
          "%ld ticks, we used %ld us", cpu_user1 - cpu_user0, du);

    /* System time from a syscall-heavy loop (the kernel zeroes the data). */
    static char zbuf[65536];
    int z = open("/dev/zero", O_RDONLY);
    for (int i = 0; i < 20000; i++)
        if (read(z, zbuf, sizeof zbuf) != sizeof zbuf) break;
    close(z);
    struct rusage c = self_usage();
    long ds = tv_us(c.ru_stime) - tv_us(b.ru_stime);
    check(ds > 0, "syscall loop adds system time", "%ld us, %ld", ds, 0);
    check(ds > busy_sys, "more system time in syscalls than in a busy loop",
          "%ld us vs %ld us", ds, busy_sys);

    /* /proc/self/stat against getrusage (ticks of 1/hz). */
    struct rusage r0 = self_usage();
    read_proc();
    struct rusage r1 = self_usage();
    long su = stat_field(stat_buf, 14), ss = stat_field(stat_buf, 15);
    check(su >= tv_us(r0.ru_utime) * hz / 1000000 - 2 &&
          su <= tv_us(r1.ru_utime) * hz / 1000000 + 2,
          "stat utime matches getrusage", "%ld ticks vs %ld us", su, tv_us(r1.ru_utime));
    check(ss >= tv_us(r0.ru_stime) * hz / 1000000 - 2 &&
          ss <= tv_us(r1.ru_stime) * hz / 1000000 + 2,
          "stat stime matches getrusage", "%ld ticks vs %ld us", ss, tv_us(r1.ru_stime));
    check(stat_fields(stat_buf) == 52, "stat has 52 fields", "%ld %ld",
          stat_fields(stat_buf), 0);
    check(stat_field(stat_buf, 20) == 1, "stat num_threads", "%ld %ld",
          stat_field(stat_buf, 20), 0);
    struct tms tm;
    times(&tm);
    check(tm.tms_utime >= su - 2 && tm.tms_utime > 0, "times() user", "%ld vs %ld",
          (long)tm.tms_utime, su);

    /* Memory figures agree with each other. */
    long size_pages = strtol(statm_buf, NULL, 10);
    long vmsize = status_kb(status_buf, "VmSize");
    check(vmsize > 0 && vmsize == size_pages * 4, "VmSize is statm size", "%ld kB vs %ld pages",
          vmsize, size_pages);
    check(stat_field(stat_buf, 23) == vmsize * 1024, "stat vsize is VmSize", "%ld vs %ld kB",
          stat_field(stat_buf, 23), vmsize);
    long rss_pages = strtol(strchr(statm_buf, ' ') + 1, NULL, 10);
    check(rss_pages > 0 && near(stat_field(stat_buf, 24), rss_pages), "stat rss is statm resident",
          "%ld vs %ld", stat_field(stat_buf, 24), rss_pages);
    check(near(status_kb(status_buf, "VmRSS"), rss_pages * 4), "VmRSS is statm resident",
          "%ld kB vs %ld pages", status_kb(status_buf, "VmRSS"), rss_pages);
    check(status_kb(status_buf, "VmPeak") >= vmsize && status_kb(status_buf, "VmHWM") > 0 &&
          status_kb(status_buf, "VmData") > 0 && status_kb(status_buf, "VmStk") > 0 &&
          status_kb(status_buf, "VmExe") > 0 && status_kb(status_buf, "VmLib") > 0,
          "status Vm* figures", "VmData %ld VmExe %ld", status_kb(status_buf, "VmData"),
          status_kb(status_buf, "VmExe"));

    /* Linux's order of the status fields procps and others look for. */
    static const char *order[] = {
        "Name", "Umask", "State", "Tgid", "Pid", "PPid", "Uid", "Gid", "FDSize", "Groups",
        "VmPeak", "VmSize", "VmLck", "VmHWM", "VmRSS", "VmData", "VmStk", "VmExe", "VmLib",
        "VmPTE", "VmSwap", "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
        "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
        "Cpus_allowed", "Cpus_allowed_list", "voluntary_ctxt_switches",
        "nonvoluntary_ctxt_switches"};
    const char *pos = status_buf;
    int in_order = 1;
    const char *missing = "";
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s%s:\t", i ? "\n" : "", order[i]);
        const char *p = strstr(pos, key);
        if (!p) { in_order = 0; missing = order[i]; break; }
        pos = p + 1;
    }
    check(in_order, "status fields in Linux's order", "%ld%ld", 0, 0);
    if (!in_order) printf("  missing %s\n", missing);

    /* Signal and capability masks. */
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGTERM);
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    check(status_hex(status_buf, "SigCgt") & (1ULL << (SIGUSR1 - 1)), "SigCgt", "%ld%ld", 0, 0);
    check(status_hex(status_buf, "SigIgn") & (1ULL << (SIGUSR2 - 1)), "SigIgn", "%ld%ld", 0, 0);
    check(status_hex(status_buf, "SigBlk") & (1ULL << (SIGTERM - 1)), "SigBlk", "%ld%ld", 0, 0);
    check((status_hex(status_buf, "SigPnd") | status_hex(status_buf, "ShdPnd")) &
              (1ULL << (SIGTERM - 1)),
          "SigPnd", "%ld%ld", 0, 0);
    int sig;
    sigwait(&set, &sig);
    int root = geteuid() == 0;
    check(root == !!(status_hex(status_buf, "CapEff") & (1ULL << 7)), "CapEff by euid",
          "%ld%ld", 0, 0);
    check(status_hex(status_buf, "CapInh") == 0 && status_hex(status_buf, "CapBnd") != 0,
          "CapInh and CapBnd", "%ld%ld", 0, 0);

    /* A 64 MB mapping: VmSize at once, VmRSS only once touched. */
    read_proc();
    long size0 = status_kb(status_buf, "VmSize"), rss0 = status_kb(status_buf, "VmRSS");
    struct rusage f0 = self_usage();
    size_t len = 64 << 20;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    read_proc();
    long size1 = status_kb(status_buf, "VmSize"), rss1 = status_kb(status_buf, "VmRSS");
    check(size1 - size0 == 65536, "mmap 64 MB raises VmSize by 64 MB", "%ld -> %ld kB", size0,
          size1);
    check(rss1 - rss0 < 4096, "untouched mapping is not resident", "%ld -> %ld kB", rss0, rss1);
    check(strtol(statm_buf, NULL, 10) * 4 == size1, "statm follows the mapping", "%ld vs %ld",
          strtol(statm_buf, NULL, 10) * 4, size1);
    for (size_t i = 0; i < len; i += 4096) m[i] = 1;
    read_proc();
    long rss2 = status_kb(status_buf, "VmRSS");
    struct rusage f1 = self_usage();
    check(rss2 - rss0 >= 60000, "touched mapping is resident", "%ld -> %ld kB", rss0, rss2);
    check(f1.ru_minflt > f0.ru_minflt, "touching pages counts minor faults", "%ld -> %ld",
          f0.ru_minflt, f1.ru_minflt);
    check(f1.ru_maxrss >= rss2 - 1024, "ru_maxrss follows VmRSS", "%ld vs %ld kB",
          f1.ru_maxrss, rss2);
    munmap(m, len);
    read_proc();
    check(status_kb(status_buf, "VmPeak") >= size1 && status_kb(status_buf, "VmSize") == size0,
          "VmPeak keeps the peak after munmap", "%ld vs %ld kB", status_kb(status_buf, "VmPeak"),
          size1);
    check(status_kb(status_buf, "VmHWM") >= rss2 - 1024, "VmHWM keeps the peak RSS",
          "%ld vs %ld kB", status_kb(status_buf, "VmHWM"), rss2);

    /* Sleeping is a voluntary context switch. */
    struct rusage v0 = self_usage();
    for (int i = 0; i < 3; i++) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    struct rusage v1 = self_usage();
    check(v1.ru_nvcsw >= v0.ru_nvcsw + 3, "sleeping counts voluntary switches", "%ld -> %ld",
          v0.ru_nvcsw, v1.ru_nvcsw);
    slurp("/proc/self/status", status_buf, sizeof status_buf);
    check(status_kb(status_buf, "voluntary_ctxt_switches") >= v1.ru_nvcsw, "status ctxt switches",
          "%ld vs %ld", status_kb(status_buf, "voluntary_ctxt_switches"), v1.ru_nvcsw);

    /* A child's times reach us when it is reaped. */
    struct rusage ch0;
    getrusage(RUSAGE_CHILDREN, &ch0);
    check(tv_us(ch0.ru_utime) == 0, "no children's time before a child", "%ld us%ld",
          tv_us(ch0.ru_utime), 0);
    pid_t pid = fork();
    if (pid == 0) {
        busy(300000000L);
        _exit(0);
    }
    int st;
    struct rusage wru;
    wait4(pid, &st, 0, &wru);
    struct rusage ch1;
    getrusage(RUSAGE_CHILDREN, &ch1);
    check(tv_us(wru.ru_utime) > 0, "wait4 reports the child's user time", "%ld us%ld",
          tv_us(wru.ru_utime), 0);
    check(tv_us(ch1.ru_utime) >= tv_us(wru.ru_utime) && tv_us(ch1.ru_utime) > 0,
          "children's user time after wait", "%ld vs %ld us", tv_us(ch1.ru_utime),
          tv_us(wru.ru_utime));
    check(ch1.ru_maxrss > 0, "children's maxrss", "%ld kB%ld", ch1.ru_maxrss, 0);
    times(&tm);
    check(tm.tms_cutime > 0, "times() children's user time", "%ld ticks%ld", (long)tm.tms_cutime,
          0);
    slurp("/proc/self/stat", stat_buf, sizeof stat_buf);
    long cut = stat_field(stat_buf, 16);
    check(cut > 0 && cut >= tv_us(ch1.ru_utime) * hz / 1000000 - 2, "stat cutime", "%ld vs %ld us",
          cut, tv_us(ch1.ru_utime));

    /* A second child, reaped by waitid, adds to the first's. */
    pid = fork();
    if (pid == 0) {
        busy(100000000L);
        _exit(0);
    }
    siginfo_t si;
    waitid(P_PID, pid, &si, WEXITED);
    struct rusage ch2;
    getrusage(RUSAGE_CHILDREN, &ch2);
    check(tv_us(ch2.ru_utime) > tv_us(ch1.ru_utime), "waitid adds the child's time",
          "%ld vs %ld us", tv_us(ch2.ru_utime), tv_us(ch1.ru_utime));

    printf("procacct done\n");
    return 0;
}
