//! execve of the program kinds Linux runs: static, static-PIE, dynamic
//! (PT_INTERP) and `#!` scripts, with the auxiliary vector glibc reads.

mod common;

use common::*;

#[test]
fn static_static_pie_dynamic_and_scripts() {
    let dir = test_dir("exec-build");
    let src = repo_root().join("tests/guest/hello.c");
    let st = dir.join("hello-static");
    let pie = dir.join("hello-pie");
    let dynamic = dir.join("hello-dyn");
    compile_c(&src, &st, &["-static"]);
    compile_c(&src, &pie, &["-static-pie"]);
    compile_c(&src, &dynamic, &[]);
    let script = dir.join("script.sh");
    std::fs::write(&script, "#!/bin/hello-static scriptarg\n").unwrap();
    let mut perm = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&script, perm).unwrap();
    let initrd = build_initramfs(
        "exec",
        &[
            (st.as_path(), "/bin/hello-static"),
            (pie.as_path(), "/bin/hello-pie"),
            (dynamic.as_path(), "/bin/hello-dyn"),
            (script.as_path(), "/bin/script.sh"),
        ],
    );
    let mut g = Guest::boot_initramfs(&initrd, &[]);
    g.wait_prompt();
    for bin in ["/bin/hello-static", "/bin/hello-pie", "/bin/hello-dyn"] {
        let out = g.run(&format!("{bin} x"));
        assert_eq!(
            out.trim(),
            format!("hello argc=2 argv1=x pagesz=4096 random=1 execfn={bin}"),
            "{bin}"
        );
    }
    // The interpreter gets its argument, then the script path.
    let out = g.run("/bin/script.sh");
    assert_eq!(
        out.trim(),
        "hello argc=3 argv1=scriptarg pagesz=4096 random=1 execfn=/bin/script.sh"
    );
    // The process is named after what was executed; /proc/PID/exe is the file.
    assert_eq!(
        g.run("ls -l /proc/self/exe | sed 's/.*-> //'").trim(),
        "/bin/busybox"
    );
}
