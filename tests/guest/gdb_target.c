/* A guest program for the gdb server test (tests/gdbstub.rs): two
 * threads, a function with locals to break in, and a flag the debugger
 * sets to let it go on. Built static and non-PIE with -g -O0. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

volatile int go;

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int compute(int n)
{
    int total = 0;
    for (int i = 1; i <= n; i++)
        total += i * i;
    return total;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, sleeper, NULL) != 0)
        return 1;
    printf("gdb_target pid %d\n", (int)getpid());
    fflush(stdout);
    while (!go)
        usleep(20000);
    int r = compute(5);
    printf("compute(5) = %d\n", r);
    printf("gdb_target done\n");
    return 0;
}
