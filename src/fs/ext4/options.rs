//! ext2/3/4 mount options (`mount -o`, `rootflags=`): which ones ruml
//! honours, which it accepts as no-ops because its behaviour already is
//! the safe one, and which it refuses with Linux's message.

use crate::kernel::errno::{Errno, KResult};

/// What to do when corruption is found (errors=, or the superblock's
/// default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    Continue,
    RemountRo,
    Panic,
}

impl OnError {
    /// The superblock's s_errors value (1, 2, 3).
    pub fn from_super(v: u16) -> OnError {
        match v {
            2 => OnError::RemountRo,
            3 => OnError::Panic,
            _ => OnError::Continue,
        }
    }
    fn word(self) -> &'static str {
        match self {
            OnError::Continue => "continue",
            OnError::RemountRo => "remount-ro",
            OnError::Panic => "panic",
        }
    }
}

/// Default seconds between periodic commits (Linux's JBD2_DEFAULT_MAX_COMMIT_AGE).
pub const DEFAULT_COMMIT_SECS: u32 = 5;

/// The options of one mounted filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ext4Options {
    /// errors= given on the command line (None: the superblock's default).
    pub errors: Option<OnError>,
    /// Seconds between periodic commits (commit=).
    pub commit_secs: u32,
    /// resuid=, resgid=: who besides root may use the reserved blocks
    /// (None: the superblock's s_def_resuid, s_def_resgid).
    pub resuid: Option<u32>,
    pub resgid: Option<u32>,
}

impl Default for Ext4Options {
    fn default() -> Self {
        Ext4Options {
            errors: None,
            commit_secs: DEFAULT_COMMIT_SECS,
            resuid: None,
            resgid: None,
        }
    }
}

impl Ext4Options {
    /// Parse the filesystem's words of a mount option string, on top of
    /// `self` (a remount changes only what it names). `dev` names the
    /// device in messages.
    pub fn parse(&self, dev: &str, words: &[String]) -> KResult<Ext4Options> {
        let mut o = self.clone();
        for w in words {
            let (key, val) = match w.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (w.as_str(), None),
            };
            let bad = || {
                log::error!("EXT4-fs ({dev}): Unrecognized mount option \"{w}\" or missing value");
                Errno::EINVAL
            };
            let unsupported = |why: &str| {
                log::error!("EXT4-fs ({dev}): {w}: {why}");
                Errno::EINVAL
            };
            match (key, val) {
                ("errors", Some("continue")) => o.errors = Some(OnError::Continue),
                ("errors", Some("remount-ro")) => o.errors = Some(OnError::RemountRo),
                ("errors", Some("panic")) => o.errors = Some(OnError::Panic),
                ("commit", Some(v)) => {
                    let n: u32 = v.parse().map_err(|_| bad())?;
                    o.commit_secs = if n == 0 { DEFAULT_COMMIT_SECS } else { n };
                }
                ("resuid", Some(v)) => o.resuid = Some(v.parse().map_err(|_| bad())?),
                ("resgid", Some(v)) => o.resgid = Some(v.parse().map_err(|_| bad())?),
                ("data", Some("ordered")) => {}
                ("data", Some("journal" | "writeback")) => {
                    return Err(unsupported("only data=ordered is supported"))
                }
                ("acl", None) => return Err(unsupported("POSIX ACLs are not supported")),
                (
                    "usrquota" | "grpquota" | "prjquota" | "quota" | "usrjquota" | "grpjquota"
                    | "jqfmt",
                    _,
                ) => return Err(unsupported("quotas are not supported")),
                ("noload" | "norecovery", None) => {
                    return Err(unsupported("the journal is always loaded"))
                }
                // Always so: extended attributes on, no ACLs, flushes
                // (barriers) always issued, allocation policies that
                // change no on-disk meaning.
                (
                    "user_xattr" | "noacl" | "barrier" | "nobarrier" | "discard" | "nodiscard"
                    | "delalloc" | "nodelalloc" | "auto_da_alloc" | "noauto_da_alloc" | "i_version"
                    | "journal_checksum" | "nojournal_checksum" | "dioread_nolock" | "dioread_lock"
                    | "block_validity" | "noblock_validity" | "init_itable" | "noinit_itable"
                    | "noquota" | "nombcache" | "no_mbcache" | "bh" | "nobh" | "oldalloc" | "orlov"
                    | "grpid" | "bsdgroups" | "nogrpid" | "sysvgroups",
                    None,
                ) => {}
                (
                    "barrier"
                    | "init_itable"
                    | "auto_da_alloc"
                    | "stripe"
                    | "max_batch_time"
                    | "min_batch_time"
                    | "inode_readahead_blks"
                    | "journal_ioprio"
                    | "sb",
                    Some(v),
                ) if v.parse::<u64>().is_ok() => {}
                _ => return Err(bad()),
            }
        }
        Ok(o)
    }

    /// The options /proc/mounts shows: those that differ from the
    /// defaults, as Linux does.
    pub fn show(&self) -> String {
        let mut v = Vec::new();
        if let Some(e) = self.errors {
            v.push(format!("errors={}", e.word()));
        }
        if self.commit_secs != DEFAULT_COMMIT_SECS {
            v.push(format!("commit={}", self.commit_secs));
        }
        // (Linux also shows them when the superblock's defaults are not 0.)
        if let Some(u) = self.resuid.filter(|&u| u != 0) {
            v.push(format!("resuid={u}"));
        }
        if let Some(g) = self.resgid.filter(|&g| g != 0) {
            v.push(format!("resgid={g}"));
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
    fn debian_fstab_options_are_accepted() {
        let o = Ext4Options::default()
            .parse("ubda", &words("errors=remount-ro,user_xattr,barrier=1"))
            .unwrap();
        assert_eq!(o.errors, Some(OnError::RemountRo));
        assert_eq!(o.show(), "errors=remount-ro");
    }

    #[test]
    fn commit_interval() {
        let o = Ext4Options::default()
            .parse("ubda", &words("commit=30"))
            .unwrap();
        assert_eq!(o.commit_secs, 30);
        assert_eq!(o.show(), "commit=30");
        let o = o.parse("ubda", &words("commit=0")).unwrap();
        assert_eq!(o.commit_secs, DEFAULT_COMMIT_SECS);
    }

    #[test]
    fn reserve_owners() {
        let o = Ext4Options::default()
            .parse("ubda", &words("resuid=1000,resgid=50"))
            .unwrap();
        assert_eq!((o.resuid, o.resgid), (Some(1000), Some(50)));
        assert_eq!(o.show(), "resuid=1000,resgid=50");
        let o = o.parse("ubda", &words("resuid=0")).unwrap();
        assert_eq!(o.resuid, Some(0));
        assert_eq!(o.show(), "resgid=50");
        let d = Ext4Options::default();
        assert_eq!(d.parse("ubda", &words("resuid=-1")), Err(Errno::EINVAL));
        assert_eq!(d.parse("ubda", &words("resgid")), Err(Errno::EINVAL));
    }

    #[test]
    fn unknown_and_unsupported_are_refused() {
        let d = Ext4Options::default();
        assert_eq!(d.parse("ubda", &words("bogus")), Err(Errno::EINVAL));
        assert_eq!(
            d.parse("ubda", &words("errors=sometimes")),
            Err(Errno::EINVAL)
        );
        assert_eq!(d.parse("ubda", &words("data=journal")), Err(Errno::EINVAL));
        assert_eq!(d.parse("ubda", &words("commit=x")), Err(Errno::EINVAL));
        assert_eq!(d.parse("ubda", &words("acl")), Err(Errno::EINVAL));
    }
}
