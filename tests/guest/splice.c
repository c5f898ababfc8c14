/*
 * copy_file_range, splice, tee and vmsplice, compared line by line with a
 * native run (tests/spine_c.rs): the bytes moved, file positions and
 * offsets afterwards, the errno of each refused call, a splice that sleeps
 * on an empty pipe until a child writes, and one a signal interrupts.
 * Raw syscalls, so libc cannot emulate anything. Files live in a fresh
 * directory under /tmp; nothing printed depends on pids or times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char big[200000];
static int failures;

static const char *ename(int e) {
    switch (e) {
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ESPIPE: return "ESPIPE";
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case EISDIR: return "EISDIR";
    case EXDEV: return "EXDEV";
    case EINTR: return "EINTR";
    case EFAULT: return "EFAULT";
    case EOVERFLOW: return "EOVERFLOW";
    default: return "other";
    }
}

static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, ename(errno));
    else
        printf("%s: %ld ok\n", what, r);
}

static long cfr(int in, loff_t *oi, int out, loff_t *oo, size_t len, unsigned fl) {
    return syscall(SYS_copy_file_range, in, oi, out, oo, len, fl);
}
static long spl(int in, loff_t *oi, int out, loff_t *oo, size_t len, unsigned fl) {
    return syscall(SYS_splice, in, oi, out, oo, len, fl);
}
static long tee_(int in, int out, size_t len, unsigned fl) {
    return syscall(SYS_tee, in, out, len, fl);
}
static long vms(int fd, const struct iovec *iov, unsigned long n, unsigned fl) {
    return syscall(SYS_vmsplice, fd, iov, n, fl);
}

static char *path(const char *name) {
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static int mkfile(const char *name, size_t size) {
    int fd = open(path(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (size && write(fd, big, size) != (ssize_t)size)
        printf("FAIL write %s\n", name);
    return fd;
}

/* Whether `fd` at `off` holds big[from..from+n]. */
static void same(const char *what, int fd, off_t off, size_t from, size_t n) {
    static char b[200000];
    ssize_t r = pread(fd, b, n, off);
    int ok = r == (ssize_t)n && memcmp(b, big + from, n) == 0;
    printf("%s: %s\n", what, ok ? "same" : "DIFFERENT");
    if (!ok)
        failures++;
}

static void readback(const char *what, int fd, size_t n) {
    char b[256] = {0};
    ssize_t r = read(fd, b, n);
    printf("%s: %zd \"%.*s\"\n", what, r, r > 0 ? (int)r : 0, b);
}

static void test_copy_file_range(void) {
    int src = mkfile("src", 10000);
    int dst = mkfile("dst", 0);
    lseek(src, 0, SEEK_SET);
    show("cfr positions", cfr(src, NULL, dst, NULL, 4096, 0));
    printf("cfr pos in %ld out %ld\n", (long)lseek(src, 0, SEEK_CUR),
           (long)lseek(dst, 0, SEEK_CUR));
    same("cfr data", dst, 0, 0, 4096);
    loff_t oi = 8000, oo = 100;
    show("cfr offsets short at eof", cfr(src, &oi, dst, &oo, 5000, 0));
    printf("cfr offsets now %ld %ld, pos in %ld\n", (long)oi, (long)oo,
           (long)lseek(src, 0, SEEK_CUR));
    same("cfr offset data", dst, 100, 8000, 2000);
    show("cfr at eof", cfr(src, &oi, dst, &oo, 100, 0));
    show("cfr len 0", cfr(src, NULL, dst, NULL, 0, 0));
    show("cfr flags", cfr(src, NULL, dst, NULL, 10, 1));
    show("cfr bad fd", cfr(99, NULL, dst, NULL, 10, 0));
    int ro = open(path("dst"), O_RDONLY);
    show("cfr out read-only", cfr(src, NULL, ro, NULL, 10, 0));
    int wo = open(path("src"), O_WRONLY);
    show("cfr in write-only", cfr(wo, NULL, dst, NULL, 10, 0));
    int ap = open(path("dst"), O_WRONLY | O_APPEND);
    show("cfr out append", cfr(src, NULL, ap, NULL, 10, 0));
    int p[2];
    pipe(p);
    write(p[1], "x", 1);
    show("cfr from pipe", cfr(p[0], NULL, dst, NULL, 10, 0));
    show("cfr to pipe", cfr(src, NULL, p[1], NULL, 10, 0));
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    show("cfr from dir", cfr(d, NULL, dst, NULL, 10, 0));
    oi = 0;
    oo = 100;
    show("cfr overlap", cfr(src, &oi, src, &oo, 1000, 0));
    oo = 20000;
    show("cfr same file apart", cfr(src, &oi, src, &oo, 1000, 0));
    same("cfr same file data", src, 20000, 0, 1000);
    oi = -1;
    show("cfr negative offset", cfr(src, &oi, dst, NULL, 10, 0));
    show("cfr bad offset pointer", cfr(src, (loff_t *)8, dst, NULL, 10, 0));
    close(src), close(dst), close(ro), close(wo), close(ap), close(d);
    close(p[0]), close(p[1]);
}

