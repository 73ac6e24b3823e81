//! Hardware addresses of next hops: the kernel's neighbour table first (/proc/net/arp for
//! IPv4; a netlink dump of the IPv6 neighbour table, which has no /proc file), then our own
//! ARP requests or neighbour solicitations on the interface, retried, for whatever is
//! still unknown.

use super::route::{parse_mac, Route};
use super::socket::{ifindex, Direction, PacketSocket};
use crate::error::{Error, Result};
use crate::packet::reply::{parse_frame, Reply};
use crate::packet::{arp, icmp6, ipv6};
use pnet_base::MacAddr;
use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
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
    let IpAddr::V4(source) = route.source else {
        return Err(Error::Route(format!("ARP needs an IPv4 source address, not {}", route.source)));
    };
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
            let frames: Vec<[u8; arp::ARP_FRAME_LEN]> = chunk.iter().map(|t| arp::request(route.src_mac, source, *t)).collect();
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

/// Neighbour states whose link-layer address can be used (linux/neighbour.h): reachable,
/// stale, delay, probe, noarp, permanent. Incomplete and failed entries have none.
const NUD_USABLE: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
/// struct ndmsg: family, two pad bytes... (linux/neighbour.h), 12 bytes.
const NDMSG_LEN: usize = 12;
const NLMSG_HDRLEN: usize = 16;

/// Reads the messages of a netlink neighbour dump (RTM_NEWNEIGH, each an ndmsg and its
/// attributes) into the usable IPv6 entries on interface `ifindex`. Returns them and whether
/// the dump's end (NLMSG_DONE or an error) was in `buf`.
pub fn parse_neigh_dump(buf: &[u8], ifindex: i32, out: &mut HashMap<Ipv6Addr, MacAddr>) -> bool {
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if len < NLMSG_HDRLEN || len > rest.len() {
            return true; // malformed: stop, as at the end
        }
        if kind == libc::NLMSG_DONE as u16 || kind == libc::NLMSG_ERROR as u16 {
            return true;
        }
        if kind == libc::RTM_NEWNEIGH {
            neigh_entry(&rest[NLMSG_HDRLEN..len], ifindex, out);
        }
        rest = &rest[len.next_multiple_of(4).min(rest.len())..];
    }
    false
}

fn neigh_entry(m: &[u8], ifindex: i32, out: &mut HashMap<Ipv6Addr, MacAddr>) {
    let Some(nd) = m.get(..NDMSG_LEN) else { return };
    let family = nd[0] as i32;
    let index = i32::from_ne_bytes([nd[4], nd[5], nd[6], nd[7]]);
    let state = u16::from_ne_bytes([nd[8], nd[9]]);
    if family != libc::AF_INET6 || index != ifindex || state & NUD_USABLE == 0 {
        return;
    }
    let (mut dst, mut mac) = (None, None);
    let mut attrs = &m[NDMSG_LEN..];
    while attrs.len() >= 4 {
        let alen = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let atype = u16::from_ne_bytes([attrs[2], attrs[3]]);
        if alen < 4 || alen > attrs.len() {
            break;
        }
        let v = &attrs[4..alen];
        match (atype, v.len()) {
            (NDA_DST, 16) => dst = <[u8; 16]>::try_from(v).ok().map(Ipv6Addr::from),
            (NDA_LLADDR, 6) => mac = Some(MacAddr::new(v[0], v[1], v[2], v[3], v[4], v[5])),
            _ => {}
        }
        attrs = &attrs[alen.next_multiple_of(4).min(attrs.len())..];
    }
    if let (Some(d), Some(m)) = (dst, mac) {
        if m != MacAddr::zero() {
            out.insert(d, m);
        }
    }
}

/// The kernel's IPv6 neighbour table for `iface` (usable entries), by a netlink dump.
pub fn neighbours6(iface: &str) -> Result<HashMap<Ipv6Addr, MacAddr>> {
    let index = ifindex(iface)?;
    // SAFETY: plain socket(2) call; the fd is owned right after
    let raw = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
    if raw < 0 {
        return Err(Error::io("opening a netlink socket", io::Error::last_os_error()));
    }
    // SAFETY: raw is a fresh, valid descriptor that nothing else owns
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut req = [0u8; NLMSG_HDRLEN + NDMSG_LEN];
    req[0..4].copy_from_slice(&((NLMSG_HDRLEN + NDMSG_LEN) as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&libc::RTM_GETNEIGH.to_ne_bytes());
    req[6..8].copy_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    req[NLMSG_HDRLEN] = libc::AF_INET6 as u8;
    // SAFETY: req is a live buffer of the length passed; the kernel is the destination
    if unsafe { libc::send(fd.as_raw_fd(), req.as_ptr() as *const libc::c_void, req.len(), 0) } < 0 {
        return Err(Error::io("asking the kernel for its neighbour table", io::Error::last_os_error()));
    }
    let tv = libc::timeval { tv_sec: 1, tv_usec: 0 };
    // SAFETY: tv is a live timeval of the size passed
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as u32,
        )
    };
    let mut out = HashMap::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: buf is live and its length passed
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
        if n <= 0 {
            // a timeout or error ends the dump early: what was read is still good, and
            // solicitation finds the rest
            break;
        }
        if parse_neigh_dump(&buf[..n as usize], index, &mut out) {
            break;
        }
    }
    Ok(out)
}

