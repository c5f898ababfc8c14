/* rseq: glibc's registration at start, the syscall's errnos, the CPU
 * fields (against getcpu and sched_getcpu, pinned to each CPU), a critical
 * section aborted by a signal, a bad signature (SIGSEGV), and what fork,
 * vfork and execve do with a registration. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct rseq mine __attribute__((aligned(32)));
static struct {
    struct rseq r;
    char more[32];
} big __attribute__((aligned(32)));
static volatile sig_atomic_t got;

static long rseq_call(void *p, unsigned len, int flags, unsigned sig) {
    long r = syscall(SYS_rseq, p, len, flags, sig);
    return r < 0 ? -errno : r;
}

static const char *err(long r) {
    if (r >= 0)
        return "ok";
    switch (-r) {
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case EFAULT: return "EFAULT";
    case ENOSYS: return "ENOSYS";
    default: return "other";
    }
}

static struct rseq *glibc_area(void) {
    return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

static unsigned getcpu_sys(void) {
    unsigned cpu = 99;
    syscall(SYS_getcpu, &cpu, 0, 0);
    return cpu;
}

static void on_sig(int s) {
    (void)s;
    got++;
}

/* A new thread (CLONE_VM: it starts unregistered) gets glibc's own
 * registration, with the right CPU. */
static void *thread_main(void *arg) {
    (void)arg;
    struct rseq *a = glibc_area();
    long busy = rseq_call(a, 32, 0, RSEQ_SIG);
    long ok = busy == -EBUSY && a->cpu_id == getcpu_sys() && sched_getcpu() == (int)getcpu_sys();
    return (void *)ok;
}

/* A critical section that spins until it is aborted; 1 when it was. The
 * signature word sits right before the abort handler. With good == 0 the
 * word before the abort handler is not the signature. */
extern struct rseq_cs rseq_good_cs;

__attribute__((noinline)) static int spin_cs(struct rseq *rs, int good) {
    if (good) {
        __asm__ volatile goto(
            ".pushsection __rseq_cs_good, \"aw\"\n"
            ".balign 32\n"
            ".globl rseq_good_cs\n"
            "rseq_good_cs:\n"
            "3: .long 0, 0\n"
            ".quad 1f, 2f - 1f, 4f\n"
            ".popsection\n"
            "leaq 3b(%%rip), %%rax\n"
            "movq %%rax, 8(%[rs])\n"
            "1: jmp 1b\n"
            "2:\n"
            ".pushsection __rseq_abort_good, \"ax\"\n"
            ".long 0x53053053\n"
            "4: jmp %l[aborted]\n"
            ".popsection\n"
            :
            : [rs] "r"(rs)
            : "rax", "memory"
            : aborted);
    } else {
        __asm__ volatile goto(
            ".pushsection __rseq_cs_bad, \"aw\"\n"
            ".balign 32\n"
            "5: .long 0, 0\n"
            ".quad 6f, 7f - 6f, 8f\n"
            ".popsection\n"
            "leaq 5b(%%rip), %%rax\n"
            "movq %%rax, 8(%[rs])\n"
            "6: jmp 6b\n"
            "7:\n"
            ".pushsection __rseq_abort_bad, \"ax\"\n"
            ".long 0x12345678\n"
            "8: jmp %l[aborted2]\n"
            ".popsection\n"
            :
            : [rs] "r"(rs)
            : "rax", "memory"
            : aborted2);
    }
    return 0;
aborted:
    return 1;
aborted2:
    return 2;
}

