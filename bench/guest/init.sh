#!/bin/sh
# /init of the benchmark initramfs (bench/bench.py --root initramfs): the
# default initramfs setup, the benchmark's setup, and a shell with the
# prompt the driver waits for. (The disk image boots busybox init instead:
# bench/guest/inittab.)
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys 2>/dev/null
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
/bench/setup.sh
export PS1='bench# '
exec /bin/sh
