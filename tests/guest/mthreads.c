/* Eight threads hammer one mutex, a condition-variable barrier, a futex
 * word and an atomic counter; every count must come out exact. On one
 * vCPU this checks the kernel's futex waits and wake-ups under
 * preemption; with several vCPUs it is the SMP smoke test. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long locked_count;
static atomic_long atomic_count;
static int arrived, generation;
/* A hand-rolled futex lock: 0 free, 1 taken, 2 taken with waiters. */
static atomic_int word;
static long futex_count;

static void futex_lock(void) {
    int c = 0;
    if (atomic_compare_exchange_strong(&word, &c, 1))
        return;
    if (c != 2)
        c = atomic_exchange(&word, 2);
    while (c != 0) {
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange(&word, 2);
    }
}

static void futex_unlock(void) {
    if (atomic_fetch_sub(&word, 1) != 1) {
        atomic_store(&word, 0);
        syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

/* Everyone waits here until all THREADS have arrived. */
static void barrier(void) {
    pthread_mutex_lock(&lock);
    int gen = generation;
    if (++arrived == THREADS) {
        arrived = 0;
        generation++;
        pthread_cond_broadcast(&cond);
    } else {
        while (gen == generation)
            pthread_cond_wait(&cond, &lock);
    }
    pthread_mutex_unlock(&lock);
}

static void *worker(void *arg) {
    (void)arg;
    for (int phase = 0; phase < 4; phase++) {
        barrier();
        for (int i = 0; i < ROUNDS / 4; i++) {
            pthread_mutex_lock(&lock);
            locked_count++;
            pthread_mutex_unlock(&lock);
            atomic_fetch_add(&atomic_count, 1);
            futex_lock();
            futex_count++;
            futex_unlock();
            if (i % 1000 == 0)
                sched_yield();
        }
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("mutex count %ld (want %d)\n", locked_count, THREADS * ROUNDS);
    printf("atomic count %ld (want %d)\n", (long)atomic_count, THREADS * ROUNDS);
    printf("futex count %ld (want %d)\n", futex_count, THREADS * ROUNDS);
    printf("barrier generations %d\n", generation);
    printf("mthreads done\n");
    return 0;
}
