//! The `ethN=TRANSPORT,...` command-line words (UML's network devices):
//! `ethN=tuntap,TAPNAME[,MAC]` and `ethN=user[,...]` (alias `slirp`,
//! options in `eth_user`). Pure parsing; the driver opens the TAP or
//! starts the user-mode gateway at boot.

/// Number of Ethernet devices (`eth0` ..= `eth15`).
pub const MAX_ETH: u8 = 16;

/// One `ethN=tuntap,TAPNAME[,MAC]` word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthSpec {
    /// The guest's interface number: `eth<index>`.
    pub index: u8,
    /// The host TAP interface (existing, or created when we may).
    pub tap: String,
    /// The guest's MAC address; None picks a stable default.
    pub mac: Option<[u8; 6]>,
    /// `user`/`slirp` transport (then `tap` is empty).
    pub user: Option<super::eth_user::UserNet>,
}

/// Parse `eth<rest>=<value>`; errors are the reason, for the word.
pub fn parse_eth(rest: &str, value: &str) -> Result<EthSpec, String> {
    let index = match rest.parse::<u8>() {
        Ok(n) if n < MAX_ETH && (rest == "0" || !rest.starts_with('0')) => n,
        _ => {
            return Err(format!(
                "invalid device (expected eth0..eth{})",
                MAX_ETH - 1
            ))
        }
    };
    let mut parts = value.split(',');
    let transport = parts.next().unwrap_or("");
    if transport == "user" || transport == "slirp" {
        let (user, mac) = super::eth_user::parse_user(parts)?;
        return Ok(EthSpec {
            index,
            tap: String::new(),
            mac,
            user: Some(user),
        });
    }
    if transport != "tuntap" {
        return Err(format!(
            "unsupported transport {transport:?} (expected tuntap,TAPNAME[,MAC] or user[,hostfwd=...])"
        ));
    }
    let tap = parts.next().unwrap_or("");
    // IFNAMSIZ is 16 with the NUL; the host refuses longer names.
    if tap.is_empty() || tap.len() > 15 || !tap.bytes().all(is_ifname_byte) {
        return Err(format!(
            "invalid TAP name {tap:?} (1-15 letters, digits, '-', '_', '.')"
        ));
    }
    let mac = match parts.next() {
        None | Some("") => None,
        Some(m) => Some(parse_mac(m)?),
    };
    if let Some(extra) = parts.next() {
        return Err(format!(
            "unexpected {extra:?} (expected tuntap,TAPNAME[,MAC])"
        ));
    }
    Ok(EthSpec {
        index,
        tap: tap.to_owned(),
        mac,
        user: None,
    })
}

fn is_ifname_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// `aa:bb:cc:dd:ee:ff`, a unicast address (a multicast source address
/// would be dropped by every peer).
pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let bad = || format!("invalid MAC address {s:?} (expected six hex bytes aa:bb:cc:dd:ee:ff)");
    let mut mac = [0u8; 6];
    let mut n = 0;
    for part in s.split(':') {
        if n == 6 || part.is_empty() || part.len() > 2 {
            return Err(bad());
        }
        mac[n] = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        n += 1;
    }
    if n != 6 {
        return Err(bad());
    }
    if mac[0] & 1 != 0 {
        return Err(format!("MAC address {s} is a multicast address"));
    }
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            parse_eth("0", "tuntap,tap0"),
            Ok(EthSpec {
                index: 0,
                tap: "tap0".into(),
                mac: None,
                user: None
            })
        );
        assert_eq!(
            parse_eth("3", "tuntap,t,02:00:00:aa:bb:0c").unwrap().mac,
            Some([2, 0, 0, 0xaa, 0xbb, 0x0c])
        );
        let u = parse_eth("1", "slirp,hostfwd=tcp::8080-:80").unwrap();
        assert_eq!(u.user.unwrap().hostfwd.len(), 1);
        assert!(parse_eth("0", "user").unwrap().tap.is_empty());
        for (rest, v) in [
            ("0", "user,hostfwd=tcp::8080"),
            ("0", "user,mac=01:00:00:00:00:00"),
            ("0", "user,foo"),
            ("", "tuntap,tap0"),
            ("16", "tuntap,tap0"),
            ("01", "tuntap,tap0"),
            ("x", "tuntap,tap0"),
            ("0", "vde,sock"),
            ("0", "tuntap"),
            ("0", "tuntap,"),
            ("0", "tuntap,a/b"),
            ("0", "tuntap,abcdefghijklmnop"),
            ("0", "tuntap,tap0,02:00:00:00:00"),
            ("0", "tuntap,tap0,01:00:00:00:00:00"),
            ("0", "tuntap,tap0,02:00:00:00:00:zz"),
            ("0", "tuntap,tap0,02:00:00:00:00:00,x"),
        ] {
            assert!(parse_eth(rest, v).is_err(), "eth{rest}={v} was accepted");
        }
    }
}
