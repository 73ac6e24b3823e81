//! The IPv6 probe template: one Ethernet + IPv6 + TCP frame (SYN, or the flags of another
//! technique) built once, then patched per probe (destination, ports, sequence number) with
//! the TCP checksum completed from a precomputed partial sum over the pseudo-header and the
//! fixed header words, as the IPv4 template does (template.rs). IPv6 has no header checksum,
//! so a probe adds only its destination's eight words, its ports and its sequence number.

use super::checksum::{add_bytes, add_u32, finish};
use super::ipv6::{self, add_addr};
use pnet_base::MacAddr;
use std::net::Ipv6Addr;

const ETH: usize = 14;
const IP: usize = ipv6::HEADER_LEN;
/// TCP header with one MSS option, as nmap's SYN probes carry.
const TCP: usize = 24;
pub const FRAME_LEN: usize = ETH + IP + TCP;
/// The MSS an IPv6 probe announces: a 1500-byte link less 40 + 20 header bytes.
const MSS: u16 = 1440;

mod field {
    use super::{ETH, IP};
    pub const ETH_DST: std::ops::Range<usize> = 0..6;
    pub const IP_DST: std::ops::Range<usize> = ETH + 24..ETH + 40;
    pub const TCP_SPORT: std::ops::Range<usize> = ETH + IP..ETH + IP + 2;
    pub const TCP_DPORT: std::ops::Range<usize> = ETH + IP + 2..ETH + IP + 4;
    pub const TCP_SEQ: std::ops::Range<usize> = ETH + IP + 4..ETH + IP + 8;
    pub const TCP_ACK: std::ops::Range<usize> = ETH + IP + 8..ETH + IP + 12;
    pub const TCP_CSUM: std::ops::Range<usize> = ETH + IP + 16..ETH + IP + 18;
}

#[derive(Clone, Debug)]
pub struct Tcp6Template {
    frame: [u8; FRAME_LEN],
    /// probes with ACK set carry the cookie in the acknowledgement number too
    ack_too: bool,
    /// pseudo-header (without the destination) + TCP header words with ports, seq and checksum zero
    tcp_sum: u32,
}

/// What varies per probe.
#[derive(Clone, Copy, Debug)]
pub struct Probe6 {
    pub dst_mac: MacAddr,
    pub dst: Ipv6Addr,
    pub dport: u16,
    pub sport: u16,
    pub seq: u32,
}

impl Tcp6Template {
    pub fn new(src_mac: MacAddr, src: Ipv6Addr, hop_limit: u8, window: u16, flags: u8) -> Self {
        let mut frame = [0u8; FRAME_LEN];
        frame[6..12].copy_from_slice(&src_mac.octets());
        frame[12..14].copy_from_slice(&ipv6::ETHERTYPE.to_be_bytes());
        ipv6::write_header(&mut frame[ETH..], TCP as u16, ipv6::next::TCP, hop_limit, &src, &Ipv6Addr::UNSPECIFIED);
        let t = &mut frame[ETH + IP..];
        t[12] = ((TCP / 4) as u8) << 4;
        t[13] = flags;
        t[14..16].copy_from_slice(&window.to_be_bytes());
        t[20..24].copy_from_slice(&[2, 4, (MSS >> 8) as u8, MSS as u8]);
        // the destination is left out (added per probe): the unspecified address sums to zero
        let tcp_sum = add_bytes(ipv6::pseudo_sum(&src, &Ipv6Addr::UNSPECIFIED, TCP as u32, ipv6::next::TCP), &frame[ETH + IP..]);
        Self { frame, ack_too: flags & crate::technique::ACK != 0, tcp_sum }
    }

