/* Hostile guest: tries to get from a guest process to the host.
 *
 * Each attack prints lines "ATTACK <name>: refused ..." or
 * "ATTACK <name>: SUCCEEDED ...". Where an attack would run code on the host,
 * that code creates the file PROOF (a host path given on the command line):
 * the test checks on the host that it never appears.
 *
 *   hostile PROOF mremap|mmap|data|jump|race|fds|signals|all
 *   hostile PROOF hostcall open|mmap-stub|mmap-anon|getpid
 *   hostile PROOF exhaust DIR...   (fds, pids, memory, then fill each DIR)
 *
 * `hostcall` uses the kernel's test hook (vmlinux started with
 * RUML_TEST_HOST_SYSCALL=1): the host system call runs from the stub's own
 * syscall instruction, as if a guest had got that far. The host's seccomp
 * filter must kill the process (the shell reports "Bad system call").
 *
 * The guest's TASK_SIZE ends at STUB_CODE; the stub's code page and its
 * data area are above it (see arch/um/stub.rs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STUB_CODE 0x7ff000000000UL
#define STUB_DATA (STUB_CODE + 0x1000UL)
#define STUB_DATA_SIZE (16 * 4096UL)
#define PAGE 4096UL

static const char *proof;
static int failures;

static void report(const char *name, int refused, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(const char *name, int refused, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printf("ATTACK %s: %s %s\n", name, refused ? "refused" : "SUCCEEDED", buf);
    if (!refused)
        failures++;
    fflush(stdout);
}

/* Host code an attacker would like the stub to run: open(PROOF,
 * O_CREAT|O_WRONLY) and trap. Position independent; the path follows it. */
extern char payload_start[], payload_path[], payload_end[];
__asm__(".pushsection .text.payload, \"ax\"\n"
        "payload_start:\n"
        "  lea payload_path(%rip), %rdi\n"
        "  mov $0x41, %esi\n"
        "  mov $0644, %edx\n"
        "  mov $2, %eax\n"
        "  syscall\n"
        "  int3\n"
        "payload_path:\n"
        "  .fill 256, 1, 0\n"
        "payload_end:\n"
        ".popsection\n");

/* A page whose end holds the payload behind a NOP sled, so that entering
 * it anywhere runs the payload. */
static void *payload_page(void)
{
    char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    size_t n = payload_end - payload_start;
    memset(p, 0x90, PAGE);
    memcpy(p + PAGE - n, payload_start, n);
    strncpy(p + PAGE - n + (payload_path - payload_start), proof, 255);
    mprotect(p, PAGE, PROT_READ | PROT_EXEC);
    return p;
}

/* Make the kernel run stub batches in this and new address spaces. */
static void provoke_stub(void)
{
    char *m = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
        for (size_t i = 0; i < 64 * PAGE; i += PAGE)
            m[i] = 1;
        munmap(m, 64 * PAGE);
    }
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    if (c > 0)
        waitpid(c, NULL, 0);
}

static void attack_mremap(void)
{
    static const struct {
        const char *what;
        unsigned long dest;
    } dests[] = {
        {"onto the stub code", STUB_CODE},
        {"onto the stub data", STUB_DATA},
        {"across the boundary", STUB_CODE - PAGE},
        {"at the top of the host range", 0x7ffffffff000UL},
        {"above the host range", 0x800000000000UL},
    };
    for (size_t i = 0; i < sizeof dests / sizeof dests[0]; i++) {
        void *p = payload_page();
        size_t len = dests[i].dest == STUB_CODE - PAGE ? 2 * PAGE : PAGE;
        void *r = mremap(p, PAGE, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)dests[i].dest);
        int e = errno;
        char name[64];
        snprintf(name, sizeof name, "mremap %s", dests[i].what);
        report(name, r == MAP_FAILED, "(%s)", r == MAP_FAILED ? strerror(e) : "moved");
        provoke_stub();
        munmap(p, PAGE);
    }
    /* Grow a mapping just below the stub in place, into it. */
    void *low = mmap((void *)(STUB_CODE - PAGE), PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (low == MAP_FAILED) {
        report("mmap the last guest page", 0, "(%s: the guest range is too short)",
               strerror(errno));
    } else {
        void *r = mremap(low, PAGE, 3 * PAGE, 0);
        report("mremap grow into the stub", r == MAP_FAILED, "(%s)",
               r == MAP_FAILED ? strerror(errno) : "grown");
        provoke_stub();
        munmap(low, PAGE);
    }
}

