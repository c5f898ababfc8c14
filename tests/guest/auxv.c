/* /proc/PID/auxv: the binary auxiliary vector of a process, as
 * getauxval sees it, ending in AT_NULL; a forked child has the same one. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

static int read_auxv(const char *path, unsigned long *buf, int max) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int n = 0, r;
    while ((r = read(fd, (char *)buf + n, max - n)) > 0)
        n += r;
    close(fd);
    return n;
}

int main(void) {
    static unsigned long a[512], b[512];
    int n = read_auxv("/proc/self/auxv", a, sizeof a);
    printf("read ok %d, whole pairs %d\n", n > 0, n % 16 == 0);
    int pairs = n / 16, mismatch = 0, seen = 0;
    for (int i = 0; i < pairs; i++) {
        unsigned long t = a[2 * i], v = a[2 * i + 1];
        if (t == AT_NULL)
            break;
        /* glibc's x86 getauxval(AT_HWCAP) answers its own dl_hwcap. */
        if (t != AT_HWCAP && getauxval(t) != v)
            mismatch++;
        if (t == AT_PHDR || t == AT_ENTRY || t == AT_RANDOM || t == AT_PAGESZ ||
            t == AT_BASE || t == AT_EXECFN || t == AT_SYSINFO_EHDR)
            seen++;
    }
    printf("ends with AT_NULL %d\n", pairs > 0 && a[2 * (pairs - 1)] == AT_NULL && a[2 * pairs - 1] == 0);
    printf("values match getauxval %d\n", mismatch == 0);
    printf("well-known entries %d\n", seen);
    printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));

    pid_t c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/auxv", c);
    int m = read_auxv(path, b, sizeof b);
    printf("child's auxv same as parent's %d\n", m == n && memcmp(a, b, n) == 0);
    /* Offsets read at: the second half. */
    int fd = open("/proc/self/auxv", O_RDONLY);
    unsigned long w[2];
    printf("pread at 16 %d\n", pread(fd, w, 16, 16) == 16 && w[0] == a[2] && w[1] == a[3]);
    close(fd);
    kill(c, 9);
    waitpid(c, 0, 0);
    printf("auxv done\n");
    return 0;
}
