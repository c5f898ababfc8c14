//! Fuzz target: an mconsole request datagram (and the device word of `config`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ruml::fuzz_entry::fuzz_mconsole(data));
