/* Resource limits enforced, compared with a native run: RLIMIT_FSIZE on
 * write, pwrite, O_APPEND, ftruncate and fallocate (short writes, EFBIG,
 * SIGXFSZ), RLIMIT_CPU (SIGXCPU each second past the soft limit, the soft
 * limit moving on, SIGKILL at the hard one), RLIMIT_AS and RLIMIT_DATA on
 * mmap, mremap and brk. Each part runs in a child so the limits go away
 * with it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case EFBIG: return "EFBIG";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return strerror(e);
    }
}

static volatile int xfsz;
static void on_xfsz(int s) { (void)s; xfsz++; }

static void lim(int res, rlim_t soft, rlim_t hard) {
    struct rlimit r = {soft, hard};
    if (setrlimit(res, &r) < 0)
        perror("setrlimit");
}

static void show(const char *what, long r) {
    printf("%s: %ld %s xfsz=%d\n", what, r, r < 0 ? en(errno) : "ok", xfsz);
}

static const char *FILE_PATH = "/tmp/rlimits.fsize";

static void fsize_part(void) {
    char buf[8000];
    memset(buf, 'x', sizeof buf);
    signal(SIGXFSZ, on_xfsz);
    lim(RLIMIT_FSIZE, 10000, 10000);
    unlink(FILE_PATH);
    int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
    show("write 8000", write(fd, buf, 8000));
    show("write 8000 more (short)", write(fd, buf, 8000));
    show("write at limit", write(fd, buf, 1));
    show("write 0 at limit", write(fd, buf, 0));
    show("pwrite past", pwrite(fd, buf, 10, 20000));
    show("pwrite across", pwrite(fd, buf, 100, 9950));
    show("ftruncate to limit", ftruncate(fd, 10000));
    show("ftruncate past", ftruncate(fd, 10001));
    show("truncate past", truncate(FILE_PATH, 50000));
    show("ftruncate shrink", ftruncate(fd, 5));
    show("fallocate past", fallocate(fd, 0, 0, 20000));
    show("fallocate within", fallocate(fd, 0, 0, 6000));
    struct stat st;
    fstat(fd, &st);
    printf("size %ld\n", (long)st.st_size);
    close(fd);
    int afd = open(FILE_PATH, O_WRONLY | O_APPEND);
    show("append 8000", write(afd, buf, 8000));
    close(afd);
    /* Other files have no size limit. */
    int nfd = open("/dev/null", O_WRONLY);
    show("devnull", pwrite(nfd, buf, 10, 1 << 20));
    close(nfd);
    signal(SIGXFSZ, SIG_IGN);
    fd = open(FILE_PATH, O_RDWR);
    show("ignored: write past", pwrite(fd, buf, 10, 20000));
    close(fd);
}

static void fsize_default(void) {
    lim(RLIMIT_CORE, 0, 0);
    lim(RLIMIT_FSIZE, 100, 100);
    int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
    char buf[200] = {0};
    write(fd, buf, 200); /* short: 100 */
    write(fd, buf, 1);   /* SIGXFSZ, default action */
    _exit(0);
}

static int xcpu_pipe;
static void on_xcpu(int s) {
    (void)s;
    struct rlimit r;
    getrlimit(RLIMIT_CPU, &r);
    char c = (char)r.rlim_cur;
    write(xcpu_pipe, &c, 1);
}

