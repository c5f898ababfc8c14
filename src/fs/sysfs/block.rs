//! Block devices in sysfs: each disk under the device it hangs off
//! (/sys/devices/platform/uml-blkdev.0/block/ubda), its partitions inside
//! it (ubda/ubda1), with the attributes lsblk-style tools read. Sizes are
//! in 512-byte sectors.

use super::node::SysNode;
use super::{add_device, link, relative, Device};
use crate::drivers::block::{self as blk, BlockDevice, PartInfo, SECTOR_SIZE};
use std::sync::Arc;

pub(super) fn add(root: &Arc<SysNode>) {
    let devices = blk::all();
    // Linux numbers disks as they appear (DISKSEQ), from 1.
    let disks: Vec<&str> = devices
        .iter()
        .filter(|d| d.partition().is_none())
        .map(|d| d.name())
        .collect();
    let seq =
        |disk: &dyn BlockDevice| disks.iter().position(|n| *n == disk.name()).unwrap_or(0) + 1;
    for d in &devices {
        match d.partition() {
            None => add_disk(root, d.as_ref(), seq(d.as_ref())),
            Some(p) => add_partition(root, d.as_ref(), &p, seq(p.disk.as_ref())),
        }
    }
}

fn disk_path(d: &dyn BlockDevice) -> String {
    format!("devices/{}/block/{}", d.sysfs_parent(), d.name())
}

/// What a hot-plugged disk or partition's uevent says: its DEVPATH
/// ("/devices/.../block/ubdb[/ubdb1]") and MAJOR, MINOR, DEVNAME and
/// DEVTYPE, as its `uevent` attribute.
pub fn uevent_of(d: &dyn BlockDevice) -> (String, Vec<(&'static str, String)>) {
    let (path, ty) = match d.partition() {
        None => (disk_path(d), "disk"),
        Some(p) => (
            format!("{}/{}", disk_path(p.disk.as_ref()), d.name()),
            "partition",
        ),
    };
    let env = vec![
        ("MAJOR", crate::drivers::major(d.rdev()).to_string()),
        ("MINOR", crate::drivers::minor(d.rdev()).to_string()),
        ("DEVNAME", d.name().to_string()),
        ("DEVTYPE", ty.to_string()),
    ];
    (format!("/{path}"), env)
}

/// Attributes disks and partitions share.
fn common_attrs(dir: &SysNode, d: &dyn BlockDevice) {
    dir.attr("size", format!("{}\n", d.size() / SECTOR_SIZE));
    dir.attr("ro", format!("{}\n", d.read_only() as u8));
    dir.attr("alignment_offset", "0\n");
    dir.attr("discard_alignment", "0\n");
}

fn add_disk(root: &Arc<SysNode>, d: &dyn BlockDevice, seq: usize) {
    let path = disk_path(d);
    let dir = add_device(
        root,
        &Device {
            path: path.clone(),
            name: d.name(),
            rdev: d.rdev(),
            class: "block",
            uevent: vec!["DEVTYPE=disk".into(), format!("DISKSEQ={seq}")],
        },
    );
    common_attrs(&dir, d);
    dir.attr("removable", "0\n");
    // Minors per disk (a ubd has 16) and with extended minors.
    dir.attr("range", "16\n");
    dir.attr("ext_range", "256\n");
    dir.attr("capability", "0\n");
    dir.attr("hidden", "0\n");
    dir.attr("diskseq", format!("{seq}\n"));
    dir.dir("holders");
    dir.dir("slaves");
    let queue = dir.dir("queue");
    for (name, value) in [
        ("logical_block_size", "512"),
        ("physical_block_size", "512"),
        ("hw_sector_size", "512"),
        ("minimum_io_size", "512"),
        ("optimal_io_size", "0"),
        ("rotational", "0"),
        // What the ext4 driver reads ahead (32 pages).
        ("read_ahead_kb", "128"),
    ] {
        queue.attr(name, format!("{value}\n"));
    }
    link(root, "block", d.name(), &path);
    if let Some(parent) = d.sysfs_parent().strip_prefix("platform/") {
        add_platform_device(root, parent);
        let parent_path = format!("devices/platform/{parent}");
        dir.link("device", relative(&path, &parent_path));
    }
}

fn add_partition(root: &Arc<SysNode>, d: &dyn BlockDevice, p: &PartInfo, seq: usize) {
    let dir = add_device(
        root,
        &Device {
            path: format!("{}/{}", disk_path(p.disk.as_ref()), d.name()),
            name: d.name(),
            rdev: d.rdev(),
            class: "block",
            uevent: vec![
                "DEVTYPE=partition".into(),
                format!("DISKSEQ={seq}"),
                format!("PARTN={}", p.number),
            ],
        },
    );
    common_attrs(&dir, d);
    dir.attr("start", format!("{}\n", p.start_sector));
    dir.attr("partition", format!("{}\n", p.number));
    dir.dir("holders");
}

/// The platform device a disk hangs off ("uml-blkdev.0"): its driver is
/// the name without the instance number.
fn add_platform_device(root: &Arc<SysNode>, name: &str) {
    let path = format!("devices/platform/{name}");
    let dir = root.dir(&path);
    let driver = name.split('.').next().unwrap_or(name);
    dir.attr_rw(
        "uevent",
        format!("DRIVER={driver}\nMODALIAS=platform:{driver}\n"),
    );
    dir.attr("modalias", format!("platform:{driver}\n"));
    dir.link("subsystem", relative(&path, "bus/platform"));
    link(root, "bus/platform/devices", name, &path);
}
