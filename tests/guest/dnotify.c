/* dnotify: fcntl(F_NOTIFY) on a directory signals its owner when entries
 * change (SIGIO, or the F_SETSIG signal with si_fd and si_band), once
 * unless DN_MULTISHOT; ENOTDIR on files; F_NOTIFY 0 and close remove it;
 * F_SETSIG/F_GETSIG validation; leases' F_SETSIG signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile int count, last_sig, last_code, last_fd;
static volatile long last_band;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    count++;
    last_sig = sig;
    last_code = si->si_code;
    last_fd = si->si_fd;
    last_band = si->si_band;
}

static char dir[64];

/* The call's result and errno, printed after the call. */
static void res(const char *what, int r)
{
    if (r < 0)
        printf("%s: %d errno %s\n", what, r, strerror(errno));
    else
        printf("%s: %d\n", what, r);
}

static void path(char *buf, const char *name)
{
    snprintf(buf, 128, "%s/%s", dir, name);
}

static void touch(const char *name)
{
    char p[128];
    path(p, name);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    close(fd);
}

static void report(const char *what)
{
    printf("%s: count %d", what, count);
    if (count)
        printf(" sig %s code %d", last_sig == SIGIO ? "SIGIO" : last_sig == SIGRTMIN + 1 ? "RTMIN+1" : last_sig == SIGUSR1 ? "SIGUSR1" : "other",
               last_code);
    printf("\n");
    count = 0;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGIO, &sa, 0);
    sigaction(SIGUSR1, &sa, 0);
    sigaction(SIGRTMIN + 1, &sa, 0);
    setvbuf(stdout, 0, _IONBF, 0);

    strcpy(dir, "/tmp/dnotXXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    char p[128];

    /* Errors and F_SETSIG/F_GETSIG. */
    touch("file");
    path(p, "file");
    int f = open(p, O_RDWR);
    res("notify file", fcntl(f, F_NOTIFY, DN_CREATE));
    printf("notify file 0: %d\n", fcntl(f, F_NOTIFY, 0));
    printf("notify file multishot only: %d\n", fcntl(f, F_NOTIFY, DN_MULTISHOT));
    printf("getsig default: %d\n", fcntl(d, F_GETSIG));
    res("setsig 65", fcntl(d, F_SETSIG, 65));
    res("setsig -1", fcntl(d, F_SETSIG, -1));
    res("setsig 64", fcntl(d, F_SETSIG, 64));
    res("getsig", fcntl(d, F_GETSIG));
    res("setsig 0", fcntl(d, F_SETSIG, 0));
    res("getsig", fcntl(d, F_GETSIG));
    int o = open(dir, O_PATH);
    res("notify O_PATH", fcntl(o, F_NOTIFY, DN_CREATE));
    res("setsig O_PATH", fcntl(o, F_SETSIG, SIGUSR1));
    close(o);
    res("notify bad fd", fcntl(99, F_NOTIFY, DN_CREATE));
    count = 0;

    /* One-shot plain SIGIO. */
    printf("notify create: %d\n", fcntl(d, F_NOTIFY, DN_CREATE));
    touch("a");
    report("create a (one-shot SIGIO)");
    touch("b");
    report("create b (spent)");

    /* Events outside the mask do not fire, and do not spend the mark. */
    fcntl(d, F_NOTIFY, DN_CREATE);
    path(p, "a");
    chmod(p, 0600);
    report("chmod with DN_CREATE");
    touch("c");
    report("create c");

    /* F_SETSIG real-time signal, multishot: si_fd and si_band. */
    fcntl(d, F_SETSIG, SIGRTMIN + 1);
    printf("notify multishot: %d\n", fcntl(d, F_NOTIFY, DN_CREATE | DN_DELETE | DN_MULTISHOT));
    touch("d");
    printf("fd ok %d band %#lx\n", last_fd == d, last_band);
    report("create d");
    touch("e");
    report("create e");
    path(p, "e");
    unlink(p);
    report("unlink e");

    /* F_NOTIFY 0 removes the mark. */
    printf("notify 0: %d\n", fcntl(d, F_NOTIFY, 0));
    touch("g");
    report("create g after 0");

    /* A non-RT F_SETSIG signal also carries si_fd. */
    fcntl(d, F_SETSIG, SIGUSR1);
    fcntl(d, F_NOTIFY, DN_MODIFY);
    path(p, "file");
    write(f, "x", 1);
    printf("fd ok %d\n", last_fd == d);
    report("write file (DN_MODIFY)");

    fcntl(d, F_NOTIFY, DN_ATTRIB);
    chmod(p, 0640);
    report("chmod file (DN_ATTRIB)");

    fcntl(d, F_NOTIFY, DN_ACCESS);
    char c;
    pread(f, &c, 1, 0);
    report("read file (DN_ACCESS)");

    fcntl(d, F_NOTIFY, DN_RENAME);
    char q[128];
    path(q, "renamed");
    rename(p, q);
    report("rename (DN_RENAME one-shot)");

    /* Masks add up across calls on the same descriptor. */
    fcntl(d, F_NOTIFY, DN_CREATE);
    fcntl(d, F_NOTIFY, DN_DELETE | DN_MULTISHOT);
    touch("h");
    report("create h (added masks)");
    path(p, "h");
    unlink(p);
    report("unlink h");

    /* Changes below a subdirectory do not reach the parent. */
    path(p, "sub");
    mkdir(p, 0755);
    report("mkdir sub");
    path(p, "sub/inner");
    close(open(p, O_CREAT | O_WRONLY, 0644));
    report("create sub/inner");
    unlink(p);
    path(p, "sub");
    rmdir(p);
    report("rmdir sub");

    /* Closing a duplicate descriptor removes the mark. */
    int d2 = dup(d);
    fcntl(d2, F_NOTIFY, DN_CREATE | DN_MULTISHOT);
    close(d2);
    touch("i");
    report("create i after close of dup");

    /* A fresh mark on another open, then the directory's own attrs. */
    int d3 = open(dir, O_RDONLY | O_DIRECTORY);
    fcntl(d3, F_SETSIG, SIGUSR1);
    fcntl(d3, F_NOTIFY, DN_ATTRIB);
    chmod(dir, 0700);
    printf("fd d3 %d\n", last_fd == d3);
    report("chmod dir itself (DN_ATTRIB)");
    close(d3);

    /* Leases send the F_SETSIG signal too, with the lease's fd. */
    touch("leased");
    path(p, "leased");
    int l = open(p, O_RDONLY);
    fcntl(l, F_SETSIG, SIGRTMIN + 1);
    res("setlease", fcntl(l, F_SETLEASE, F_RDLCK));
    last_fd = -1;
    res("conflicting open", open(p, O_WRONLY | O_NONBLOCK));
    printf("lease fd ok %d band %#lx\n", last_fd == l, last_band);
    report("lease break");
    res("unlease", fcntl(l, F_SETLEASE, F_UNLCK));
    close(l);
    unlink(p);

    /* Clean up. */
    const char *names[] = {"file", "a", "b", "c", "d", "g", "i", "renamed"};
    fcntl(d, F_NOTIFY, 0);
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        path(p, names[i]);
        unlink(p);
    }
    close(f);
    close(d);
    rmdir(dir);
    printf("dnotify done\n");
    return 0;
}
