/* Memory-management and signal corners, printed deterministically so the
 * guest's output can be compared with the host's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile int caught;
static void on_segv(int s, siginfo_t *si, void *uc) { (void)s; (void)si; (void)uc; caught++; siglongjmp(jb, 1); }

static int probe_write(volatile char *p) {
    caught = 0;
    if (sigsetjmp(jb, 1) == 0) { *p = 1; }
    return caught;
}

static volatile int alt_ok;
static char altstack[65536];
static void on_usr2(int s) {
    char local;
    (void)s;
    alt_ok = (&local >= altstack && &local < altstack + sizeof(altstack));
}

static volatile int alarms;
static void on_alrm(int s) { (void)s; alarms++; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    /* mremap: grow in place or move, contents kept. */
    char *p = mmap(NULL, 4096 * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4 * 4096; i++) p[i] = (char)(i % 251);
    char *q = mremap(p, 4096 * 4, 4096 * 64, MREMAP_MAYMOVE);
    int ok = q != MAP_FAILED;
    for (int i = 0; ok && i < 4 * 4096; i++) ok = q[i] == (char)(i % 251);
    q[64 * 4096 - 1] = 7;
    printf("mremap grow: %d tail %d\n", ok, q[64 * 4096 - 1]);
    char *r = mremap(q, 4096 * 64, 4096 * 2, 0);
    printf("mremap shrink: same=%d byte=%d\n", r == q, r[4097]);
    /* madvise(DONTNEED) zeroes private anonymous memory. */
    memset(r, 9, 8192);
    madvise(r, 8192, MADV_DONTNEED);
    printf("dontneed: %d %d\n", r[0], r[8191]);
    /* mprotect read-only: a write faults, restoring lets it through. */
    mprotect(r, 4096, PROT_READ);
    printf("write to PROT_READ faults: %d\n", probe_write(r));
    mprotect(r, 4096, PROT_READ | PROT_WRITE);
    printf("write after PROT_WRITE faults: %d\n", probe_write(r));
    /* munmap of the middle page of three. */
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + 4096, 4096);
    printf("hole faults: %d, neighbours fine: %d %d\n", probe_write(m + 4096), probe_write(m), probe_write(m + 8192));
    /* MAP_FIXED over an existing mapping replaces it. */
    m[0] = 5;
    char *f = mmap(m, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("map fixed: same=%d zero=%d\n", f == m, f[0]);
    /* Shared file mapping sees write(), and write() sees the mapping. */
    int fd = open("/tmp/mmsig.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    ftruncate(fd, 8192);
    char *s = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    pwrite(fd, "abc", 3, 100);
    memcpy(s + 200, "xyz", 3);
    char b[4] = {0};
    pread(fd, b, 3, 200);
    printf("coherent: %.3s %.3s\n", s + 100, b);
    /* Copy-on-write after fork: the child's write is its own. */
    char *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    c[0] = 'P';
    pid_t pid = fork();
    if (pid == 0) { c[0] = 'C'; _exit(c[0] == 'C' ? 0 : 1); }
    int st;
    waitpid(pid, &st, 0);
    printf("cow: parent %c child ok %d\n", c[0], WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* sigaltstack: the handler runs on the alternate stack. */
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa2 = {0};
    sa2.sa_handler = on_usr2;
    sa2.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa2, NULL);
    raise(SIGUSR2);
    printf("altstack: %d\n", alt_ok);
    /* rt_sigtimedwait takes a blocked pending signal. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGUSR1);
    siginfo_t si;
    struct timespec to = {1, 0};
    int got = sigtimedwait(&set, &si, &to);
    printf("sigtimedwait: %d code_user %d\n", got, si.si_code == SI_USER);
    struct timespec short_to = {0, 20000000};
    got = sigtimedwait(&set, &si, &short_to);
    printf("sigtimedwait timeout: %d EAGAIN %d\n", got, got < 0 && errno == EAGAIN);
    /* setitimer: a periodic SIGALRM interrupts pause(). */
    struct sigaction sa3 = {0};
    sa3.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa3, NULL);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_REAL, &it, NULL);
    while (alarms < 3) pause();
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("itimer: %d alarms\n", alarms >= 3);
    /* SA_RESTART: a read interrupted by a handled signal restarts; without
     * it, read fails with EINTR. */
    for (int restart = 0; restart < 2; restart++) {
        int pfd[2];
        pipe(pfd);
        struct sigaction sa4 = {0};
        sa4.sa_handler = on_alrm;
        sa4.sa_flags = restart ? SA_RESTART : 0;
        sigaction(SIGALRM, &sa4, NULL);
        pid_t w = fork();
        if (w == 0) { usleep(100000); write(pfd[1], "z", 1); _exit(0); }
        alarm(0);
        struct itimerval once = {{0, 0}, {0, 30000}};
        setitimer(ITIMER_REAL, &once, NULL);
        char ch = 0;
        ssize_t n = read(pfd[0], &ch, 1);
        printf("SA_RESTART=%d: read=%zd %s\n", restart, n, n < 0 ? (errno == EINTR ? "EINTR" : "other") : (ch == 'z' ? "z" : "?"));
        waitpid(w, NULL, 0);
        close(pfd[0]);
        close(pfd[1]);
    }
    printf("mmsig done\n");
    return 0;
}
