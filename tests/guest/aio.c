/* Linux native AIO through raw syscalls: the ring header in user memory,
 * reads and writes on a file, vectored I/O, fsync, eventfd notification,
 * POLL on a pipe (pending until ready, cancellable), a pipe read that
 * waits for its writer, and the errnos of misuse. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ring {
    unsigned id, nr, head, tail, magic, compat, incompat, header_length;
    struct io_event events[];
};

static long io_setup(unsigned n, aio_context_t *c) { return syscall(SYS_io_setup, n, c); }
static long io_destroy(aio_context_t c) { return syscall(SYS_io_destroy, c); }
static long io_submit(aio_context_t c, long n, struct iocb **p) { return syscall(SYS_io_submit, c, n, p); }
static long io_cancel(aio_context_t c, struct iocb *cb, struct io_event *e) { return syscall(SYS_io_cancel, c, cb, e); }
static long io_getevents(aio_context_t c, long min, long n, struct io_event *e, struct timespec *t)
{
    return syscall(SYS_io_getevents, c, min, n, e, t);
}

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

static aio_context_t ctx;

static void prep(struct iocb *cb, int op, int fd, void *buf, size_t n, long long off, uint64_t data)
{
    memset(cb, 0, sizeof *cb);
    cb->aio_lio_opcode = op;
    cb->aio_fildes = fd;
    cb->aio_buf = (uintptr_t)buf;
    cb->aio_nbytes = n;
    cb->aio_offset = off;
    cb->aio_data = data;
}

/* Submit one iocb and wait for its event. */
static void run(const char *what, struct iocb *cb)
{
    struct iocb *p = cb;
    long r = io_submit(ctx, 1, &p);
    if (r != 1) {
        show(what, r);
        return;
    }
    struct io_event ev;
    r = io_getevents(ctx, 1, 1, &ev, NULL);
    printf("%s: submitted, events %ld data %llu obj ok %d res %lld\n", what, r,
           (unsigned long long)ev.data, ev.obj == (uintptr_t)cb, (long long)ev.res);
}

