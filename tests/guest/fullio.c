/* I/O that must complete in full, and futexes shared between processes.
 *
 *   fullio io PATH...   16 MiB read/write/pread/pwrite/readv/writev on each
 *                       PATH (regular file, or dev:PATH for a block device)
 *   fullio futex DIR    process-shared semaphores, mutex + condvar, and raw
 *                       FUTEX_WAIT/WAKE/CMP_REQUEUE/WAKE_OP across fork on
 *                       shared anonymous and shared file mappings (DIR)
 *   fullio pipe         blocking pipe writes of 1 and 8 MiB, signals, PIPE_BUF,
 *                       pipe reads interrupted with and without SA_RESTART
 *                       atomicity, F_SETPIPE_SZ/F_GETPIPE_SZ, FIONREAD
 *
 * Output is deterministic (no pids, addresses or times): a hang is caught
 * by alarm(), which kills the program and so changes its output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define BIG (16 * MIB)

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static void fill(unsigned char *b, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)((i * 131 + (i >> 12) * 7 + seed) & 0xff);
}

/* ---------------------------------------------------------------- io */

/* `path`, or "dev:PATH" for a device (natively a file standing in for
 * one): the regular-file-only checks are left out. */
static void io_one(const char *path) {
    int device = strncmp(path, "dev:", 4) == 0;
    if (device)
        path += 4;
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
        printf("open: %s\n", strerror(errno));
        return;
    }
    unsigned char *a = malloc(BIG), *b = malloc(BIG);
    fill(a, BIG, 1);
    printf("write: %zd\n", write(fd, a, BIG));
    lseek(fd, 0, SEEK_SET);
    memset(b, 0, BIG);
    ssize_t n = read(fd, b, BIG);
    printf("read: %zd same %d\n", n, memcmp(a, b, BIG) == 0);

    fill(a, BIG, 2);
    printf("pwrite: %zd\n", pwrite(fd, a, 12 * MIB, 4096));
    memset(b, 0, BIG);
    n = pread(fd, b, 12 * MIB, 4096);
    printf("pread: %zd same %d\n", n, memcmp(a, b, 12 * MIB) == 0);

    /* Vectors whose pieces do not line up with the kernel's chunks. */
    fill(a, BIG, 3);
    struct iovec w[4] = {{a, 3 * MIB + 5}, {a + 3 * MIB + 5, 1}, {a + 3 * MIB + 6, 6 * MIB},
                         {a + 9 * MIB + 6, 4 * MIB - 6}};
    lseek(fd, 0, SEEK_SET);
    printf("writev: %zd\n", writev(fd, w, 4));
    memset(b, 0, BIG);
    struct iovec r[3] = {{b, 1}, {b + 1, 7 * MIB}, {b + 7 * MIB + 1, 6 * MIB - 1}};
    lseek(fd, 0, SEEK_SET);
    n = readv(fd, r, 3);
    printf("readv: %zd same %d pos %lld\n", n, memcmp(a, b, 13 * MIB) == 0,
           (long long)lseek(fd, 0, SEEK_CUR));
    fill(a, BIG, 4);
    printf("pwritev: %zd\n", pwritev(fd, w, 4, 8192));
    memset(b, 0, BIG);
    n = preadv(fd, r, 3, 8192);
    printf("preadv: %zd same %d\n", n, memcmp(a, b, 13 * MIB) == 0);

    if (!device) {
        /* A read across the end of the file stops there. */
        n = pread(fd, b, BIG, 4 * MIB);
        printf("pread past end: %zd\n", n);
        unlink(path);
    }
    close(fd);
    free(a);
    free(b);
}

/* ------------------------------------------------------------- futex */

static long futex(uint32_t *w, int op, uint32_t val, long val2, uint32_t *w2, uint32_t val3) {
    return syscall(SYS_futex, w, op, val, val2, w2, val3);
}

/* Retry `op` (a wake or requeue that returns how many it reached) until it
 * reaches one waiter: the other process is asleep by then. Gives up after
 * about 30 s, which only happens if wakes do not cross processes. */
static long reach_one(uint32_t *w, int op, uint32_t val, long val2, uint32_t *w2, uint32_t val3) {
    for (int i = 0; i < 30000; i++) {
        long r = futex(w, op, val, val2, w2, val3);
        if (r != 0)
            return r;
        usleep(1000);
    }
    return 0;
}

