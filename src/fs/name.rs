//! File names as bytes: Linux names are any bytes but '/' and NUL, while
//! the VFS keeps them in `String`s. This is a lossless mapping between the
//! two: valid UTF-8 stays as it is, every byte of an invalid sequence
//! becomes one character of a private-use range, and a real occurrence of
//! such a character is escaped byte by byte the same way, so `to_bytes`
//! always gives back exactly what `from_bytes` was given.

use std::borrow::Cow;

/// Byte b (0x80..=0xff) is held as the character ESCAPE + b. U+10FF80 to
/// U+10FFFF lie in Supplementary Private Use Area-B.
const ESCAPE: u32 = 0x10_ff00;
const LOW: u32 = ESCAPE + 0x80;

fn escaped(c: char) -> bool {
    (LOW..=0x10_ffff).contains(&(c as u32))
}

fn push_byte(s: &mut String, b: u8) {
    // b >= 0x80: bytes of invalid sequences and of escaped characters.
    s.push(char::from_u32(ESCAPE + b as u32).unwrap_or(char::REPLACEMENT_CHARACTER));
}

/// The name for bytes `b` (from a guest or a disk).
pub fn from_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if escaped(c) {
                let mut buf = [0u8; 4];
                for &x in c.encode_utf8(&mut buf).as_bytes() {
                    push_byte(&mut s, x);
                }
            } else {
                s.push(c);
            }
        }
        for &x in chunk.invalid() {
            push_byte(&mut s, x);
        }
    }
    s
}

/// The bytes name `s` stands for (to a guest or a disk).
pub fn to_bytes(s: &str) -> Cow<'_, [u8]> {
    if !s.chars().any(escaped) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut v = Vec::with_capacity(s.len());
    for c in s.chars() {
        if escaped(c) {
            v.push((c as u32 - ESCAPE) as u8);
        } else {
            let mut buf = [0u8; 4];
            v.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    Cow::Owned(v)
}

/// How many bytes name `s` stands for (NAME_MAX, PATH_MAX checks).
pub fn byte_len(s: &str) -> usize {
    s.chars()
        .map(|c| if escaped(c) { 1 } else { c.len_utf8() })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_bytes() {
        let cases: [&[u8]; 6] = [
            b"plain",
            b"\xff\xfe-latin1-\xe9",
            "caf\u{e9}".as_bytes(),
            // A real U+10FF80..U+10FFFF character is escaped, not mistaken.
            "x\u{10ff80}\u{10ffff}".as_bytes(),
            b"\xf4\x8f\xbe",
            b"",
        ];
        for b in cases {
            let s = from_bytes(b);
            assert_eq!(&*to_bytes(&s), b);
            assert_eq!(byte_len(&s), b.len());
        }
        assert_eq!(from_bytes(b"plain"), "plain");
    }
}
