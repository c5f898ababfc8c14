//! The x86_64 XSAVE image as it travels in a signal frame. At sigreturn
//! it comes back from the guest: the 512-byte FXSAVE area, then the
//! 64-byte XSAVE header, then the extended components) that the guest may
//! have written anything into. Like Linux's restore_fpregs_from_user, keep
//! the guest's register contents but never let it set what the CPU would
//! refuse: reserved MXCSR bits, state components the task's own image does
//! not have, a compacted format, or non-zero reserved header bytes. (The
//! host would refuse such an image and the task would die instead.)

/// FXSAVE offsets.
const MXCSR: usize = 24;
const MXCSR_MASK: usize = 28;
/// XSAVE header: XSTATE_BV, XCOMP_BV, then 48 reserved bytes.
const XSTATE_BV: usize = 512;
const XCOMP_BV: usize = 520;
const HEADER_END: usize = 576;
/// Components every x86_64 CPU has: x87 and SSE.
const XFEATURE_FP_SSE: u64 = 0b11;
/// MXCSR_MASK when the CPU reports 0 (Intel SDM: the default mask).
const DEFAULT_MXCSR_MASK: u32 = 0xffbf;

fn get32(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(v)
}

fn get64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

/// Make the guest's image `img` loadable, using the task's current image
/// `cur` (same length, written by the host) for what the CPU supports.
pub fn sanitize(img: &mut [u8], cur: &[u8]) {
    if img.len() != cur.len() || img.len() < 512 {
        img.copy_from_slice(&cur[..img.len().min(cur.len())]);
        return;
    }
    let mask = match get32(cur, MXCSR_MASK) {
        0 => DEFAULT_MXCSR_MASK,
        m => m,
    };
    let mxcsr = get32(img, MXCSR) & mask;
    img[MXCSR..MXCSR + 4].copy_from_slice(&mxcsr.to_le_bytes());
    img[MXCSR_MASK..MXCSR_MASK + 4].copy_from_slice(&cur[MXCSR_MASK..MXCSR_MASK + 4]);
    if img.len() >= HEADER_END {
        let allowed = get64(cur, XSTATE_BV) | XFEATURE_FP_SSE;
        let bv = get64(img, XSTATE_BV) & allowed;
        img[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&bv.to_le_bytes());
        img[XCOMP_BV..HEADER_END].fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Vec<u8> {
        let mut b = vec![0u8; 832];
        b[MXCSR..MXCSR + 4].copy_from_slice(&0x1f80u32.to_le_bytes());
        b[MXCSR_MASK..MXCSR_MASK + 4].copy_from_slice(&0xffffu32.to_le_bytes());
        b[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&0b111u64.to_le_bytes());
        b
    }

    #[test]
    fn register_contents_survive() {
        let cur = image();
        let mut img = image();
        img[160..176].fill(0xab); // xmm0
        img[600..616].fill(0xcd); // an AVX upper half
        sanitize(&mut img, &cur);
        assert!(img[160..176].iter().all(|&b| b == 0xab));
        assert!(img[600..616].iter().all(|&b| b == 0xcd));
    }

    #[test]
    fn what_the_cpu_would_refuse_is_cleared() {
        let cur = image();
        let mut img = image();
        img[MXCSR..MXCSR + 4].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
        img[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        img[XCOMP_BV..XCOMP_BV + 8].copy_from_slice(&(1u64 << 63).to_le_bytes());
        img[560] = 1;
        sanitize(&mut img, &cur);
        assert_eq!(get32(&img, MXCSR), 0xffff);
        assert_eq!(get64(&img, XSTATE_BV), 0b111);
        assert!(img[XCOMP_BV..HEADER_END].iter().all(|&b| b == 0));
    }
}
