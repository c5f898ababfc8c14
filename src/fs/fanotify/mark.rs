//! fanotify marks: what a group watches (an inode, a mount or a whole
//! filesystem), with its event mask and ignore mask, and how the marks
//! that meet one event combine into what the group hears (Linux's
//! fanotify_group_event_mask).

use super::{Key, Object};
use crate::abi::fanotify::{FAN_EVENT_ON_CHILD, FAN_ONDIR};
use crate::fs::vfs::Inode;
use std::sync::Arc;

/// What a mark is on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    Inode(Key),
    /// A mount, by its id.
    Mount(u32),
    /// A filesystem, by its device number.
    Fs(u64),
}

pub struct Mark {
    pub target: Target,
    pub mask: u64,
    pub ignore: u64,
    /// FAN_MARK_IGNORED_SURV_MODIFY: the ignore mask stays after a write.
    pub surv_modify: bool,
    /// The ignore mask was set with FAN_MARK_IGNORE: its FAN_ONDIR and
    /// FAN_EVENT_ON_CHILD bits say where it applies. Without it (the
    /// legacy FAN_MARK_IGNORED_MASK) it applies to directories always and
    /// to children when the mark watches them.
    pub ignore_flags: bool,
    /// An inode mark keeps its inode, so the key stays its.
    pub _inode: Option<Arc<dyn Inode>>,
}

/// How a mark meets an event's object.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// On the object itself, its mount or its filesystem.
    Object,
    /// On the directory the object is in.
    Parent,
}

impl Mark {
    /// The role this mark plays for `o`, if it is on it at all.
    pub fn role(&self, o: &Object) -> Option<Role> {
        match self.target {
            Target::Inode(k) if k == o.key => Some(Role::Object),
            Target::Inode(k) if Some(k) == o.parent => Some(Role::Parent),
            Target::Inode(_) => None,
            Target::Mount(id) => (o.mount_id() == Some(id)).then_some(Role::Object),
            Target::Fs(dev) => (dev == o.dev).then_some(Role::Object),
        }
    }

    /// Does the mark's event mask apply: directories only with FAN_ONDIR,
    /// children of a marked directory only with FAN_EVENT_ON_CHILD.
    pub fn applies(&self, is_dir: bool, role: Role) -> bool {
        !(is_dir && self.mask & FAN_ONDIR == 0
            || role == Role::Parent && self.mask & FAN_EVENT_ON_CHILD == 0)
    }

    /// The ignore mask in effect for this event.
    pub fn effective_ignore(&self, is_dir: bool, role: Role) -> u64 {
        if self.ignore == 0 {
            return 0;
        }
        if !is_dir && role == Role::Object {
            return self.ignore;
        }
        let mut m = self.ignore;
        if !self.ignore_flags {
            m |= FAN_ONDIR;
            m &= !FAN_EVENT_ON_CHILD;
            m |= self.mask & FAN_EVENT_ON_CHILD;
        }
        if is_dir && m & FAN_ONDIR == 0 || role == Role::Parent && m & FAN_EVENT_ON_CHILD == 0 {
            return 0;
        }
        m
    }
}
