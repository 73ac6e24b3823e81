//! Fuzz target: the kernel tables the engine reads as text, /proc/net/route (routes and
//! their longest-prefix lookup) and /proc/net/arp (neighbours), and the MAC address
//! syntax both use. Never a panic; a route found matches the address it was asked for.
#![no_main]

use ferroscan_core::net::neighbor::parse_arp_table;
use ferroscan_core::net::route::{lookup, parse_mac, parse_route_table};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;

fuzz_target!(|data: &[u8]| {
    let (head, text) = data.split_at(data.len().min(4));
    let mut a = [0u8; 4];
    a[..head.len()].copy_from_slice(head);
    let dst = Ipv4Addr::from(a);
    let text = String::from_utf8_lossy(text);
    let table = parse_route_table(&text);
    if let Some(e) = lookup(&table, dst) {
        assert_eq!(u32::from(dst) & e.mask, e.dest & e.mask);
        assert!(table.iter().all(|o| u32::from(dst) & o.mask != o.dest & o.mask || o.mask.count_ones() <= e.mask.count_ones()));
    }
    let iface = text.split_whitespace().nth(5).unwrap_or("eth0");
    for (_, mac) in parse_arp_table(&text, iface) {
        assert_ne!(mac, pnet_base::MacAddr::zero());
    }
    for word in text.split_whitespace() {
        if let Some(m) = parse_mac(word) {
            assert_eq!(parse_mac(&m.to_string()), Some(m));
        }
    }
});
