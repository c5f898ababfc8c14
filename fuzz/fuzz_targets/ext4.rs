//! Fuzz target: an ext2/3/4 image: mount, read everything, mount read-write and change it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ruml::fuzz_entry::fuzz_ext4(data));
