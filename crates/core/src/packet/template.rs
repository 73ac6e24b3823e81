//! The probe template: one Ethernet + IPv4 + TCP frame (SYN, or the flags of another technique) built once with pnet, then
//! patched per probe (destination, IP id, sequence number) with checksums completed from
//! precomputed partial sums, so sending allocates nothing and sums only a few words.

use super::checksum::{add_bytes, add_u32, finish};
use pnet_base::MacAddr;
use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::MutableIpv4Packet;
use pnet_packet::tcp::{MutableTcpPacket, TcpFlags, TcpOption};
use std::net::Ipv4Addr;

const ETH: usize = 14;
const IP: usize = 20;
/// The MSS option every TCP probe carries.
pub const PROBE_MSS: u16 = 1460;

/// TCP header with one MSS option, as nmap's SYN probes carry.
const TCP: usize = 24;
pub const FRAME_LEN: usize = ETH + IP + TCP;

mod field {
    use super::{ETH, IP};
    pub const ETH_DST: std::ops::Range<usize> = 0..6;
    pub const IP_ID: std::ops::Range<usize> = ETH + 4..ETH + 6;
    pub const IP_CSUM: std::ops::Range<usize> = ETH + 10..ETH + 12;
    pub const IP_DST: std::ops::Range<usize> = ETH + 16..ETH + 20;
    pub const TCP_SPORT: std::ops::Range<usize> = ETH + IP..ETH + IP + 2;
    pub const TCP_DPORT: std::ops::Range<usize> = ETH + IP + 2..ETH + IP + 4;
    pub const TCP_SEQ: std::ops::Range<usize> = ETH + IP + 4..ETH + IP + 8;
    pub const TCP_ACK: std::ops::Range<usize> = ETH + IP + 8..ETH + IP + 12;
    pub const TCP_CSUM: std::ops::Range<usize> = ETH + IP + 16..ETH + IP + 18;
}

#[derive(Clone, Debug)]
pub struct TcpTemplate {
    frame: [u8; FRAME_LEN],
    /// probes with ACK set carry the cookie in the acknowledgement number too
    ack_too: bool,
    /// IP header words with id, checksum and destination zero
    ip_sum: u32,
    /// pseudo-header + TCP header words with destination, port, seq and checksum zero
    tcp_sum: u32,
}

/// What varies per probe.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    pub dst_mac: MacAddr,
    pub dst: Ipv4Addr,
    pub dport: u16,
    /// Source port: varies with the attempt, so a retransmission is a new connection to
    /// the target rather than a stray SYN to one it already half-opened.
    pub sport: u16,
    pub seq: u32,
    pub ip_id: u16,
}

impl TcpTemplate {
    pub fn syn(src_mac: MacAddr, src: Ipv4Addr, ttl: u8, window: u16) -> Self {
        Self::new(src_mac, src, ttl, window, TcpFlags::SYN)
    }

    pub fn new(src_mac: MacAddr, src: Ipv4Addr, ttl: u8, window: u16, flags: u8) -> Self {
        let mut frame = [0u8; FRAME_LEN];
        {
            let mut eth = MutableEthernetPacket::new(&mut frame[..]).expect("frame holds an Ethernet header");
            eth.set_source(src_mac);
            eth.set_ethertype(EtherTypes::Ipv4);
        }
        {
            let mut ip = MutableIpv4Packet::new(&mut frame[ETH..]).expect("frame holds an IPv4 header");
            ip.set_version(4);
            ip.set_header_length(5);
            ip.set_total_length((IP + TCP) as u16);
            ip.set_ttl(ttl);
            ip.set_next_level_protocol(IpNextHeaderProtocols::Tcp);
            ip.set_source(src);
            ip.set_destination(Ipv4Addr::UNSPECIFIED);
        }
        {
            let mut tcp = MutableTcpPacket::new(&mut frame[ETH + IP..]).expect("frame holds a TCP header");
            // the source port is patched per probe; the template's sums leave it out
            tcp.set_source(0);
            tcp.set_data_offset((TCP / 4) as u8);
            tcp.set_flags(flags);
            tcp.set_window(window);
            tcp.set_options(&[TcpOption::mss(PROBE_MSS)]);
        }
        let ip_sum = add_bytes(0, &frame[ETH..ETH + IP]);
        // pseudo header: src, dst (zero here), zero, protocol, TCP length
        let mut tcp_sum = add_bytes(0, &src.octets());
        tcp_sum += 6 + TCP as u32;
        tcp_sum = add_bytes(tcp_sum, &frame[ETH + IP..]);
        Self { frame, ack_too: flags & TcpFlags::ACK != 0, ip_sum, tcp_sum }
    }

