/* Allocate and touch memory 1 MiB at a time, forever: only the OOM killer
 * stops it. Prints how far it got now and then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    for (long mb = 1;; mb++) {
        char *p = malloc(1 << 20);
        if (!p) {
            printf("malloc failed at %ld MiB\n", mb);
            pause();
        }
        memset(p, 1, 1 << 20);
        if (mb % 16 == 0)
            printf("memhog: %ld MiB\n", mb);
    }
}
