#include <stdio.h>
#include <sys/auxv.h>
int main(int argc, char **argv) {
    printf("hello argc=%d argv1=%s pagesz=%lu random=%d execfn=%s\n", argc,
           argc > 1 ? argv[1] : "-", getauxval(AT_PAGESZ), getauxval(AT_RANDOM) != 0,
           (char *)getauxval(AT_EXECFN));
    return 0;
}