static void test_splice(void) {
    int src = mkfile("ssrc", sizeof big);
    int dst = mkfile("sdst", 0);
    int p[2], q[2];
    pipe(p);
    pipe(q);
    lseek(src, 0, SEEK_SET);
    show("splice file->pipe", spl(src, NULL, p[1], NULL, 4096, 0));
    printf("splice in pos %ld\n", (long)lseek(src, 0, SEEK_CUR));
    loff_t oo = 50;
    show("splice pipe->file takes what is there", spl(p[0], NULL, dst, &oo, 8192, 0));
    printf("splice out offset %ld, pos %ld\n", (long)oo, (long)lseek(dst, 0, SEEK_CUR));
    same("splice data", dst, 50, 0, 4096);
    loff_t oi = sizeof big - 1000;
    show("splice file->pipe short at eof", spl(src, &oi, p[1], NULL, 4096, SPLICE_F_MORE));
    printf("splice in offset %ld\n", (long)oi);
    show("splice file->pipe at eof", spl(src, &oi, p[1], NULL, 4096, 0));
    show("splice pipe->file position", spl(p[0], NULL, dst, NULL, 4096, SPLICE_F_MOVE));
    same("splice tail data", dst, 0, sizeof big - 1000, 1000);
    show("splice file->pipe large", spl(src, NULL, p[1], NULL, 100000, 0));
    show("splice file->full pipe nonblock", spl(src, NULL, p[1], NULL, 10, SPLICE_F_NONBLOCK));
    show("splice pipe->file drain", spl(p[0], NULL, dst, NULL, 100000, 0));
    show("splice empty pipe nonblock", spl(p[0], NULL, dst, NULL, 10, SPLICE_F_NONBLOCK));
    write(p[1], "hello", 5);
    show("splice pipe->pipe", spl(p[0], NULL, q[1], NULL, 100, 0));
    readback("splice pipe->pipe read", q[0], 100);
    show("splice same pipe", spl(p[0], NULL, p[1], NULL, 10, 0));
    show("splice file->file", spl(src, NULL, dst, NULL, 10, 0));
    oo = 0;
    show("splice offset on pipe", spl(p[0], &oo, dst, NULL, 10, 0));
    show("splice bad flags", spl(p[0], NULL, dst, NULL, 10, 0x100));
    show("splice len 0 bad fd", spl(99, NULL, 98, NULL, 0, 0));
    show("splice bad fd", spl(99, NULL, p[1], NULL, 10, 0));
    show("splice from write end", spl(p[1], NULL, dst, NULL, 10, 0));
    int ap = open(path("sdst"), O_WRONLY | O_APPEND);
    write(p[1], "abc", 3);
    show("splice to append file", spl(p[0], NULL, ap, NULL, 10, 0));
    oo = -5;
    show("splice negative offset", spl(p[0], NULL, dst, &oo, 10, 0));
    show("splice pipe->file rest", spl(p[0], NULL, dst, NULL, 10, 0));

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "sock data", 9);
    show("splice socket->pipe", spl(sv[1], NULL, p[1], NULL, 100, 0));
    show("splice pipe->socket", spl(p[0], NULL, sv[1], NULL, 100, 0));
    readback("splice socket read", sv[0], 100);
    show("splice socket->pipe nonblock", spl(sv[1], NULL, p[1], NULL, 100, SPLICE_F_NONBLOCK));
    oi = 0;
    show("splice socket with offset", spl(sv[1], &oi, p[1], NULL, 100, 0));
    close(sv[0]), close(sv[1]);

    close(p[1]);
    show("splice empty pipe no writer", spl(p[0], NULL, dst, NULL, 10, 0));
    close(q[0]);
    write(p[1] = q[1], "", 0);
    int r[2];
    pipe(r);
    write(r[1], "zz", 2);
    show("splice pipe->pipe no reader", spl(r[0], NULL, q[1], NULL, 10, 0));
    show("splice file->pipe no reader", spl(src, NULL, q[1], NULL, 10, 0));
    close(p[0]), close(q[1]), close(r[0]), close(r[1]);
    close(src), close(dst), close(ap);
}

