//! MBR partition tables: the four primary entries of sector 0 (extended
//! partitions are not followed).

/// One primary partition.
#[derive(Debug, PartialEq, Eq)]
pub struct MbrPartition {
    /// 1..=4, the minor offset from the disk.
    pub number: u8,
    pub start_sector: u64,
    pub sectors: u64,
}

/// The usable primary partitions of an MBR sector on a disk of
/// `disk_sectors`. Empty if there is no 0x55AA signature, if the sector is
/// really a filesystem boot record (entries that do not fit the disk), or for
/// a protective GPT entry.
pub fn parse_mbr(sector: &[u8; 512], disk_sectors: u64) -> Vec<MbrPartition> {
    if sector[510] != 0x55 || sector[511] != 0xAA {
        return Vec::new();
    }
    let mut out = Vec::new();
    for i in 0..4 {
        let e = &sector[446 + i * 16..446 + (i + 1) * 16];
        let status = e[0];
        let kind = e[4];
        let start = u32::from_le_bytes([e[8], e[9], e[10], e[11]]) as u64;
        let count = u32::from_le_bytes([e[12], e[13], e[14], e[15]]) as u64;
        if status & 0x7f != 0 {
            // Not a partition table (boot flag must be 0x00 or 0x80).
            return Vec::new();
        }
        // Empty, extended (0x05, 0x0f, 0x85) and GPT protective entries.
        if kind == 0 || count == 0 || matches!(kind, 0x05 | 0x0f | 0x85 | 0xee) {
            continue;
        }
        if start == 0 || start.saturating_add(count) > disk_sectors {
            log::warn!("ubd: partition {} beyond end of disk, ignored", i + 1);
            continue;
        }
        out.push(MbrPartition {
            number: i as u8 + 1,
            start_sector: start,
            sectors: count,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(s: &mut [u8; 512], i: usize, kind: u8, start: u32, count: u32) {
        let e = &mut s[446 + i * 16..446 + (i + 1) * 16];
        e[4] = kind;
        e[8..12].copy_from_slice(&start.to_le_bytes());
        e[12..16].copy_from_slice(&count.to_le_bytes());
    }

    #[test]
    fn two_primaries() {
        let mut s = [0u8; 512];
        s[510] = 0x55;
        s[511] = 0xAA;
        entry(&mut s, 0, 0x83, 2048, 1000);
        entry(&mut s, 2, 0x83, 4096, 100);
        let p = parse_mbr(&s, 8192);
        assert_eq!(
            p,
            vec![
                MbrPartition {
                    number: 1,
                    start_sector: 2048,
                    sectors: 1000
                },
                MbrPartition {
                    number: 3,
                    start_sector: 4096,
                    sectors: 100
                }
            ]
        );
    }

    #[test]
    fn no_signature_or_out_of_range() {
        let mut s = [0u8; 512];
        entry(&mut s, 0, 0x83, 2048, 1000);
        assert!(parse_mbr(&s, 8192).is_empty());
        s[510] = 0x55;
        s[511] = 0xAA;
        assert!(parse_mbr(&s, 2048).is_empty());
        s[446] = 0x12; // bad status byte: not a table
        assert!(parse_mbr(&s, 8192).is_empty());
    }
}
