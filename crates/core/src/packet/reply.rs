//! Parses a received Ethernet frame into the facts of a possible reply: a TCP segment, a UDP
//! datagram, an echo reply, an ARP reply or neighbour advertisement, or an ICMP/ICMPv6 error
//! quoting one of our probes. IPv4 and IPv6 (extension headers walked, in the frame and in
//! an error's quote) give the same facts. Validation against the cookie happens in the
//! caller; this only reads, and never panics on short or malformed input.

use super::icmp6;
use super::ipv6;
use pnet_packet::ethernet::{EtherTypes, EthernetPacket};
use pnet_packet::icmp::IcmpPacket;
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::tcp::TcpPacket;
use pnet_packet::Packet;
use std::net::{IpAddr, Ipv6Addr};

/// The 4-tuple of the probe a reply refers to, seen from the prober.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeTuple {
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A TCP segment; which of seq/ack echoes the probe depends on the probe's flags.
    Tcp { probe: ProbeTuple, seq: u32, ack: u32, flags: u8, window: u16, ttl: u8 },
    /// A UDP datagram from the probed port; `len` is its payload length.
    Udp { probe: ProbeTuple, len: u16, ttl: u8 },
    /// An echo or timestamp reply to one of our ICMP probes (identifier and sequence joined).
    IcmpReply { probe: ProbeTuple, icmp_type: u8, echoed: u32, ttl: u8 },
    /// An ARP reply (discovery on the local link).
    Arp(super::arp::ArpReply),
    /// A neighbour advertisement (IPv6 discovery on the local link).
    Ndp(icmp6::Advertisement),
    /// An ICMP or ICMPv6 error quoting our probe: the quoted protocol (1 or 58, 6 or 17) and
    /// what it echoes: for TCP the sequence number, for ICMP the identifier and sequence
    /// joined. `ttl` is the error's own TTL or hop limit.
    Icmp { probe: ProbeTuple, quoted_proto: u8, quoted_seq: u32, icmp_type: u8, icmp_code: u8, ttl: u8, responder: IpAddr },
}

/// Reads a frame that starts with an Ethernet header.
pub fn parse_frame(frame: &[u8]) -> Option<Reply> {
    let eth = EthernetPacket::new(frame)?;
    if eth.get_ethertype() == EtherTypes::Arp {
        return super::arp::parse_reply_full(frame).map(Reply::Arp);
    }
    if eth.get_ethertype() == EtherTypes::Ipv6 {
        return parse_ipv6(eth.payload());
    }
    if eth.get_ethertype() != EtherTypes::Ipv4 {
        return None;
    }
    parse_ipv4(eth.payload())
}

/// The ports and the echoed number (TCP's sequence number, ICMP's identifier and sequence)
/// of a transport header's first 8 bytes, as an error quotes them.
fn quoted_tuple(proto: u8, qt: &[u8], icmp_proto: u8) -> (u16, u16, u32) {
    let seq = u32::from_be_bytes([qt[4], qt[5], qt[6], qt[7]]);
    if proto == icmp_proto {
        (0, 0, seq)
    } else {
        (u16::from_be_bytes([qt[0], qt[1]]), u16::from_be_bytes([qt[2], qt[3]]), seq)
    }
}

/// Reads an IPv6 datagram (the frame's payload).
pub fn parse_ipv6(raw: &[u8]) -> Option<Reply> {
    let d = ipv6::parse(raw)?;
    if d.later_fragment {
        return None;
    }
    let (src, dst, ttl) = (IpAddr::V6(d.src), IpAddr::V6(d.dst), d.hop_limit);
    let p = d.payload;
    match d.proto {
        ipv6::next::TCP => {
            let tcp = TcpPacket::new(p)?;
            Some(Reply::Tcp {
                probe: ProbeTuple { src: dst, sport: tcp.get_destination(), dst: src, dport: tcp.get_source() },
                seq: tcp.get_sequence(),
                ack: tcp.get_acknowledgement(),
                flags: tcp.get_flags(),
                window: tcp.get_window(),
                ttl,
            })
        }
        ipv6::next::UDP => {
            let u = p.get(..8)?;
            let len = u16::from_be_bytes([u[4], u[5]]);
            Some(Reply::Udp {
                probe: ProbeTuple { src: dst, sport: u16::from_be_bytes([u[2], u[3]]), dst: src, dport: u16::from_be_bytes([u[0], u[1]]) },
                len: len.saturating_sub(8),
                ttl,
            })
        }
        ipv6::next::ICMPV6 => parse_icmp6(p, src, d.dst, ttl),
        _ => None,
    }
}

