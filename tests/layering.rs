//! Layering rule, checked without booting: the kernel proper (every file
//! physically under src/) is safe Rust that never names the host's C API.
//! `unsafe`, `libc` and `nix` belong in arch/ and the host halves of
//! drivers/, which src/lib.rs pulls in by `#[path]` and are not checked.

use std::path::{Path, PathBuf};

/// Words that must not appear in src/ code (comments are skipped).
const FORBIDDEN: [&str; 5] = ["libc::", "nix::", "use libc", "use nix", "unsafe"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The line without its `//` comment (a `//` inside a string literal cuts
/// the line short too, which can only hide a word, never invent one).
fn code_part(line: &str) -> &str {
    line.split_once("//").map_or(line, |(code, _)| code)
}

/// Is `word` in `code` as a whole identifier prefix (so `unsafe_code` in
/// `#![deny(unsafe_code)]` and `is_unsafe` do not count)?
fn mentions(code: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        let glued_before = before.is_some_and(ident);
        let glued_after = word.ends_with(ident) && after.is_some_and(ident);
        !(glued_before || glued_after)
    })
}

#[test]
fn src_is_safe_rust_without_host_bindings() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "src/ walk found only {} files",
        files.len()
    );
    let mut bad = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = code_part(line);
            for word in FORBIDDEN {
                if mentions(code, word) {
                    let rel = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
                    bad.push(format!(
                        "{}:{}: {word}: {}",
                        rel.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "host bindings or unsafe in src/ (move them to arch/ or a driver's host half):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_what_it_must() {
    assert!(mentions("if x == libc::SIGSEGV {", "libc::"));
    assert!(mentions("    unsafe { f() }", "unsafe"));
    assert!(mentions("use libc;", "use libc"));
    assert!(!mentions("#![deny(unsafe_code)]", "unsafe"));
    assert!(!mentions("let is_unsafe = 1;", "unsafe"));
    assert!(!mentions("use libcfoo;", "use libc"));
    assert_eq!(code_part("let a = 1; // unsafe"), "let a = 1; ");
}