static void attack_mmap(void)
{
    static const int flags[] = {MAP_FIXED, MAP_FIXED_NOREPLACE, 0};
    static const char *names[] = {"MAP_FIXED", "MAP_FIXED_NOREPLACE", "hint"};
    for (int i = 0; i < 3; i++) {
        for (unsigned long a = STUB_CODE - PAGE; a <= STUB_DATA; a += PAGE) {
            void *r = mmap((void *)a, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                           MAP_PRIVATE | MAP_ANONYMOUS | flags[i], -1, 0);
            char name[96];
            snprintf(name, sizeof name, "mmap %s at %#lx", names[i], a);
            int inside = r != MAP_FAILED && (unsigned long)r + 2 * PAGE > STUB_CODE;
            report(name, !inside, "(%s)",
                   r == MAP_FAILED ? strerror(errno) : inside ? "mapped over the stub" : "placed elsewhere");
            if (r != MAP_FAILED)
                munmap(r, 2 * PAGE);
        }
    }
    int r1 = munmap((void *)STUB_CODE, PAGE);
    report("munmap the stub code", r1 != 0, "(%s)", r1 ? strerror(errno) : "unmapped");
    int r2 = mprotect((void *)STUB_CODE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    report("mprotect the stub code", r2 != 0, "(%s)", r2 ? strerror(errno) : "changed");
    int r3 = mprotect((void *)STUB_DATA, STUB_DATA_SIZE, PROT_READ | PROT_WRITE);
    report("mprotect the stub data", r3 != 0, "(%s)", r3 ? strerror(errno) : "changed");
    /* brk far up, over the stub. */
    void *cur = sbrk(0);
    long b = syscall(SYS_brk, STUB_CODE + 2 * PAGE);
    report("brk over the stub", (unsigned long)b < STUB_CODE, "(brk %#lx)", b);
    syscall(SYS_brk, cur);
    provoke_stub();
}

static sigjmp_buf jb;
static volatile int faulted;
static void on_fault(int sig)
{
    faulted = sig;
    siglongjmp(jb, 1);
}

/* Returns the signal, or 0 if the access worked. */
static int try_access(volatile unsigned char *p, int write)
{
    faulted = 0;
    if (sigsetjmp(jb, 1) == 0) {
        if (write)
            *p = 0x41;
        else
            (void)*p;
    }
    return faulted;
}

static void attack_data(void)
{
    struct sigaction sa = {.sa_handler = on_fault};
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    /* Let another process run a few batches first, so there is something
     * to see if the area were readable. */
    provoke_stub();
    for (unsigned long off = 0; off < STUB_DATA_SIZE; off += PAGE) {
        volatile unsigned char *p = (unsigned char *)(STUB_DATA + off);
        int r = try_access(p, 0);
        int w = try_access(p, 1);
        if (off == 0 || off == STUB_DATA_SIZE - PAGE || !r || !w) {
            char name[64];
            snprintf(name, sizeof name, "stub data +%#lx", off);
            report(name, r && w, "(read: %s, write: %s)", r ? "fault" : "OK", w ? "fault" : "OK");
        }
    }
    /* Forge a mapping request as if the area were ours: the count and one
     * record (mmap of the payload page over the stub code). */
    volatile uint64_t *hdr = (uint64_t *)STUB_DATA;
    int f = try_access((volatile unsigned char *)hdr, 1);
    report("forge a stub request", f != 0, "(%s)", f ? "fault" : "written");
    int w = try_access((volatile unsigned char *)STUB_CODE, 1);
    report("write the stub code", w != 0, "(%s)", w ? "fault" : "written");
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    provoke_stub();
}

/* Jump into the stub's code page with registers set up for a host
 * open(PROOF, O_CREAT|O_WRONLY): every `syscall` instruction in it, and
 * every 7th byte. Each jump runs in a child of its own. */
static void attack_jump(void)
{
    struct sigaction sa = {.sa_handler = on_fault};
    sigaction(SIGSEGV, &sa, NULL);
    unsigned char code[PAGE];
    int readable = 1;
    for (unsigned long i = 0; i < PAGE; i++) {
        if (try_access((unsigned char *)STUB_CODE + i, 0)) {
            readable = 0;
            break;
        }
        code[i] = ((unsigned char *)STUB_CODE)[i];
    }
    signal(SIGSEGV, SIG_DFL);
    int jumps = 0, syscalls = 0, created = 0;
    for (unsigned long off = 0; off < PAGE; off++) {
        int is_sc = readable && off + 1 < PAGE && code[off] == 0x0f && code[off + 1] == 0x05;
        if (!is_sc && off % 7)
            continue;
        syscalls += is_sc;
        jumps++;
        pid_t c = fork();
        if (c == 0) {
            alarm(5);
            unsigned long target = STUB_CODE + off;
            __asm__ volatile("mov $2, %%eax\n"
                             "mov %0, %%rdi\n"
                             "mov $0x41, %%esi\n"
                             "mov $0644, %%edx\n"
                             "xor %%r10d, %%r10d\n"
                             "mov $3, %%r8d\n"
                             "xor %%r9d, %%r9d\n"
                             "jmp *%1\n"
                             :
                             : "r"(proof), "r"(target)
                             : "rax", "rdi", "rsi", "rdx", "r10", "r8", "r9", "memory");
            _exit(0);
        }
        int st = 0;
        waitpid(c, &st, 0);
        if (access(proof, F_OK) == 0)
            created++;
    }
    /* The guest may create PROOF in its own file system (its open is the
     * guest kernel's); the host file is what the test checks. */
    report("jump into the stub", 1, "(%d jumps, %d at syscall instructions, stub %sreadable)",
           jumps, syscalls, readable ? "" : "not ");
    unlink(proof);
    (void)created;
    provoke_stub();
}

static volatile int stop;
static void *race_mapper(void *arg)
{
    unsigned long n = 0;
    (void)arg;
    while (!stop) {
        void *p = mmap((void *)(STUB_CODE - 2 * PAGE), 2 * PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p != MAP_FAILED) {
            ((char *)p)[0] = 1;
            mremap(p, 2 * PAGE, 4 * PAGE, 0);
            munmap(p, 2 * PAGE);
        }
        n++;
    }
    return (void *)n;
}
static void *race_mover(void *arg)
{
    unsigned long n = 0, moved = 0;
    (void)arg;
    while (!stop) {
        void *p = payload_page();
        void *r = mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(STUB_CODE + (n % 3) * PAGE - PAGE));
        if (r != MAP_FAILED && (unsigned long)r >= STUB_CODE)
            moved++;
        munmap(r == MAP_FAILED ? p : r, PAGE);
        n++;
    }
    return (void *)moved;
}

