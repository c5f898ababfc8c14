//! A platform without host processes, for unit tests: address spaces are
//! page maps that record what the kernel asked the host to map (so a test
//! can check the host's view against the page tables), guest code never
//! runs (a switch plays the context's script, `fake_guest`, or reports the
//! process gone), and time is the host's.

use super::platform::{AddressSpace, Platform};
use super::process::{Context, Event};
use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

const PAGE: u64 = 4096;

pub struct Fake;

pub static FAKE: Fake = Fake;

/// What a host would have mapped: page address → (prot, physical address).
#[derive(Default, Debug)]
pub struct FakeAddressSpace {
    pub pages: BTreeMap<u64, (u32, u64)>,
    pub multithreaded: bool,
    /// Changes applied so far (each page of each call counts once).
    pub changes: usize,
}

impl FakeAddressSpace {
    fn pages_of(addr: u64, len: u64) -> impl Iterator<Item = u64> {
        let start = addr & !(PAGE - 1);
        let end = addr.saturating_add(len).div_ceil(PAGE) * PAGE;
        (start..end).step_by(PAGE as usize)
    }
}

impl AddressSpace for FakeAddressSpace {
    fn mmap(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        for p in Self::pages_of(addr, len) {
            self.pages.insert(p, (prot, phys + (p - addr)));
            self.changes += 1;
        }
    }
    fn mmap_populate(&mut self, addr: u64, len: u64, prot: u32, phys: u64) {
        self.mmap(addr, len, prot, phys)
    }
    fn munmap(&mut self, addr: u64, len: u64) {
        let end = addr.saturating_add(len);
        let gone: Vec<u64> = self.pages.range(addr..end).map(|(&p, _)| p).collect();
        for p in gone {
            self.pages.remove(&p);
            self.changes += 1;
        }
    }
    fn mprotect(&mut self, addr: u64, len: u64, prot: u32) {
        let end = addr.saturating_add(len);
        for (_, e) in self.pages.range_mut(addr..end) {
            e.0 = prot;
            self.changes += 1;
        }
    }
    fn set_multithreaded(&mut self) {
        self.multithreaded = true;
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Platform for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn new_address_space(&self) -> Result<Box<dyn AddressSpace>, i32> {
        Ok(Box::<FakeAddressSpace>::default())
    }
    fn switch(&self, mm: &mut dyn AddressSpace, ctx: &mut Context, _guest_ns: &mut i64) -> Event {
        super::fake_guest::play(mm, ctx).unwrap_or(Event::Died)
    }
    fn sync_fpu(&self, _mm: &dyn AddressSpace, _ctx: &mut Context) {}
    fn invalidate_fpu(&self, _mm: &mut dyn AddressSpace) {}
    fn monotonic_ns(&self) -> i64 {
        super::time::monotonic_ns()
    }
    fn realtime_ns(&self) -> i64 {
        super::time::realtime_ns()
    }
    fn arm_timer(&self, _deadline_ns: Option<i64>) {}
    fn idle(&self, timeout: Option<Duration>) {
        std::thread::sleep(
            timeout
                .unwrap_or(Duration::from_millis(1))
                .min(Duration::from_millis(10)),
        );
    }
    fn take_interrupts(&self) -> bool {
        false
    }
    fn interrupts_pending(&self) -> bool {
        false
    }
    fn raise_interrupt(&self) {}
    fn kick(&self, _cpu: usize) {}
    fn take_dump_request(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_what_the_host_would_map() {
        let mut a = FakeAddressSpace::default();
        a.mmap(0x10000, 3 * PAGE, 3, 0x5000);
        assert_eq!(a.pages.get(&0x11000), Some(&(3, 0x6000)));
        a.mprotect(0x11000, PAGE, 1);
        assert_eq!(a.pages.get(&0x11000), Some(&(1, 0x6000)));
        a.munmap(0x10000, 2 * PAGE);
        assert_eq!(a.pages.keys().copied().collect::<Vec<_>>(), vec![0x12000]);
    }
}
