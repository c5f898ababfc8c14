/* A guest program for the gdb server test (tests/gdbstub.rs): two
 * threads, a function with locals to break in, and a flag the debugger
 * sets to let it go on (1: compute; 2: signals; 3: spin until ctrl-C).
 * Built static and non-PIE with -g -O0. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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

static void on_usr1(int sig)
{
    (void)sig;
    static const char msg[] = "handled SIGUSR1\n";
    write(1, msg, strlen(msg));
}

volatile unsigned long spins;

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, sleeper, NULL) != 0)
        return 1;
    printf("gdb_target pid %d\n", (int)getpid());
    fflush(stdout);
    while (!go)
        usleep(20000);
    if (go == 2) {
        signal(SIGUSR1, on_usr1);
        raise(SIGUSR1);
        /* The debugger detaches at this one without delivering it. */
        raise(SIGUSR2);
        printf("after detach\n");
    }
    if (go == 3) {
        printf("spinning\n");
        fflush(stdout);
    }
    while (go == 3)
        spins++;
    int r = compute(5);
    printf("compute(5) = %d\n", r);
    printf("gdb_target done\n");
    return 0;
}
