//! UDP probe frames: Ethernet + IPv4 or IPv6 + UDP + a payload chosen per destination port,
//! so that services which ignore empty datagrams (DNS, SNMP, NTP, ...) answer. The cookie
//! travels in the source port, the one field every reply and every ICMP error quotes back.

use super::checksum::{add_bytes, add_u32, finish};
use super::ipv6;
use pnet_base::MacAddr;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const ETH: usize = 14;
const IP: usize = 20;
const UDP: usize = 8;
/// Largest payload accepted: the frame must fit a standard Ethernet MTU.
pub const MAX_PAYLOAD: usize = 1500 - IP - UDP;
/// The same for IPv6, whose header is 40 bytes: longer payloads are cut to this.
pub const MAX_PAYLOAD6: usize = 1500 - ipv6::HEADER_LEN - UDP;
pub const MAX_FRAME: usize = ETH + 1500;

/// Source ports carry the cookie: BASE + (cookie + attempt) mod SPAN.
pub const SPORT_BASE: u16 = 0x8000;
pub const SPORT_SPAN: u32 = 0x4000;

/// The source port of the `attempt`-th send of a probe whose cookie is `cookie`.
pub fn sport(cookie: u32, attempt: u8) -> u16 {
    SPORT_BASE + (cookie.wrapping_add(attempt as u32) % SPORT_SPAN) as u16
}

/// The attempt a quoted or replied-to source port belongs to, if it is ours.
pub fn check_sport(cookie: u32, port: u16, max_attempt: u8) -> Option<u8> {
    let off = (port as u32).checked_sub(SPORT_BASE as u32).filter(|o| *o < SPORT_SPAN)?;
    let d = (off + SPORT_SPAN - cookie % SPORT_SPAN) % SPORT_SPAN;
    (d <= max_attempt as u32).then_some(d as u8)
}

#[derive(Clone, Debug)]
pub struct UdpTemplate {
    src_mac: MacAddr,
    /// The family of the source is the family of every probe.
    src: IpAddr,
    ttl: u8,
    payloads: HashMap<u16, Vec<u8>>,
}

#[derive(Clone, Copy, Debug)]
pub struct UdpProbe {
    pub dst_mac: MacAddr,
    /// Of the template's family.
    pub dst: IpAddr,
    pub dport: u16,
    pub sport: u16,
    pub ip_id: u16,
}

impl UdpTemplate {
    /// `payloads`: port → datagram payload; ports absent get an empty datagram.
    /// `ttl` is the hop limit for IPv6.
    pub fn new(src_mac: MacAddr, src: impl Into<IpAddr>, ttl: u8, payloads: HashMap<u16, Vec<u8>>) -> Self {
        Self { src_mac, src: src.into(), ttl, payloads }
    }

    pub fn payload(&self, port: u16) -> &[u8] {
        self.payloads.get(&port).map(|v| &v[..]).unwrap_or(&[])
    }

    /// Writes the frame for `p` into `out` (at least MAX_FRAME bytes); returns its length.
    pub fn write(&self, p: &UdpProbe, out: &mut [u8]) -> usize {
        match (self.src, p.dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => self.write4(src, dst, p, out),
            (IpAddr::V6(src), IpAddr::V6(dst)) => self.write6(src, dst, p, out),
            // the engine never mixes families; a mixed probe is written as nothing
            _ => 0,
        }
    }

    fn write6(&self, src: Ipv6Addr, dst: Ipv6Addr, p: &UdpProbe, out: &mut [u8]) -> usize {
        let data = self.payload(p.dport);
        let data = &data[..data.len().min(MAX_PAYLOAD6)];
        let udp_len = (UDP + data.len()) as u16;
        let total = ETH + ipv6::HEADER_LEN + UDP + data.len();
        let out = &mut out[..total];
        out[0..6].copy_from_slice(&p.dst_mac.octets());
        out[6..12].copy_from_slice(&self.src_mac.octets());
        out[12..14].copy_from_slice(&ipv6::ETHERTYPE.to_be_bytes());
        ipv6::write_header(&mut out[ETH..], udp_len, ipv6::next::UDP, self.ttl, &src, &dst);
        let u = &mut out[ETH + ipv6::HEADER_LEN..];
        u[0..2].copy_from_slice(&p.sport.to_be_bytes());
        u[2..4].copy_from_slice(&p.dport.to_be_bytes());
        u[4..6].copy_from_slice(&udp_len.to_be_bytes());
        u[6..8].copy_from_slice(&[0, 0]);
        u[8..].copy_from_slice(data);
        let mut c = finish(add_bytes(ipv6::pseudo_sum(&src, &dst, udp_len as u32, ipv6::next::UDP), u));
        if c == 0 {
            c = 0xffff; // the checksum is mandatory over IPv6; zero is sent as all ones
        }
        u[6..8].copy_from_slice(&c.to_be_bytes());
        total
    }

