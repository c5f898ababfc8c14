/* CPU-bound processes for the SMP benchmark (bench/smp.py): fork P
 * children that each do the same fixed arithmetic, wait for all, and
 * print the wall time in ms. No system calls while spinning. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    int procs = argc > 1 ? atoi(argv[1]) : 2;
    long n = argc > 2 ? atol(argv[2]) : 300000000L;
    double t0 = now_ms();
    for (int p = 0; p < procs; p++) {
        if (fork() == 0) {
            volatile unsigned long x = 0;
            for (long i = 0; i < n; i++)
                x += (unsigned long)i * i;
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    printf("SPIN procs=%d ms=%.1f\n", procs, now_ms() - t0);
    return 0;
}
