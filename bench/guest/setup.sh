#!/bin/sh
# Benchmark setup shared by both images: a directory on the root file
# system and a tmpfs for the tmpfs rows (bench/bench.py).
mkdir -p /mnt/tmpfs /var/tmp
mount -t tmpfs -o size=160m tmpfs /mnt/tmpfs
