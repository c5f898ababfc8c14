#!/bin/sh
# Make the seed corpora for the fuzz targets in fuzz/seeds/<target>/
# (small, generated, never committed). Needs mke2fs/debugfs (e2fsprogs),
# cpio and gzip.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/seeds}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/ext4" "$out/elf" "$out/cpio" "$out/cmdline" "$out/mconsole" "$out/telnet"

# A tree with one of each kind of thing the parsers walk: small and
# multi-block files, a sparse file, a directory too big for one block,
# fast and slow symlinks, a hard link, a fifo.
tree=$tmp/tree
mkdir -p "$tree/dir/sub" "$tree/big"
echo hello >"$tree/small"
seq 1 3000 >"$tree/dir/multi"
dd if=/dev/zero of="$tree/sparse" bs=1 count=1 seek=40000 2>/dev/null
for i in $(seq 1 60); do : >"$tree/big/a-rather-long-file-name-number-$i"; done
ln -s small "$tree/fastlink"
ln -s "$(printf 'x%.0s' $(seq 1 100))/target" "$tree/slowlink"
ln "$tree/small" "$tree/dir/hardlink"
mkfifo "$tree/fifo"

# ext2/3/4 images with 1 KiB blocks (most metadata per byte of input).
mkimg() { # name size mke2fs-args...
	name=$1 size=$2
	shift 2
	rm -f "$tmp/$name"
	mke2fs -q -F -b 1024 -N 128 -E root_owner=0:0 -d "$tree" "$@" "$tmp/$name" "$size"
	# An inline xattr and one in an xattr block.
	debugfs -w -R "ea_set /small user.seed value" "$tmp/$name" >/dev/null 2>&1 || true
	debugfs -w -R "ea_set /dir/multi user.big $(printf 'v%.0s' $(seq 1 300))" \
		"$tmp/$name" >/dev/null 2>&1 || true
	cp "$tmp/$name" "$out/ext4/$name"
}
mkimg ext2.img 192k -t ext2
mkimg ext4-nocsum.img 256k -t ext4 -O ^has_journal,^metadata_csum
mkimg ext4-csum.img 256k -t ext4 -O ^has_journal,metadata_csum,^64bit
mkimg ext4-64bit-csum.img 256k -t ext4 -O ^has_journal,metadata_csum,64bit
# With a journal (1024 blocks, the smallest mke2fs makes).
mkimg ext3.img 2100k -t ext3 -J size=1
mkimg ext4-journal.img 2100k -t ext4 -J size=1 -O ^metadata_csum
# A journal holding a committed transaction: the mount replays it.
cp "$tmp/ext4-journal.img" "$tmp/recover.img"
debugfs -w -f - "$tmp/recover.img" >/dev/null 2>&1 <<'EOF' || true
jo
jw -b 300,301 /dev/zero
jc
EOF
cp "$tmp/recover.img" "$out/ext4/ext4-needs-recovery.img"

# ELF: the host's /bin/true (dynamic, PT_INTERP) and a tiny static one;
# only the first pages matter to the parser.
head -c 16384 /bin/true >"$out/elf/true"
if command -v cc >/dev/null 2>&1; then
	printf 'void _start(void){for(;;);}\n' >"$tmp/s.c"
	if cc -static -nostdlib -O2 -o "$tmp/static" "$tmp/s.c" 2>/dev/null; then
		head -c 16384 "$tmp/static" >"$out/elf/static"
	fi
	if cc -static-pie -nostdlib -fPIE -O2 -o "$tmp/spie" "$tmp/s.c" 2>/dev/null; then
		head -c 16384 "$tmp/spie" >"$out/elf/static-pie"
	fi
fi

# cpio: newc, crc, gzip'd, and an uncompressed archive followed by a
# gzip'd one (as early microcode + initramfs).
(cd "$tree" && find . | sort | cpio -o -H newc --quiet) >"$out/cpio/newc.cpio"
(cd "$tree" && find . | sort | cpio -o -H crc --quiet) >"$out/cpio/crc.cpio"
gzip -9 -n -c "$out/cpio/newc.cpio" >"$out/cpio/newc.cpio.gz"
(cd "$tree" && echo small | cpio -o -H newc --quiet) >"$tmp/first.cpio"
cat "$tmp/first.cpio" "$out/cpio/newc.cpio.gz" >"$out/cpio/concat.cpio"

# Command lines: NUL-separated words.
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" | tr ' ' '\0' >"$out/cmdline/$n"
done <<'EOF'
mem=256M ubd0=root.img root=/dev/ubda rw
mem=1G ubd0r=a.img ubd1s=b.img,c.img init=/bin/sh quiet loglevel=7
con=null con0=fd:0,fd:1 ssl=pts ssl1=port:9000 umid=test uml_dir=/tmp
initrd=/dev/null rdinit=/init ncpus=2 rootfstype=ext4 rootflags=data=ordered
eth0=tuntap,tap0 hostfs=/tmp foo=bar single -- --init-arg x=y
--help
--version
EOF
# mconsole: version-2 requests {magic, version, len, data[512]} in host
# (little-endian) byte order, one per command, and a version-0 one.
n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	len=$((${#cmd} + 1))
	{
		printf '\276\272\376\312\002\000\000\000'
		printf "\\$(printf %03o $len)\\000\\000\\000"
		printf '%s' "$cmd"
		head -c $((512 - ${#cmd})) /dev/zero
	} >"$out/mconsole/$n"
done <<'EOF'
version
help
config ubd1=/tmp/x.img,/tmp/base.img
config ubd1
remove ubd1
sysrq t
proc meminfo
log hello from the host
stop
EOF
printf 'version' >"$out/mconsole/v0"

# telnet: option negotiation, an escaped IAC, a subnegotiation and the
# NVT end-of-line forms.
printf '\377\373\001\377\375\003ls -l\r\n\377\377x\377\372\030\000xterm\377\360\r\000ok\r' \
	>"$out/telnet/negotiation"
printf 'plain text\r\n' >"$out/telnet/plain"

ls -l "$out"/*
