//! vmlinux: parse the kernel command line and boot (the kernel itself is
//! the `ruml` library, src/lib.rs).
#![deny(unsafe_code)]

use ruml::init::cli::{self, Action};

fn main() {
    // args() would panic on a word that is not UTF-8: a clear error instead.
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let args = match args {
        Ok(a) => a,
        Err(w) => {
            eprintln!("vmlinux: {}: not valid UTF-8", w.to_string_lossy());
            std::process::exit(2);
        }
    };
    match cli::parse(args) {
        Ok(Action::Help(text)) => print!("{text}"),
        Ok(Action::Version(text)) => print!("{text}"),
        Ok(Action::Boot(c)) => ruml::init::start_kernel(c),
        Err(e) => {
            eprintln!("vmlinux: {e}");
            std::process::exit(2);
        }
    }
}
