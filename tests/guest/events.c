/* epoll and eventfd as event loops use them; deterministic output. */
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int efd = eventfd(0, EFD_NONBLOCK);
    int p[2];
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 111};
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
    ev.data.u64 = 222;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    struct epoll_event out[4];
    printf("idle: %d\n", epoll_wait(ep, out, 4, 0));
    uint64_t one = 3;
    write(efd, &one, 8);
    int n = epoll_wait(ep, out, 4, 0);
    printf("eventfd ready: %d data %llu\n", n, (unsigned long long)out[0].data.u64);
    uint64_t v = 0;
    read(efd, &v, 8);
    printf("eventfd value: %llu, again: %zd\n", (unsigned long long)v, read(efd, &v, 8));
    /* A child writes to the pipe later; epoll_wait sleeps until then. */
    pid_t c = fork();
    if (c == 0) { usleep(50000); write(p[1], "x", 1); _exit(0); }
    n = epoll_wait(ep, out, 4, 5000);
    printf("pipe ready: %d data %llu\n", n, (unsigned long long)out[0].data.u64);
    waitpid(c, NULL, 0);
    char ch;
    read(p[0], &ch, 1);
    /* Timeout with nothing ready. */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    n = epoll_wait(ep, out, 4, 30);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("timeout: %d waited>=30ms %d\n", n, ms >= 29);
    epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
    printf("del again: %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    printf("events done\n");
    return 0;
}
