/* Page faults on a file whose disk reads are held (tests/ext4.rs).
 *
 *   mmap_gate sum FILE     map FILE, touch every page, print the byte sum
 *                          and whether a fault was major (read the disk).
 *   mmap_gate unmap FILE   a thread touches the first page of the mapping;
 *                          once it sleeps on the disk ('D' in its stat),
 *                          the main thread unmaps the range and prints
 *                          "unmapped"; the toucher's fault then finds no
 *                          mapping: its SIGSEGV handler prints the code.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile unsigned char *map;
static size_t map_len;
static volatile pid_t toucher;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    char buf[80];
    int n = snprintf(buf, sizeof buf, "SIGSEGV code=%d at-map=%d\nmmap_gate done\n",
                     si->si_code, si->si_addr == (void *)map);
    write(1, buf, n);
    _exit(0);
}

static void *touch(void *arg)
{
    toucher = syscall(SYS_gettid);
    unsigned char c = map[0];
    printf("read %u without a fault\n", c);
    fflush(stdout);
    return NULL;
}

/* The state letter in /proc/self/task/TID/stat. */
static char task_state(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int fd = open(argv[2], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror("open");
        return 1;
    }
    map_len = st.st_size;
    map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    if (strcmp(argv[1], "sum") == 0) {
        printf("mapped\n");
        fflush(stdout);
        unsigned long sum = 0;
        for (size_t i = 0; i < map_len; i++)
            sum += map[i];
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("sum=%lu\nmajor faults: %s\nmmap_gate done\n", sum,
               ru.ru_majflt > 0 ? "yes" : "no");
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    pthread_t th;
    pthread_create(&th, NULL, touch, NULL);
    /* A bound of minutes, not a timing assumption: the gate stays shut
     * until "unmapped" is printed. */
    for (int i = 0; i < 600000; i++) {
        if (toucher && task_state(toucher) == 'D')
            break;
        usleep(1000);
    }
    printf("toucher state %c\n", toucher ? task_state(toucher) : '?');
    munmap((void *)map, map_len);
    printf("unmapped\n");
    fflush(stdout);
    pthread_join(th, NULL);
    printf("toucher came back\n");
    return 1;
}
