/* Signal handlers and the FPU: a handler that changes SSE registers must
 * not change them for the code it interrupted (sigreturn restores the FPU
 * state saved in the frame), and a handler that edits the saved state in
 * the frame changes what the interrupted code sees, as on Linux. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static void trash(int sig) {
    (void)sig;
    __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1" ::: "xmm0", "xmm1");
}

static void edit(int sig, siginfo_t *si, void *uc_) {
    (void)sig;
    (void)si;
    ucontext_t *uc = uc_;
    /* xmm1's low double in the saved state becomes 42.0. */
    double v = 42.0;
    memcpy(&uc->uc_mcontext.fpregs->_xmm[1], &v, sizeof v);
}

/* Load xmm0 and xmm1, send ourselves SIGUSR1 with a raw kill (the signal
 * arrives on the way out of that syscall), read them back. */
static void around_signal(double *a, double *b) {
    double x = 1.5, y = 2.5;
    __asm__ volatile("movsd %2, %%xmm0\n\t"
                     "movsd %3, %%xmm1\n\t"
                     "mov $39, %%eax\n\t"
                     "syscall\n\t"
                     "mov %%rax, %%rdi\n\t"
                     "mov $10, %%esi\n\t"
                     "mov $62, %%eax\n\t"
                     "syscall\n\t"
                     "movsd %%xmm0, %0\n\t"
                     "movsd %%xmm1, %1\n\t"
                     : "=m"(*a), "=m"(*b)
                     : "m"(x), "m"(y)
                     : "rax", "rdi", "rsi", "rcx", "r11", "xmm0", "xmm1", "memory");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    double a, b;
    struct sigaction sa = {0};
    sa.sa_handler = trash;
    sigaction(SIGUSR1, &sa, NULL);
    around_signal(&a, &b);
    printf("after a handler that trashes xmm0/xmm1: %g %g\n", a, b);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = edit;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    around_signal(&a, &b);
    printf("after a handler that edits the saved xmm1: %g %g\n", a, b);
    printf("sigfpu done\n");
    return 0;
}
