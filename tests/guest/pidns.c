/* PID namespaces: unshare(CLONE_NEWPID) and clone(CLONE_NEWPID), the
 * first child is pid 1 there with parent 0, pids translated across the
 * levels (fork's result, waitpid, SIGCHLD's si_pid, kill, NSpid),
 * orphans reparented to the namespace's init, init ignoring default
 * signals from inside, a proc mount listing only the namespace,
 * ns_last_pid, NS_GET_PARENT, setns to a pid namespace, and the death of
 * the init killing the namespace (later forks: ENOMEM). Runs as root;
 * children print only while their parent waits for them. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS_GET_PARENT 0xb702

static void r(const char *what, long v) {
    if (v < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, v);
}

/* The numbers of an NSpid-style line of /proc/self/status; their count. */
static int nspid(const char *key, long *v, int max) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = 0;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) || line[kl] != ':')
            continue;
        char *p = line + kl + 1;
        while (n < max) {
            char *e;
            long x = strtol(p, &e, 10);
            if (e == p)
                break;
            v[n++] = x;
            p = e;
        }
    }
    if (f)
        fclose(f);
    return n;
}

static volatile pid_t usr1_from = -1;
static void on_usr1(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    usr1_from = si->si_pid;
}

static volatile pid_t chld_from = -1;
static void on_chld(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    chld_from = si->si_pid;
}

static int wait_code(pid_t p) {
    int st;
    pid_t w = waitpid(p, &st, 0);
    if (w != p)
        return -1000 - errno;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

/* A proc mount made inside the namespace: only its processes, under
 * their numbers there; self is 1. */
static void proc_mount(void) {
    /* Natively the mount must not reach the host: a mount namespace of
     * its own (ruml has no mount namespaces yet; its mounts are the
     * guest's). */
    if (unshare(CLONE_NEWNS) == 0)
        mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
    char dir[] = "/tmp/pidns-XXXXXX";
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s\n", strerrorname_np(errno));
        return;
    }
    r("mount proc", mount("proc", dir, "proc", 0, NULL));
    DIR *d = opendir(dir);
    int pids = 0, max = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int n = atoi(e->d_name);
        if (n > 0) {
            pids++;
            if (n > max)
                max = n;
        }
    }
    if (d)
        closedir(d);
    printf("proc lists %d pids, highest %d\n", pids, max);
    char p[64], l[64] = "";
    snprintf(p, sizeof p, "%s/self", dir);
    ssize_t n = readlink(p, l, sizeof l - 1);
    if (n > 0)
        l[n] = 0;
    printf("proc self -> %s\n", l);
    snprintf(p, sizeof p, "%s/1/status", dir);
    FILE *f = fopen(p, "r");
    char line[128];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "NSpid:", 6) || !strncmp(line, "PPid:", 5) ||
            !strncmp(line, "Pid:", 4))
            printf("1/status %s", line);
    if (f)
        fclose(f);

    /* A pidfd of a child: its fdinfo numbers it in this namespace;
     * tgkill and waitid(P_PIDFD) take and give the numbers here. */
    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    int pfd = syscall(SYS_pidfd_open, c, 0);
    printf("pidfd_open(%d): %d\n", c, pfd >= 0);
    snprintf(p, sizeof p, "%s/self/fdinfo/%d", dir, pfd);
    f = fopen(p, "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Pid:", 4) || !strncmp(line, "NSpid:", 6))
            printf("pidfd fdinfo %s", line);
    if (f)
        fclose(f);
    r("tgkill(child, child, 0)", syscall(SYS_tgkill, c, c, 0));
    r("pidfd_send_signal SIGKILL", syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0));
    siginfo_t si = {0};
    r("waitid(P_PIDFD)", waitid(P_PIDFD, pfd, &si, WEXITED));
    printf("waitid si_pid is the child: %d, si_status %d\n", si.si_pid == c, si.si_status);
    close(pfd);
    umount(dir);
    rmdir(dir);
}