    fn write4(&self, src: Ipv4Addr, dst: Ipv4Addr, p: &UdpProbe, out: &mut [u8]) -> usize {
        let data = self.payload(p.dport);
        let data = &data[..data.len().min(MAX_PAYLOAD)];
        let udp_len = (UDP + data.len()) as u16;
        let total = ETH + IP + UDP + data.len();
        let out = &mut out[..total];
        out[0..6].copy_from_slice(&p.dst_mac.octets());
        out[6..12].copy_from_slice(&self.src_mac.octets());
        out[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut out[ETH..ETH + IP];
        ip.copy_from_slice(&[0x45, 0, 0, 0, 0, 0, 0, 0, self.ttl, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        ip[2..4].copy_from_slice(&(IP as u16 + udp_len).to_be_bytes());
        ip[4..6].copy_from_slice(&p.ip_id.to_be_bytes());
        ip[12..16].copy_from_slice(&src.octets());
        ip[16..20].copy_from_slice(&dst.octets());
        let c = finish(add_bytes(0, ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let u = &mut out[ETH + IP..];
        u[0..2].copy_from_slice(&p.sport.to_be_bytes());
        u[2..4].copy_from_slice(&p.dport.to_be_bytes());
        u[4..6].copy_from_slice(&udp_len.to_be_bytes());
        u[6..8].copy_from_slice(&[0, 0]);
        u[8..].copy_from_slice(data);
        let mut sum = add_u32(add_u32(0, u32::from(src)), u32::from(dst));
        sum += 17 + udp_len as u32;
        let mut c = finish(add_bytes(sum, u));
        if c == 0 {
            c = 0xffff; // zero means "no checksum" in UDP
        }
        u[6..8].copy_from_slice(&c.to_be_bytes());
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet_packet::ipv4::{self, Ipv4Packet};
    use pnet_packet::udp::{self, UdpPacket};
    use pnet_packet::Packet;

    #[test]
    fn builds_valid_datagrams_with_the_port_payload() {
        let mut payloads = HashMap::new();
        payloads.insert(53u16, vec![0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        let t = UdpTemplate::new(MacAddr::new(2, 0, 0, 0, 0, 1), Ipv4Addr::new(198, 18, 0, 1), 64, payloads);
        let mut out = [0u8; MAX_FRAME];
        for (port, len) in [(53u16, 13usize), (9999, 0)] {
            let n = t.write(
                &UdpProbe { dst_mac: MacAddr::zero(), dst: Ipv4Addr::new(198, 18, 0, 2).into(), dport: port, sport: 0x8123, ip_id: 7 },
                &mut out,
            );
            assert_eq!(n, 14 + 20 + 8 + len);
            let ip = Ipv4Packet::new(&out[14..n]).unwrap();
            assert_eq!(ip.get_checksum(), ipv4::checksum(&ip));
            let u = UdpPacket::new(ip.payload()).unwrap();
            assert_eq!(u.get_checksum(), udp::ipv4_checksum(&u, &ip.get_source(), &ip.get_destination()));
            assert_eq!((u.get_source(), u.get_destination(), u.payload().len()), (0x8123, port, len));
        }
    }

    #[test]
    fn builds_valid_ipv6_datagrams() {
        use pnet_packet::ipv6::Ipv6Packet;
        let mut payloads = HashMap::new();
        payloads.insert(53u16, vec![0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        payloads.insert(9, vec![7u8; 1500]);
        let src: Ipv6Addr = "2001:2::1".parse().unwrap();
        let t = UdpTemplate::new(MacAddr::new(2, 0, 0, 0, 0, 1), src, 64, payloads);
        let mut out = [0u8; MAX_FRAME];
        for (port, len) in [(53u16, 13usize), (9999, 0), (9, MAX_PAYLOAD6)] {
            let dst: Ipv6Addr = "2001:2::2".parse().unwrap();
            let n = t.write(&UdpProbe { dst_mac: MacAddr::zero(), dst: dst.into(), dport: port, sport: 0x8123, ip_id: 0 }, &mut out);
            assert_eq!(n, 14 + 40 + 8 + len);
            assert_eq!(&out[12..14], &[0x86, 0xdd]);
            let ip = Ipv6Packet::new(&out[14..n]).unwrap();
            let u = UdpPacket::new(ip.payload()).unwrap();
            assert_eq!(u.get_checksum(), udp::ipv6_checksum(&u, &ip.get_source(), &ip.get_destination()));
            assert_eq!((u.get_source(), u.get_destination(), u.payload().len()), (0x8123, port, len));
        }
        // a probe of the other family is never written
        let v4 = UdpProbe { dst_mac: MacAddr::zero(), dst: Ipv4Addr::new(198, 18, 0, 2).into(), dport: 53, sport: 0x8123, ip_id: 0 };
        assert_eq!(t.write(&v4, &mut out), 0);
    }

    #[test]
    fn source_port_cookie_round_trips() {
        for cookie in [0u32, 1, 0x3fff, 0x4000, 0xdead_beef, u32::MAX] {
            for a in 0..=10u8 {
                assert_eq!(check_sport(cookie, sport(cookie, a), 10), Some(a), "cookie {cookie:x} attempt {a}");
            }
            assert_eq!(check_sport(cookie, sport(cookie, 11), 10), None);
            assert_eq!(check_sport(cookie, 1234, 10), None);
        }
    }
}