static void arm_timer(void) {
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, 0);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "exec") == 0)
        return __rseq_size > 0 && glibc_area()->cpu_id == getcpu_sys() ? 0 : 1;
    setvbuf(stdout, 0, _IONBF, 0);
    /* Pinned to the first CPU allowed, so that no migration comes between
     * two readings. */
    cpu_set_t allowed, one;
    sched_getaffinity(0, sizeof allowed, &allowed);
    int first = 0;
    while (!CPU_ISSET(first, &allowed))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    sched_setaffinity(0, sizeof one, &one);

    /* glibc registered the main thread's area at start. */
    struct rseq *g = glibc_area();
    printf("glibc registered %d size %u\n", __rseq_size > 0, __rseq_size);
    printf("cpu_id matches getcpu %d\n", g->cpu_id == getcpu_sys());
    printf("cpu_id_start matches %d\n", g->cpu_id_start == g->cpu_id);
    /* node_id and mm_cid (Linux 6.3) follow flags; glibc 2.36's struct
     * stops before them. */
    printf("node_id %u mm_cid %u\n", ((uint32_t *)g)[5], ((uint32_t *)g)[6]);
    printf("sched_getcpu matches %d\n", sched_getcpu() == (int)getcpu_sys());

    pthread_t th;
    void *tr = 0;
    pthread_create(&th, 0, thread_main, 0);
    pthread_join(th, &tr);
    printf("thread registered by glibc %d\n", tr == (void *)1);

    /* Errnos against the registered area. */
    printf("again: %s\n", err(rseq_call(g, 32, 0, RSEQ_SIG)));
    printf("again other sig: %s\n", err(rseq_call(g, 32, 0, 0x1234)));
    printf("other area: %s\n", err(rseq_call(&mine, 32, 0, RSEQ_SIG)));
    printf("other len: %s\n", err(rseq_call(g, 64, 0, RSEQ_SIG)));
    printf("bad flags: %s\n", err(rseq_call(g, 32, 2, RSEQ_SIG)));
    printf("unregister bad flags: %s\n", err(rseq_call(g, 32, 3, RSEQ_SIG)));
    printf("unregister other area: %s\n", err(rseq_call(&mine, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));
    printf("unregister other len: %s\n", err(rseq_call(g, 64, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));
    printf("unregister other sig: %s\n", err(rseq_call(g, 32, RSEQ_FLAG_UNREGISTER, 0x1234)));
    printf("unregister: %s\n", err(rseq_call(g, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));
    printf("after unregister cpu_id %d cpu_id_start %u\n", (int)g->cpu_id, g->cpu_id_start);
    printf("sched_getcpu still right %d\n", sched_getcpu() == (int)getcpu_sys());
    printf("unregister twice: %s\n", err(rseq_call(g, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));

    /* Registration checks when none is registered. */
    printf("short: %s\n", err(rseq_call(&mine, 28, 0, RSEQ_SIG)));
    printf("misaligned: %s\n", err(rseq_call((char *)&big + 16, 32, 0, RSEQ_SIG)));
    printf("kernel address: %s\n", err(rseq_call((void *)-64L, 32, 0, RSEQ_SIG)));
    printf("flags: %s\n", err(rseq_call(&mine, 32, 4, RSEQ_SIG)));
    big.r.cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
    printf("larger: %s\n", err(rseq_call(&big, sizeof big, 0, RSEQ_SIG)));
    printf("larger cpu_id set %d\n", big.r.cpu_id == getcpu_sys());
    printf("larger unregister: %s\n", err(rseq_call(&big, sizeof big, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));

    mine.cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
    printf("register: %s\n", err(rseq_call(&mine, 32, 0, RSEQ_SIG)));
    printf("cpu_id set %d\n", mine.cpu_id == getcpu_sys() && mine.cpu_id_start == mine.cpu_id);

    /* Pinned to each CPU in turn, all three answers agree. */
    int agree = 1;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &allowed))
            continue;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(c, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            agree = 0;
            continue;
        }
        if ((int)getcpu_sys() != c || (int)mine.cpu_id != c || (int)mine.cpu_id_start != c ||
            sched_getcpu() != c)
            agree = 0;
    }
    sched_setaffinity(0, sizeof one, &one);
    printf("pinned cpus agree %d\n", agree);

    /* A signal outside a published section forgets the descriptor. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGUSR1, &sa, 0);
    sigaction(SIGALRM, &sa, 0);
    mine.rseq_cs = (uintptr_t)&rseq_good_cs;
    raise(SIGUSR1);
    printf("signal outside: handler %d rseq_cs cleared %d\n", got, mine.rseq_cs == 0);

    /* A signal inside the section aborts it. */
    got = 0;
    int aborts = 0;
    while (!got) {
        arm_timer();
        aborts += spin_cs(&mine, 1);
    }
    printf("aborted by signal %d handler %d rseq_cs cleared %d\n", aborts >= 1, got, mine.rseq_cs == 0);

    /* fork keeps the registration, at the same address in the copy. */
    pid_t p = fork();
    if (p == 0) {
        long r = rseq_call(&mine, 32, 0, RSEQ_SIG);
        _exit(r == -EBUSY && mine.cpu_id == getcpu_sys() ? 0 : 1);
    }
    int st;
    waitpid(p, &st, 0);
    printf("fork child registered %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* A vfork child (CLONE_VM) is not registered. */
    static volatile long vr;
    p = vfork();
    if (p == 0) {
        vr = rseq_call(&mine, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
        _exit(0);
    }
    waitpid(p, &st, 0);
    printf("vfork child unregister: %s\n", err(vr));

    /* execve drops it: glibc in the new image registers its own. */
    p = fork();
    if (p == 0) {
        execl("/proc/self/exe", argv[0], "exec", (char *)0);
        _exit(2);
    }
    waitpid(p, &st, 0);
    printf("exec registers anew %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* A bad signature before the abort handler: SIGSEGV. */
    p = fork();
    if (p == 0) {
        struct rlimit nocore = {0, 0};
        setrlimit(RLIMIT_CORE, &nocore);
        got = 0;
        while (!got) {
            arm_timer();
            spin_cs(&mine, 0);
        }
        _exit(0);
    }
    waitpid(p, &st, 0);
    printf("bad signature: signalled %d sig %s\n", WIFSIGNALED(st),
           WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "-");

    /* Preemption alone aborts a section: a child spins in one while its
     * parent, on the same CPU, keeps running too (bounded by time only as a
     * safety net). */
    int pfd[2];
    pipe(pfd);
    p = fork();
    if (p == 0) {
        int r = spin_cs(&mine, 1);
        write(pfd[1], "a", 1);
        _exit(r == 1 ? 0 : 1);
    }
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    char ch;
    time_t start = time(0);
    while (read(pfd[0], &ch, 1) != 1 && time(0) - start < 60)
        ;
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
    printf("preempted section aborted %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);

    printf("unregister mine: %s\n", err(rseq_call(&mine, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));
    printf("rseq done\n");
    return 0;
}
