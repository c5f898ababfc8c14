/* A program for gdb to debug in the guest (tests/ptrace.rs). */
#include <stdio.h>

static int square(int x)
{
    return x * x;
}

int main(void)
{
    int v = square(7);
    printf("gdbprog result %d\n", v);
    return 0;
}
