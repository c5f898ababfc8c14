//! Fuzz target: kernel command-line words (NUL-separated).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ruml::fuzz_entry::fuzz_cmdline(data));
