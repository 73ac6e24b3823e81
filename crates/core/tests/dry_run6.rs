//! IPv6 scans built without sending (dry runs, written to pcap files): every probe of the
//! space leaves exactly once, as a valid IPv6 frame of the technique, whether the scan runs
//! whole, in shards or resumed; and spaces past 2^64 probes are refused with the limit named.

use ferroscan_core::{Scan, ScanConfig, ScanEvent, Technique};
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::tcp::{self, TcpPacket};
use pnet_packet::udp::{self, UdpPacket};
use pnet_packet::Packet;
use std::collections::HashSet;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::sync::mpsc;

const BASE: u128 = 0x2001_0002_0000_0001_0000_0000_0000_0000; // 2001:2:0:1::

fn pcap_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ferroscan-dry6-{}-{name}.pcap", std::process::id()))
}

/// The frames of a pcap file (libpcap 2.4, little-endian, as pcap.rs writes them).
fn frames(path: &PathBuf) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let len = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(data[at + 16..at + 16 + len].to_vec());
        at += 16 + len;
    }
    out
}

/// Runs `cfg` as a dry run into a pcap file; returns the frames built and the packets sent.
fn dry_run(mut cfg: ScanConfig, name: &str) -> (Vec<Vec<u8>>, u64) {
    let path = pcap_path(name);
    cfg.dry_run = true;
    cfg.rate = f64::INFINITY;
    cfg.source = Some("2001:2::1".parse().unwrap());
    cfg.pcap = Some(path.clone());
    let (tx, rx) = mpsc::channel();
    let scan = Scan::start(
        cfg,
        Box::new(move |ev| {
            if let ScanEvent::Done(r) = ev {
                let _ = tx.send(r.is_ok());
            }
        }),
    )
    .unwrap();
    assert!(rx.recv().unwrap(), "the scan ended with an error");
    let stats = scan.join();
    let f = frames(&path);
    let _ = std::fs::remove_file(&path);
    (f, stats.sent)
}

/// (destination, port) of a TCP-over-IPv6 frame, checked whole.
fn tcp_probe(frame: &[u8], flags: u8) -> (Ipv6Addr, u16) {
    assert_eq!(&frame[12..14], &[0x86, 0xdd]);
    let ip = Ipv6Packet::new(&frame[14..]).unwrap();
    assert_eq!((ip.get_version(), ip.get_next_header().0, ip.get_hop_limit()), (6, 6, 64));
    let t = TcpPacket::new(ip.payload()).unwrap();
    assert_eq!(t.get_checksum(), tcp::ipv6_checksum(&t, &ip.get_source(), &ip.get_destination()));
    assert_eq!(t.get_flags(), flags);
    assert_eq!(ip.get_source(), "2001:2::1".parse::<Ipv6Addr>().unwrap());
    (ip.get_destination(), t.get_destination())
}

#[test]
fn every_probe_of_an_ipv6_space_leaves_once() {
    let mut cfg = ScanConfig::new6(vec![(BASE, BASE + 1023), (BASE + 5000, BASE + 5000)], vec![22, 80, 443]);
    cfg.seed = 7;
    let (f, sent) = dry_run(cfg, "whole");
    assert_eq!(sent, 1025 * 3);
    let seen: HashSet<(Ipv6Addr, u16)> = f.iter().map(|x| tcp_probe(x, 0x02)).collect();
    assert_eq!(seen.len(), 1025 * 3, "no probe twice");
    assert!(seen.contains(&(Ipv6Addr::from(BASE + 5000), 443)));
    assert!(seen.iter().all(|(a, _)| (BASE..=BASE + 1023).contains(&u128::from(*a)) || u128::from(*a) == BASE + 5000));
    // the seeded permutation: not in address order
    let first: Vec<u128> = f.iter().take(20).map(|x| u128::from(tcp_probe(x, 0x02).0)).collect();
    assert!(first.windows(2).any(|w| w[1] < w[0]), "{first:x?}");
}

