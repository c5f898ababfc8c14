//! Debian images for boot tests: build one with rootfs/mkdebian.sh (or
//! skip, saying why, when debootstrap or the mirror is missing) and log
//! in as root on its console.

use super::{repo_root, test_dir, Guest};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A 1 GiB Debian image `file` in `test_dir(name)`, built with
/// mkdebian.sh's `options`. None when it cannot be built on this host
/// (no debootstrap, or debootstrap failed: the mirror's or the network's
/// fault, not the kernel's); the reason is printed.
pub fn build_image(name: &str, file: &str, options: &[&str]) -> Option<PathBuf> {
    if !Path::new("/usr/sbin/debootstrap").exists() {
        eprintln!("skipping: debootstrap is not installed (rootfs/host-deps.sh --with-debian)");
        return None;
    }
    let img = test_dir(name).join(file);
    let out = Command::new(repo_root().join("rootfs/mkdebian.sh"))
        .arg(&img)
        .arg("1G")
        .args(options)
        .output()
        .expect("running rootfs/mkdebian.sh");
    // 2 is the script's usage error: the options themselves are wrong.
    assert_ne!(
        out.status.code(),
        Some(2),
        "mkdebian.sh refused {options:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        eprintln!(
            "skipping: rootfs/mkdebian.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(img)
}

/// At the console's `login: ` prompt: log in as root and set a plain
/// `# ` prompt (bash's bracketed paste off, so commands echo plainly).
pub fn login_root(g: &mut Guest, timeout: Duration) {
    g.expect("login: ", timeout);
    g.send("root\n");
    g.expect("# ", timeout);
    g.send("export PS1='# '; bind 'set enable-bracketed-paste off' 2>/dev/null\n");
    g.wait_prompt();
}