static void test_tee(void) {
    int p[2], q[2];
    pipe(p);
    pipe(q);
    write(p[1], "abcdef", 6);
    show("tee", tee_(p[0], q[1], 4, 0));
    readback("tee copy", q[0], 100);
    readback("tee original", p[0], 100);
    show("tee same pipe", tee_(p[0], p[1], 4, 0));
    int f = mkfile("tfile", 10);
    show("tee from file", tee_(f, q[1], 4, 0));
    show("tee to file", tee_(p[0], f, 4, 0));
    show("tee empty nonblock", tee_(p[0], q[1], 4, SPLICE_F_NONBLOCK));
    show("tee bad flags", tee_(p[0], q[1], 4, 0x40));
    show("tee len 0", tee_(p[0], q[1], 0, 0));
    show("tee from write end", tee_(p[1], q[1], 4, 0));
    close(p[1]);
    show("tee at eof", tee_(p[0], q[1], 4, 0));
    close(p[0]), close(q[0]), close(q[1]), close(f);
}

static void test_vmsplice(void) {
    int p[2];
    pipe(p);
    struct iovec iov[2] = {{"abc", 3}, {"defg", 4}};
    show("vmsplice to pipe", vms(p[1], iov, 2, 0));
    readback("vmsplice read", p[0], 100);
    write(p[1], "xyz12", 5);
    char a[3], b[3];
    struct iovec out[2] = {{a, 3}, {b, 3}};
    show("vmsplice from pipe", vms(p[0], out, 2, 0));
    printf("vmsplice got \"%.3s\" \"%.2s\"\n", a, b);
    show("vmsplice empty nonblock", vms(p[0], out, 2, SPLICE_F_NONBLOCK));
    show("vmsplice bad flags", vms(p[1], iov, 2, 0x20));
    show("vmsplice too many segments", vms(p[1], iov, 2000, 0));
    int f = mkfile("vfile", 0);
    show("vmsplice to file", vms(f, iov, 2, 0));
    show("vmsplice nothing to file", vms(f, iov, 0, 0));
    show("vmsplice bad fd", vms(99, iov, 2, 0));
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    while (write(p[1], big, sizeof big) > 0)
        ;
    /* O_NONBLOCK does not make vmsplice non-blocking: only the flag. */
    show("vmsplice full pipe nonblock", vms(p[1], iov, 2, SPLICE_F_NONBLOCK));
    close(p[0]);
    fcntl(p[1], F_SETFL, 0);
    show("vmsplice no reader", vms(p[1], iov, 2, 0));
    close(p[1]), close(f);
}

static void on_alarm(int sig) { (void)sig; }

static void test_blocking(void) {
    int p[2];
    pipe(p);
    int dst = mkfile("bdst", 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        struct timespec d = {0, 100 * 1000 * 1000};
        nanosleep(&d, NULL);
        write(p[1], "wake", 4);
        _exit(0);
    }
    show("splice waits for a writer", spl(p[0], NULL, dst, NULL, 100, 0));
    waitpid(c, NULL, 0);
    int q[2];
    pipe(q);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        struct timespec d = {0, 100 * 1000 * 1000};
        nanosleep(&d, NULL);
        write(p[1], "tee!", 4);
        _exit(0);
    }
    show("tee waits for a writer", tee_(p[0], q[1], 100, 0));
    waitpid(c, NULL, 0);
    readback("tee waited copy", q[0], 100);
    readback("tee waited original", p[0], 100);

    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART */
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    show("splice interrupted by a signal", spl(p[0], NULL, dst, NULL, 100, 0));
    setitimer(ITIMER_REAL, &it, NULL);
    show("vmsplice interrupted by a signal", vms(p[0], &(struct iovec){big, 10}, 1, 0));
    close(p[0]), close(p[1]), close(q[0]), close(q[1]), close(dst);
}

int main(void) {
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + i / 251);
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    strcpy(dir, "/tmp/spliceXXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_copy_file_range();
    test_splice();
    test_tee();
    test_vmsplice();
    test_blocking();
    const char *names[] = {"src", "dst", "ssrc", "sdst", "tfile", "vfile", "bdst"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        unlink(path(names[i]));
    rmdir(dir);
    if (failures)
        printf("%d failures\n", failures);
    printf("splice done\n");
    return failures != 0;
}
