//! Fuzz target: an initramfs (cpio newc/crc, gzip): unpack and populate a tmpfs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ruml::fuzz_entry::fuzz_cpio(data));
