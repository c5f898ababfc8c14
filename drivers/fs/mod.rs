//! Filesystems backed by the host: hostfs's host half.

#[allow(unsafe_code)]
pub mod hostfs_host;
