//! The `ethN=TRANSPORT,...` command-line words (UML's network devices):
//! `ethN=tuntap,TAPNAME[,MAC]` and `ethN=user[,...]` (alias `slirp`,
//! options in `eth_user`), and UML's vector words `vecN:transport=tap|raw,
//! ifname=...`. Pure parsing; the driver opens the TAP or
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
    /// A `vecN:` word (UML's vector driver): the guest's device is
    /// `vec<index>`, not `eth<index>`.
    pub vector: bool,
    /// `vecN:transport=raw`: `tap` names a host interface read and
    /// written through an AF_PACKET socket, not a TAP.
    pub raw: bool,
}

impl EthSpec {
    /// The guest's name for it: `ethN` or `vecN`.
    pub fn name(&self) -> String {
        let prefix = if self.vector { "vec" } else { "eth" };
        format!("{prefix}{}", self.index)
    }
}

/// The device number N of `<prefix>N`: 0..MAX_ETH, no leading zeros.
fn parse_index(n: &str, prefix: &str) -> Result<u8, String> {
    match n.parse::<u8>() {
        Ok(i) if i < MAX_ETH && (n == "0" || !n.starts_with('0')) => Ok(i),
        _ => Err(format!(
            "invalid device (expected {prefix}0..{prefix}{})",
            MAX_ETH - 1
        )),
    }
}

/// Parse `eth<rest>=<value>`; errors are the reason, for the word.
pub fn parse_eth(rest: &str, value: &str) -> Result<EthSpec, String> {
    let index = parse_index(rest, "eth")?;
    let mut parts = value.split(',');
    let transport = parts.next().unwrap_or("");
    if transport == "user" || transport == "slirp" {
        let (user, mac) = super::eth_user::parse_user(parts)?;
        return Ok(EthSpec {
            index,
            tap: String::new(),
            mac,
            user: Some(user),
            vector: false,
            raw: false,
        });
    }
    if transport != "tuntap" {
        return Err(format!(
            "unsupported transport {transport:?} (expected tuntap,TAPNAME[,MAC] or user[,hostfwd=...])"
        ));
    }
    let tap = parts.next().unwrap_or("");
    // IFNAMSIZ is 16 with the NUL; the host refuses longer names.
    check_ifname(tap, "TAP")?;
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
        vector: false,
        raw: false,
    })
}

/// A host interface name: 1-15 bytes (IFNAMSIZ is 16 with the NUL; the
/// host refuses longer names) of letters, digits, '-', '_', '.'.
fn check_ifname(name: &str, what: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 15 || !name.bytes().all(is_ifname_byte) {
        return Err(format!(
            "invalid {what} name {name:?} (1-15 letters, digits, '-', '_', '.')"
        ));
    }
    Ok(())
}

/// Parse UML's vector word `vec<rest>=<value>`, where the key goes on
/// past the number: `vecN:transport=tap,ifname=TAP[,mac=MAC][,gro=0]`
/// or `vecN:transport=raw,ifname=IF[,mac=MAC]`, so `rest` is
/// `N:transport` and `value` the transport and its options.
pub fn parse_vec(rest: &str, value: &str) -> Result<EthSpec, String> {
    let usage = "expected vecN:transport=tap,ifname=TAP[,mac=MAC] or vecN:transport=raw,ifname=IF[,mac=MAC]";
    let (n, key) = rest.split_once(':').ok_or_else(|| usage.to_string())?;
    let index = parse_index(n, "vec")?;
    if key != "transport" {
        return Err(format!("unexpected {key:?} ({usage})"));
    }
    let mut parts = value.split(',');
    let raw = match parts.next().unwrap_or("") {
        "tap" => false,
        "raw" => true,
        t => return Err(format!("unsupported transport {t:?} (expected tap or raw)")),
    };
    let (mut ifname, mut mac) = (None, None);
    for p in parts {
        match p.split_once('=') {
            Some(("ifname", v)) => ifname = Some(v),
            Some(("mac", v)) => mac = Some(parse_mac(v)?),
            // Generic receive offload needs the TAP's virtio-net header,
            // which this driver does not use yet: gro=0 (UML's default)
            // is what it does; gro=1 would be a promise it cannot keep.
            Some(("gro", "0")) if !raw => {}
            Some(("gro", "1")) if !raw => {
                return Err("gro=1 is not supported (no virtio-net header offloads yet); use gro=0 or leave it out".into())
            }
            _ => return Err(format!("unexpected {p:?} ({usage})")),
        }
    }
    let ifname = ifname.ok_or_else(|| format!("no ifname= ({usage})"))?;
    check_ifname(ifname, if raw { "interface" } else { "TAP" })?;
    Ok(EthSpec {
        index,
        tap: ifname.to_owned(),
        mac,
        user: None,
        vector: true,
        raw,
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
                user: None,
                vector: false,
                raw: false,
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

    #[test]
    fn vector_words() {
        let v = parse_vec("2:transport", "tap,ifname=tap9,mac=02:00:00:00:00:09,gro=0").unwrap();
        assert_eq!(
            (v.name(), v.tap.as_str(), v.raw, v.mac),
            ("vec2".into(), "tap9", false, Some([2, 0, 0, 0, 0, 9]))
        );
        assert!(parse_vec("0:transport", "raw,ifname=veth0").unwrap().raw);
        for (rest, v) in [
            ("0:transport", "vde,ifname=x"),
            ("0:transport", "tap"),
            ("0:transport", "tap,ifname="),
            ("0:transport", "tap,ifname=t,mac=02:00"),
            ("0:transport", "tap,ifname=t,depth=9"),
            ("0:transport", "raw,ifname=t,gro=1"),
            ("0:transport", "tap,ifname=t,gro=1"),
            ("0:mode", "tap,ifname=t"),
            ("0", "tap,ifname=t"),
            ("16:transport", "tap,ifname=t"),
        ] {
            assert!(parse_vec(rest, v).is_err(), "vec{rest}={v} was accepted");
        }
    }
}
