//! Build script: compiles the guest vDSO (arch/um/vdso/vdso.c) into a
//! position-independent shared object that arch/um/vdso.rs embeds with
//! `include_bytes!`. It is guest code, built with the host's C compiler
//! (`$CC`, else `cc`) exactly as the tests build guest programs.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "arch/um/vdso/vdso.c";
    let lds = "arch/um/vdso/vdso.lds";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed={lds}");
    println!("cargo:rerun-if-env-changed=CC");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("vdso.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args([
            "-fPIC",
            "-nostdlib",
            "-shared",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            &format!("-Wl,-T,{lds}"),
            "-Wl,--hash-style=both",
            "-Wl,--build-id=none",
            "-Wl,-soname=linux-vdso.so.1",
            "-Wl,--no-undefined",
            "-Wl,-z,noexecstack",
            "-o",
        ])
        .arg(&out)
        .arg(src)
        .status()
        .unwrap_or_else(|e| panic!("running {cc} for the vDSO: {e}"));
    assert!(status.success(), "{cc} failed to build the vDSO");
}
