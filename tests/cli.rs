//! vmlinux's own options, without booting: `--help`/`-h` and
//! `--version`/`-V` print and exit 0 wherever they stand before `--`, and a
//! malformed kernel word is refused with status 2 and one line.

mod common;

use common::vmlinux;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(vmlinux()).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn help_prints_usage_and_exits_0() {
    let first = run(&["--help"]);
    assert_eq!(first.status.code(), Some(0));
    let text = stdout(&first);
    assert!(
        text.starts_with("Usage: vmlinux [OPTION]... [-- INIT_ARG...]\n"),
        "{text}"
    );
    for word in ["mem=SIZE", "ubdN[rsdc]=", "-h, --help", "-V, --version"] {
        assert!(text.contains(word), "--help lacks {word}: {text}");
    }
    // The same text for -h, and before `--` help wins over a bad word.
    for args in [
        &["-h"][..],
        &["mem=oops", "--help"],
        &["quiet", "-h", "--", "x"],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert_eq!(stdout(&o), text, "{args:?}");
        assert!(o.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn version_prints_one_line_and_exits_0() {
    for flag in ["--version", "-V"] {
        let o = run(&[flag]);
        assert_eq!(o.status.code(), Some(0), "{flag}");
        let want = format!(
            "ruml {} (Linux-compatible kernel, x86_64, User-Mode)\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(stdout(&o), want, "{flag}");
    }
}

#[test]
fn a_malformed_word_is_refused_before_boot() {
    let o = run(&["mem=oops", "--", "--help"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "vmlinux: mem=oops: invalid size 'oops' (expected e.g. 256M)\n"
    );
    assert!(o.stdout.is_empty());
}
