//! Character devices in sysfs: /sys/devices/virtual/<class>/<name> for
//! every device of `drivers::char::all()` (mem devices, /dev/tty,
//! /dev/console, /dev/ptmx, console and serial lines).

use super::node::SysNode;
use super::{add_device, Device};
use std::sync::Arc;

pub(super) fn add(root: &Arc<SysNode>) {
    for c in crate::drivers::char::all() {
        let uevent = if c.devmode {
            vec![format!("DEVMODE=0{:o}", c.mode)]
        } else {
            Vec::new()
        };
        let dir = add_device(
            root,
            &Device {
                path: format!("devices/virtual/{}/{}", c.class, c.name),
                name: &c.name,
                rdev: c.rdev,
                class: c.class,
                uevent,
            },
        );
        // Which ttys /dev/console writes to: con0, which is tty0.
        if c.name == "console" && crate::drivers::char::line::console().is_some() {
            dir.attr("active", "tty0\n");
        }
    }
}
