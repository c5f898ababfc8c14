//! UML's mconsole wire format (arch/um/drivers/mconsole.h, version 2).
//!
//! A request is one datagram `{u32 magic 0xcafebabe, u32 version 2, u32
//! len, char data[512]}`; a reply is `{u32 err, u32 more, u32 len, char
//! data[512]}` of 12 + len bytes, `len` counting a terminating NUL. Text
//! longer than 511 bytes goes out as several replies, all but the last
//! with `more` set; only the first may carry `err`. Integers are in host
//! byte order (the client runs on the same host).

pub const MAGIC: u32 = 0xcafe_babe;
pub const VERSION: u32 = 2;
pub const MAX_DATA: usize = 512;
const HEADER: usize = 12;

/// UML's notification types (`enum mc_notify_type`).
pub const NOTIFY_SOCKET: u32 = 0;
pub const NOTIFY_PANIC: u32 = 1;

/// A notification datagram (UML's `struct mconsole_notify`): magic,
/// version, type, len, then `len` bytes of data (at most 512).
pub fn notification(kind: u32, data: &[u8]) -> Vec<u8> {
    let data = &data[..data.len().min(MAX_DATA)];
    let mut p = Vec::with_capacity(16 + data.len());
    for v in [MAGIC, VERSION, kind, data.len() as u32] {
        p.extend_from_slice(&v.to_ne_bytes());
    }
    p.extend_from_slice(data);
    p
}

/// What a datagram asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// A version-2 command line, e.g. "sysrq t".
    Command(String),
    /// Answer with these reply packets and do nothing else.
    Refused(Vec<Vec<u8>>),
}

/// Decode a datagram as UML's mconsole_get_request does.
pub fn parse(buf: &[u8]) -> Request {
    let word = |i: usize| -> Option<u32> {
        buf.get(i..i + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    if word(0) != Some(MAGIC) {
        // Version 0 clients sent bare text and get bare text back.
        let msg = b"ERR Version 0 mconsole clients are not supported by this driver";
        return Request::Refused(vec![msg.to_vec()]);
    }
    let len = word(8).unwrap_or(0) as usize;
    if len >= MAX_DATA {
        return Request::Refused(reply("Request too large", 1, false));
    }
    if word(4) != Some(VERSION) {
        return Request::Refused(reply(
            "This driver only supports version 2 clients",
            1,
            false,
        ));
    }
    let data = buf.get(HEADER..).unwrap_or(&[]);
    let data = &data[..len.min(data.len())];
    // C string semantics: the command ends at the first NUL.
    let data = data.split(|&b| b == 0).next().unwrap_or(&[]);
    Request::Command(String::from_utf8_lossy(data).into_owned())
}

/// Reply packets for `text` (UML's mconsole_reply): split into 511-byte
/// pieces; `err` on the first, `more` on every piece but the last, which
/// gets the caller's `more`.
pub fn reply(text: &str, err: i32, more: bool) -> Vec<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut chunks: Vec<&[u8]> = bytes.chunks(MAX_DATA - 1).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        let mut p = Vec::with_capacity(HEADER + c.len() + 1);
        let e = if i == 0 { err as u32 } else { 0 };
        let m = if i + 1 < n { 1 } else { more as u32 };
        p.extend_from_slice(&e.to_ne_bytes());
        p.extend_from_slice(&m.to_ne_bytes());
        p.extend_from_slice(&(c.len() as u32 + 1).to_ne_bytes());
        p.extend_from_slice(c);
        p.push(0);
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(magic: u32, version: u32, text: &str) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&magic.to_ne_bytes());
        b.extend_from_slice(&version.to_ne_bytes());
        b.extend_from_slice(&(text.len() as u32).to_ne_bytes());
        b.extend_from_slice(text.as_bytes());
        b.resize(HEADER + MAX_DATA, 0);
        b
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse(&request(MAGIC, 2, "sysrq t")),
            Request::Command("sysrq t".into())
        );
        assert!(matches!(parse(b"version"), Request::Refused(_)));
        assert!(matches!(
            parse(&request(MAGIC, 1, "version")),
            Request::Refused(_)
        ));
        let mut big = request(MAGIC, 2, "x");
        big[8..12].copy_from_slice(&600u32.to_ne_bytes());
        assert_eq!(
            parse(&big),
            Request::Refused(reply("Request too large", 1, false))
        );
    }

    #[test]
    fn splits_long_replies() {
        let p = reply("", 0, false);
        assert_eq!(p, vec![vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]]);
        let text = "a".repeat(1000);
        let p = reply(&text, -16, false);
        assert_eq!(p.len(), 2);
        assert_eq!(&p[0][0..4], &(-16i32 as u32).to_ne_bytes());
        assert_eq!(&p[0][4..8], &1u32.to_ne_bytes());
        assert_eq!(&p[0][8..12], &512u32.to_ne_bytes());
        assert_eq!(p[0].len(), 12 + 512);
        assert_eq!(&p[1][0..4], &0u32.to_ne_bytes());
        assert_eq!(&p[1][4..8], &0u32.to_ne_bytes());
        assert_eq!(&p[1][8..12], &(1000u32 - 511 + 1).to_ne_bytes());
        assert_eq!(reply("x", 0, true)[0][4], 1);
    }
}
