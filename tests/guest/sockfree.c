/* An AF_UNIX socket bound to a path on the root filesystem, its node
 * removed while bound, then the socket closed: the node's inode must be
 * free again (the count of free inodes comes back). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

static unsigned long free_inodes(void)
{
    struct statvfs v;
    statvfs("/root", &v);
    return v.f_ffree;
}

int main(void)
{
    unsigned long before = free_inodes();
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, "/root/sockfree.sock");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int b = bind(s, (struct sockaddr *)&a, sizeof a);
    listen(s, 1);
    printf("bound %d, one inode taken %d\n", b, free_inodes() == before - 1);
    unlink(a.sun_path);
    printf("still taken while bound %d\n", free_inodes() == before - 1);
    close(s);
    printf("freed at close %d\n", free_inodes() == before);
    printf("sockfree done\n");
    return 0;
}
