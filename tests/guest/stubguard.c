/* mremap must not move a mapping over the stub (at TASK_SIZE) nor send
 * the host a zero-length unmap: both are EINVAL, and the process lives.
 * Prints "stubguard ok" when every check passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TASK_SIZE 0x7ff000000000ul

static int bad;

static void expect_einval(const char *what, long r) {
    if (r != -1 || errno != EINVAL) {
        printf("%s: %ld errno %d, want EINVAL\n", what, r, errno);
        bad = 1;
    }
}

int main(void) {
    char *p = mmap(0, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    p[0] = 1;
    p[4096] = 2;
    expect_einval("straddling TASK_SIZE",
                  syscall(SYS_mremap, p, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, TASK_SIZE - 4096));
    expect_einval("at TASK_SIZE",
                  syscall(SYS_mremap, p, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, TASK_SIZE));
    expect_einval("wrapping", syscall(SYS_mremap, p, 4096, 8192, MREMAP_MAYMOVE | MREMAP_FIXED,
                                      -4096L));
    expect_einval("old_len 0", syscall(SYS_mremap, p, 0, 4096, MREMAP_MAYMOVE));
    /* Just below the stub is fine. */
    char *q = (char *)syscall(SYS_mremap, p, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED,
                              TASK_SIZE - 0x100000);
    if (q != (char *)(TASK_SIZE - 0x100000) || q[0] != 1 || q[4096] != 2) {
        printf("move below TASK_SIZE: %p\n", q);
        bad = 1;
    }
    /* The host process still works: fork and wait. */
    pid_t c = fork();
    if (c == 0) _exit(7);
    int st;
    if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
        printf("fork after the checks failed\n");
        bad = 1;
    }
    if (!bad) printf("stubguard ok\n");
    return bad;
}
