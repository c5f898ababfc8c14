//! tmpfs mount options (size=, nr_blocks=, nr_inodes=, mode=, uid=, gid=)
//! as Linux's shmem parses and shows them.

use crate::kernel::errno::{Errno, KResult};
use crate::mm::frame::PAGE_SIZE;

/// Options of one tmpfs instance; None: not given (the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TmpfsOptions {
    /// Limit on data pages (size=, nr_blocks=).
    pub max_pages: Option<u64>,
    /// Limit on inodes (nr_inodes=).
    pub max_inodes: Option<u64>,
    /// Mode of the root directory (mode=).
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// `N` with an optional k/m/g/t/p/e suffix (memparse).
fn memparse(v: &str) -> Option<u64> {
    let (num, shift) = match v.chars().last()? {
        'k' | 'K' => (&v[..v.len() - 1], 10),
        'm' | 'M' => (&v[..v.len() - 1], 20),
        'g' | 'G' => (&v[..v.len() - 1], 30),
        't' | 'T' => (&v[..v.len() - 1], 40),
        'p' | 'P' => (&v[..v.len() - 1], 50),
        'e' | 'E' => (&v[..v.len() - 1], 60),
        _ => (v, 0),
    };
    num.parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

impl TmpfsOptions {
    /// Parse the filesystem's words of a mount option string on top of
    /// `self`. `ram_pages` is the size of guest memory (for size=N%).
    pub fn parse(&self, words: &[String], ram_pages: u64) -> KResult<TmpfsOptions> {
        let mut o = *self;
        for w in words {
            let (k, v) = w.split_once('=').unwrap_or((w.as_str(), ""));
            let bad = || {
                log::error!("tmpfs: Bad value for '{k}'");
                Errno::EINVAL
            };
            match k {
                "size" => {
                    let pages = if let Some(pct) = v.strip_suffix('%') {
                        let p: u64 = pct.parse().map_err(|_| bad())?;
                        ram_pages * p / 100
                    } else {
                        memparse(v).ok_or_else(bad)?.div_ceil(PAGE_SIZE)
                    };
                    o.max_pages = Some(pages);
                }
                "nr_blocks" => o.max_pages = Some(memparse(v).ok_or_else(bad)?),
                "nr_inodes" => o.max_inodes = Some(memparse(v).ok_or_else(bad)?),
                "mode" => {
                    let m = u32::from_str_radix(v, 8).map_err(|_| bad())?;
                    o.mode = Some(m & 0o7777);
                }
                "uid" => o.uid = Some(v.parse().map_err(|_| bad())?),
                "gid" => o.gid = Some(v.parse().map_err(|_| bad())?),
                "huge" if v == "never" => {}
                "inode64" | "inode32" | "noswap" if v.is_empty() => {}
                _ => {
                    log::error!("tmpfs: Unknown parameter '{k}'");
                    return Err(Errno::EINVAL);
                }
            }
        }
        Ok(o)
    }

    /// What /proc/mounts shows: the options that differ from the defaults
    /// (`default_pages`/`default_inodes` are half of memory, as Linux's).
    pub fn show(&self, default_pages: u64, default_inodes: u64) -> String {
        let mut v = Vec::new();
        if let Some(p) = self.max_pages.filter(|p| *p != default_pages) {
            v.push(format!("size={}k", p * (PAGE_SIZE / 1024)));
        }
        if let Some(n) = self.max_inodes.filter(|n| *n != default_inodes) {
            v.push(format!("nr_inodes={n}"));
        }
        if let Some(m) = self.mode.filter(|m| *m != 0o1777) {
            v.push(format!("mode={m:o}"));
        }
        if let Some(u) = self.uid.filter(|u| *u != 0) {
            v.push(format!("uid={u}"));
        }
        if let Some(g) = self.gid.filter(|g| *g != 0) {
            v.push(format!("gid={g}"));
        }
        v.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(',').map(String::from).collect()
    }

    #[test]
    fn sizes_and_modes() {
        let o = TmpfsOptions::default()
            .parse(&words("size=1m,mode=700,nr_inodes=10k,uid=5"), 65536)
            .unwrap();
        assert_eq!(o.max_pages, Some(256));
        assert_eq!(o.max_inodes, Some(10240));
        assert_eq!(o.mode, Some(0o700));
        assert_eq!(
            o.show(32768, 32768),
            "size=1024k,nr_inodes=10240,mode=700,uid=5"
        );
        let o = TmpfsOptions::default()
            .parse(&words("size=50%"), 65536)
            .unwrap();
        assert_eq!(o.max_pages, Some(32768));
        assert_eq!(o.show(32768, 32768), "");
    }

    #[test]
    fn bad_options_are_refused() {
        let d = TmpfsOptions::default();
        assert_eq!(d.parse(&words("size=lots"), 1), Err(Errno::EINVAL));
        assert_eq!(d.parse(&words("mode=9"), 1), Err(Errno::EINVAL));
        assert_eq!(d.parse(&words("colour=blue"), 1), Err(Errno::EINVAL));
    }
}