static void cpu_part(void) {
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        xcpu_pipe = p[1];
        lim(RLIMIT_CORE, 0, 0);
        signal(SIGXCPU, on_xcpu);
        lim(RLIMIT_CPU, 1, 3);
        for (volatile unsigned long i = 0;; i++)
            ;
    }
    close(p[1]);
    char seen[16];
    int n = 0;
    char ch;
    while (n < 16 && read(p[0], &ch, 1) == 1)
        seen[n++] = ch;
    close(p[0]);
    int st;
    waitpid(c, &st, 0);
    printf("cpu: %d SIGXCPU, soft after each:", n);
    for (int i = 0; i < n; i++)
        printf(" %d", seen[i]);
    printf("; killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);

    c = fork();
    if (c == 0) {
        lim(RLIMIT_CORE, 0, 0);
        lim(RLIMIT_CPU, 1, RLIM_INFINITY);
        for (volatile unsigned long i = 0;; i++)
            ;
    }
    waitpid(c, &st, 0);
    printf("cpu default: killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

#define MB (1024L * 1024)

static void mres(const char *what, void *p) {
    printf("%s: %s\n", what, p == MAP_FAILED ? en(errno) : "ok");
}

static void as_part(void) {
    lim(RLIMIT_AS, 256 * MB, RLIM_INFINITY);
    mres("as: mmap 512M", mmap(0, 512 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    void *p = mmap(0, 16 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mres("as: mmap 16M", p);
    mres("as: mremap to 600M", mremap(p, 16 * MB, 600 * MB, MREMAP_MAYMOVE));
    mres("as: mremap to 32M", mremap(p, 16 * MB, 32 * MB, MREMAP_MAYMOVE));
    mres("as: mmap 512M noreserve shared",
         mmap(0, 512 * MB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    void *b = sbrk(0);
    printf("as: sbrk 512M %s\n", sbrk(512 * MB) == (void *)-1 ? "refused" : "ok");
    printf("as: brk unchanged %d\n", sbrk(0) == b);
    /* Replacing a mapping with MAP_FIXED does not count twice. */
    lim(RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY);
    void *q = mmap(0, 100 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long vm = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %ld", &vm) == 1)
            break;
    fclose(f);
    lim(RLIMIT_AS, vm * 1024 + 4 * MB, RLIM_INFINITY);
    mres("as: fixed over own 100M",
         mmap(q, 100 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    mres("as: 8M more", mmap(0, 8 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
}

static void data_part(void) {
    lim(RLIMIT_DATA, 64 * MB, 128 * MB);
    mres("data: read-only private 128M",
         mmap(0, 128 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mres("data: writable private 128M",
         mmap(0, 128 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mres("data: writable shared 128M",
         mmap(0, 128 * MB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    mres("data: writable private 8M",
         mmap(0, 8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    void *b = sbrk(0);
    printf("data: sbrk 100M %s\n", sbrk(100 * MB) == (void *)-1 ? "refused" : "ok");
    printf("data: brk unchanged %d\n", sbrk(0) == b);
    printf("data: sbrk 64K %s\n", sbrk(64 * 1024) == (void *)-1 ? "refused" : "ok");
    void *ro = mmap(0, 100 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("data: mprotect 100M writable: %s\n",
           mprotect(ro, 100 * MB, PROT_READ | PROT_WRITE) < 0 ? en(errno) : "ok");
    printf("data: mprotect 1M writable: %s\n",
           mprotect(ro, 1 * MB, PROT_READ | PROT_WRITE) < 0 ? en(errno) : "ok");
    printf("data: mprotect 1M again: %s\n",
           mprotect(ro, 1 * MB, PROT_READ | PROT_WRITE) < 0 ? en(errno) : "ok");
    /* A zero soft limit lets mappings through up to the hard one. */
    lim(RLIMIT_DATA, 0, 128 * MB);
    mres("data: soft 0, writable 8M",
         mmap(0, 8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mres("data: soft 0, writable 256M",
         mmap(0, 256 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
}

static void in_child(void (*f)(void), const char *name) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        f();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st))
        printf("%s: killed by %d\n", name, WTERMSIG(st));
    else
        printf("%s: exit %d\n", name, WEXITSTATUS(st));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    mkdir("/tmp", 01777);
    in_child(fsize_part, "fsize");
    in_child(fsize_default, "fsize default");
    struct stat st;
    stat(FILE_PATH, &st);
    printf("fsize default: size %ld\n", (long)st.st_size);
    unlink(FILE_PATH);
    in_child(cpu_part, "cpu");
    in_child(as_part, "as");
    in_child(data_part, "data");
    printf("rlimits done\n");
    return 0;
}
