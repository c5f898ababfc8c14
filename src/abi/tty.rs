//! Terminal structs: the kernel's termios and termios2 (not glibc's larger
//! user-space termios) and winsize.

use super::abi_size;
use bytemuck::{Pod, Zeroable};

/// The kernel's NCCS (glibc's user-space struct has 32, the ioctl ABI 19).
pub const NCCS: usize = 19;

/// struct termios as TCGETS/TCSETS* pass it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct KTermios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; NCCS],
}
abi_size!(KTermios, 36);

/// struct termios2 (TCGETS2/TCSETS2*): termios plus the two speeds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Termios2 {
    pub t: KTermios,
    pub c_ispeed: u32,
    pub c_ospeed: u32,
}
abi_size!(Termios2, 44);

/// struct winsize: rows, columns, and the unused pixel sizes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Winsize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}
abi_size!(Winsize, 8);
