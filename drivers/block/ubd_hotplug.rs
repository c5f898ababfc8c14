//! Hot-plugging ubd devices through the mconsole, as UML's ubd driver
//! does: `config ubdN=FILE` adds /dev/ubd<a+N> (with its partitions, in
//! /proc/partitions and devtmpfs), `config ubdN` shows its file, and
//! `remove ubdN` takes it away unless it is in use (mounted or open).
//! Replies and error codes are UML's (`err` is -errno where UML's is).

use super::ubd;
use crate::drivers::mconsole::protocol::reply;
use crate::init::cmdline::{self, MAX_UBD};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Host file of each configured ubd, for `config ubdN` queries.
static FILES: Mutex<BTreeMap<u8, String>> = Mutex::new(BTreeMap::new());
/// UML's MAX_DEV: unit numbers it parses (we attach 0..MAX_UBD).
const UML_MAX_DEV: u32 = 16;

fn files() -> std::sync::MutexGuard<'static, BTreeMap<u8, String>> {
    FILES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remember the files given on the command line.
pub fn init(specs: &[cmdline::UbdSpec]) {
    let mut f = files();
    for s in specs {
        f.insert(s.index, s.file.display().to_string());
    }
}

/// UML's parse_unit: a number, or a letter (`ubdb`).
fn parse_unit(s: &str) -> Option<u32> {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !digits.is_empty() {
        return digits.parse().ok();
    }
    match s.chars().next() {
        Some(c @ 'a'..='z') => Some(c as u32 - 'a' as u32),
        _ => None,
    }
}

/// `config ...`: add (`ubdN[flags]=FILE`) or query (`ubdN`).
pub fn config(arg: &str) -> Vec<Vec<u8>> {
    let Some(rest) = arg.strip_prefix("ubd") else {
        return reply("Bad configuration option", 1, false);
    };
    if !rest.contains('=') {
        return match parse_unit(rest) {
            Some(n) if n < UML_MAX_DEV => {
                let f = files().get(&(n as u8)).cloned().unwrap_or_default();
                reply(&f, 0, false)
            }
            _ => reply("ubd_get_config : device number out of range", 1, false),
        };
    }
    let spec = match cmdline::parse_ubd_word(arg) {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            let code = if msg.contains("No such file") { 2 } else { 22 };
            return reply(&msg, -code, false);
        }
    };
    let name = ubd::disk_name(spec.index);
    if super::by_name(&name).is_some() {
        return reply("Device is already configured", -16, false);
    }
    let opened = match ubd::open_all(std::slice::from_ref(&spec)) {
        Ok(o) => o,
        Err(e) => return reply(&e, -16, false),
    };
    ubd::register(opened);
    let Some(disk) = super::by_name(&name) else {
        return reply("Couldn't register the device", -5, false);
    };
    // The disk and its partitions appear in every devtmpfs, and each is
    // announced to uevent listeners (the disk first).
    let rdev = disk.rdev();
    let mut added: Vec<_> = super::all()
        .into_iter()
        .filter(|d| d.rdev() >= rdev && d.rdev() < rdev + 16)
        .collect();
    added.sort_by_key(|d| d.rdev());
    for d in added {
        crate::fs::devtmpfs_hotplug::add_block(d.name(), d.rdev());
        let (path, env) = crate::fs::sysfs::uevent_of(d.as_ref());
        crate::net::uevent::broadcast("add", &path, "block", &env);
    }
    files().insert(spec.index, spec.file.display().to_string());
    reply("", 0, false)
}

/// `remove ubdN`.
pub fn remove(arg: &str) -> Vec<Vec<u8>> {
    let Some(rest) = arg.strip_prefix("ubd") else {
        return reply("Bad remove option", 1, false);
    };
    let Some(n) = parse_unit(rest) else {
        return reply("Couldn't parse device number", 1, false);
    };
    if n >= UML_MAX_DEV {
        let msg = format!(
            "Invalid device number - must be between 0 and {}",
            UML_MAX_DEV - 1
        );
        return reply(&msg, 1, false);
    }
    if n >= MAX_UBD as u32 {
        return reply("Device doesn't exist", -19, false);
    }
    let name = ubd::disk_name(n as u8);
    let Some(disk) = super::by_name(&name) else {
        return reply("Device doesn't exist", -19, false);
    };
    let rdev = disk.rdev();
    drop(disk);
    // What "remove" uevents will say, partitions before the disk (the
    // devices themselves are let go: an Arc held here reads as "open").
    let gone: Vec<_> = {
        let mut devs: Vec<_> = super::all()
            .into_iter()
            .filter(|d| d.rdev() >= rdev && d.rdev() < rdev + 16)
            .collect();
        devs.sort_by_key(|d| std::cmp::Reverse(d.rdev()));
        devs.iter()
            .map(|d| crate::fs::sysfs::uevent_of(d.as_ref()))
            .collect()
    };
    match super::unregister_disk(rdev) {
        Ok(names) => {
            for n in names {
                crate::fs::devtmpfs_hotplug::remove(&n);
            }
            for (path, env) in gone {
                crate::net::uevent::broadcast("remove", &path, "block", &env);
            }
            ubd::forget(&name);
            files().remove(&(n as u8));
            log::info!("{name}: removed");
            reply("", 0, false)
        }
        Err(_) => reply("Device is currently open", -16, false),
    }
}