/// Resolves every IPv6 address in `wanted` that answers a neighbour solicitation on the
/// route's interface (the kernel's table first); the rest are absent from the map.
pub fn resolve6(route: &Route, wanted: &[Ipv6Addr], tries: u32, wait: Duration) -> Result<HashMap<Ipv6Addr, MacAddr>> {
    let IpAddr::V6(source) = route.source else {
        return Err(Error::Route(format!("neighbour discovery needs an IPv6 source address, not {}", route.source)));
    };
    let known = neighbours6(&route.iface).unwrap_or_default();
    let mut found: HashMap<Ipv6Addr, MacAddr> = wanted.iter().filter_map(|a| known.get(a).map(|m| (*a, *m))).collect();
    if found.len() == wanted.len() {
        return Ok(found);
    }
    let wanted_set: HashSet<Ipv6Addr> = wanted.iter().copied().collect();
    let sock = PacketSocket::open(&route.iface, ipv6::ETHERTYPE)?;
    sock.set_receive_timeout(Duration::from_millis(20))?;
    let mut buf = [0u8; 2048];
    for _ in 0..tries {
        let missing: Vec<Ipv6Addr> = wanted.iter().copied().filter(|a| !found.contains_key(a)).collect();
        if missing.is_empty() {
            break;
        }
        for chunk in missing.chunks(64) {
            let frames: Vec<[u8; icmp6::NS_FRAME_LEN]> = chunk.iter().map(|t| icmp6::solicitation(route.src_mac, source, *t)).collect();
            let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
            sock.send_batch(&refs)?;
        }
        let until = Instant::now() + wait;
        while Instant::now() < until && found.len() < wanted.len() {
            if let Some((n, Direction::Incoming)) = sock.recv(&mut buf)? {
                if let Some(Reply::Ndp(a)) = parse_frame(&buf[..n]) {
                    if a.to == source && wanted_set.contains(&a.target) {
                        let mac = a.mac.unwrap_or_else(|| MacAddr::new(buf[6], buf[7], buf[8], buf[9], buf[10], buf[11]));
                        found.insert(a.target, mac);
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

    /// One RTM_NEWNEIGH message as the kernel packs it (native byte order).
    fn neigh_msg(family: u8, index: i32, state: u16, dst: &[u8], mac: &[u8]) -> Vec<u8> {
        let mut m = vec![family, 0, 0, 0];
        m.extend_from_slice(&index.to_ne_bytes());
        m.extend_from_slice(&state.to_ne_bytes());
        m.extend_from_slice(&[0, 1]);
        for (t, v) in [(NDA_DST, dst), (NDA_LLADDR, mac)] {
            m.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
            m.extend_from_slice(&t.to_ne_bytes());
            m.extend_from_slice(v);
            while m.len() % 4 != 0 {
                m.push(0);
            }
        }
        let mut h = Vec::new();
        h.extend_from_slice(&((NLMSG_HDRLEN + m.len()) as u32).to_ne_bytes());
        h.extend_from_slice(&libc::RTM_NEWNEIGH.to_ne_bytes());
        h.extend_from_slice(&[0; 10]);
        h.extend_from_slice(&m);
        h
    }

    #[test]
    fn reads_usable_ipv6_neighbours_of_one_interface() {
        let a: Ipv6Addr = "2001:2::2".parse().unwrap();
        let b: Ipv6Addr = "fe80::2".parse().unwrap();
        let mut dump = neigh_msg(libc::AF_INET6 as u8, 5, 0x02, &a.octets(), &[2, 0, 0, 0, 0, 2]);
        dump.extend(neigh_msg(libc::AF_INET6 as u8, 5, 0x04, &b.octets(), &[2, 0, 0, 0, 0, 3]));
        dump.extend(neigh_msg(libc::AF_INET6 as u8, 5, 0x20, &"2001:2::9".parse::<Ipv6Addr>().unwrap().octets(), &[2, 0, 0, 0, 0, 9]));
        dump.extend(neigh_msg(libc::AF_INET6 as u8, 7, 0x02, &"2001:2::7".parse::<Ipv6Addr>().unwrap().octets(), &[2, 0, 0, 0, 0, 7]));
        dump.extend(neigh_msg(libc::AF_INET as u8, 5, 0x02, &[198, 18, 0, 2], &[2, 0, 0, 0, 0, 4]));
        let mut out = HashMap::new();
        assert!(!parse_neigh_dump(&dump, 5, &mut out), "no NLMSG_DONE yet");
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[&a], MacAddr::new(2, 0, 0, 0, 0, 2));
        assert_eq!(out[&b], MacAddr::new(2, 0, 0, 0, 0, 3));
        let mut done = vec![0u8; 16];
        done[0..4].copy_from_slice(&16u32.to_ne_bytes());
        done[4..6].copy_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes());
        assert!(parse_neigh_dump(&done, 5, &mut out));
        // truncated input never panics
        for n in 0..dump.len() {
            parse_neigh_dump(&dump[..n], 5, &mut HashMap::new());
        }
    }
}
