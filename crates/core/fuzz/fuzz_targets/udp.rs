//! Fuzz target: UDP replies (a fixed, valid Ethernet + IPv4 header, then the input as the
//! UDP datagram), and the source-port cookie that tells which probe and attempt a UDP
//! reply or quote answers: a port is ours only for the attempts that were sent.
#![no_main]

use ferroscan_core::packet::reply::{parse_frame, Reply};
use ferroscan_core::packet::udp::{check_sport, sport, SPORT_BASE, SPORT_SPAN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let total = (20 + data.len()).min(u16::MAX as usize) as u16;
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]);
    f[16..18].copy_from_slice(&total.to_be_bytes());
    f.extend_from_slice(data);
    match parse_frame(&f) {
        None => assert!(data.len() < 8),
        Some(Reply::Udp { probe, len, .. }) => {
            assert_eq!((probe.dport.to_be_bytes(), probe.sport.to_be_bytes()), ([data[0], data[1]], [data[2], data[3]]));
            assert_eq!(len, u16::from_be_bytes([data[4], data[5]]).saturating_sub(8));
        }
        Some(other) => panic!("a UDP datagram parsed as {other:?}"),
    }
    // the cookie arithmetic, with the fuzzer's cookie, attempt and retry allowance
    if let Some(b) = data.get(..8) {
        let cookie = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let (attempt, max) = (b[4] % 51, b[5] % 51);
        let p = sport(cookie, attempt);
        assert!(p >= SPORT_BASE && ((p - SPORT_BASE) as u32) < SPORT_SPAN);
        assert_eq!(check_sport(cookie, p, max), (attempt <= max).then_some(attempt));
        let port = u16::from_be_bytes([b[6], b[7]]);
        if let Some(a) = check_sport(cookie, port, max) {
            assert!(a <= max && sport(cookie, a) == port);
        }
    }
});