int main(void)
{
    aio_context_t bad = 1;
    show("setup 0 events", io_setup(0, &ctx));
    show("setup nonzero ctx", io_setup(4, &bad));
    show("setup", io_setup(8, &ctx));
    struct ring *ring = (struct ring *)ctx;
    printf("ring magic %#x header %u compat %u incompat %u head %u tail %u room %d\n", ring->magic,
           ring->header_length, ring->compat, ring->incompat, ring->head, ring->tail, ring->nr >= 8);

    char path[] = "/tmp/aioXXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    struct iocb cb;
    char buf[64] = {0};
    prep(&cb, IOCB_CMD_PWRITE, fd, "hello world", 11, 0, 1);
    run("pwrite", &cb);
    prep(&cb, IOCB_CMD_PREAD, fd, buf, 5, 6, 2);
    run("pread", &cb);
    printf("read '%s'\n", buf);
    prep(&cb, IOCB_CMD_PREAD, fd, buf, 10, 100, 3);
    run("pread past end", &cb);

    char a[3] = "AB", b[4] = "CDE";
    struct iovec wv[2] = {{a, 2}, {b, 3}};
    prep(&cb, IOCB_CMD_PWRITEV, fd, wv, 2, 20, 4);
    run("pwritev", &cb);
    char x[2], y[3];
    struct iovec rv[2] = {{x, 2}, {y, 3}};
    prep(&cb, IOCB_CMD_PREADV, fd, rv, 2, 20, 5);
    run("preadv", &cb);
    printf("readv '%.2s' '%.3s'\n", x, y);

    prep(&cb, IOCB_CMD_FSYNC, fd, 0, 0, 0, 6);
    run("fsync", &cb);
    prep(&cb, IOCB_CMD_FDSYNC, fd, 0, 0, 0, 7);
    run("fdsync", &cb);
    prep(&cb, IOCB_CMD_FSYNC, fd, 0, 1, 0, 8);
    run("fsync with length", &cb);

    int efd = eventfd(0, 0);
    prep(&cb, IOCB_CMD_PREAD, fd, buf, 4, 0, 9);
    cb.aio_flags = IOCB_FLAG_RESFD;
    cb.aio_resfd = efd;
    run("pread with eventfd", &cb);
    uint64_t cnt = 0;
    read(efd, &cnt, 8);
    printf("eventfd count %llu\n", (unsigned long long)cnt);

    int p[2];
    pipe(p);
    prep(&cb, IOCB_CMD_POLL, p[0], (void *)(uintptr_t)POLLIN, 0, 0, 10);
    struct iocb *pp = &cb;
    show("submit poll", io_submit(ctx, 1, &pp));
    struct timespec zero = {0, 0};
    struct io_event ev;
    show("poll not ready", io_getevents(ctx, 1, 1, &ev, &zero));
    write(p[1], "z", 1);
    long r = io_getevents(ctx, 1, 1, &ev, NULL);
    printf("poll ready: %ld data %llu res %#llx\n", r, (unsigned long long)ev.data, (long long)ev.res);
    read(p[0], buf, 1);

    struct iocb cb2;
    prep(&cb2, IOCB_CMD_POLL, p[0], (void *)(uintptr_t)POLLIN, 0, 0, 11);
    pp = &cb2;
    show("submit poll 2", io_submit(ctx, 1, &pp));
    show("cancel", io_cancel(ctx, &cb2, &ev));
    r = io_getevents(ctx, 1, 1, &ev, NULL);
    printf("cancelled: %ld data %llu res %lld\n", r, (unsigned long long)ev.data, (long long)ev.res);
    show("cancel again", io_cancel(ctx, &cb2, &ev));

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        write(p[1], "ping", 4);
        _exit(0);
    }
    memset(buf, 0, sizeof buf);
    prep(&cb, IOCB_CMD_PREAD, p[0], buf, sizeof buf, 0, 12);
    run("pipe read waits for writer", &cb);
    printf("pipe read '%s'\n", buf);
    waitpid(child, NULL, 0);

    /* Misuse. */
    pp = &cb;
    show("submit bad ctx", io_submit(12345, 1, &pp));
    show("submit negative", io_submit(ctx, -1, &pp));
    show("submit zero", io_submit(ctx, 0, &pp));
    prep(&cb, IOCB_CMD_PREAD, 999, buf, 1, 0, 0);
    show("bad fd", io_submit(ctx, 1, &pp));
    prep(&cb, 99, fd, buf, 1, 0, 0);
    show("bad opcode", io_submit(ctx, 1, &pp));
    prep(&cb, IOCB_CMD_PREAD, fd, buf, 1, 0, 0);
    cb.aio_reserved2 = 1;
    show("reserved2", io_submit(ctx, 1, &pp));
    prep(&cb, IOCB_CMD_PREAD, p[1], buf, 1, 0, 0);
    show("read write end", io_submit(ctx, 1, &pp));
    prep(&cb, IOCB_CMD_PREAD, fd, buf, 1, -1, 0);
    show("negative offset", io_submit(ctx, 1, &pp));
    prep(&cb, IOCB_CMD_PREAD, fd, buf, 1, 0, 0);
    cb.aio_flags = IOCB_FLAG_RESFD;
    cb.aio_resfd = fd;
    show("resfd not eventfd", io_submit(ctx, 1, &pp));
    prep(&cb, IOCB_CMD_POLL, p[0], (void *)0x10000, 0, 0, 0);
    show("poll bad events", io_submit(ctx, 1, &pp));
    struct iocb *two[2] = {&cb2, &cb};
    prep(&cb2, IOCB_CMD_PREAD, fd, buf, 1, 0, 13);
    prep(&cb, IOCB_CMD_PREAD, 999, buf, 1, 0, 14);
    show("second of two fails", io_submit(ctx, 2, two));
    show("reap it", io_getevents(ctx, 1, 8, &ev, NULL));
    show("getevents min > nr", io_getevents(ctx, 2, 1, &ev, NULL));
    show("getevents empty, zero timeout", io_getevents(ctx, 0, 1, &ev, &zero));
    show("pgetevents", syscall(SYS_io_pgetevents, ctx, 0, 1, &ev, &zero, NULL));
    show("destroy", io_destroy(ctx));
    show("destroy again", io_destroy(ctx));
    show("getevents destroyed", io_getevents(ctx, 0, 1, &ev, &zero));
    printf("aio done\n");
    return 0;
}
