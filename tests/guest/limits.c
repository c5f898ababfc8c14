/* Resource limits as an unprivileged user, compared with a native run:
 * RLIMIT_NOFILE rules and the fd table honouring the soft limit, nice
 * permissions, execve argument sizes. Run as root: it drops to nobody in
 * a child for the unprivileged part. `limits forkbomb N` instead forks
 * sleeping children as nobody under RLIMIT_NPROC = N until EAGAIN (N = 0:
 * as root, until kernel.threads-max). `limits fillshm` fills /dev/shm as
 * nobody. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EACCES: return "EACCES";
    case EMFILE: return "EMFILE";
    case EBADF: return "EBADF";
    case E2BIG: return "E2BIG";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ESRCH: return "ESRCH";
    case EAGAIN: return "EAGAIN";
    case ENOSPC: return "ENOSPC";
    default: return strerror(e);
    }
}

/* The errno of a call returning -1 on failure ("ok" otherwise). */
#define R(call) ((call) < 0 ? en(errno) : "ok")

static const char *setlim(int res, rlim_t s, rlim_t h) {
    struct rlimit r = {s, h};
    return R(setrlimit(res, &r));
}

static void nofile_checks(void) {
    printf("raise hard: %s\n", setlim(RLIMIT_NOFILE, 1024, 8192));
    printf("soft > hard: %s\n", setlim(RLIMIT_NOFILE, 2048, 1024));
    printf("soft to hard: %s\n", setlim(RLIMIT_NOFILE, 4096, 4096));
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    printf("now %lu %lu\n", (unsigned long)r.rlim_cur, (unsigned long)r.rlim_max);
    printf("lower hard: %s\n", setlim(RLIMIT_NOFILE, 1024, 2048));
    printf("raise it back: %s\n", setlim(RLIMIT_NOFILE, 1024, 4096));
    printf("prlimit root's: %s\n", R(prlimit(getppid(), RLIMIT_NOFILE, NULL, &r)));
    struct rlimit n = {2048, 2048};
    printf("prlimit own pid: %s\n", R(prlimit(getpid(), RLIMIT_NOFILE, &n, &r)));
    printf("old %lu %lu\n", (unsigned long)r.rlim_cur, (unsigned long)r.rlim_max);

    /* The fd table follows the soft limit (2048), above the old 1024. */
    int last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        last = fd;
    printf("opened up to fd %d, then %s\n", last, en(errno));
    int p[2];
    printf("dup: %s\n", R(dup(0)));
    printf("pipe: %s\n", R(pipe(p)));
    printf("socket: %s\n", R(socket(AF_UNIX, SOCK_STREAM, 0)));
    printf("epoll_create1: %s\n", R(epoll_create1(0)));
    printf("F_DUPFD 0: %s\n", R(fcntl(0, F_DUPFD, 0)));
    printf("dup2 to 2047: %d\n", dup2(0, 2047));
    printf("dup2 to 2048: %s\n", R(dup2(0, 2048)));
    printf("dup3 to 5000: %s\n", R(dup3(0, 5000, 0)));
    printf("F_DUPFD 2048: %s\n", R(fcntl(0, F_DUPFD, 2048)));
    for (fd = 3; fd <= last; fd++)
        close(fd);

    /* Lowering the limit closes nothing; new fds stay below it. */
    printf("dup2 to 1500: %d\n", dup2(0, 1500));
    printf("lower to 100: %s\n", setlim(RLIMIT_NOFILE, 100, 2048));
    printf("fd 1500 still open: %s\n", R(fcntl(1500, F_GETFD)));
    last = -1;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        last = fd;
    printf("opened up to fd %d, then %s\n", last, en(errno));
    printf("dup2 to 100: %s\n", R(dup2(0, 100)));
    for (fd = 3; fd <= last; fd++)
        close(fd);
    close(1500);
}

static void nice_checks(void) {
    /* root left RLIMIT_NICE at 0: nice values may only go up. */
    printf("nice 10: %s\n", R(setpriority(PRIO_PROCESS, 0, 10)));
    errno = 0;
    int v = getpriority(PRIO_PROCESS, 0);
    printf("getpriority: %d %s\n", v, en(errno));
    printf("nice 5: %s\n", R(setpriority(PRIO_PROCESS, 0, 5)));
    printf("nice 15: %s\n", R(setpriority(PRIO_PROCESS, 0, 15)));
    printf("nice 15 again: %s\n", R(setpriority(PRIO_PROCESS, 0, 15)));
    printf("nice 40 (clamped): %s\n", R(setpriority(PRIO_PROCESS, 0, 40)));
    errno = 0;
    v = getpriority(PRIO_PROCESS, 0);
    printf("getpriority: %d %s\n", v, en(errno));
    printf("nice -20: %s\n", R(setpriority(PRIO_PROCESS, 0, -20)));
    printf("root's to 5: %s\n", R(setpriority(PRIO_PROCESS, getppid(), 5)));
    errno = 0;
    v = getpriority(PRIO_PROCESS, getppid());
    printf("root's: %d %s\n", v, en(errno));
    printf("bad which: %s\n", R(setpriority(7, 0, 5)));
}

/* Exec ourselves with these arguments / environment; report the error or
 * what the new image printed. */
