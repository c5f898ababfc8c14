/* File leases: F_SETLEASE/F_GETLEASE with Linux's refusals, SIGIO to the
 * holder when another open conflicts, the opener waiting until the holder
 * gives the lease up or downgrades it (EWOULDBLOCK with O_NONBLOCK), and
 * the lease going with its file's last close; truncate(2) and O_TRUNC
 * opens breaking leases as opens for writing. Compared with a native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *en(long r)
{
    return r < 0 ? strerrorname_np(errno) : "OK";
}
#define SAY(what, r) printf("%s: %s\n", what, en((long)(r)))

static const char *ty(long t)
{
    return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

#define PATH "/tmp/ruml_leases_file"
static volatile sig_atomic_t sigio;

static void on_sigio(int s)
{
    (void)s;
    sigio++;
}

/* Wait (generously) until process `pid` sleeps in a system call. */
static int wait_sleeping(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    for (int i = 0; i < 6000; i++) {
        FILE *f = fopen(path, "r");
        int n = f ? (int)fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n > 0 ? n : 0] = 0;
        char *e = strrchr(buf, ')');
        if (e && e[1] == ' ' && e[2] == 'S')
            return 1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Block until SIGIO has come `n` times in all. */
static void wait_sigio(int n)
{
    sigset_t none;
    sigemptyset(&none);
    while (sigio < n)
        sigsuspend(&none);
}

/* A child that opens PATH with `flags` and says how it went. */
/* A child that opens PATH with `flags`; its exit status is 0 or the
 * errno (the parent reports it, so output order does not depend on which
 * process runs first once a lease is given up). */
static pid_t opener(int flags)
{
    pid_t p = fork();
    if (p == 0)
        _exit(open(PATH, flags) < 0 ? errno : 0);
    return p;
}

static void on_usr1(int s)
{
    (void)s;
}

/* A child that truncates PATH to `len` (with a SIGUSR1 handler that does
 * not restart calls if `interruptible`); its exit status is 0 or the
 * errno. */
static pid_t truncater(off_t len, int interruptible)
{
    pid_t p = fork();
    if (p == 0) {
        if (interruptible) {
            struct sigaction sa = {.sa_handler = on_usr1};
            sigaction(SIGUSR1, &sa, NULL);
        }
        _exit(truncate(PATH, len) < 0 ? errno : 0);
    }
    return p;
}

static long long size(void)
{
    struct stat st;
    return stat(PATH, &st) < 0 ? -1 : (long long)st.st_size;
}

/* Wait for an opener and say how its open went. */
static void reap(pid_t p, const char *label)
{
    int st = 0;
    waitpid(p, &st, 0);
    errno = WEXITSTATUS(st);
    printf("%s: %s\n", label, en(errno ? -1 : 0));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGIO, on_sigio);
    sigset_t io;
    sigemptyset(&io);
    sigaddset(&io, SIGIO);
    sigprocmask(SIG_BLOCK, &io, NULL);

    unlink(PATH);
    int fd = open(PATH, O_CREAT | O_RDWR, 0644);
    write(fd, "data\n", 5);
    close(fd);

    /* Refusals. */
    int r = open(PATH, O_RDONLY);
    printf("no lease: %s\n", ty(fcntl(r, F_GETLEASE)));
    SAY("F_UNLCK without a lease", fcntl(r, F_SETLEASE, F_UNLCK));
    SAY("bad type", fcntl(r, F_SETLEASE, 7));
    int pp[2];
    pipe(pp);
    SAY("lease on a pipe", fcntl(pp[0], F_SETLEASE, F_RDLCK));
    int d = open("/tmp", O_RDONLY);
    SAY("lease on a directory", fcntl(d, F_SETLEASE, F_RDLCK));
    close(d);
    int w = open(PATH, O_WRONLY);
    SAY("read lease with a writer open", fcntl(r, F_SETLEASE, F_RDLCK));
    SAY("read lease on a writable fd", fcntl(w, F_SETLEASE, F_RDLCK));
    SAY("write lease with another open", fcntl(w, F_SETLEASE, F_WRLCK));
    close(w);
    pid_t p = fork();
    if (p == 0) {
        setuid(1000);
        SAY("lease on someone else's file", fcntl(r, F_SETLEASE, F_RDLCK));
        _exit(0);
    }
    waitpid(p, NULL, 0);

    /* Read leases: shared; an open for reading does not break them. */
    SAY("read lease", fcntl(r, F_SETLEASE, F_RDLCK));
    printf("now: %s\n", ty(fcntl(r, F_GETLEASE)));
    int r2 = open(PATH, O_RDONLY);
    SAY("second read lease", fcntl(r2, F_SETLEASE, F_RDLCK));
    SAY("write lease over a read lease", fcntl(r, F_SETLEASE, F_WRLCK));
    close(r2);
    SAY("write lease (upgrade)", fcntl(r, F_SETLEASE, F_WRLCK));
    printf("now: %s\n", ty(fcntl(r, F_GETLEASE)));

    /* A non-blocking open starts the break and fails. */
    reap(opener(O_RDONLY | O_NONBLOCK), "child O_RDONLY|O_NONBLOCK");
    wait_sigio(1);
    printf("SIGIO %d, breaking to %s\n", sigio, ty(fcntl(r, F_GETLEASE)));
    SAY("upgrade while breaking", fcntl(r, F_SETLEASE, F_WRLCK));
    SAY("give it up", fcntl(r, F_SETLEASE, F_UNLCK));
    printf("now: %s\n", ty(fcntl(r, F_GETLEASE)));

    /* A blocking open for writing waits until the lease is given up. */
    SAY("write lease", fcntl(r, F_SETLEASE, F_WRLCK));
    p = opener(O_RDWR);
    wait_sigio(2);
    printf("SIGIO %d, breaking to %s, opener asleep %d\n", sigio,
           ty(fcntl(r, F_GETLEASE)), wait_sleeping(p));
    SAY("give it up", fcntl(r, F_SETLEASE, F_UNLCK));
    reap(p, "child O_RDWR");

    /* A blocking open for reading waits until the lease is downgraded. */
    int q = open(PATH, O_RDONLY);
    close(r);
    r = q;
    SAY("write lease", fcntl(r, F_SETLEASE, F_WRLCK));
    p = opener(O_RDONLY);
    wait_sigio(3);
    printf("SIGIO %d, breaking to %s, opener asleep %d\n", sigio,
           ty(fcntl(r, F_GETLEASE)), wait_sleeping(p));
    SAY("downgrade", fcntl(r, F_SETLEASE, F_RDLCK));
    reap(p, "child O_RDONLY");
    printf("now: %s\n", ty(fcntl(r, F_GETLEASE)));

    /* The lease goes with the last close of its file. */
    int dup_r = dup(r);
    close(r);
    printf("after closing one of two fds: %s\n", ty(fcntl(dup_r, F_GETLEASE)));
    close(dup_r);
    reap(opener(O_WRONLY | O_NONBLOCK), "child O_WRONLY after the close");
    printf("SIGIO %d\n", sigio);

    /* truncate(2) breaks leases as an open for writing does: it sleeps
     * until a read lease is given up, and the file keeps its size until
     * then. */
    r = open(PATH, O_RDONLY);
    SAY("read lease", fcntl(r, F_SETLEASE, F_RDLCK));
    p = truncater(1, 0);
    wait_sigio(4);
    printf("SIGIO %d, breaking to %s, truncater asleep %d, size %lld\n", sigio,
           ty(fcntl(r, F_GETLEASE)), wait_sleeping(p), size());
    SAY("give it up", fcntl(r, F_SETLEASE, F_UNLCK));
    reap(p, "child truncate");
    printf("size %lld\n", size());

    /* A write lease too; a signal with a handler (no SA_RESTART) ends
     * the wait with EINTR, and the break goes on. */
    SAY("write lease", fcntl(r, F_SETLEASE, F_WRLCK));
    p = truncater(2, 1);
    wait_sigio(5);
    printf("SIGIO %d, breaking to %s, truncater asleep %d\n", sigio,
           ty(fcntl(r, F_GETLEASE)), wait_sleeping(p));
    kill(p, SIGUSR1);
    reap(p, "child truncate interrupted");
    printf("still breaking to %s, size %lld\n", ty(fcntl(r, F_GETLEASE)), size());
    SAY("give it up", fcntl(r, F_SETLEASE, F_UNLCK));

    /* open(O_TRUNC) breaks before it truncates: with O_NONBLOCK it fails
     * and the file keeps its size. A read-only O_TRUNC open conflicts with
     * write leases only (Linux breaks by the access mode). */
    SAY("read lease", fcntl(r, F_SETLEASE, F_RDLCK));
    reap(opener(O_WRONLY | O_TRUNC | O_NONBLOCK), "child O_WRONLY|O_TRUNC|O_NONBLOCK");
    wait_sigio(6);
    printf("SIGIO %d, breaking to %s, size %lld\n", sigio, ty(fcntl(r, F_GETLEASE)), size());
    SAY("give it up", fcntl(r, F_SETLEASE, F_UNLCK));
    SAY("write lease", fcntl(r, F_SETLEASE, F_WRLCK));
    reap(opener(O_RDONLY | O_TRUNC | O_NONBLOCK), "child O_RDONLY|O_TRUNC|O_NONBLOCK");
    wait_sigio(7);
    printf("SIGIO %d, breaking to %s, size %lld\n", sigio, ty(fcntl(r, F_GETLEASE)), size());
    SAY("downgrade", fcntl(r, F_SETLEASE, F_RDLCK));
    reap(opener(O_RDONLY | O_TRUNC | O_NONBLOCK), "child O_RDONLY|O_TRUNC|O_NONBLOCK");
    printf("SIGIO %d, lease %s, size %lld\n", sigio, ty(fcntl(r, F_GETLEASE)), size());
    close(r);

    /* ftruncate by the lease's own file breaks nothing. */
    int rw = open(PATH, O_RDWR);
    SAY("write lease on O_RDWR", fcntl(rw, F_SETLEASE, F_WRLCK));
    SAY("ftruncate by the holder", ftruncate(rw, 3));
    printf("SIGIO %d, lease %s, size %lld\n", sigio, ty(fcntl(rw, F_GETLEASE)), size());
    close(rw);
    unlink(PATH);
    printf("leases done\n");
    return 0;
}
