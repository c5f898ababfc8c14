//! Syscall names, for logs: the table's.

pub fn name(nr: u64) -> &'static str {
    super::table::entry_of(nr).map_or("?", |e| e.name)
}
