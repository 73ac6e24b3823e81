//! Fuzz target: every frame the receive side can be handed goes through `parse_frame`
//! (Ethernet, then ARP, or IPv4 carrying TCP, UDP, ICMP replies and ICMP errors that quote
//! a probe). It must never panic, and whatever it returns must come from the frame's own
//! bytes: the addresses of a reply are the IPv4 header's, swapped into the probe's view.
#![no_main]

use ferroscan_core::packet::arp;
use ferroscan_core::packet::reply::{parse_frame, Reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(reply) = parse_frame(data) else {
        return;
    };
    // a reply needs at least an Ethernet header and an IPv4 (or ARP) header after it
    assert!(data.len() >= 14 + 20);
    let (ip_src, ip_dst) = (&data[26..30], &data[30..34]);
    match reply {
        Reply::Arp(a) => assert_eq!(arp::parse_reply_full(data), Some(a)),
        Reply::Tcp { probe, .. } | Reply::Udp { probe, .. } | Reply::IcmpReply { probe, .. } => {
            assert_eq!((&probe.dst.octets()[..], &probe.src.octets()[..]), (ip_src, ip_dst));
        }
        Reply::Icmp { responder, .. } => assert_eq!(&responder.octets()[..], ip_src),
    }
});
