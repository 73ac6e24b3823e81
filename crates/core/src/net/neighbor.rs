//! Hardware addresses of next hops: the kernel's neighbour table first, then our own ARP
//! requests on the interface, retried, for whatever is still unknown.

use super::route::{parse_mac, Route};
use super::socket::{Direction, PacketSocket};
use crate::error::Result;
use crate::packet::arp;
use pnet_base::MacAddr;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Parses /proc/net/arp: complete entries on `iface`.
pub fn parse_arp_table(text: &str, iface: &str) -> HashMap<Ipv4Addr, MacAddr> {
    let mut out = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || f[5] != iface {
            continue;
        }
        const ATF_COM: u32 = 0x2;
        let flags = u32::from_str_radix(f[2].trim_start_matches("0x"), 16).unwrap_or(0);
        let (Ok(ip), Some(mac)) = (f[0].parse::<Ipv4Addr>(), parse_mac(f[3])) else {
            continue;
        };
        if flags & ATF_COM != 0 && mac != MacAddr::zero() {
            out.insert(ip, mac);
        }
    }
    out
}

/// Resolves every address in `wanted` that answers; the rest are absent from the map.
/// `tries` rounds of requests, each followed by `wait` for replies.
pub fn resolve(route: &Route, wanted: &[Ipv4Addr], tries: u32, wait: Duration) -> Result<HashMap<Ipv4Addr, MacAddr>> {
    let known = parse_arp_table(&std::fs::read_to_string("/proc/net/arp").unwrap_or_default(), &route.iface);
    let mut found: HashMap<Ipv4Addr, MacAddr> = wanted.iter().filter_map(|a| known.get(a).map(|m| (*a, *m))).collect();
    if found.len() == wanted.len() {
        return Ok(found);
    }
    const ETH_P_ARP: u16 = 0x0806;
    let sock = PacketSocket::open(&route.iface, ETH_P_ARP)?;
    sock.set_receive_timeout(Duration::from_millis(20))?;
    let mut buf = [0u8; 2048];
    for _ in 0..tries {
        let missing: Vec<Ipv4Addr> = wanted.iter().copied().filter(|a| !found.contains_key(a)).collect();
        if missing.is_empty() {
            break;
        }
        for chunk in missing.chunks(64) {
            let frames: Vec<[u8; arp::ARP_FRAME_LEN]> = chunk.iter().map(|t| arp::request(route.src_mac, route.source, *t)).collect();
            let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
            sock.send_batch(&refs)?;
        }
        let until = Instant::now() + wait;
        while Instant::now() < until && found.len() < wanted.len() {
            if let Some((n, Direction::Incoming)) = sock.recv(&mut buf)? {
                if let Some((ip, mac)) = arp::parse_reply(&buf[..n]) {
                    if wanted.contains(&ip) {
                        found.insert(ip, mac);
                    }
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_complete_entries_of_one_interface() {
        let text = "IP address       HW type     Flags       HW address            Mask     Device
198.18.0.2       0x1         0x2         02:aa:bb:cc:dd:02     *        veth0
198.18.0.3       0x1         0x0         00:00:00:00:00:00     *        veth0
198.18.0.4       0x1         0x2         02:aa:bb:cc:dd:04     *        veth9
";
        let t = parse_arp_table(text, "veth0");
        assert_eq!(t.len(), 1);
        assert_eq!(t[&Ipv4Addr::new(198, 18, 0, 2)], MacAddr::new(2, 0xaa, 0xbb, 0xcc, 0xdd, 2));
    }
}
