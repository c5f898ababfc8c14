# ruml: convenience targets. See README.md.

CARGO    ?= cargo
MEM      ?= 256M
INITRD   := build/initramfs.cpio.gz
IMAGE    := build/rootfs.img
IMAGE_SIZE ?= 64M

.PHONY: all build run test test-ptrace image bench bench-smp bench-net clean deps fuzz-long

all: build

build:
	$(CARGO) build --release

# Debian packages the images and tests need (installed when run as root).
deps:
	rootfs/host-deps.sh

$(INITRD): rootfs/mkinitramfs.sh rootfs/lib.sh | deps
	mkdir -p build
	rootfs/mkinitramfs.sh $@

$(IMAGE): rootfs/mkext4.sh rootfs/lib.sh | deps
	mkdir -p build
	rootfs/mkext4.sh $@ $(IMAGE_SIZE)

# Boot the default busybox initramfs on this terminal.
run: build $(INITRD)
	ln -sf target/release/vmlinux ./vmlinux
	exec ./vmlinux initrd=$(INITRD) mem=$(MEM)

# The whole suite on the default platform (seccomp where the host can run
# it), then the core files again on platform=ptrace, the fallback.
PTRACE_TESTS = spine_c semantics boot_busybox hostile robustness exec smp ptrace gdbstub
test: deps
	$(CARGO) test --release -- --test-threads=2
	RUML_TEST_PLATFORM=ptrace $(CARGO) test --release $(PTRACE_TESTS:%=--test %) -- --test-threads=2

# The whole suite on platform=ptrace.
test-ptrace: deps
	RUML_TEST_PLATFORM=ptrace $(CARGO) test --release -- --test-threads=2

# Guest syscall fuzzing: about 10^6 random and hostile calls over several
# seeds (tests/robustness.rs long_random_syscalls; RUML_FUZZ_SEEDS=1,2,3
# and RUML_FUZZ_ROUNDS=N resize it). Parser fuzzing: fuzz/README.md.
fuzz-long:
	$(CARGO) test --release --test robustness long -- --ignored --nocapture

# ext4 disk image with busybox init: ./vmlinux ubd0=build/rootfs.img root=/dev/ubda mem=256M
image: $(IMAGE)

# ruml vs linux.uml vs native, side by side (bench/bench.py; about 3.5 minutes).
# BENCH_ARGS=--quick for one round; results in bench/results/latest.json.
bench:
	python3 bench/bench.py $(BENCH_ARGS)

# Two CPU-bound processes with ncpus=1 and ncpus=2, and natively.
bench-smp: build
	python3 bench/smp.py --out bench/results/smp.json

# Network rows (root: a netns with a TAP): ping RTT and TCP both ways over
# TAP, ruml beside linux.uml, and over ruml's eth0=user (bench/net.py).
bench-net: build
	python3 bench/net.py --no-cargo

clean:
	rm -rf build vmlinux
	$(CARGO) clean
