//! mconsole `config ethN=TRANSPORT,...`, `config ethN` and `remove ethN`,
//! answered as UML's network driver answers them (its mc_device "eth":
//! the same parsing steps, texts and error codes). A hot-plugged device
//! comes up as a boot-time one would (`drivers::net::hotplug`); a removed
//! one must be down first, and its host side is closed
//! (`drivers::net::remove`).

use super::protocol::reply;
use crate::init::eth_word;
use std::sync::OnceLock;

type Packets = Vec<Vec<u8>>;

/// The machine's umid= (default MACs are derived from it, as at boot).
static UMID: OnceLock<Option<String>> = OnceLock::new();

const EINVAL: i32 = 22;
const ENODEV: i32 = 19;
const EBUSY: i32 = 16;

/// Remember the umid= word for hot-plugged devices' default MACs.
pub fn init(umid: Option<&str>) {
    let _ = UMID.set(umid.map(str::to_owned));
}

/// UML's simple_strtoul on the device number: its digits and the rest.
fn number(s: &str) -> (Option<u8>, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    (s[..end].parse().ok(), &s[end..])
}

/// `config eth<arg>`: add with `N=...`, else the query.
pub fn config(arg: &str) -> Packets {
    if !arg.contains('=') {
        // UML's network driver has no get_config.
        return reply("No get_config routine defined", 1, false);
    }
    let (n, rest) = number(arg);
    let Some(n) = n else {
        return reply("Bad device number", -EINVAL, false);
    };
    let Some(value) = rest.strip_prefix('=') else {
        return reply("Expected '=' after device number", -EINVAL, false);
    };
    let name = format!("eth{n}");
    if crate::drivers::net::exists(&name) {
        return reply("Device already configured", -EINVAL, false);
    }
    // UML: no transport took the string, error 1 (with an empty text;
    // ours says why).
    let spec = match eth_word::parse_eth(&n.to_string(), value) {
        Ok(s) => s,
        Err(e) => return reply(&e, 1, false),
    };
    let umid = UMID.get().and_then(|u| u.as_deref());
    match crate::drivers::net::hotplug(&spec, umid) {
        Ok(()) => reply("", 0, false),
        Err(e) => reply(&e, 1, false),
    }
}

/// `remove eth<arg>`.
pub fn remove(arg: &str) -> Packets {
    let (n, rest) = number(arg);
    let (Some(n), "") = (n, rest) else {
        return reply("Couldn't parse device number", 1, false);
    };
    let name = format!("eth{n}");
    if !crate::drivers::net::exists(&name) {
        return reply("Device doesn't exist", -ENODEV, false);
    }
    match crate::drivers::net::remove(&name) {
        Ok(()) => reply("", 0, false),
        Err(crate::kernel::errno::Errno::EBUSY) => reply("Device is currently open", -EBUSY, false),
        Err(_) => reply("Device doesn't exist", -ENODEV, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of a one-packet reply (u32 err, more, len, then data).
    fn text(p: &Packets) -> String {
        let len = u32::from_ne_bytes(p[0][8..12].try_into().unwrap()) as usize;
        String::from_utf8_lossy(&p[0][12..12 + len])
            .trim_end_matches('\0')
            .to_owned()
    }

    #[test]
    fn parse_errors_are_umls() {
        assert_eq!(text(&config("0")), "No get_config routine defined");
        assert_eq!(text(&config("=user")), "Bad device number");
        assert_eq!(text(&config("0x=user")), "Expected '=' after device number");
        assert_eq!(text(&remove("x")), "Couldn't parse device number");
        assert_eq!(text(&remove("1 ")), "Couldn't parse device number");
        assert_eq!(text(&remove("9")), "Device doesn't exist");
    }
}