#[test]
fn shards_and_a_resume_cover_an_ipv6_space_exactly_once() {
    let space = || ScanConfig::new6(vec![(BASE, BASE + 0xfff)], vec![80]);
    let mut all = Vec::new();
    for i in 0..3 {
        let mut cfg = space();
        cfg.seed = 42;
        cfg.shard = Some((i, 3));
        all.extend(dry_run(cfg, &format!("shard{i}")).0.iter().map(|x| tcp_probe(x, 0x02)));
    }
    assert_eq!(all.len(), 4096);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 4096, "each address in one shard only");
    // a resume from position 1000 sends the rest of the same order, once
    let mut whole = space();
    whole.seed = 42;
    whole.sequential = false;
    let order: Vec<_> = dry_run(whole, "order").0.iter().map(|x| tcp_probe(x, 0x02)).collect();
    let mut rest = space();
    rest.seed = 42;
    rest.start_position = 1000;
    let resumed: Vec<_> = dry_run(rest, "resume").0.iter().map(|x| tcp_probe(x, 0x02)).collect();
    assert_eq!(resumed, order[1000..]);
}

#[test]
fn udp_and_other_techniques_build_valid_ipv6_frames() {
    let mut cfg = ScanConfig::new6(vec![(BASE, BASE + 3)], vec![53, 161]);
    cfg.technique = Technique::Udp;
    cfg.udp_payloads.insert(53, vec![0xab; 12]);
    let (f, _) = dry_run(cfg, "udp");
    assert_eq!(f.len(), 8);
    for x in &f {
        let ip = Ipv6Packet::new(&x[14..]).unwrap();
        let u = UdpPacket::new(ip.payload()).unwrap();
        assert_eq!(u.get_checksum(), udp::ipv6_checksum(&u, &ip.get_source(), &ip.get_destination()));
        assert_eq!(u.payload().len(), if u.get_destination() == 53 { 12 } else { 0 });
    }
    for (t, flags) in
        [(Technique::Ack, 0x10), (Technique::Fin, 0x01), (Technique::Xmas, 0x29), (Technique::Maimon, 0x11), (Technique::Flags(0x28), 0x28)]
    {
        let mut cfg = ScanConfig::new6(vec![(BASE, BASE + 1)], vec![80]);
        cfg.technique = t;
        let (f, _) = dry_run(cfg, "tcp");
        assert_eq!(f.len(), 2);
        for x in &f {
            tcp_probe(x, flags);
        }
    }
    // ICMPv6 echo and neighbour solicitation
    for (t, icmp_type, hop) in [(Technique::Echo, 128u8, 64u8), (Technique::Ndp, 135, 255)] {
        let mut cfg = ScanConfig::new6(vec![(BASE, BASE + 1)], vec![0]);
        cfg.technique = t;
        let (f, _) = dry_run(cfg, "icmp");
        assert_eq!(f.len(), 2);
        for x in &f {
            let ip = Ipv6Packet::new(&x[14..]).unwrap();
            assert_eq!((ip.get_next_header().0, ip.payload()[0], ip.get_hop_limit()), (58, icmp_type, hop));
        }
    }
}

#[test]
fn spaces_past_two_to_the_64_and_wrong_families_are_refused() {
    let start = |cfg: ScanConfig| Scan::start(cfg, Box::new(|_| {})).err().map(|e| e.to_string()).unwrap_or_default();
    // a /64 × 2 ports: 2^65 probes
    let mut cfg = ScanConfig::new6(vec![(BASE, BASE | 0xffff_ffff_ffff_ffff)], vec![80, 443]);
    cfg.dry_run = true;
    assert!(start(cfg).contains("2^64"));
    let mut cfg = ScanConfig::new6(vec![(BASE, BASE)], vec![0]);
    cfg.dry_run = true;
    cfg.technique = Technique::Timestamp;
    assert!(start(cfg).contains("do not exist"));
    let mut cfg = ScanConfig::new6(vec![(BASE, BASE)], vec![80]);
    cfg.dry_run = true;
    cfg.source = Some("198.18.0.1".parse().unwrap());
    assert!(start(cfg).contains("family"));
    let mut cfg = ScanConfig::new(vec![(1, 2)], vec![80]);
    cfg.ranges6 = vec![(BASE, BASE)];
    cfg.dry_run = true;
    assert!(start(cfg).contains("not both"));
}
