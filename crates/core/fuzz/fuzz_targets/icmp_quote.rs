//! Fuzz target: the ICMP message of an IPv4 datagram addressed to the scanner: echo,
//! timestamp and mask replies, and destination-unreachable / time-exceeded errors whose
//! quoted datagram names the probe. The input is the ICMP message; a fixed, valid
//! Ethernet + IPv4 header goes before it, so every execution reaches the ICMP code. What
//! comes out must be read from the quote at the offsets RFC 792 gives.
#![no_main]

use ferroscan_core::packet::reply::{parse_frame, Reply};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    let total = (20 + data.len()).min(u16::MAX as usize) as u16;
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]);
    f[16..18].copy_from_slice(&total.to_be_bytes());
    f.extend_from_slice(data);
    let m = &data[..data.len().min(total as usize - 20)];
    match parse_frame(&f) {
        None => {}
        Some(Reply::IcmpReply { icmp_type, echoed, .. }) => {
            assert!([0u8, 14, 18].contains(&icmp_type) && m[0] == icmp_type);
            assert_eq!(echoed.to_be_bytes(), m[4..8]);
        }
        Some(Reply::Icmp { probe, quoted_proto, quoted_seq, icmp_type, icmp_code, responder, .. }) => {
            assert!((icmp_type == 3 || icmp_type == 11) && m[0] == icmp_type && m[1] == icmp_code);
            let q = &m[8..];
            let qhl = (q[0] & 0x0f) as usize * 4;
            assert!(q[0] >> 4 == 4 && qhl >= 20 && [1u8, 6, 17].contains(&quoted_proto) && q[9] == quoted_proto);
            assert_eq!((&octets(probe.src)[..], &octets(probe.dst)[..]), (&q[12..16], &q[16..20]));
            assert_eq!(quoted_seq.to_be_bytes(), q[qhl + 4..qhl + 8]);
            if quoted_proto != 1 {
                assert_eq!((probe.sport.to_be_bytes(), probe.dport.to_be_bytes()), ([q[qhl], q[qhl + 1]], [q[qhl + 2], q[qhl + 3]]));
            }
            assert_eq!(octets(responder), [198, 18, 0, 2]);
        }
        Some(other) => panic!("an ICMP datagram parsed as {other:?}"),
    }
});
