//! Unit tests of filesystem objects (pipes, tmpfs) on the fake platform,
//! without booting.

mod pipe;
mod tmpfs;
