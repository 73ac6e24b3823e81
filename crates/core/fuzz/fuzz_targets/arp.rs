//! Fuzz target: ARP replies (RFC 826) as the neighbour resolver and the ARP scan read
//! them. Never a panic; a frame is a reply only if it says so, with 6- and 4-byte
//! addresses, and the short form agrees with the full one.
#![no_main]

use ferroscan_core::packet::arp::{parse_reply, parse_reply_full};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let full = parse_reply_full(data);
    assert_eq!(parse_reply(data), full.map(|r| (r.sender, r.sender_mac)));
    if let Some(r) = full {
        // EtherType 0x0806, operation 2 (reply), hardware length 6, protocol length 4
        assert_eq!(&data[12..14], &[0x08, 0x06]);
        assert_eq!((data[18], data[19], &data[20..22]), (6, 4, &[0u8, 2][..]));
        assert_eq!(&r.sender.octets()[..], &data[28..32]);
        assert_eq!(&r.target.octets()[..], &data[38..42]);
    }
});
