//! ruml, the kernel as a library: the whole module tree lives here so that
//! the `vmlinux` binary (src/main.rs) and the fuzz targets (fuzz/) build
//! the same code; `fuzz_entry` is the fuzzers' door into the parsers.
#![deny(unsafe_code)]

mod abi;
#[allow(unsafe_code)]
#[path = "../arch/um/mod.rs"]
mod arch;
#[path = "../drivers/mod.rs"]
mod drivers;
mod fs;
pub mod fuzz_entry;
pub mod init;
mod ipc;
mod kernel;
mod mm;
mod net;
mod tty;