    /// Writes the frame for `p` into `out` (at least FRAME_LEN bytes); returns its length.
    #[inline]
    pub fn write(&self, p: &Probe, out: &mut [u8]) -> usize {
        let out = &mut out[..FRAME_LEN];
        out.copy_from_slice(&self.frame);
        let dst = u32::from(p.dst);
        out[field::ETH_DST].copy_from_slice(&p.dst_mac.octets());
        out[field::IP_ID].copy_from_slice(&p.ip_id.to_be_bytes());
        out[field::IP_DST].copy_from_slice(&dst.to_be_bytes());
        let ip_csum = finish(add_u32(self.ip_sum, dst) + p.ip_id as u32);
        out[field::IP_CSUM].copy_from_slice(&ip_csum.to_be_bytes());
        out[field::TCP_DPORT].copy_from_slice(&p.dport.to_be_bytes());
        out[field::TCP_SPORT].copy_from_slice(&p.sport.to_be_bytes());
        out[field::TCP_SEQ].copy_from_slice(&p.seq.to_be_bytes());
        let mut sum = add_u32(add_u32(self.tcp_sum, dst), p.seq) + p.dport as u32 + p.sport as u32;
        if self.ack_too {
            out[field::TCP_ACK].copy_from_slice(&p.seq.to_be_bytes());
            sum = add_u32(sum, p.seq);
        }
        let tcp_csum = finish(sum);
        out[field::TCP_CSUM].copy_from_slice(&tcp_csum.to_be_bytes());
        FRAME_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet_packet::ethernet::EthernetPacket;
    use pnet_packet::ipv4::{self, Ipv4Packet};
    use pnet_packet::tcp::{self, TcpPacket};
    use pnet_packet::Packet;

    /// A SYN from 198.18.0.1:40000 to 198.18.0.2:80, seq 0x01020304, id 0x0506, TTL 64,
    /// window 1024, MSS 1460; checksums computed independently (RFC 1071, in Python).
    static SYN_FRAME: [u8; FRAME_LEN] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, // ethernet
        0x45, 0x00, 0x00, 0x2c, 0x05, 0x06, 0x00, 0x00, 0x40, 0x06, 0xe9, 0x9e, // ip ..csum
        0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02, // src dst
        0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, // ports seq ack
        0x60, 0x02, 0x04, 0x00, 0x67, 0x68, 0x00, 0x00, // off flags win csum urg
        0x02, 0x04, 0x05, 0xb4, // MSS 1460
    ];

    fn probe() -> Probe {
        Probe {
            dst_mac: MacAddr::new(2, 0, 0, 0, 0, 2),
            dst: Ipv4Addr::new(198, 18, 0, 2),
            dport: 80,
            sport: 40000,
            seq: 0x0102_0304,
            ip_id: 0x0506,
        }
    }

    #[test]
    fn constructs_the_reference_frame() {
        let t = TcpTemplate::syn(MacAddr::new(2, 0, 0, 0, 0, 1), Ipv4Addr::new(198, 18, 0, 1), 64, 1024);
        let mut out = [0u8; 128];
        let n = t.write(&probe(), &mut out);
        assert_eq!(&out[..n], &SYN_FRAME[..]);
    }

    #[test]
    fn deconstructs_with_valid_checksums() {
        let eth = EthernetPacket::new(&SYN_FRAME).unwrap();
        let ip = Ipv4Packet::new(eth.payload()).unwrap();
        assert_eq!(ip.get_checksum(), ipv4::checksum(&ip));
        let tcp = TcpPacket::new(ip.payload()).unwrap();
        assert_eq!(tcp.get_checksum(), tcp::ipv4_checksum(&tcp, &ip.get_source(), &ip.get_destination()));
        assert_eq!(tcp.get_flags(), TcpFlags::SYN);
        assert_eq!(tcp.get_sequence(), 0x0102_0304);
    }

    #[test]
    fn patched_checksums_equal_full_recomputation() {
        let t = TcpTemplate::syn(MacAddr::new(2, 0, 0, 0, 0, 1), Ipv4Addr::new(198, 18, 0, 1), 53, 1024);
        let mut out = [0u8; FRAME_LEN];
        let mut x = 0x1234_5678u32;
        for _ in 0..10_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let p = Probe {
                dst_mac: MacAddr::zero(),
                dst: Ipv4Addr::from(x.rotate_left(7)),
                dport: (x >> 9) as u16,
                sport: (x >> 13) as u16,
                seq: x ^ 0xa5a5_5a5a,
                ip_id: (x >> 3) as u16,
            };
            t.write(&p, &mut out);
            let ip = Ipv4Packet::new(&out[ETH..]).unwrap();
            assert_eq!(ip.get_checksum(), ipv4::checksum(&ip));
            let tcp = TcpPacket::new(ip.payload()).unwrap();
            assert_eq!(tcp.get_checksum(), tcp::ipv4_checksum(&tcp, &ip.get_source(), &ip.get_destination()));
        }
    }

    #[test]
    fn ack_probes_carry_the_cookie_in_both_numbers() {
        let t = TcpTemplate::new(MacAddr::zero(), Ipv4Addr::new(198, 18, 0, 1), 64, 1024, TcpFlags::ACK | TcpFlags::FIN);
        let mut out = [0u8; FRAME_LEN];
        t.write(&probe(), &mut out);
        let ip = Ipv4Packet::new(&out[ETH..]).unwrap();
        let tcp = TcpPacket::new(ip.payload()).unwrap();
        assert_eq!(
            (tcp.get_sequence(), tcp.get_acknowledgement(), tcp.get_flags()),
            (0x0102_0304, 0x0102_0304, TcpFlags::ACK | TcpFlags::FIN)
        );
        assert_eq!(tcp.get_checksum(), tcp::ipv4_checksum(&tcp, &ip.get_source(), &ip.get_destination()));
        // without ACK the acknowledgement number stays zero
        let t = TcpTemplate::new(MacAddr::zero(), Ipv4Addr::new(198, 18, 0, 1), 64, 1024, TcpFlags::FIN);
        t.write(&probe(), &mut out);
        let ip = Ipv4Packet::new(&out[ETH..]).unwrap();
        assert_eq!(TcpPacket::new(ip.payload()).unwrap().get_acknowledgement(), 0);
    }
}
