//! Just enough of telnet (RFC 854) for `port:` console channels: the
//! server's opening offer (it echoes, no go-ahead) and an input filter that
//! drops option negotiation and turns the NVT end-of-line (CR LF, CR NUL)
//! into the CR a terminal's Enter key sends.

pub const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
const OPT_ECHO: u8 = 1;
const OPT_SGA: u8 = 3;

/// Sent on connect: the server echoes and suppresses go-ahead, so a telnet
/// client sends each key as typed and does not echo locally.
pub const GREETING: [u8; 6] = [IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA];

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    #[default]
    Data,
    /// After IAC.
    Iac,
    /// After IAC WILL/WONT/DO/DONT: the option byte follows.
    Opt,
    /// Inside IAC SB ... IAC SE.
    Sub,
    SubIac,
    /// After a CR: drop a following LF or NUL.
    Cr,
}

/// Input filter state of one connection.
#[derive(Default)]
pub struct Filter {
    state: State,
}

impl Filter {
    /// Terminal input bytes in `data`.
    pub fn filter(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        for &b in data {
            self.state = match (self.state, b) {
                (State::Data | State::Cr, IAC) => State::Iac,
                (State::Cr, b'\n' | 0) => State::Data,
                (State::Data | State::Cr, b'\r') => {
                    out.push(b'\r');
                    State::Cr
                }
                (State::Data | State::Cr, _) => {
                    out.push(b);
                    State::Data
                }
                (State::Iac, IAC) => {
                    out.push(IAC);
                    State::Data
                }
                (State::Iac, WILL | WONT | DO | DONT) => State::Opt,
                (State::Iac, SB) => State::Sub,
                (State::Iac, _) | (State::Opt, _) => State::Data,
                (State::Sub, IAC) => State::SubIac,
                (State::Sub, _) => State::Sub,
                (State::SubIac, SE) => State::Data,
                (State::SubIac, _) => State::Sub,
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_passes() {
        let mut f = Filter::default();
        assert_eq!(f.filter(b"echo hi"), b"echo hi");
    }

    #[test]
    fn negotiation_is_dropped() {
        let mut f = Filter::default();
        let mut input = vec![IAC, DO, OPT_ECHO, b'a', IAC, SB, 24, 0, b'x', b'y', IAC, SE];
        input.extend_from_slice(&[b'b', IAC, IAC, IAC, 241, b'c']);
        assert_eq!(f.filter(&input), vec![b'a', b'b', IAC, b'c']);
    }

    #[test]
    fn end_of_line_becomes_cr() {
        let mut f = Filter::default();
        assert_eq!(f.filter(b"ls\r\n"), b"ls\r");
        assert_eq!(f.filter(b"a\r"), b"a\r");
        // The LF of a CR LF split across reads is still dropped.
        assert_eq!(f.filter(b"\0b\n"), b"b\n");
    }

    #[test]
    fn split_sequences() {
        let mut f = Filter::default();
        assert_eq!(f.filter(&[b'a', IAC]), b"a");
        assert_eq!(f.filter(&[WILL]), b"");
        assert_eq!(f.filter(&[OPT_SGA, b'z']), b"z");
    }
}
