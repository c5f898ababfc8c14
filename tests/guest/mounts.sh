#!/bin/sh
# Mount table, options and per-mount flags, run as init (init=/mounts.sh)
# in ruml and in linux.uml on copies of one image; tests/mount.rs compares.
# ruml mounts devpts and /dev/shm at boot, as an init system would; UML
# leaves them to init, so the comparison leaves them out.
mount -t proc proc /proc; mount -t sysfs sysfs /sys
echo "== 1"; grep -v -e devpts -e ' /dev/shm ' /proc/mounts
echo "== 2"; sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | grep -v -e devpts -e ' /dev/shm '
mount -t tmpfs -o size=1m,mode=700,nr_inodes=100 tmpfs /mnt
echo "== 3"; grep /mnt /proc/mounts; ls -ld /mnt | cut -c1-10; stat -f -c '%T %b %S %c' /mnt
mount -o remount,size=2m,noexec,nosuid /mnt
echo "== 4"; grep /mnt /proc/mounts; stat -f -c '%T %b' /mnt /proc /sys
mount -o remount,size=1k /mnt; echo "rc=$?"
mount -t tmpfs -o bogus=1 tmpfs /media; echo "rc=$?"
umount /mnt
echo "== atime"
echo a > /root/at; A0=$(stat -c %X /root/at); sleep 1; cat /root/at >/dev/null; A1=$(stat -c %X /root/at)
sleep 1; cat /root/at >/dev/null; A2=$(stat -c %X /root/at)
[ "$A1" -gt "$A0" ] && echo relatime: first read after a change moves atime
[ "$A2" -eq "$A1" ] && echo relatime: second read keeps it
mount -o remount,strictatime /; sleep 1; cat /root/at >/dev/null; A3=$(stat -c %X /root/at)
[ "$A3" -gt "$A2" ] && echo strictatime: every read moves it
mount -o remount,noatime /; sleep 1; cat /root/at >/dev/null
[ "$(stat -c %X /root/at)" -eq "$A3" ] && echo noatime: reads never move it
mount -o remount,ro,noatime /; echo "== 5"; grep ' / ' /proc/mounts; touch /x; echo "rc=$?"
mount -o remount,rw,relatime,errors=remount-ro,commit=30 /; echo "== 6"; grep ' / ' /proc/mounts
mkdir -p /m1; mount -t tmpfs t /m1; mkdir /m1/sub; echo f > /m1/sub/f
mount --bind /m1/sub /mnt; echo "== 7"; cat /mnt/f; sed 's/^[0-9]* [0-9]* [0-9]*:[0-9]* //' /proc/self/mountinfo | grep -E 'm1|mnt'
mount -o remount,bind,ro /mnt; echo "== 8"; grep /mnt /proc/mounts; echo g > /mnt/g; echo "rc=$?"; echo g > /m1/sub/g; echo "rc=$?"
umount /mnt; umount /m1; echo "== 9"; grep -c m1 /proc/mounts
mount -t tmpfs -o noexec t /mnt; cp /bin/busybox /mnt/bb; /mnt/bb true; echo "rc=$?"; umount /mnt
mount -t tmpfs -o nodev t /mnt; mknod /mnt/null c 1 3; echo x > /mnt/null; echo "rc=$?"; umount /mnt
echo "== end"
poweroff -f