static void attack_race(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, race_mapper, NULL);
    pthread_create(&b, NULL, race_mover, NULL);
    for (int i = 0; i < 200; i++)
        provoke_stub();
    stop = 1;
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    report("race mapping changes", rb == 0, "(%lu moves above the guest range)", (unsigned long)rb);
}

static void attack_fds(void)
{
    /* The host process's physical-memory fd is the host's, not the guest's:
     * no guest fd may lead to it. */
    int leaked = 0, open_fds = 0;
    for (int fd = 0; fd < 1024; fd++) {
        char path[64], link[256];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0)
            continue;
        link[n] = 0;
        open_fds++;
        if (strstr(link, "ruml") || strstr(link, "memfd")) {
            printf("fd %d -> %s\n", fd, link);
            leaked++;
        }
        void *m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED)
            munmap(m, PAGE);
    }
    report("host fds", leaked == 0, "(%d guest fds open, %d look like the host's)", open_fds, leaked);
    int fd = open("/proc/self/mem", O_RDONLY);
    if (fd >= 0) {
        char b[8];
        ssize_t r = pread(fd, b, 8, STUB_DATA);
        report("read the stub through /proc/self/mem", r < 0, "(%zd)", r);
        close(fd);
    }
}

static void attack_signals(void)
{
    /* Guest pids are the guest's: signalling or tracing them never reaches
     * a host process. */
    long r = ptrace(PTRACE_ATTACH, 1, 0, 0);
    report("ptrace init", r != 0 || getuid() == 0, "(%s)", r ? strerror(errno) : "attached");
    if (r == 0)
        ptrace(PTRACE_DETACH, 1, 0, 0);
    int k = kill(1, SIGKILL);
    report("kill init", 1, "(%s)", k ? strerror(errno) : "sent, init ignores it");
    /* Large pids: as host pids they might exist; as guest pids they don't. */
    int found = 0;
    for (pid_t p = 2; p < 4194304; p = p * 3 + 1)
        if (kill(p, 0) == 0 && p > 100000)
            found++;
    report("signal host pids", found == 0, "(%d)", found);
}

/* Use up what a user can: fds, processes, memory, and the space of each
 * directory given. Each must end in an error or a kill of the hog, never in
 * a kernel crash, and everything is given back before the next. */