/// Reads an ICMPv6 message from `src` to `to`.
fn parse_icmp6(m: &[u8], src: IpAddr, to: Ipv6Addr, ttl: u8) -> Option<Reply> {
    let (t, c) = (*m.first()?, *m.get(1)?);
    match t {
        icmp6::ECHO_REPLY => {
            let h = m.get(4..8)?;
            Some(Reply::IcmpReply {
                probe: ProbeTuple { src: IpAddr::V6(to), sport: 0, dst: src, dport: 0 },
                icmp_type: t,
                echoed: super::icmp::join(u16::from_be_bytes([h[0], h[1]]), u16::from_be_bytes([h[2], h[3]])),
                ttl,
            })
        }
        icmp6::NEIGHBOR_ADVERTISEMENT => icmp6::parse_advertisement(m, ttl, to).map(Reply::Ndp),
        // errors: 4 bytes (unused, MTU or pointer), then as much of our datagram as fits
        icmp6::DEST_UNREACH | icmp6::PACKET_TOO_BIG | icmp6::TIME_EXCEEDED | icmp6::PARAM_PROBLEM => {
            let q = ipv6::parse(m.get(8..)?)?;
            let known = [ipv6::next::TCP, ipv6::next::UDP, ipv6::next::ICMPV6];
            if q.later_fragment || !known.contains(&q.proto) {
                return None;
            }
            // the quote must reach the sequence number (TCP) or identifier and sequence (ICMPv6)
            let qt = q.payload.get(..8)?;
            let (sport, dport, quoted_seq) = quoted_tuple(q.proto, qt, ipv6::next::ICMPV6);
            Some(Reply::Icmp {
                probe: ProbeTuple { src: IpAddr::V6(q.src), sport, dst: IpAddr::V6(q.dst), dport },
                quoted_proto: q.proto,
                quoted_seq,
                icmp_type: t,
                icmp_code: c,
                ttl,
                responder: src,
            })
        }
        _ => None,
    }
}

/// The IPv4 header's payload, bounded by the header's own lengths (frames may be padded).
fn ip_payload<'a>(ip: &Ipv4Packet<'a>, raw: &'a [u8]) -> Option<&'a [u8]> {
    let hl = ip.get_header_length() as usize * 4;
    let total = (ip.get_total_length() as usize).min(raw.len());
    if ip.get_version() != 4 || hl < 20 || total < hl {
        return None;
    }
    Some(&raw[hl..total])
}