/* Sessions and groups numbered inside. */
static void groups(void) {
    r("child: setsid", setsid());
    printf("child: getpgrp %d getsid %d\n", getpgrp(), getsid(0));
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        pid_t g = getpgrp();
        write(p[1], &g, sizeof g);
        pause();
        _exit(0);
    }
    pid_t g = 0;
    read(p[0], &g, sizeof g);
    printf("child: its child's group is its pid: %d, getpgid agrees: %d\n", g == c,
           getpgid(c) == c);
    r("child: kill(-group, SIGKILL)", kill(-g, SIGKILL));
    printf("child: code %d\n", wait_code(c));
    close(p[0]);
    close(p[1]);
}

static void last_pid(void) {
    int fd = open("/proc/sys/kernel/ns_last_pid", O_RDWR);
    char b[32] = "";
    if (fd < 0) {
        printf("ns_last_pid: %s\n", strerrorname_np(errno));
        return;
    }
    ssize_t n = read(fd, b, sizeof b - 1);
    b[n > 0 ? n : 0] = 0;
    printf("ns_last_pid: %s", b);
    close(fd);
    fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
    r("write ns_last_pid 100", write(fd, "100", 3) < 0 ? -1 : 0);
    close(fd);
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    printf("next fork: %d\n", c);
    wait_code(c);
}

/* The namespace's init (pid 1 there). */
static int ns_init(int to_parent, int go) {
    long v[8];
    int n = nspid("NSpid", v, 8);
    /* Tell the outer parent our number there, the next-to-last level. */
    pid_t outer = n >= 2 ? v[n - 2] : -1;
    if (write(to_parent, &outer, sizeof outer) != sizeof outer)
        return 1;
    /* Quiet until the parent has looked at us. */
    char x;
    if (read(go, &x, 1) != 1)
        return 1;
    printf("child: getpid %d getppid %d gettid %ld\n", getpid(), getppid(),
           syscall(SYS_gettid));
    printf("child: getpgid %d getsid %d\n", getpgid(0), getsid(0));
    printf("child: NSpid last %ld\n", n ? v[n - 1] : -1);
    struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigaction(SIGUSR1, &sa, NULL);
    struct sigaction sc = {.sa_sigaction = on_chld, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigaction(SIGCHLD, &sc, NULL);

    /* Its own child: pid 2, parent 1; it signals init. */
    pid_t c = fork();
    if (c == 0) {
        kill(getppid(), SIGUSR1);
        _exit(getpid() * 10 + getppid());
    }
    printf("child: fork -> %d\n", c);
    printf("child: grandchild exit code %d\n", wait_code(c));
    printf("child: SIGUSR1 si_pid %d SIGCHLD si_pid %d\n", usr1_from, chld_from);

    /* Default-action signals from inside do not reach init. */
    signal(SIGCHLD, SIG_DFL);
    r("child: kill(1, SIGTERM)", kill(1, SIGTERM));
    r("child: kill(getpid(), SIGKILL)", kill(getpid(), SIGKILL));
    c = fork();
    if (c == 0) {
        kill(1, SIGTERM);
        kill(1, SIGKILL);
        _exit(0);
    }
    wait_code(c);
    printf("child: init survived\n");

    /* kill across: init kills its child by its number here. */
    c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    r("child: kill(child, SIGTERM)", kill(c, SIGTERM));
    printf("child: killed child code %d\n", wait_code(c));

    /* An orphan goes to init. */
    int p[2];
    pipe(p);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t me = getpid();
        pid_t o = fork();
        if (o == 0) {
            close(p[0]);
            while (getppid() == me)
                usleep(1000);
            pid_t pp = getppid();
            write(p[1], &pp, sizeof pp);
            _exit(7);
        }
        _exit(o);
    }
    close(p[1]);
    pid_t orphan = wait_code(mid);
    pid_t pp = -1;
    read(p[0], &pp, sizeof pp);
    close(p[0]);
    printf("child: orphan's new parent %d\n", pp);
    printf("child: orphan reaped by init, code %d\n", wait_code(orphan));
    r("child: waitpid(-1) with no children", waitpid(-1, NULL, WNOHANG));

    last_pid();
    proc_mount();
    groups();
    return 0;
}

