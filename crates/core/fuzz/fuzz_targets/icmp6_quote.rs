//! Fuzz target: the ICMPv6 message of an IPv6 datagram addressed to the scanner: echo
//! replies, neighbour advertisements, and the errors (destination unreachable, packet too
//! big, time exceeded, parameter problem) whose quoted datagram — extension headers and all —
//! names the probe. The input's first byte is the datagram's hop limit (advertisements count
//! only at 255), the rest the message; a fixed, valid Ethernet + IPv6 header goes before it.
//! What comes out must be read from the message at RFC 4443's and RFC 4861's offsets.
#![no_main]

use ferroscan_core::packet::reply::{parse_frame, Reply};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

const THEM: [u8; 16] = [0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const ME: [u8; 16] = [0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&hop, m)) = data.split_first() else { return };
    let m = &m[..m.len().min(u16::MAX as usize)];
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x86, 0xdd, 0x60, 0, 0, 0];
    f.extend_from_slice(&(m.len() as u16).to_be_bytes());
    f.extend_from_slice(&[58, hop]);
    f.extend_from_slice(&THEM);
    f.extend_from_slice(&ME);
    f.extend_from_slice(m);
    match parse_frame(&f) {
        None => {}
        Some(Reply::IcmpReply { icmp_type, echoed, probe, ttl }) => {
            assert!(icmp_type == 129 && m[0] == 129 && ttl == hop);
            assert_eq!(echoed.to_be_bytes(), m[4..8]);
            assert_eq!((octets(probe.src), octets(probe.dst)), (ME.to_vec(), THEM.to_vec()));
        }
        Some(Reply::Ndp(a)) => {
            assert!(m[0] == 136 && m[1] == 0 && hop == 255);
            assert_eq!((a.target.octets(), a.to.octets()), (<[u8; 16]>::try_from(&m[8..24]).unwrap(), ME));
        }
        Some(Reply::Icmp { probe, quoted_proto, quoted_seq, icmp_type, icmp_code, responder, .. }) => {
            assert!((1..=4).contains(&icmp_type) && m[0] == icmp_type && m[1] == icmp_code);
            let q = &m[8..];
            assert!(q[0] >> 4 == 6 && [6u8, 17, 58].contains(&quoted_proto));
            assert_eq!((&octets(probe.src)[..], &octets(probe.dst)[..]), (&q[8..24], &q[24..40]));
            if q[6] == quoted_proto {
                // no extension header: the transport header follows the fixed one
                assert_eq!(quoted_seq.to_be_bytes(), q[44..48]);
                if quoted_proto != 58 {
                    assert_eq!((probe.sport.to_be_bytes(), probe.dport.to_be_bytes()), ([q[40], q[41]], [q[42], q[43]]));
                }
            }
            assert_eq!(octets(responder), THEM.to_vec());
        }
        Some(other) => panic!("an ICMPv6 message parsed as {other:?}"),
    }
});