static int child_status(pid_t c) {
    int st;
    if (waitpid(c, &st, 0) != c)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct shared {
    sem_t ping, pong;
    int count;
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn, rounds;
    uint32_t a, b;
};

static void futex_sem(struct shared *s) {
    sem_init(&s->ping, 1, 0);
    sem_init(&s->pong, 1, 0);
    s->count = 0;
    pid_t c = fork();
    if (c == 0) {
        for (int i = 0; i < 1000; i++) {
            sem_wait(&s->ping);
            s->count++;
            sem_post(&s->pong);
        }
        _exit(0);
    }
    for (int i = 0; i < 1000; i++) {
        sem_post(&s->ping);
        sem_wait(&s->pong);
    }
    printf("sem pingpong: %d child %d\n", s->count, child_status(c));
}

static void futex_cond(struct shared *s) {
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->m, &ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_cond_init(&s->c, &ca);
    s->turn = 0;
    s->rounds = 0;
    pid_t c = fork();
    int me = c == 0;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&s->m);
        while (s->turn != me)
            pthread_cond_wait(&s->c, &s->m);
        s->rounds++;
        s->turn = !me;
        pthread_cond_broadcast(&s->c);
        pthread_mutex_unlock(&s->m);
    }
    if (c == 0)
        _exit(0);
    printf("cond pingpong: %d child %d\n", s->rounds, child_status(c));
}

/* Raw futexes in a shared anonymous mapping: requeue and wake_op. */
static void futex_raw_anon(struct shared *s) {
    s->a = 0;
    s->b = 0;
    pid_t c = fork();
    if (c == 0) {
        long r = futex(&s->a, FUTEX_WAIT, 0, 0, NULL, 0);
        _exit(r == 0 ? 0 : 1);
    }
    long moved = reach_one(&s->a, FUTEX_CMP_REQUEUE, 0, 1, &s->b, 0);
    long woke = futex(&s->b, FUTEX_WAKE, 1, 0, NULL, 0);
    printf("cmp_requeue across fork: moved %ld woke %ld child %d\n", moved, woke, child_status(c));

    c = fork();
    if (c == 0) {
        long r = futex(&s->a, FUTEX_WAIT, 0, 0, NULL, 0);
        _exit(r == 0 ? 0 : 1);
    }
    /* *a += 0; wake b's waiters (none), then a's since the old value was 0. */
    uint32_t op = FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0);
    long woke_op = reach_one(&s->b, FUTEX_WAKE_OP, 1, 1, &s->a, op);
    printf("wake_op across fork: %ld child %d\n", woke_op, child_status(c));
}

/* A robust process-shared mutex whose owner exits holding it: the next
 * locker gets EOWNERDEAD, whether it was waiting already or comes later. */
static void futex_robust(struct shared *s) {
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    for (int waiting = 0; waiting < 2; waiting++) {
        pthread_mutex_init(&s->m, &ma);
        s->turn = 0;
        pid_t c = fork();
        if (c == 0) {
            pthread_mutex_lock(&s->m);
            __atomic_store_n(&s->turn, 1, __ATOMIC_SEQ_CST);
            if (waiting)
                usleep(100000); /* let the parent start waiting */
            _exit(0);
        }
        if (!waiting)
            child_status(c);
        else
            while (!__atomic_load_n(&s->turn, __ATOMIC_SEQ_CST))
                usleep(1000);
        int r = pthread_mutex_lock(&s->m);
        printf("robust mutex, owner exited (%s): %s\n", waiting ? "waiting" : "later",
               strerror(r));
        if (r == EOWNERDEAD)
            pthread_mutex_consistent(&s->m);
        pthread_mutex_unlock(&s->m);
        if (waiting)
            child_status(c);
        pthread_mutex_destroy(&s->m);
    }
}

/* A file mapped by two processes at different addresses and offsets. */
static void futex_file(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/fullio-futex.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        printf("mkstemp: %s\n", strerror(errno));
        return;
    }
    unlink(path);
    ftruncate(fd, 3 * 4096);
    char *whole = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    uint32_t *w = (uint32_t *)(whole + 4096 + 8);
    *w = 0;
    pid_t c = fork();
    if (c == 0) {
        /* Map again from file offset 4096: a different address and VMA. */
        char *part = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
        uint32_t *cw = (uint32_t *)(part + 8);
        while (*cw == 0)
            futex(cw, FUTEX_WAIT, 0, 0, NULL, 0);
        _exit(*cw == 7 ? 0 : 1);
    }
    long woke = reach_one(w, FUTEX_WAKE, 1, 0, NULL, 0);
    *w = 7;
    futex(w, FUTEX_WAKE, 1, 0, NULL, 0);
    printf("file mapping wake across fork: %ld child %d\n", woke, child_status(c));

    /* The other way round: the parent waits, the child wakes. */
    *w = 0;
    c = fork();
    if (c == 0) {
        char *part = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
        uint32_t *cw = (uint32_t *)(part + 8);
        long r = reach_one(cw, FUTEX_WAKE, 1, 0, NULL, 0);
        _exit(r == 1 ? 0 : 1);
    }
    long r = futex(w, FUTEX_WAIT, 0, 0, NULL, 0);
    printf("file mapping wait across fork: %s child %d\n", err(r), child_status(c));
    munmap(whole, 3 * 4096);
    close(fd);
}

