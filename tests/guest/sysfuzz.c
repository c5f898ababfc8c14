/* Calls random system calls with random arguments in forked children.
 * The kernel must survive whatever they do: children may die, the
 * parent reports how many ran. Calls that would end the test itself
 * (exit, reboot, kill of others, blocking forever, fork bombs) are
 * skipped. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t state = 88172645463325252ull;
static uint64_t rnd(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static const int deny[] = {
    SYS_exit, SYS_exit_group, SYS_reboot, SYS_kill, SYS_tkill, SYS_tgkill,
    SYS_fork, SYS_vfork, SYS_clone, SYS_clone3, SYS_execve, SYS_execveat,
    SYS_pause, SYS_nanosleep, SYS_clock_nanosleep, SYS_select, SYS_poll,
    SYS_ppoll, SYS_pselect6, SYS_wait4, SYS_waitid, SYS_rt_sigsuspend,
    SYS_rt_sigtimedwait, SYS_futex, SYS_read, SYS_readv, SYS_preadv,
    SYS_rt_sigreturn, SYS_accept, SYS_accept4, SYS_recvfrom, SYS_recvmsg,
    SYS_msgrcv, SYS_semop, SYS_semtimedop, SYS_epoll_wait, SYS_epoll_pwait,
    SYS_sendfile, SYS_splice, SYS_tee, SYS_vmsplice, SYS_setsid,
    SYS_vhangup, SYS_setpgid, SYS_ptrace, SYS_umount2, SYS_mount,
    SYS_pivot_root, SYS_chroot, SYS_sync, SYS_syncfs, SYS_acct,
};

static int denied(long nr) {
    for (unsigned i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
        if (deny[i] == nr) return 1;
    return 0;
}

static char buf[65536];

static uint64_t arg(void) {
    switch (rnd() % 8) {
    case 0: return 0;
    case 1: return rnd() % 16;
    case 2: return (uint64_t)-1;
    case 3: return (uint64_t)(buf + (rnd() % 4096));
    case 4: return rnd();
    case 5: return rnd() % 65536;
    case 6: return 0x7fffffffffffull & rnd();
    default: return (uint64_t)buf;
    }
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    int per_child = 50, calls = 0, deaths = 0;
    if (argc > 2) state ^= strtoull(argv[2], 0, 0);
    for (int r = 0; r < rounds; r++) {
        uint64_t seed = rnd();
        pid_t p = fork();
        if (p == 0) {
            state = (seed ^ 0x9E3779B97F4A7C15ull) | 1;
            alarm(5);
            for (int i = 0; i < per_child; i++) {
                long nr = rnd() % 460;
                if (denied(nr)) continue;
                syscall(nr, arg(), arg(), arg(), arg(), arg(), arg());
            }
            _exit(0);
        }
        if (p < 0) { perror("fork"); return 1; }
        int st;
        if (waitpid(p, &st, 0) != p) { perror("waitpid"); return 1; }
        if (!WIFEXITED(st)) deaths++;
        calls += per_child;
    }
    printf("sysfuzz: %d rounds, %d calls, %d children died\n", rounds, calls, deaths);
    return 0;
}