static void try_exec(const char *what, char **argv, char **envp) {
    pid_t pid = fork();
    if (pid == 0) {
        execve("/proc/self/exe", argv, envp);
        printf("%s: %s\n", what, en(errno));
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
}

static void exec_checks(void) {
    static char *argv[32], *envp[2];
    size_t big = 32 * 4096;
    char *s = malloc(big + 1);
    memset(s, 'a', big);
    argv[0] = "limits";
    argv[1] = "exec-ok";

    s[big] = 0; /* 128 KiB + NUL: one byte too long */
    argv[2] = s;
    argv[3] = NULL;
    try_exec("arg of 128 KiB", argv, NULL);
    envp[0] = s;
    envp[1] = NULL;
    argv[2] = NULL;
    try_exec("env of 128 KiB", argv, envp);
    s[big - 1] = 0; /* 128 KiB with its NUL: fits */
    argv[2] = s;
    try_exec("arg of 128 KiB - 1", argv, NULL);

    /* The total is bounded by a quarter of the 8 MiB stack limit. */
    s[120000] = 0;
    for (int i = 2; i < 30; i++)
        argv[i] = s;
    argv[30] = NULL;
    try_exec("28 args of 120000", argv, NULL);
    argv[12] = NULL;
    try_exec("10 args of 120000", argv, NULL);
    setlim(RLIMIT_STACK, 1 << 20, RLIM_INFINITY);
    try_exec("10 args, 1 MiB stack limit", argv, NULL);
    argv[4] = NULL;
    try_exec("2 args, 1 MiB stack limit", argv, NULL);
    setlim(RLIMIT_STACK, 8 << 20, RLIM_INFINITY);
    free(s);
}

static int forkbomb(int n) {
    /* n == 0: stay root and meet kernel.threads-max instead. */
    if (n && setlim(RLIMIT_NPROC, n, n)[0] != 'o')
        printf("setrlimit NPROC failed\n");
    if (n && (setgid(65534) || setuid(65534))) {
        perror("setuid");
        return 1;
    }
    static pid_t kids[100000];
    int count = 0;
    for (;;) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p < 0)
            break;
        kids[count++] = p;
        if (count == (int)(sizeof kids / sizeof kids[0]))
            break;
    }
    printf("forks before %s: %d\n", en(errno), count);
    for (int i = 0; i < count; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < count; i++)
        waitpid(kids[i], NULL, 0);
    printf("forkbomb cleaned up\n");
    return 0;
}

/* As nobody, write /dev/shm/fill 1 MiB at a time until it fails. */
static int fillshm(void) {
    if (setgid(65534) || setuid(65534)) {
        perror("setuid");
        return 1;
    }
    int fd = open("/dev/shm/fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    static char buf[1 << 20];
    memset(buf, 7, sizeof buf);
    long mb = 0;
    for (;;) {
        ssize_t n = write(fd, buf, sizeof buf);
        if (n < (ssize_t)sizeof buf)
            break;
        mb++;
    }
    printf("wrote %ld MiB, then %s\n", mb, en(errno));
    close(fd);
    return 0;
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

/* A process whose vfork child sleeps 2 s gets `sig` half a second in:
 * a fatal signal kills it in its vfork wait, a handled one waits for
 * vfork to return the child's pid and runs after. */
static void vfork_signal(int sig) {
    pid_t victim = fork();
    if (victim == 0) {
        signal(SIGUSR1, on_usr1);
        pid_t c = vfork();
        if (c == 0) {
            struct timespec ts = {2, 0};
            nanosleep(&ts, NULL);
            _exit(0);
        }
        printf("vfork returned the child: %s, handler ran: %s\n", c > 0 ? "yes" : en(errno),
               got_usr1 ? "yes" : "no");
        _exit(0);
    }
    usleep(500000);
    /* The vfork parent sleeps killably: 'D' in /proc. */
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", victim);
    FILE *f = fopen(path, "r");
    if (f && fgets(buf, sizeof buf, f)) {
        char *e = strrchr(buf, ')');
        printf("vfork parent state %c\n", e ? e[2] : '?');
    }
    if (f)
        fclose(f);
    kill(victim, sig);
    int st;
    waitpid(victim, &st, 0);
    if (WIFSIGNALED(st))
        printf("signal %d in vfork: killed by %d\n", sig, WTERMSIG(st));
    else
        printf("signal %d in vfork: exit %d\n", sig, WEXITSTATUS(st));
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "exec-ok")) {
        printf("exec ok, argc %d\n", argc);
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "fillshm"))
        return fillshm();
    if (argc > 2 && !strcmp(argv[1], "forkbomb"))
        return forkbomb(atoi(argv[2]));
    if (getuid() != 0) {
        printf("run me as root\n");
        return 1;
    }
    /* A known starting point, whatever the caller had. */
    setlim(RLIMIT_NOFILE, 1024, 4096);
    setlim(RLIMIT_NICE, 0, 0);
    setlim(RLIMIT_STACK, 8 << 20, RLIM_INFINITY);
    setpriority(PRIO_PROCESS, 0, 0);
    printf("root NOFILE above nr_open: %s\n", setlim(RLIMIT_NOFILE, 1024, (1 << 20) + 1));
    printf("root nice -5: %s\n", R(setpriority(PRIO_PROCESS, 0, -5)));
    printf("root nice 0: %s\n", R(setpriority(PRIO_PROCESS, 0, 0)));

    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) || setuid(65534)) {
            perror("setuid");
            _exit(1);
        }
        nofile_checks();
        nice_checks();
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("nobody's part: status %d\n", st);
    exec_checks();
    vfork_signal(SIGKILL);
    vfork_signal(SIGTERM);
    vfork_signal(SIGUSR1);
    printf("limits done\n");
    return 0;
}