static void futex_tests(const char *dir) {
    alarm(120);
    struct shared *s =
        mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    futex_sem(s);
    futex_cond(s);
    futex_raw_anon(s);
    futex_file(dir);
    futex_robust(s);
    /* A private futex in shared memory stays within its process. */
    s->a = 0;
    printf("private wake of a shared word: %ld\n",
           futex(&s->a, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
    munmap(s, sizeof *s);
    alarm(0);
}

/* -------------------------------------------------------------- pipe */

static void on_usr1(int sig) { (void)sig; }

/* A child reads `limit` bytes (all if 0) from p[0], checks the pattern and
 * exits 0 if it matched. With `signal_parent` it then sends SIGUSR1 to the
 * parent and waits to be killed, keeping the pipe open (a closed read end
 * would be EPIPE). */
static pid_t reader(int p[2], size_t limit, int signal_parent, unsigned seed) {
    pid_t c = fork();
    if (c)
        return c;
    close(p[1]);
    unsigned char *want = malloc(2 * MIB), *got = malloc(2 * MIB);
    fill(want, 2 * MIB, seed);
    size_t total = 0;
    for (;;) {
        size_t ask = limit ? limit - total : 2 * MIB - total;
        if (ask > 7000)
            ask = 7000;
        if (ask == 0)
            break;
        ssize_t n = read(p[0], got + total, ask);
        if (n <= 0)
            break;
        total += n;
    }
    int ok = memcmp(want, got, total) == 0;
    if (signal_parent) {
        kill(getppid(), SIGUSR1);
        for (;;)
            pause();
    }
    _exit(ok ? 0 : 1);
}

/* One write of 8 MiB to a pipe that another process drains slowly (small
 * reads, pauses) returns the whole count, and every byte arrives in order. */
static void slow_reader_tests(void) {
    size_t len = 8 * MIB;
    unsigned char *big = malloc(len);
    fill(big, len, 9);
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        unsigned char *got = malloc(len);
        size_t total = 0;
        int reads = 0;
        while (total < len) {
            ssize_t n = read(p[0], got + total, 10000);
            if (n <= 0)
                break;
            total += n;
            if (++reads % 64 == 0)
                usleep(2000);
        }
        int ok = total == len && memcmp(got, big, len) == 0;
        _exit(ok ? 0 : 1);
    }
    close(p[0]);
    ssize_t n = write(p[1], big, len);
    close(p[1]);
    printf("pipe write 8MiB to a slow reader: %zd reader %d\n", n, child_status(c));
    free(big);
}

static void on_usr2(int sig) { (void)sig; }

/* A read blocked on an empty pipe, interrupted by a caught signal: with
 * SA_RESTART it goes on and returns the data written later; without, it
 * fails with EINTR. */
static void read_interrupt_tests(void) {
    for (int restart = 0; restart < 2; restart++) {
        struct sigaction sa = {0};
        sa.sa_handler = on_usr2;
        sa.sa_flags = restart ? SA_RESTART : 0;
        sigaction(SIGUSR2, &sa, NULL);
        int p[2];
        pipe(p);
        pid_t parent = getpid();
        pid_t c = fork();
        if (c == 0) {
            usleep(100000);
            kill(parent, SIGUSR2);
            usleep(100000);
            write(p[1], "late", 4);
            _exit(0);
        }
        char b[16];
        ssize_t n = read(p[0], b, sizeof b);
        printf("pipe read interrupted, SA_RESTART %d: %zd %s\n", restart, n, err(n));
        child_status(c);
        close(p[0]);
        close(p[1]);
    }
}

static void pipe_tests(void) {
    alarm(120);
    unsigned char *buf = malloc(2 * MIB);
    fill(buf, 2 * MIB, 5);
    int p[2];

    /* A blocking write of 1 MiB goes in whole. */
    pipe(p);
    pid_t c = reader(p, 0, 0, 5);
    close(p[0]);
    ssize_t n = write(p[1], buf, MIB);
    close(p[1]);
    printf("pipe write 1MiB: %zd reader %d\n", n, child_status(c));

    /* writev too. */
    pipe(p);
    c = reader(p, 0, 0, 5);
    close(p[0]);
    struct iovec v[3] = {{buf, 100000}, {buf + 100000, 1}, {buf + 100001, MIB - 100001}};
    n = writev(p[1], v, 3);
    close(p[1]);
    printf("pipe writev 1MiB: %zd reader %d\n", n, child_status(c));

    /* A signal part-way through returns what was written so far. */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pipe(p);
    c = reader(p, 200000, 1, 5);
    close(p[0]);
    n = write(p[1], buf, 2 * MIB);
    printf("interrupted write: partial %d\n", n >= 200000 && n < 2 * MIB);
    kill(c, SIGKILL);
    child_status(c);
    close(p[1]);

    /* ... and EINTR if nothing was. */
    pipe(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    while (write(p[1], buf, 4096) > 0)
        ;
    fcntl(p[1], F_SETFL, 0);
    c = fork();
    if (c == 0) {
        usleep(100000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    n = write(p[1], buf, 100);
    printf("blocked write interrupted: %zd %s\n", n, err(n));
    child_status(c);
    close(p[0]);
    close(p[1]);

    /* Non-blocking writes may be partial. */
    pipe(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    printf("F_GETPIPE_SZ: %d\n", fcntl(p[1], F_GETPIPE_SZ));
    n = write(p[1], buf, MIB);
    printf("nonblocking write 1MiB: %zd\n", n);
    n = write(p[1], buf, 1);
    printf("nonblocking write to full: %zd %s\n", n, err(n));
    int avail = -1;
    ioctl(p[0], FIONREAD, &avail);
    printf("FIONREAD full: %d\n", avail);
    int r = fcntl(p[1], F_SETPIPE_SZ, 4096);
    printf("F_SETPIPE_SZ below content: %d %s\n", r, err(r));
    close(p[0]);
    close(p[1]);

    pipe(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    write(p[1], buf, 1234);
    ioctl(p[0], FIONREAD, &avail);
    printf("FIONREAD: %d\n", avail);
    printf("F_SETPIPE_SZ 100000: %d\n", fcntl(p[1], F_SETPIPE_SZ, 100000));
    printf("F_GETPIPE_SZ: %d\n", fcntl(p[0], F_GETPIPE_SZ));
    printf("F_SETPIPE_SZ 0: %d\n", fcntl(p[1], F_SETPIPE_SZ, 0));
    n = read(p[0], buf + MIB, 2000);
    printf("read: %zd\n", n);
    n = write(p[1], buf, 10000);
    printf("nonblocking write into one page: %zd\n", n);
    r = fcntl(p[1], F_SETPIPE_SZ, -1);
    printf("F_SETPIPE_SZ -1: %d %s\n", r, err(r));
    c = fork();
    if (c == 0) {
        setuid(65534);
        int a = fcntl(p[1], F_SETPIPE_SZ, MIB);
        printf("F_SETPIPE_SZ 1MiB as user: %d\n", a);
        a = fcntl(p[1], F_SETPIPE_SZ, 8192);
        printf("F_SETPIPE_SZ 8KiB as user: %d\n", a);
        a = fcntl(p[1], F_SETPIPE_SZ, 2 * MIB);
        printf("F_SETPIPE_SZ 2MiB as user: %d %s\n", a, err(a));
        _exit(0);
    }
    child_status(c);
    int dfd = open("/", O_RDONLY);
    r = fcntl(dfd, F_GETPIPE_SZ);
    printf("F_GETPIPE_SZ directory: %d %s\n", r, err(r));
    close(dfd);
    close(p[0]);
    close(p[1]);

    /* Writes of PIPE_BUF bytes from two writers never interleave. */
    pipe(p);
    pid_t w[2];
    for (int k = 0; k < 2; k++) {
        w[k] = fork();
        if (w[k] == 0) {
            close(p[0]);
            char rec[4096];
            memset(rec, 'a' + k, sizeof rec);
            for (int i = 0; i < 256; i++)
                if (write(p[1], rec, sizeof rec) != sizeof rec)
                    _exit(1);
            _exit(0);
        }
    }
    close(p[1]);
    int records = 0, whole = 1;
    char rec[4096];
    for (;;) {
        size_t got = 0;
        while (got < sizeof rec) {
            n = read(p[0], rec + got, sizeof rec - got);
            if (n <= 0)
                break;
            got += n;
        }
        if (got < sizeof rec)
            break;
        records++;
        for (size_t i = 1; i < sizeof rec; i++)
            if (rec[i] != rec[0])
                whole = 0;
    }
    close(p[0]);
    printf("PIPE_BUF records: %d whole %d writers %d %d\n", records, whole, child_status(w[0]),
           child_status(w[1]));
    free(buf);
    slow_reader_tests();
    read_interrupt_tests();
    alarm(0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 3 && strcmp(argv[1], "io") == 0) {
        for (int i = 2; i < argc; i++)
            io_one(argv[i]);
    } else if (argc == 3 && strcmp(argv[1], "futex") == 0) {
        futex_tests(argv[2]);
    } else if (argc == 2 && strcmp(argv[1], "pipe") == 0) {
        pipe_tests();
    } else {
        fprintf(stderr, "usage: fullio io PATH... | futex DIR | pipe\n");
        return 2;
    }
    printf("fullio done\n");
    return 0;
}
