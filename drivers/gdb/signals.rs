//! Signal numbers between Linux (the guest's) and the remote protocol's
//! own numbering (gdb's `enum gdb_signal`, the same for every target).

/// (Linux signal, gdb signal) for the standard signals.
const MAP: [(i32, u8); 31] = [
    (1, 1),   // HUP
    (2, 2),   // INT
    (3, 3),   // QUIT
    (4, 4),   // ILL
    (5, 5),   // TRAP
    (6, 6),   // ABRT
    (7, 10),  // BUS
    (8, 8),   // FPE
    (9, 9),   // KILL
    (10, 30), // USR1
    (11, 11), // SEGV
    (12, 31), // USR2
    (13, 13), // PIPE
    (14, 14), // ALRM
    (15, 15), // TERM
    (16, 0),  // STKFLT: none in gdb's list
    (17, 20), // CHLD
    (18, 19), // CONT
    (19, 17), // STOP
    (20, 18), // TSTP
    (21, 21), // TTIN
    (22, 22), // TTOU
    (23, 16), // URG
    (24, 24), // XCPU
    (25, 25), // XFSZ
    (26, 26), // VTALRM
    (27, 27), // PROF
    (28, 28), // WINCH
    (29, 23), // IO
    (30, 32), // PWR
    (31, 12), // SYS
];

/// gdb's first real-time signal numbers: SIG32 is 77, SIG33 is 45 and
/// SIG34..SIG64 are 46..76 (gdb's GDB_SIGNAL_REALTIME_*).
const GDB_SIG32: u8 = 77;
const GDB_SIG33: u8 = 45;
const GDB_SIG34: u8 = 46;
/// GDB_SIGNAL_UNKNOWN.
const GDB_UNKNOWN: u8 = 143;

/// The gdb number of Linux signal `sig`.
pub fn to_gdb(sig: i32) -> u8 {
    match sig {
        0 => 0,
        32 => GDB_SIG32,
        33 => GDB_SIG33,
        34..=64 => GDB_SIG34 + (sig - 34) as u8,
        _ => MAP
            .iter()
            .find(|(l, _)| *l == sig)
            .map_or(GDB_UNKNOWN, |(_, g)| *g),
    }
}

/// The Linux number of gdb signal `g` (0: none or unknown).
pub fn from_gdb(g: u8) -> i32 {
    match g {
        0 => 0,
        GDB_SIG32 => 32,
        GDB_SIG33 => 33,
        x if (GDB_SIG34..GDB_SIG34 + 31).contains(&x) => 34 + (x - GDB_SIG34) as i32,
        _ => MAP
            .iter()
            .find(|(l, gs)| *gs == g && *l != 16)
            .map_or(0, |(l, _)| *l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for sig in (1..=64).filter(|s| *s != 16) {
            assert_eq!(from_gdb(to_gdb(sig)), sig, "signal {sig}");
        }
        assert_eq!(to_gdb(10), 30);
        assert_eq!(to_gdb(17), 20);
    }
}
