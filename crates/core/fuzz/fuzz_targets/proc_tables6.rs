//! Fuzz target: the IPv6 tables the engine reads, /proc/net/ipv6_route (routes and their
//! longest-prefix lookup) as text and the kernel's netlink neighbour dump as bytes. Never a
//! panic; a route found matches the address it was asked for and is the longest such.
#![no_main]

use ferroscan_core::net::neighbor::parse_neigh_dump;
use ferroscan_core::net::route::{lookup6, parse_route6_table};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::net::Ipv6Addr;

fn mask(p: u32) -> u128 {
    if p == 0 {
        0
    } else {
        u128::MAX << (128 - p)
    }
}

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len().min(16));
    let mut a = [0u8; 16];
    a[..head.len()].copy_from_slice(head);
    let dst = Ipv6Addr::from(a);
    let text = String::from_utf8_lossy(rest);
    let table = parse_route6_table(&text);
    if let Some(e) = lookup6(&table, dst) {
        let d = u128::from(dst);
        assert!(e.prefix <= 128 && d & mask(e.prefix) == e.dest & mask(e.prefix));
        assert!(table.iter().all(|o| o.iface == "lo" || d & mask(o.prefix) != o.dest & mask(o.prefix) || o.prefix <= e.prefix));
    }
    let mut out = HashMap::new();
    let index = i32::from_ne_bytes([a[0], a[1], a[2], a[3]]);
    parse_neigh_dump(rest, index, &mut out);
    assert!(out.values().all(|m| *m != pnet_base::MacAddr::zero()));
});
