//! Fuzz target: a TPACKET_V3 ring block as the kernel hands it over, here any bytes: the
//! walk over its tpacket3_hdr chain must stay inside the block, stop after the block's
//! frame count, and hand each frame to the reply parser, as the receive loop does.
#![no_main]

use ferroscan_core::net::ring::frames_in;
use ferroscan_core::packet::reply::parse_frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let count = data.get(12..16).map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    let range = data.as_ptr_range();
    let mut n = 0u64;
    for f in frames_in(data) {
        n += 1;
        assert!(n <= count as u64);
        let r = f.data.as_ptr_range();
        assert!(range.start <= r.start && r.end <= range.end);
        let _ = parse_frame(f.data);
    }
});
