//! Fuzz target: every frame the receive side can be handed goes through `parse_frame`
//! (Ethernet, then ARP, or IPv4 or IPv6 carrying TCP, UDP, ICMP/ICMPv6 replies, neighbour
//! advertisements and errors that quote a probe). It must never panic, and whatever it
//! returns must come from the frame's own bytes: the addresses of a reply are the IP
//! header's, swapped into the probe's view.
#![no_main]

use ferroscan_core::packet::arp;
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
    let Some(reply) = parse_frame(data) else {
        return;
    };
    let v6 = data[12..14] == [0x86, 0xdd];
    // a reply needs at least an Ethernet header and an IP (or ARP) header after it
    assert!(data.len() >= 14 + if v6 { 40 } else { 20 });
    let (ip_src, ip_dst) = if v6 { (&data[22..38], &data[38..54]) } else { (&data[26..30], &data[30..34]) };
    match reply {
        Reply::Arp(a) => assert_eq!(arp::parse_reply_full(data), Some(a)),
        Reply::Ndp(a) => {
            assert!(v6 && data[21] == 255, "an advertisement from off the link");
            assert_eq!(&a.to.octets()[..], ip_dst);
        }
        Reply::Tcp { probe, .. } | Reply::Udp { probe, .. } | Reply::IcmpReply { probe, .. } => {
            assert_eq!((&octets(probe.dst)[..], &octets(probe.src)[..]), (ip_src, ip_dst));
        }
        Reply::Icmp { responder, probe, .. } => {
            assert_eq!(&octets(responder)[..], ip_src);
            assert_eq!(probe.src.is_ipv6(), v6, "a quote of the frame's own family");
        }
    }
});