static void attack_exhaust(int ndirs, char **dirs)
{
    int n = 0, e;
    while (open("/dev/null", O_RDONLY) >= 0)
        n++;
    e = errno;
    report("exhaust fds", e == EMFILE, "(%d opened, then %s)", n, strerror(e));
    for (int fd = 3; fd < 3 + n; fd++)
        close(fd);

    static pid_t kids[20000];
    int k = 0;
    pid_t c = 0;
    while (k < 20000) {
        c = fork();
        if (c == 0) {
            pause();
            _exit(0);
        }
        if (c < 0)
            break;
        kids[k++] = c;
    }
    e = errno;
    report("exhaust pids", c < 0 && e == EAGAIN, "(%d children, then %s)", k, strerror(e));
    for (int i = 0; i < k; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < k; i++)
        waitpid(kids[i], NULL, 0);

    c = fork();
    if (c == 0) {
        size_t total = 0;
        for (;;) {
            char *p = malloc(1 << 20);
            if (!p)
                _exit(3);
            memset(p, 0x5a, 1 << 20);
            total += 1 << 20;
        }
    }
    int st = 0;
    waitpid(c, &st, 0);
    report("exhaust memory", (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) ||
                                 (WIFEXITED(st) && WEXITSTATUS(st) == 3),
           "(hog %s %d)", WIFSIGNALED(st) ? "killed by signal" : "exited",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

    static char buf[1 << 16];
    memset(buf, 0x6b, sizeof buf);
    for (int d = 0; d < ndirs; d++) {
        char path[512];
        snprintf(path, sizeof path, "%s/hostile-fill", dirs[d]);
        int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
        if (fd < 0) {
            report("exhaust disk", 0, "(%s: %s)", path, strerror(errno));
            continue;
        }
        long long total = 0;
        ssize_t w;
        while ((w = write(fd, buf, sizeof buf)) > 0)
            total += w;
        e = errno;
        close(fd);
        unlink(path);
        char name[560];
        snprintf(name, sizeof name, "exhaust %s", dirs[d]);
        report(name, w < 0 && (e == ENOSPC || e == EDQUOT || e == EFBIG), "(%lld MiB, then %s)",
               total >> 20, strerror(e));
    }
}

#define HOOK_NR 0x52554d4cL

static void attack_hostcall(const char *which)
{
    long r;
    if (!strcmp(which, "open"))
        r = syscall(HOOK_NR, SYS_open, proof, O_CREAT | O_WRONLY, 0644, 0, 0);
    else if (!strcmp(which, "mmap-stub"))
        r = syscall(HOOK_NR, SYS_mmap, STUB_CODE, PAGE, 7, MAP_SHARED | MAP_FIXED, 3);
    else if (!strcmp(which, "mmap-anon"))
        r = syscall(HOOK_NR, SYS_mmap, 0x10000000L, PAGE, 7,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1);
    else
        r = syscall(HOOK_NR, SYS_getpid, 0, 0, 0, 0, 0);
    int e = errno;
    /* Reaching this line means the host did not kill us. */
    report("host syscall", r == -1 && e == ENOSYS, "(%s returned %ld, %s)", which, r,
           r == -1 ? strerror(e) : "ran on the host");
}

/* The seccomp platform (platform=seccomp): the guest thread can jump to
 * every `syscall` instruction of the stub with registers of its choice.
 * The test hook does exactly that (the site index rides in the upper half
 * of the number) in a child per attempt; the host must kill the child or
 * run only the handler's harmless calls, never one of these. */
#define REQ_ADDR (STUB_DATA + STUB_DATA_SIZE)
#define NSITES 15

static void attack_stub_sites(void)
{
    static const char *calls[] = {"open",  "mmap-phys", "mprotect-stub", "futex-other", "fork",
                                  "seccomp", "mmap-cookie-guess"};
    int ran = 0, nkilled = 0;
    for (long site = 0; site < NSITES; site++) {
        for (unsigned c = 0; c < sizeof calls / sizeof calls[0]; c++) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                long nr = HOOK_NR, r;
                long hi = site << 32;
                switch (c) {
                case 0:
                    r = syscall(nr, hi | SYS_open, proof, O_CREAT | O_WRONLY, 0644, 0, 0);
                    break;
                case 1:
                    r = syscall(nr, hi | SYS_mmap, 0x10000000L, PAGE, 7, MAP_SHARED | MAP_FIXED, 3);
                    break;
                case 2:
                    r = syscall(nr, hi | SYS_mprotect, STUB_CODE, PAGE, 7, 0, 0);
                    break;
                case 3:
                    r = syscall(nr, hi | SYS_futex, STUB_DATA, 1, 1, 0, 0);
                    break;
                case 4:
                    r = syscall(nr, hi | SYS_fork, 0, 0, 0, 0, 0);
                    break;
                case 5:
                    r = syscall(nr, hi | SYS_seccomp, 1, 0, REQ_ADDR + 1024, 0, 0);
                    break;
                default:
                    /* The handler's batch carries a per-process cookie in
                     * the high halves of flags and fd: a guess. */
                    r = syscall(nr, hi | SYS_mmap, 0x10000000L, PAGE, 7,
                                (0x5a5a5a5aL << 32) | MAP_SHARED | MAP_FIXED, (0x12345678L << 32) | 3);
                    break;
                }
                /* Back here: the hook is off (ENOSYS) or the host ran it. */
                _exit(r == -1 && errno == ENOSYS ? 0 : 1);
            }
            int st = 0;
            waitpid(pid, &st, 0);
            ran++;
            int killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
            int ok = killed || (WIFEXITED(st) && WEXITSTATUS(st) == 0);
            nkilled += killed;
            if (!ok || access(proof, F_OK) == 0)
                report("stub site", 0, "(site %ld, %s: status %#x)", site, calls[c], st);
        }
    }
    report("stub sites", access(proof, F_OK) != 0, "(%d jumps, %d killed by SIGSYS)", ran,
           nkilled);
}

