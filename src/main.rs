//! vmlinux: parse the kernel command line and boot (the kernel itself is
//! the `ruml` library, src/lib.rs).
#![deny(unsafe_code)]

use ruml::init::cmdline::{self, Action};

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
        Ok(Action::Boot(c)) => ruml::init::start_kernel(c),
        Err(e) => {
            eprintln!("vmlinux: {e}");
            std::process::exit(2);
        }
    }
}
