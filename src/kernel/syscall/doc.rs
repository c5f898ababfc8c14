//! docs/syscalls.md, rendered from the syscall table; the test fails when
//! the file and the table disagree (`RUML_BLESS=1` rewrites the file).

use super::table::{Restart, Support, MAX_NR, SYSCALLS};

const HEADER: &str = "# System calls

Generated from the table in `src/kernel/syscall/table.rs`: do not edit by
hand; after changing the table, regenerate with
`RUML_BLESS=1 cargo test --release --lib syscall_doc`.

Every x86_64 syscall number up to 461, by number. `full`: Linux's
semantics and errnos as far as the code and the tests tell; `partial`:
works, the notes say what is missing or ignored; `ENOSYS`: not
implemented. The first use of a partial or unimplemented syscall is
recorded once by name in the kernel log (dmesg, at KERN_DEBUG).
Interrupted by a signal, a call restarts if the handler has SA_RESTART
(or no handler runs), unless its notes say otherwise.

| nr | syscall | support | notes |
|---|---|---|---|
";

fn support(s: Support) -> &'static str {
    match s {
        Support::Full => "full",
        Support::Partial => "partial",
        Support::Unimplemented => "ENOSYS",
    }
}

/// The whole of docs/syscalls.md.
pub fn markdown() -> String {
    let mut out = String::from(HEADER);
    let mut next = 0usize;
    for e in SYSCALLS {
        let nr = e.nr as usize;
        if nr > next {
            out.push_str(&format!(
                "| {next}–{} | | | not assigned on x86_64: ENOSYS |\n",
                nr - 1
            ));
        }
        next = nr + 1;
        let mut note = e.note.replace('|', "\\|");
        let restart = match e.restart {
            Restart::Sys => "",
            Restart::NoHand => "interrupted: restarted only when no handler runs",
            Restart::Intr => "interrupted: EINTR, never restarted",
        };
        if !restart.is_empty() {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(restart);
        }
        let sep = if note.is_empty() { "" } else { " " };
        out.push_str(&format!(
            "| {nr} | {} | {} |{sep}{note} |\n",
            e.name,
            support(e.support)
        ));
    }
    assert_eq!(next, MAX_NR + 1);
    out
}

#[test]
fn syscall_doc() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/syscalls.md");
    let want = markdown();
    if std::env::var_os("RUML_BLESS").is_some() {
        std::fs::write(path, &want).expect("writing docs/syscalls.md");
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    if have != want {
        let first = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(have.lines().count().min(want.lines().count()));
        panic!(
            "docs/syscalls.md is out of date with src/kernel/syscall/table.rs \
             (first difference at line {}:\n  file:  {}\n  table: {}\n); \
             regenerate it with `RUML_BLESS=1 cargo test --release --lib syscall_doc`",
            first + 1,
            have.lines().nth(first).unwrap_or("<end>"),
            want.lines().nth(first).unwrap_or("<end>"),
        );
    }
}
