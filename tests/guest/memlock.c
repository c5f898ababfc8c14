/* mlock, mlock2, munlock, mlockall, munlockall and RLIMIT_MEMLOCK,
 * compared with a native run: VmLck after each step (overlaps counted
 * once, munmap and munlock unlocking, mremap keeping a mapping locked,
 * fork not inheriting locks), the EINVAL/ENOMEM rules, and as nobody the
 * limit (ENOMEM, EAGAIN for MAP_LOCKED and MCL_FUTURE, EPERM with a zero
 * limit). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096L

static const char *en(int e) {
    switch (e) {
    case 0: return "ok";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    default: return strerror(e);
    }
}

#define R(call) ((call) < 0 ? en(errno) : "ok")
static long vmlck(void);
/* The call's result, then VmLck after it (in that order). */
#define STEP(name, call)                                                                           \
    do {                                                                                           \
        const char *r_ = R(call);                                                                  \
        printf("%s: %s VmLck %ld\n", name, r_, vmlck());                                           \
    } while (0)

/* VmLck in kB, read without stdio (no malloc while MCL_FUTURE is on). */
static long vmlck(void) {
    static char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *p = strstr(buf, "VmLck:");
    return p ? strtol(p + 6, NULL, 10) : -1;
}

static void *map(long pages, int extra) {
    return mmap(0, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
}

static void root_part(void) {
    char *p = map(64, 0);
    printf("start: VmLck %ld\n", vmlck());
    STEP("mlock 10", mlock(p, 10 * PG));
    STEP("mlock unaligned inside", mlock(p + 1, 2 * PG));
    STEP("mlock overlapping 5..15", mlock(p + 5 * PG, 10 * PG));
    STEP("munlock 0..3", munlock(p, 3 * PG));
    STEP("munmap 14", munmap(p + 14 * PG, PG));
    printf("mlock hole: %s\n", R(mlock(p + 14 * PG, PG)));
    printf("munlock hole: %s\n", R(munlock(p + 14 * PG, PG)));
    printf("mlock len 0: %s\n", R(mlock(p, 0)));
    printf("mlock2 bad flags: %s\n", R(syscall(SYS_mlock2, p, PG, 2)));
    STEP("mlock2 onfault", syscall(SYS_mlock2, p + 20 * PG, PG, 1));
    printf("mlockall 0: %s\n", R(mlockall(0)));
    printf("mlockall 8: %s\n", R(mlockall(8)));
    printf("mlockall onfault only: %s\n", R(mlockall(MCL_ONFAULT)));
    pid_t c = fork();
    if (c == 0) {
        printf("child of a locker: VmLck %ld\n", vmlck());
        _exit(0);
    }
    waitpid(c, NULL, 0);
    STEP("munlockall", munlockall());
    int r = mlockall(MCL_FUTURE);
    long before = vmlck();
    char *q = map(4, 0);
    long after = vmlck();
    munmap(q, 4 * PG);
    long unmapped = vmlck();
    munlockall();
    printf("mlockall future: %s VmLck %ld, after mmap 4 %ld, after munmap %ld\n", en(r < 0 ? errno : 0),
           before, after, unmapped);
    q = map(2, 0);
    mlock(q, 2 * PG);
    q = mremap(q, 2 * PG, 200 * PG, MREMAP_MAYMOVE);
    STEP("mremap locked 2 -> 200", q == MAP_FAILED ? -1 : 0);
    q = mremap(q, 200 * PG, 3 * PG, 0);
    STEP("mremap locked 200 -> 3", q == MAP_FAILED ? -1 : 0);
    q = map(3, MAP_LOCKED);
    STEP("MAP_LOCKED 3", q == MAP_FAILED ? -1 : 0);
}

static void user_part(void) {
    struct rlimit r = {8 * PG, 8 * PG};
    setrlimit(RLIMIT_MEMLOCK, &r);
    if (setuid(65534) < 0)
        perror("setuid");
    char *p = map(64, 0);
    STEP("user mlock 4", mlock(p, 4 * PG));
    STEP("user mlock 8 more", mlock(p + 4 * PG, 8 * PG));
    STEP("user mlock 4 again over 2", mlock(p + 2 * PG, 4 * PG));
    void *q = map(8, MAP_LOCKED);
    printf("user MAP_LOCKED 8: %s\n", q == MAP_FAILED ? en(errno) : "ok");
    q = map(2, MAP_LOCKED);
    STEP("user MAP_LOCKED 2", q == MAP_FAILED ? -1 : 0);
    printf("user mlockall current: %s\n", R(mlockall(MCL_CURRENT)));
    int rf = mlockall(MCL_FUTURE);
    q = map(4, 0);
    int e = q == MAP_FAILED ? errno : 0;
    munlockall();
    printf("user mlockall future: %s, mmap 4 then: %s, VmLck %ld\n", en(rf < 0 ? errno : 0), en(e),
           vmlck());
    r.rlim_cur = r.rlim_max = 0;
    setrlimit(RLIMIT_MEMLOCK, &r);
    STEP("user limit 0: mlock", mlock(p, PG));
    STEP("user limit 0: munlock", munlock(p, PG));
    STEP("user limit 0: mlockall", mlockall(MCL_CURRENT));
    q = map(1, MAP_LOCKED);
    printf("user limit 0: MAP_LOCKED %s\n", q == MAP_FAILED ? en(errno) : "ok");
}

static void in_child(void (*f)(void)) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        f();
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    in_child(root_part);
    in_child(user_part);
    printf("memlock done\n");
    return 0;
}
