/* File mappings past the end of the file: SIGBUS (BUS_ADRERR, si_addr the
 * touched address) for pages wholly past EOF, zeros for the tail of the
 * last partial page. Usage: procmisc DIR (a directory on the filesystem
 * under test). Prints only deterministic lines, compared with a native run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static void on_fault(int s, siginfo_t *si, void *uc) {
    (void)uc;
    got_sig = s;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(jb, 1);
}

/* Touch *p (read or write) and describe what happened relative to `base`. */
static void probe(const char *what, volatile char *p, int write, char *base) {
    got_sig = 0;
    int v = -1;
    if (sigsetjmp(jb, 1) == 0) {
        if (write)
            *p = 'w';
        else
            v = *p;
    }
    if (got_sig)
        printf("%s: sig %s code %s addr %s\n", what,
               got_sig == SIGBUS ? "SIGBUS" : got_sig == SIGSEGV ? "SIGSEGV" : "other",
               got_code == BUS_ADRERR ? "BUS_ADRERR" : "other",
               got_addr == (void *)p ? "exact" : "wrong");
    else
        printf("%s: ok value %d (base+%ld)\n", what, write ? 'w' : v, (long)((char *)p - base));
}

static int make_file(const char *dir, const char *name, size_t size) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("open");
        exit(1);
    }
    char *buf = malloc(size + 1);
    memset(buf, 'A', size);
    if (size && write(fd, buf, size) != (ssize_t)size) {
        perror("write");
        exit(1);
    }
    free(buf);
    fsync(fd);
    unlink(path);
    return fd;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);

    /* 5000 bytes: page 0 full, page 1 partial, page 2 past EOF. */
    int fd = make_file(dir, "pm_bus", 5000);
    char *s = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    probe("shared first byte", s, 0, s);
    probe("shared last byte", s + 4999, 0, s);
    int nz = 0;
    for (int i = 5000; i < 2 * PG; i++)
        nz += s[i] != 0;
    printf("shared tail nonzero bytes: %d\n", nz);
    probe("shared read past eof", s + 2 * PG + 17, 0, s);
    probe("shared write past eof", s + 2 * PG, 1, s);
    probe("shared write in tail", s + 6000, 1, s);
    printf("file size after tail write: %ld\n", (long)lseek(fd, 0, SEEK_END));

    char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    probe("private read past eof", p + 2 * PG + 5, 0, p);
    probe("private write past eof", p + 2 * PG + 9, 1, p);
    probe("private write in tail", p + 7000, 1, p);

    /* Growing the file makes the page valid; it reads as zeros. */
    if (ftruncate(fd, 3 * PG) != 0)
        perror("ftruncate");
    probe("after grow read", s + 2 * PG + 17, 0, s);
    /* Shrinking makes it invalid again for a fresh mapping. */
    if (ftruncate(fd, 100) != 0)
        perror("ftruncate");
    char *q = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
    probe("after shrink page 0", q + 99, 0, q);
    probe("after shrink page 1", q + PG, 0, q);
    munmap(q, 2 * PG);
    munmap(p, 3 * PG);
    munmap(s, 3 * PG);
    close(fd);

    /* An empty file: even page 0 is past EOF. */
    fd = make_file(dir, "pm_empty", 0);
    char *e = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    probe("empty file page 0", e, 0, e);
    munmap(e, PG);
    close(fd);

    /* Shared anonymous memory is not a file past its end. */
    char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    probe("shared anon page 3", a + 3 * PG + 1, 1, a);
    pid_t c = fork();
    if (c == 0) {
        a[2 * PG] = 'c';
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("shared anon child write seen: %c\n", a[2 * PG]);
    munmap(a, 4 * PG);

    printf("procmisc done\n");
    return 0;
}
