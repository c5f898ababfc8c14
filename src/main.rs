//! vmlinux: parse the kernel command line and boot.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
#[path = "../arch/um/mod.rs"]
mod arch;
#[path = "../drivers/mod.rs"]
mod drivers;
mod fs;
mod init;
mod ipc;
mod kernel;
mod mm;
mod net;
mod tty;

use init::cmdline::{self, Action};

fn main() {
    match cmdline::parse(std::env::args().skip(1)) {
        Ok(Action::Help) => {
            print!("{}", cmdline::help_text());
        }
        Ok(Action::Version) => {
            println!(
                "ruml {} (Linux-compatible kernel, x86_64, User-Mode)",
                env!("CARGO_PKG_VERSION")
            );
        }
        Ok(Action::Boot(c)) => init::start_kernel(c),
        Err(e) => {
            eprintln!("vmlinux: {e}");
            std::process::exit(2);
        }
    }
}
