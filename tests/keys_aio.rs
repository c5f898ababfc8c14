//! Kernel keyrings and asynchronous I/O: guest C programs compared with
//! the native run.

mod common;

use common::*;

#[test]
fn keyrings_match_native() {
    compare_with_native("keys", "keys done");
}

#[test]
fn linux_aio_matches_native() {
    compare_with_native("aio", "aio done");
}

/// io_uring is ENOSYS on purpose (docs/syscalls.md): liburing users see
/// -ENOSYS from io_uring_queue_init and fall back.
#[test]
fn io_uring_is_enosys() {
    let dir = test_dir("uring-build");
    let src = dir.join("uring.c");
    std::fs::write(
        &src,
        "#include <errno.h>\n#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n\
         int main(void) { char p[120] = {0};\n\
         for (int nr = 425; nr <= 427; nr++) { long r = syscall(nr, 4, p, 0, 0, 0, 0);\n\
         printf(\"io_uring %d: %ld %s\\n\", nr, r, r < 0 ? strerror(errno) : \"\"); }\n\
         return 0; }\n",
    )
    .unwrap();
    let bin = dir.join("uring");
    compile_c(&src, &bin, &["-static"]);
    let initrd = build_initramfs("uring", &[(bin.as_path(), "/bin/uring")]);
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    let out = g.run("/bin/uring");
    for nr in 425..=427 {
        assert!(
            out.contains(&format!("io_uring {nr}: -1 Function not implemented")),
            "{out}"
        );
    }
}