static void first_ns(void) {
    char a[64] = "", b[64] = "";
    r("unshare(CLONE_NEWPID)", unshare(CLONE_NEWPID));
    /* No init yet: the namespace for children does not show. */
    r("readlink pid_for_children before fork",
      readlink("/proc/self/ns/pid_for_children", b, sizeof b - 1));
    r("unshare(CLONE_NEWPID) again", unshare(CLONE_NEWPID));
    int own = open("/proc/self/ns/pid", O_RDONLY);
    r("NS_GET_PARENT of ours", ioctl(own, NS_GET_PARENT));
    close(own);

    struct sigaction sc = {.sa_sigaction = on_chld, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigaction(SIGCHLD, &sc, NULL);
    int p[2], g[2];
    pipe(p);
    pipe(g);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        close(g[1]);
        _exit(ns_init(p[1], g[0]));
    }
    close(p[1]);
    close(g[0]);
    pid_t outer = 0;
    read(p[0], &outer, sizeof outer);
    close(p[0]);
    /* While the init lives (it waits for its own children first): the
     * namespace for children is the child's and differs from ours; its
     * NS_GET_PARENT is ours. */
    memset(b, 0, sizeof b);
    readlink("/proc/self/ns/pid", a, sizeof a - 1);
    readlink("/proc/self/ns/pid_for_children", b, sizeof b - 1);
    printf("pid_for_children differs: %d\n", strcmp(a, b) != 0);
    char cpath[64];
    snprintf(cpath, sizeof cpath, "/proc/%d/ns/pid", c);
    struct stat s0, s1, s2;
    int fd = open("/proc/self/ns/pid_for_children", O_RDONLY);
    printf("child's pid ns is it: %d\n",
           fd >= 0 && !fstat(fd, &s0) && !stat(cpath, &s1) && s0.st_ino == s1.st_ino);
    int pfd = ioctl(fd, NS_GET_PARENT);
    stat("/proc/self/ns/pid", &s2);
    printf("NS_GET_PARENT is ours: %d\n", pfd >= 0 && !fstat(pfd, &s1) && s1.st_ino == s2.st_ino);
    close(pfd);
    close(fd);
    write(g[1], "x", 1);
    close(g[1]);
    printf("child exit code %d\n", wait_code(c));
    printf("fork's pid is the outer NSpid: %d\n", outer == c);
    printf("SIGCHLD si_pid is the fork's: %d\n", chld_from == c);
    signal(SIGCHLD, SIG_DFL);
    /* Its init is gone: nobody may enter that namespace any more. */
    c = fork();
    if (c == 0)
        _exit(0);
    r("fork into the dead namespace", c);
}

static int clone_child(void *arg) {
    (void)arg;
    return getpid() * 10 + getppid();
}

/* setns back to our own pid namespace, then clone(CLONE_NEWPID), then a
 * namespace whose init dies with a member still in it. */
static void second_ns(void) {
    int own = open("/proc/self/ns/pid", O_RDONLY);
    r("setns(own pid ns)", setns(own, CLONE_NEWPID));
    close(own);
    static char stack[65536];
    pid_t c = clone(clone_child, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, NULL);
    printf("clone(CLONE_NEWPID) child code %d\n", wait_code(c));

    r("unshare(CLONE_NEWPID) after setns", unshare(CLONE_NEWPID));
    int ready[2], hold[2];
    pipe(ready);
    pipe(hold);
    c = fork();
    if (c == 0) {
        close(ready[0]);
        close(hold[0]);
        if (fork() == 0) {
            /* A member: keeps hold[1] open until it dies; tells the
             * outer parent its number there. */
            long v[8];
            int n = nspid("NSpid", v, 8);
            pid_t outer = n >= 2 ? v[n - 2] : -1;
            write(ready[1], &outer, sizeof outer);
            for (;;)
                pause();
        }
        close(hold[1]);
        close(ready[1]);
        /* Until killed from outside. */
        for (;;)
            pause();
    }
    close(ready[1]);
    close(hold[1]);
    char x;
    pid_t m = 0;
    printf("member ready: %d\n", read(ready[0], &m, sizeof m) == sizeof m);
    /* Kill the init from outside: SIGKILL from an ancestor namespace. */
    r("kill(init, SIGKILL)", kill(c, SIGKILL));
    printf("init code %d\n", wait_code(c));
    /* Its parent hears of the init only once the namespace is empty. */
    r("kill(member, 0) after the init is reaped", kill(m, 0));
    printf("member gone (hold pipe EOF): %ld\n", (long)read(hold[0], &x, 1));
    close(ready[0]);
    close(hold[0]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    first_ns();
    second_ns();
    printf("pidns done\n");
    return 0;
}
