#!/bin/sh
# /init of the benchmark image (bench/bench.py): the default initramfs setup,
# a tmpfs for the tmpfs rows, and a shell with a prompt the driver waits for.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys 2>/dev/null
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
mkdir -p /mnt/tmpfs /var/tmp
mount -t tmpfs -o size=160m tmpfs /mnt/tmpfs
export PS1='bench# '
exec /bin/sh
