//! sysfs: Linux's device model under /sys, built when it is mounted
//! (devices are all registered at boot and never go away): a directory
//! per device under /sys/devices with `dev` and `uevent`, and the links to
//! it from /sys/dev/{block,char}, /sys/class/<class> and /sys/block that
//! mdev, udev and lsblk-style tools walk; network interfaces under
//! /sys/class/net (`net`).

mod block;
pub use block::uevent_of;
mod chardev;
mod net;
mod node;

use crate::drivers::{major, minor};
use crate::fs::vfs::Inode;
use node::SysNode;
use std::sync::Arc;

/// A new sysfs instance: its root directory.
pub fn new_fs() -> Arc<dyn Inode> {
    let root = SysNode::root();
    // What tools look for, also where it stays empty.
    for d in [
        "block",
        "bus/platform/devices",
        "class",
        "dev/block",
        "dev/char",
        "devices/platform",
        "devices/virtual",
        "firmware",
        "fs/cgroup",
        "kernel",
        "module",
        "power",
    ] {
        root.dir(d);
    }
    block::add(&root);
    chardev::add(&root);
    net::add(&root);
    root
}

/// A device with a node in /dev, as sysfs shows it.
struct Device<'a> {
    /// Its directory below /sys, e.g. "devices/virtual/mem/null".
    path: String,
    name: &'a str,
    rdev: u64,
    /// Its class: "block", "mem" or "tty".
    class: &'a str,
    /// `uevent` lines after MAJOR=, MINOR= and DEVNAME= ("DEVTYPE=disk").
    uevent: Vec<String>,
}

/// Add `d`'s directory with `dev`, `uevent` and `subsystem`, and the links
/// to it from /sys/dev/block or /sys/dev/char and /sys/class/<class>.
/// Returns the directory, for the device's own attributes.
fn add_device(root: &Arc<SysNode>, d: &Device) -> Arc<SysNode> {
    let dir = root.dir(&d.path);
    let (ma, mi) = (major(d.rdev), minor(d.rdev));
    dir.attr("dev", format!("{ma}:{mi}\n"));
    let mut uevent = format!("MAJOR={ma}\nMINOR={mi}\nDEVNAME={}\n", d.name);
    for line in &d.uevent {
        uevent.push_str(line);
        uevent.push('\n');
    }
    dir.attr_rw("uevent", uevent);
    let class = format!("class/{}", d.class);
    dir.link("subsystem", relative(&d.path, &class));
    let by_number = if d.class == "block" {
        "dev/block"
    } else {
        "dev/char"
    };
    link(root, by_number, &format!("{ma}:{mi}"), &d.path);
    link(root, &class, d.name, &d.path);
    dir
}

/// A symlink `name` in directory `at` to `target` (both below /sys),
/// relative as Linux makes them.
fn link(root: &Arc<SysNode>, at: &str, name: &str, target: &str) {
    root.dir(at).link(name, relative(at, target));
}

/// The path from directory `from` to `to`, both below /sys:
/// ("dev/block", "devices/x") gives "../../devices/x". As Linux's
/// kernfs_get_target_path, it climbs to a common ancestor of `to`'s
/// parent, so a link to an ancestor ends in its name ("../../../x").
fn relative(from: &str, to: &str) -> String {
    let from: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let to_parent = &to[..to.len().saturating_sub(1)];
    let common = from
        .iter()
        .zip(to_parent)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn links_are_relative_like_linux() {
        let ubda = "devices/platform/uml-blkdev.0/block/ubda";
        assert_eq!(relative("block", ubda), format!("../{ubda}"));
        assert_eq!(relative("dev/block", ubda), format!("../../{ubda}"));
        assert_eq!(relative(ubda, "class/block"), "../../../../../class/block");
        assert_eq!(relative(&format!("{ubda}/ubda1"), ubda), "../../ubda");
        // Linux: ubda/device -> ../../../uml-blkdev.0
        assert_eq!(
            relative(ubda, "devices/platform/uml-blkdev.0"),
            "../../../uml-blkdev.0"
        );
    }
}
