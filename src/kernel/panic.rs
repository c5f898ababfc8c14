//! Kernel panic: print a report and end vmlinux with a non-zero status.

use crate::arch;

pub fn panic(msg: &str) -> ! {
    crate::kernel::printk::printk(&format!("Kernel panic - not syncing: {msg}"));
    let bt = std::backtrace::Backtrace::force_capture();
    let s = bt.to_string();
    let lines: Vec<&str> = s.lines().take(40).collect();
    crate::kernel::printk::printk(&format!("Call Trace:\n{}", lines.join("\n")));
    crate::kernel::printk::printk("---[ end Kernel panic - not syncing ]---");
    arch::host_exit(1)
}
