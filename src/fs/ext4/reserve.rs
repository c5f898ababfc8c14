//! Reserved blocks (s_r_blocks_count, `mke2fs -m`): the last blocks of a
//! filesystem are kept for privileged writers, so that an ordinary user
//! filling the disk leaves root room for logs, su and package tools.
//! Linux's ext4_has_free_clusters and ext2_has_free_blocks.

use super::superblock::Super;
use crate::kernel::cred::Creds;

/// Who may allocate the reserved blocks, and how many there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reserve {
    /// Blocks an unprivileged allocation must leave free.
    pub blocks: u64,
    /// s_def_resuid: an fsuid that may use them.
    pub resuid: u32,
    /// s_def_resgid: a group whose members may use them (not group 0,
    /// as in Linux).
    pub resgid: u32,
}

impl Reserve {
    /// No reserve: the kernel itself allocating (writeback of pages
    /// written through shared mappings, whose data is already accepted).
    pub const NONE: Reserve = Reserve {
        blocks: 0,
        resuid: 0,
        resgid: 0,
    };

    pub fn from_super(sb: &Super) -> Reserve {
        Reserve {
            blocks: sb.reserved_blocks(),
            resuid: sb.def_resuid(),
            resgid: sb.def_resgid(),
        }
    }

    /// May `c` allocate reserved blocks? CAP_SYS_RESOURCE, the reserve's fsuid, or membership of its group.
    pub fn may_use(&self, c: &Creds) -> bool {
        c.capable(crate::kernel::caps::CAP_SYS_RESOURCE)
            || c.fsuid == self.resuid
            || (self.resgid != 0 && c.in_group(self.resgid))
    }

    /// How many of `want` blocks the process making the current syscall
    /// may take when `free` are free: all of them while that leaves the
    /// reserve, else only what stays above it unless it may use the
    /// reserve. (Credentials are looked at only near a full disk.)
    pub fn allowance(&self, free: u64, want: u64) -> u64 {
        self.allowance_if(free, want, || {
            crate::kernel::current::with_creds(|c| self.may_use(c))
        })
    }

    /// [`Self::allowance`] with `privileged` deciding who may use the
    /// reserve, called only when it matters.
    fn allowance_if(&self, free: u64, want: u64, privileged: impl FnOnce() -> bool) -> u64 {
        if self.blocks == 0 || free >= self.blocks.saturating_add(want) || privileged() {
            want
        } else {
            free.saturating_sub(self.blocks).min(want)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32, gid: u32, groups: &[u32]) -> Creds {
        let mut c = Creds::ROOT;
        c.cap_effective = 0;
        c.set_uids(crate::kernel::cred::IdSet {
            r: uid,
            e: uid,
            s: uid,
            fs: uid,
        });
        c.set_gids(crate::kernel::cred::IdSet {
            r: gid,
            e: gid,
            s: gid,
            fs: gid,
        });
        c.groups = groups.to_vec();
        c
    }

    #[test]
    fn who_may_use_the_reserve() {
        let r = Reserve {
            blocks: 100,
            resuid: 0,
            resgid: 0,
        };
        assert!(r.may_use(&Creds::ROOT));
        assert!(!r.may_use(&user(65534, 65534, &[])));
        // Group 0 alone does not give the reserve (Linux checks resgid != 0).
        assert!(!r.may_use(&user(1000, 0, &[0])));
        let r = Reserve {
            blocks: 100,
            resuid: 1000,
            resgid: 50,
        };
        assert!(r.may_use(&user(1000, 1000, &[])));
        assert!(r.may_use(&user(1001, 1001, &[50])));
        assert!(r.may_use(&user(1002, 50, &[])));
        assert!(!r.may_use(&user(1003, 1003, &[51])));
    }

    #[test]
    fn allowance_stops_at_the_reserve() {
        let r = Reserve {
            blocks: 100,
            resuid: 0,
            resgid: 0,
        };
        let never = || -> bool { panic!("credentials looked at far from the reserve") };
        assert_eq!(r.allowance_if(1000, 10, never), 10);
        assert_eq!(r.allowance_if(110, 10, never), 10);
        assert_eq!(Reserve::NONE.allowance_if(5, 10, never), 10);
        // Near it: what stays above it, unless privileged.
        assert_eq!(r.allowance_if(105, 10, || false), 5);
        assert_eq!(r.allowance_if(100, 10, || false), 0);
        assert_eq!(r.allowance_if(50, 10, || false), 0);
        assert_eq!(r.allowance_if(105, 10, || true), 10);
        // The kernel itself (no current process) acts as root.
        assert_eq!(r.allowance(105, 10), 10);
    }
}
