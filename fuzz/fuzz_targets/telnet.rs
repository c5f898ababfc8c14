//! Fuzz target: telnet client input on a `port:` console channel.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ruml::fuzz_entry::fuzz_telnet(data));