pub fn parse_ipv4(raw: &[u8]) -> Option<Reply> {
    let ip = Ipv4Packet::new(raw)?;
    let payload = ip_payload(&ip, raw)?;
    // a fragment other than the first carries no transport header
    if ip.get_fragment_offset() != 0 {
        return None;
    }
    match ip.get_next_level_protocol() {
        IpNextHeaderProtocols::Tcp => {
            let tcp = TcpPacket::new(payload)?;
            Some(Reply::Tcp {
                probe: ProbeTuple {
                    src: ip.get_destination().into(),
                    sport: tcp.get_destination(),
                    dst: ip.get_source().into(),
                    dport: tcp.get_source(),
                },
                seq: tcp.get_sequence(),
                ack: tcp.get_acknowledgement(),
                flags: tcp.get_flags(),
                window: tcp.get_window(),
                ttl: ip.get_ttl(),
            })
        }
        IpNextHeaderProtocols::Udp => {
            let u = payload.get(..8)?;
            let len = u16::from_be_bytes([u[4], u[5]]);
            Some(Reply::Udp {
                probe: ProbeTuple {
                    src: ip.get_destination().into(),
                    sport: u16::from_be_bytes([u[2], u[3]]),
                    dst: ip.get_source().into(),
                    dport: u16::from_be_bytes([u[0], u[1]]),
                },
                len: len.saturating_sub(8),
                ttl: ip.get_ttl(),
            })
        }
        IpNextHeaderProtocols::Icmp => {
            let icmp = IcmpPacket::new(payload)?;
            let (t, c) = (icmp.get_icmp_type().0, icmp.get_icmp_code().0);
            if t == super::icmp::ECHO_REPLY || t == super::icmp::TIMESTAMP_REPLY || t == super::icmp::MASK_REPLY {
                let h = payload.get(4..8)?;
                return Some(Reply::IcmpReply {
                    probe: ProbeTuple { src: ip.get_destination().into(), sport: 0, dst: ip.get_source().into(), dport: 0 },
                    icmp_type: t,
                    echoed: super::icmp::join(u16::from_be_bytes([h[0], h[1]]), u16::from_be_bytes([h[2], h[3]])),
                    ttl: ip.get_ttl(),
                });
            }
            // destination unreachable, time exceeded: 4 unused bytes, then the quoted datagram
            if t != 3 && t != 11 {
                return None;
            }
            let quoted = payload.get(8..)?;
            let qip = Ipv4Packet::new(quoted)?;
            let qhl = qip.get_header_length() as usize * 4;
            let qproto = qip.get_next_level_protocol();
            let known = [IpNextHeaderProtocols::Tcp, IpNextHeaderProtocols::Udp, IpNextHeaderProtocols::Icmp];
            if qip.get_version() != 4 || qhl < 20 || !known.contains(&qproto) {
                return None;
            }
            // RFC 792 promises 8 bytes of the quoted transport header: ports and seq fit
            let qt = quoted.get(qhl..qhl + 8)?;
            // TCP: the sequence number; ICMP: identifier and sequence; UDP: unused
            let (sport, dport, quoted_seq) = quoted_tuple(qproto.0, qt, IpNextHeaderProtocols::Icmp.0);
            Some(Reply::Icmp {
                probe: ProbeTuple { src: qip.get_source().into(), sport, dst: qip.get_destination().into(), dport },
                quoted_proto: qproto.0,
                quoted_seq,
                icmp_type: t,
                icmp_code: c,
                ttl: ip.get_ttl(),
                responder: ip.get_source().into(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    /// A SYN/ACK from 198.18.0.2:22 to 198.18.0.1:40000, ack 0x01020305, TTL 64, window
    /// 64240, with MSS option; as Linux sends it.
    static SYN_ACK: [u8; 58] = [
        0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, //
        0x45, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, //
        198, 18, 0, 2, 198, 18, 0, 1, //
        0x00, 0x16, 0x9c, 0x40, 0xaa, 0xbb, 0xcc, 0xdd, 0x01, 0x02, 0x03, 0x05, //
        0x60, 0x12, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00, //
        0x02, 0x04, 0x05, 0xb4,
    ];

    /// ICMP port unreachable (3/3) from 198.18.0.2 quoting our SYN to port 113, plus
    /// Ethernet padding after the IP datagram.
    fn icmp_unreach(code: u8) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0xc0, 0x00, 0x38, 0, 0, 0, 0, 0x40, 0x01, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]);
        f.extend_from_slice(&[3, code, 0, 0, 0, 0, 0, 0]);
        f.extend_from_slice(&[0x45, 0, 0, 0x2c, 0x05, 0x06, 0, 0, 0x3f, 0x06, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2]);
        f.extend_from_slice(&[0x9c, 0x40, 0x00, 0x71, 0x01, 0x02, 0x03, 0x04]);
        f.extend_from_slice(&[0; 6]);
        f
    }

    #[test]
    fn deconstructs_a_syn_ack() {
        let r = parse_frame(&SYN_ACK).unwrap();
        assert_eq!(
            r,
            Reply::Tcp {
                probe: ProbeTuple { src: v4(198, 18, 0, 1), sport: 40000, dst: v4(198, 18, 0, 2), dport: 22 },
                seq: 0xaabb_ccdd,
                ack: 0x0102_0305,
                flags: 0x12,
                window: 0xfaf0,
                ttl: 64,
            }
        );
    }

    #[test]
    fn deconstructs_an_icmp_error_quoting_the_probe() {
        let r = parse_frame(&icmp_unreach(13)).unwrap();
        assert_eq!(
            r,
            Reply::Icmp {
                probe: ProbeTuple { src: v4(198, 18, 0, 1), sport: 40000, dst: v4(198, 18, 0, 2), dport: 113 },
                quoted_proto: 6,
                quoted_seq: 0x0102_0304,
                icmp_type: 3,
                icmp_code: 13,
                ttl: 64,
                responder: v4(198, 18, 0, 2),
            }
        );
    }

    #[test]
    fn truncated_input_never_panics_and_yields_nothing() {
        for n in 0..SYN_ACK.len() - 4 {
            // cut inside the TCP header or earlier: no reply (the IP total length claims more)
            let _ = parse_frame(&SYN_ACK[..n]);
        }
        assert_eq!(parse_frame(&SYN_ACK[..14 + 20 + 10]), None);
        let icmp = icmp_unreach(3);
        for n in 0..icmp.len() {
            let _ = parse_frame(&icmp[..n]);
        }
        // quoted header cut before the sequence number
        assert_eq!(parse_frame(&icmp[..14 + 20 + 8 + 20 + 6]), None);
    }

    #[test]
    fn ignores_other_protocols_and_icmp_types() {
        let mut arp = SYN_ACK;
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(parse_frame(&arp), None);
        // a redirect and an echo request are neither replies to us nor errors quoting probes
        for t in [5u8, 8] {
            let mut other = icmp_unreach(3);
            other[14 + 20] = t;
            assert_eq!(parse_frame(&other), None);
        }
    }

    #[test]
    fn deconstructs_a_udp_reply_and_an_icmp_error_quoting_udp() {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0, 0, 33, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]);
        f.extend_from_slice(&[0, 53, 0x80, 0x10, 0, 13, 0, 0, 1, 2, 3, 4, 5]);
        assert_eq!(
            parse_frame(&f),
            Some(Reply::Udp {
                probe: ProbeTuple { src: v4(198, 18, 0, 1), sport: 0x8010, dst: v4(198, 18, 0, 2), dport: 53 },
                len: 5,
                ttl: 64
            })
        );
        assert_eq!(parse_frame(&f[..14 + 20 + 7]), None, "a truncated UDP header is nothing");
        let mut icmp = icmp_unreach(3);
        icmp[14 + 20 + 8 + 9] = 17;
        match parse_frame(&icmp) {
            Some(Reply::Icmp { quoted_proto: 17, probe, .. }) => assert_eq!((probe.sport, probe.dport), (40000, 113)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deconstructs_echo_replies_and_arp_replies() {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 63, 1, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]);
        f.extend_from_slice(&[0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(
            parse_frame(&f),
            Some(Reply::IcmpReply {
                probe: ProbeTuple { src: v4(198, 18, 0, 1), sport: 0, dst: v4(198, 18, 0, 2), dport: 0 },
                icmp_type: 0,
                echoed: 0xdead_beef,
                ttl: 63
            })
        );
        let req = crate::packet::arp::request(
            pnet_base::MacAddr::new(2, 0, 0, 0, 0, 1),
            Ipv4Addr::new(198, 18, 0, 1),
            Ipv4Addr::new(198, 18, 0, 2),
        );
        assert_eq!(parse_frame(&req), None, "a request is not a reply");
        let mut rep = req;
        rep[21] = 2;
        rep[22..28].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        rep[28..32].copy_from_slice(&[198, 18, 0, 2]);
        rep[32..38].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        rep[38..42].copy_from_slice(&[198, 18, 0, 1]);
        match parse_frame(&rep) {
            Some(Reply::Arp(a)) => assert_eq!((a.sender, a.target), (Ipv4Addr::new(198, 18, 0, 2), Ipv4Addr::new(198, 18, 0, 1))),
            other => panic!("{other:?}"),
        }
    }
}

/// IPv6 replies as Linux sent them in the IPv6 lab (scripts/lab6.sh), captured with tcpdump:
/// real frames, whole, from the target's veth to the scanner's.
#[cfg(test)]
mod tests6 {
    use super::*;

    /// IP6 2001:2::2 > 2001:2::1: ICMP6, destination unreachable, unreachable address 2001:2::2, length 72
    static UNREACH_ADDR_TCP: [u8; 126] = [
        0x0e, 0xb8, 0xb7, 0xa2, 0xe2, 0xa4, 0x42, 0x40, 0xf9, 0x36, 0xea, 0x55, 0x86, 0xdd, // ethernet
        0x60, 0x07, 0x24, 0x7e, 0x00, 0x48, 0x3a, 0x40, // IPv6: version, flow, length, next header, hop limit
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // source
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // destination
        0x01, 0x03, 0x58, 0x37, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x06, 0x40, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x02, 0x95, 0x19, 0x00, 0x15, 0x65, 0x03, 0x0c, 0xa2, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0x04, 0x00, 0x4d, 0x5e,
        0x00, 0x00, 0x02, 0x04, 0x05, 0xa0,
    ];
    /// IP6 2001:2::2 > 2001:2::1: ICMP6, destination unreachable,  unreachable prohibited 2001:2::2, length 72
    static UNREACH_ADMIN_TCP: [u8; 126] = [
        0x0e, 0xb8, 0xb7, 0xa2, 0xe2, 0xa4, 0x42, 0x40, 0xf9, 0x36, 0xea, 0x55, 0x86, 0xdd, // ethernet
        0x60, 0x00, 0xed, 0x04, 0x00, 0x48, 0x3a, 0x40, // IPv6: version, flow, length, next header, hop limit
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // source
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // destination
        0x01, 0x01, 0x58, 0x39, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x06, 0x40, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x02, 0x95, 0x19, 0x01, 0xbd, 0x3f, 0xd7, 0xca, 0x9d, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0x04, 0x00, 0xb2, 0xe6,
        0x00, 0x00, 0x02, 0x04, 0x05, 0xa0,
    ];
    /// IP6 2001:2::2.22 > 2001:2::1.38169: Flags [S.], seq 4136662014, ack 1228250637, win 64800, options [mss 1440], length 0
    static SYN_ACK6: [u8; 78] = [
        0x0e, 0xb8, 0xb7, 0xa2, 0xe2, 0xa4, 0x42, 0x40, 0xf9, 0x36, 0xea, 0x55, 0x86, 0xdd, // ethernet
        0x60, 0x06, 0x11, 0x10, 0x00, 0x18, 0x06, 0x40, // IPv6: version, flow, length, next header, hop limit
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // source
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // destination
        0x00, 0x16, 0x95, 0x19, 0xf6, 0x90, 0x73, 0xfe, 0x49, 0x35, 0x9e, 0x0d, 0x60, 0x12, 0xfd, 0x20, 0x40, 0x27, 0x00, 0x00, 0x02, 0x04,
        0x05, 0xa0,
    ];
    /// IP6 2001:2:0:1::7.80 > 2001:2::1.42179: Flags [S.], seq 1183880010, ack 4032740596, win 64800, options [mss 1440], lengt
    static SYN_ACK6_ANYIP: [u8; 78] = [
        0x0e, 0xb8, 0xb7, 0xa2, 0xe2, 0xa4, 0x42, 0x40, 0xf9, 0x36, 0xea, 0x55, 0x86, 0xdd, // ethernet
        0x60, 0x0f, 0x41, 0xba, 0x00, 0x18, 0x06, 0x40, // IPv6: version, flow, length, next header, hop limit
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, // source
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // destination
        0x00, 0x50, 0xa4, 0xc3, 0x46, 0x90, 0x93, 0x4a, 0xf0, 0x5e, 0xbc, 0xf4, 0x60, 0x12, 0xfd, 0x20, 0x40, 0x2d, 0x00, 0x00, 0x02, 0x04,
        0x05, 0xa0,
    ];
    /// IP6 2001:2::2 > 2001:2::1: ICMP6, destination unreachable, unreachable port, 2001:2::2 udp port 111, length 96
    static UNREACH_PORT_UDP: [u8; 150] = [
        0x0e, 0xb8, 0xb7, 0xa2, 0xe2, 0xa4, 0x42, 0x40, 0xf9, 0x36, 0xea, 0x55, 0x86, 0xdd, // ethernet
        0x60, 0x05, 0x7b, 0xbf, 0x00, 0x60, 0x3a, 0x40, // IPv6: version, flow, length, next header, hop limit
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // source
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // destination
        0x01, 0x04, 0x4d, 0x29, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x30, 0x11, 0x40, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x02, 0xb3, 0x2e, 0x00, 0x6f, 0x00, 0x30, 0x5d, 0xb5, 0x72, 0xfe, 0x1d, 0x13, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x02, 0x00, 0x01, 0x86, 0xa0, 0x00, 0x01, 0x97, 0x7c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    /// IP6 2001:2::2 > 2001:2::1: ICMP6, neighbor advertisement, tgt is 2001:2::2, length 32
    static NEIGHBOR_ADVERT: [u8; 86] = [
        0x0e, 0xb8, 0xb7, 0xa2, 0xe2, 0xa4, 0x42, 0x40, 0xf9, 0x36, 0xea, 0x55, 0x86, 0xdd, // ethernet
        0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, // IPv6: version, flow, length, next header, hop limit
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // source
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // destination
        0x88, 0x00, 0x8f, 0xc8, 0x60, 0x00, 0x00, 0x00, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x02, 0x02, 0x01, 0x42, 0x40, 0xf9, 0x36, 0xea, 0x55,
    ];
    /// IP6 2001:2::2 > 2001:2::1: ICMP6, echo reply, id 31866, seq 10261, length 8
    static ECHO_REPLY6: [u8; 62] = [
        0x0e, 0xb8, 0xb7, 0xa2, 0xe2, 0xa4, 0x42, 0x40, 0xf9, 0x36, 0xea, 0x55, 0x86, 0xdd, // ethernet
        0x60, 0x05, 0xcb, 0x87, 0x00, 0x08, 0x3a, 0x40, // IPv6: version, flow, length, next header, hop limit
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // source
        0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // destination
        0x81, 0x00, 0x9a, 0x24, 0x7c, 0x7a, 0x28, 0x15,
    ];

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn deconstructs_ipv6_tcp_replies() {
        assert_eq!(
            parse_frame(&SYN_ACK6),
            Some(Reply::Tcp {
                probe: ProbeTuple { src: a("2001:2::1"), sport: 0x9519, dst: a("2001:2::2"), dport: 22 },
                seq: 0xf690_73fe,
                ack: 0x4935_9e0d,
                flags: 0x12,
                window: 0xfd20,
                ttl: 64,
            })
        );
        // from an address of the target's local route (AnyIP)
        match parse_frame(&SYN_ACK6_ANYIP) {
            Some(Reply::Tcp { probe, flags: 0x12, .. }) => assert_eq!((probe.dst, probe.dport), (a("2001:2:0:1::7"), 80)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deconstructs_icmpv6_errors_quoting_our_probes() {
        let want = |code: u8, dport: u16, seq: u32| Reply::Icmp {
            probe: ProbeTuple { src: a("2001:2::1"), sport: 0x9519, dst: a("2001:2::2"), dport },
            quoted_proto: 6,
            quoted_seq: seq,
            icmp_type: 1,
            icmp_code: code,
            ttl: 64,
            responder: a("2001:2::2"),
        };
        assert_eq!(parse_frame(&UNREACH_ADDR_TCP), Some(want(3, 21, 0x6503_0ca2)), "address unreachable");
        assert_eq!(parse_frame(&UNREACH_ADMIN_TCP), Some(want(1, 445, 0x3fd7_ca9d)), "administratively prohibited");
        match parse_frame(&UNREACH_PORT_UDP) {
            Some(Reply::Icmp { probe, quoted_proto: 17, icmp_type: 1, icmp_code: 4, .. }) => {
                assert_eq!((probe.sport, probe.dport), (0xb32e, 111))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deconstructs_echo_replies_and_advertisements() {
        assert_eq!(
            parse_frame(&ECHO_REPLY6),
            Some(Reply::IcmpReply {
                probe: ProbeTuple { src: a("2001:2::1"), sport: 0, dst: a("2001:2::2"), dport: 0 },
                icmp_type: 129,
                echoed: 0x7c7a_2815,
                ttl: 64
            })
        );
        assert_eq!(
            parse_frame(&NEIGHBOR_ADVERT),
            Some(Reply::Ndp(icmp6::Advertisement {
                to: "2001:2::1".parse().unwrap(),
                target: "2001:2::2".parse().unwrap(),
                mac: Some(pnet_base::MacAddr::new(0x42, 0x40, 0xf9, 0x36, 0xea, 0x55)),
            }))
        );
    }

    /// `frame` with `ext` inserted after the IPv6 header that starts at `ip` (the header's next
    /// header moved into the extension's first byte) and the payload lengths of that header
    /// and of every `outer` header before it grown to match.
    fn with_extension(frame: &[u8], ip: usize, outer: &[usize], ext: &[u8]) -> Vec<u8> {
        let mut f = frame.to_vec();
        let mut e = ext.to_vec();
        e[0] = f[ip + 6];
        f[ip + 6] = ext[0];
        for at in outer.iter().chain([&ip]) {
            let len = u16::from_be_bytes([f[at + 4], f[at + 5]]) + e.len() as u16;
            f[at + 4..at + 6].copy_from_slice(&len.to_be_bytes());
        }
        f.splice(ip + 40..ip + 40, e);
        f
    }

    #[test]
    fn walks_extension_headers_in_frames_and_quotes() {
        // Hop-by-Hop (PadN), then Destination Options (PadN): the segment is still read
        let hbh = [ipv6::next::HOP_BY_HOP, 0, 1, 4, 0, 0, 0, 0];
        let dst = [ipv6::next::DEST_OPTIONS, 0, 1, 4, 0, 0, 0, 0];
        let f = with_extension(&SYN_ACK6, 14, &[], &dst);
        let f = with_extension(&f, 14, &[], &hbh);
        assert_eq!(f[14 + 6], ipv6::next::HOP_BY_HOP);
        assert_eq!(parse_frame(&f), parse_frame(&SYN_ACK6));
        // a first fragment quoted in an error (offset 0, more fragments): read through it
        let frag = [ipv6::next::FRAGMENT, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef];
        let q = with_extension(&UNREACH_ADMIN_TCP, 14 + 40 + 8, &[14], &frag);
        assert_eq!(parse_frame(&q), parse_frame(&UNREACH_ADMIN_TCP));
        // a later fragment carries no transport header: nothing
        let later = [ipv6::next::FRAGMENT, 0, 0x00, 0x08, 0, 0, 0, 1];
        assert_eq!(parse_frame(&with_extension(&SYN_ACK6, 14, &[], &later)), None);
        assert_eq!(parse_frame(&with_extension(&UNREACH_ADMIN_TCP, 14 + 40 + 8, &[14], &later)), None);
    }

    #[test]
    fn truncated_ipv6_input_never_panics() {
        for frame in [&SYN_ACK6[..], &UNREACH_ADDR_TCP, &UNREACH_PORT_UDP, &NEIGHBOR_ADVERT, &ECHO_REPLY6] {
            for n in 0..frame.len() {
                let _ = parse_frame(&frame[..n]);
            }
        }
        // the quote cut before the sequence number: nothing to validate, no reply
        let mut cut = UNREACH_ADDR_TCP[..14 + 40 + 8 + 40 + 6].to_vec();
        let len = (cut.len() - 54) as u16;
        cut[18..20].copy_from_slice(&len.to_be_bytes());
        assert_eq!(parse_frame(&cut), None);
        // an ICMPv6 type that is neither a reply nor an error: a router advertisement
        let mut ra = ECHO_REPLY6;
        ra[54] = 134;
        assert_eq!(parse_frame(&ra), None);
    }
}