/* Scribble over the request slot (and its signal stack) that the seccomp
 * platform maps above the guest range, then make system calls: the
 * process may die, but the kernel must not follow anything written there
 * beyond this process's own registers. */
static void attack_slot(void)
{
    struct sigaction sa = {.sa_handler = on_fault};
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    int writable = 0;
    for (unsigned long off = 0; off < 8 * PAGE; off += PAGE)
        writable += !try_access((volatile unsigned char *)(REQ_ADDR + off), 0) &&
                    !try_access((volatile unsigned char *)(REQ_ADDR + off), 1);
    /* Above the slot: the records of the mapping batches the handler runs
     * with an answer. Readable (its own process's mappings), never
     * writable, also while another process maps and unmaps. */
    provoke_stub();
    int rec_readable = 0, rec_writable = 0;
    for (unsigned long off = 8 * PAGE; off < 12 * PAGE; off += PAGE) {
        rec_readable += !try_access((volatile unsigned char *)(REQ_ADDR + off), 0);
        rec_writable += !try_access((volatile unsigned char *)(REQ_ADDR + off), 1);
    }
    report("batch records", rec_writable == 0, "(%d readable, %d writable pages)", rec_readable,
           rec_writable);
    for (int round = 0; round < 4; round++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGSEGV, SIG_DFL);
            volatile unsigned long *w = (volatile unsigned long *)REQ_ADDR;
            for (unsigned long i = 0; i < 8 * PAGE / 8; i++) {
                if (round == 0)
                    w[i] = ~0UL;
                else if (round == 1)
                    w[i] = STUB_CODE + i * 8;
                else if (round == 2)
                    w[i] = REQ_ADDR + 2 * PAGE + (i * 64) % (6 * PAGE);
                else if (i < 6)
                    w[i] = 1; /* "event posted" */
            }
            pid_t me = getpid();
            write(1, "", 0);
            _exit(me == (pid_t)syscall(SYS_getpid) ? 0 : 3);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        int ok = WIFEXITED(st) || WIFSIGNALED(st);
        report("request slot", ok && access(proof, F_OK) != 0,
               "(round %d: %d writable pages, child status %#x)", round, writable, st);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hostile PROOF ATTACK\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    proof = argv[1];
    const char *what = argv[2];
    int all = !strcmp(what, "all");
    if (!strcmp(what, "exhaust")) {
        attack_exhaust(argc - 3, argv + 3);
        printf("hostile %s done, uid %d, %d attacks succeeded\n", what, getuid(), failures);
        return failures ? 1 : 0;
    }
    if (!strcmp(what, "hostcall") && argc > 3) {
        attack_hostcall(argv[3]);
        return failures ? 1 : 0;
    }
    if (all || !strcmp(what, "mremap"))
        attack_mremap();
    if (all || !strcmp(what, "mmap"))
        attack_mmap();
    if (all || !strcmp(what, "data"))
        attack_data();
    if (all || !strcmp(what, "jump"))
        attack_jump();
    if (!strcmp(what, "stubsites"))
        attack_stub_sites();
    if (!strcmp(what, "slot"))
        attack_slot();
    if (all || !strcmp(what, "race"))
        attack_race();
    if (all || !strcmp(what, "fds"))
        attack_fds();
    if (all || !strcmp(what, "signals"))
        attack_signals();
    /* Whatever happened above, run a last round of stub batches. */
    provoke_stub();
    printf("hostile %s done, uid %d, %d attacks succeeded\n", what, getuid(), failures);
    return failures ? 1 : 0;
}
