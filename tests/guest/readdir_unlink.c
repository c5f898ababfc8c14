/* Unlinking each entry as readdir returns it (what rm -r does) must still
 * visit every entry: getdents positions may not shift when entries before
 * them go. Prints counts to compare with the host. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 3000

int main(void)
{
    char dir[] = "/tmp/rdunlinkXXXXXX";
    char path[256];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/file-with-a-longer-name-%d", dir, i);
        FILE *f = fopen(path, "w");
        if (!f) {
            perror(path);
            return 1;
        }
        fclose(f);
    }
    DIR *d = opendir(dir);
    if (!d) {
        perror("opendir");
        return 1;
    }
    int seen = 0, unlinked = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        seen++;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0)
            unlinked++;
    }
    closedir(d);
    printf("seen %d unlinked %d\n", seen, unlinked);
    printf("rmdir %s\n", rmdir(dir) == 0 ? "ok" : "failed");
    printf("readdir_unlink done\n");
    return 0;
}
