//! Fuzz target: an ELF executable: parse headers, program headers and PT_INTERP.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ruml::fuzz_entry::fuzz_elf(data));