    /// Writes the frame for `p` into `out` (at least FRAME_LEN bytes); returns its length.
    #[inline]
    pub fn write(&self, p: &Probe6, out: &mut [u8]) -> usize {
        let out = &mut out[..FRAME_LEN];
        out.copy_from_slice(&self.frame);
        out[field::ETH_DST].copy_from_slice(&p.dst_mac.octets());
        let dst = u128::from(p.dst);
        out[field::IP_DST].copy_from_slice(&dst.to_be_bytes());
        out[field::TCP_SPORT].copy_from_slice(&p.sport.to_be_bytes());
        out[field::TCP_DPORT].copy_from_slice(&p.dport.to_be_bytes());
        out[field::TCP_SEQ].copy_from_slice(&p.seq.to_be_bytes());
        let mut sum = add_u32(add_addr(self.tcp_sum, dst), p.seq) + p.dport as u32 + p.sport as u32;
        if self.ack_too {
            out[field::TCP_ACK].copy_from_slice(&p.seq.to_be_bytes());
            sum = add_u32(sum, p.seq);
        }
        out[field::TCP_CSUM].copy_from_slice(&finish(sum).to_be_bytes());
        FRAME_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet_packet::ipv6::Ipv6Packet;
    use pnet_packet::tcp::{self, TcpFlags, TcpPacket};
    use pnet_packet::Packet;

    /// A SYN from [2001:2::1]:40000 to [2001:2::2]:80, seq 0x01020304, hop limit 64, window
    /// 1024, MSS 1440; the checksum computed independently (RFC 1071 over the RFC 8200
    /// pseudo-header, in Python).
    static SYN_FRAME: [u8; FRAME_LEN] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, // ethernet
        0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x06, 0x40, // version, length 24, TCP, hop limit 64
        0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // src 2001:2::1
        0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // dst 2001:2::2
        0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, // ports seq ack
        0x60, 0x02, 0x04, 0x00, 0xb3, 0x9b, 0x00, 0x00, // off flags win csum urg
        0x02, 0x04, 0x05, 0xa0, // MSS 1440
    ];

    fn probe() -> Probe6 {
        Probe6 { dst_mac: MacAddr::new(2, 0, 0, 0, 0, 2), dst: "2001:2::2".parse().unwrap(), dport: 80, sport: 40000, seq: 0x0102_0304 }
    }

    #[test]
    fn constructs_the_reference_frame() {
        let t = Tcp6Template::new(MacAddr::new(2, 0, 0, 0, 0, 1), "2001:2::1".parse().unwrap(), 64, 1024, TcpFlags::SYN);
        let mut out = [0u8; 128];
        let n = t.write(&probe(), &mut out);
        assert_eq!(&out[..n], &SYN_FRAME[..]);
    }

    #[test]
    fn deconstructs_with_a_valid_checksum() {
        let ip = Ipv6Packet::new(&SYN_FRAME[14..]).unwrap();
        let tcp = TcpPacket::new(ip.payload()).unwrap();
        assert_eq!(tcp.get_checksum(), tcp::ipv6_checksum(&tcp, &ip.get_source(), &ip.get_destination()));
        assert_eq!((tcp.get_flags(), tcp.get_sequence(), tcp.get_destination()), (TcpFlags::SYN, 0x0102_0304, 80));
    }

    #[test]
    fn patched_checksums_equal_full_recomputation() {
        let t = Tcp6Template::new(MacAddr::zero(), "2001:2::1".parse().unwrap(), 64, 1024, TcpFlags::ACK);
        let mut out = [0u8; FRAME_LEN];
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let p = Probe6 {
                dst_mac: MacAddr::zero(),
                dst: Ipv6Addr::from(((x as u128) << 64) | x.rotate_left(17) as u128),
                dport: (x >> 9) as u16,
                sport: (x >> 29) as u16,
                seq: (x >> 32) as u32,
            };
            t.write(&p, &mut out);
            let ip = Ipv6Packet::new(&out[14..]).unwrap();
            let tcp = TcpPacket::new(ip.payload()).unwrap();
            assert_eq!(tcp.get_checksum(), tcp::ipv6_checksum(&tcp, &ip.get_source(), &ip.get_destination()));
            assert_eq!(tcp.get_acknowledgement(), p.seq, "ACK probes carry the cookie in both numbers");
        }
    }
}
