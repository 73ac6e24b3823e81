//! ICMPv6 (RFC 4443) and Neighbor Discovery (RFC 4861) as the engine speaks them: echo
//! requests (nmap's -PE with -6) with the cookie and attempt in the identifier and sequence
//! number, as for IPv4 (icmp.rs); neighbour solicitations to a target's solicited-node
//! multicast address (nmap's ND ping, IPv6's ARP), and reading the advertisement that answers
//! one. Error types and codes are named here; reply.rs reads the errors' quotes.

use super::checksum::{add_bytes, finish};
use super::icmp::split;
use super::ipv6;
use pnet_base::MacAddr;
use std::net::Ipv6Addr;

pub const DEST_UNREACH: u8 = 1;
pub const PACKET_TOO_BIG: u8 = 2;
pub const TIME_EXCEEDED: u8 = 3;
pub const PARAM_PROBLEM: u8 = 4;
pub const ECHO_REQUEST: u8 = 128;
pub const ECHO_REPLY: u8 = 129;
pub const NEIGHBOR_SOLICITATION: u8 = 135;
pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;

/// Destination-unreachable codes (RFC 4443 section 3.1).
pub mod unreach {
    pub const NO_ROUTE: u8 = 0;
    pub const ADMIN_PROHIBITED: u8 = 1;
    pub const BEYOND_SCOPE: u8 = 2;
    pub const ADDRESS: u8 = 3;
    pub const PORT: u8 = 4;
    pub const SOURCE_POLICY: u8 = 5;
    pub const REJECT_ROUTE: u8 = 6;
}

const ETH: usize = 14;
const IP: usize = ipv6::HEADER_LEN;
/// Neighbour discovery messages travel with hop limit 255 and are refused otherwise
/// (RFC 4861 section 7.1.1): proof that they come from the link itself.
pub const ND_HOP_LIMIT: u8 = 255;
/// NS: type, code, checksum, reserved (8), target (16), source link-layer option (8).
const NS_LEN: usize = 32;
pub const NS_FRAME_LEN: usize = ETH + IP + NS_LEN;
/// Echo request: type, code, checksum, identifier, sequence; no data.
const ECHO_LEN: usize = 8;
pub const ECHO_FRAME_LEN: usize = ETH + IP + ECHO_LEN;

/// The solicited-node multicast address of `a`: ff02::1:ff00:0/104 plus its low 24 bits.
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from(0xff02_0000_0000_0000_0000_0001_ff00_0000u128 | (u128::from(a) & 0xff_ffff))
}

/// The Ethernet multicast address of an IPv6 multicast address: 33:33 and its low 32 bits (RFC 2464).
pub fn multicast_mac(a: Ipv6Addr) -> MacAddr {
    let o = a.octets();
    MacAddr::new(0x33, 0x33, o[12], o[13], o[14], o[15])
}

/// Writes an ICMPv6 message's checksum (bytes 2..4 of `msg`), given the addresses around it.
fn set_checksum(msg: &mut [u8], src: &Ipv6Addr, dst: &Ipv6Addr) {
    msg[2..4].copy_from_slice(&[0, 0]);
    let sum = add_bytes(ipv6::pseudo_sum(src, dst, msg.len() as u32, ipv6::next::ICMPV6), msg);
    msg[2..4].copy_from_slice(&finish(sum).to_be_bytes());
}

/// A neighbour solicitation for `target` from `src`/`src_mac`, to the target's
/// solicited-node group, with our link-layer address so the answer needs no lookup.
pub fn solicitation(src_mac: MacAddr, src: Ipv6Addr, target: Ipv6Addr) -> [u8; NS_FRAME_LEN] {
    let mut f = [0u8; NS_FRAME_LEN];
    let group = solicited_node(target);
    f[0..6].copy_from_slice(&multicast_mac(group).octets());
    f[6..12].copy_from_slice(&src_mac.octets());
    f[12..14].copy_from_slice(&ipv6::ETHERTYPE.to_be_bytes());
    ipv6::write_header(&mut f[ETH..], NS_LEN as u16, ipv6::next::ICMPV6, ND_HOP_LIMIT, &src, &group);
    let m = &mut f[ETH + IP..];
    m[0] = NEIGHBOR_SOLICITATION;
    m[8..24].copy_from_slice(&target.octets());
    // option 1 (source link-layer address), length 1 (× 8 bytes)
    m[24] = 1;
    m[25] = 1;
    m[26..32].copy_from_slice(&src_mac.octets());
    set_checksum(m, &src, &group);
    f
}

/// ICMPv6 echo requests from one source.
#[derive(Clone, Debug)]
pub struct Echo6Template {
    src_mac: MacAddr,
    src: Ipv6Addr,
    hop_limit: u8,
}

impl Echo6Template {
    pub fn new(src_mac: MacAddr, src: Ipv6Addr, hop_limit: u8) -> Self {
        Self { src_mac, src, hop_limit }
    }

    /// Writes the frame into `out`; `value` (cookie + attempt) rides in the identifier and
    /// sequence number, which the reply echoes and an error quotes. Returns its length.
    pub fn write(&self, dst_mac: MacAddr, dst: Ipv6Addr, value: u32, out: &mut [u8]) -> usize {
        let out = &mut out[..ECHO_FRAME_LEN];
        out[0..6].copy_from_slice(&dst_mac.octets());
        out[6..12].copy_from_slice(&self.src_mac.octets());
        out[12..14].copy_from_slice(&ipv6::ETHERTYPE.to_be_bytes());
        ipv6::write_header(&mut out[ETH..], ECHO_LEN as u16, ipv6::next::ICMPV6, self.hop_limit, &self.src, &dst);
        let m = &mut out[ETH + IP..];
        m.fill(0);
        m[0] = ECHO_REQUEST;
        let (ident, seq) = split(value);
        m[4..6].copy_from_slice(&ident.to_be_bytes());
        m[6..8].copy_from_slice(&seq.to_be_bytes());
        set_checksum(m, &self.src, &dst);
        ECHO_FRAME_LEN
    }
}

/// A neighbour advertisement: who advertises which address, with which link-layer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advertisement {
    /// The IPv6 destination it was sent to (ours, when it answers our solicitation).
    pub to: Ipv6Addr,
    pub target: Ipv6Addr,
    /// From the target link-layer address option; None when the option is absent.
    pub mac: Option<MacAddr>,
}

/// Reads a neighbour advertisement from an ICMPv6 message (`msg`) of a datagram with hop
/// limit `hop_limit` sent to `to`; None unless it is a well-formed one from the link.
pub fn parse_advertisement(msg: &[u8], hop_limit: u8, to: Ipv6Addr) -> Option<Advertisement> {
    if msg.len() < 24 || msg[0] != NEIGHBOR_ADVERTISEMENT || msg[1] != 0 || hop_limit != ND_HOP_LIMIT {
        return None;
    }
    let target = Ipv6Addr::from(<[u8; 16]>::try_from(&msg[8..24]).ok()?);
    let mut mac = None;
    let mut opts = &msg[24..];
    while opts.len() >= 8 {
        let len = opts[1] as usize * 8;
        if len == 0 || len > opts.len() {
            break; // a zero-length option is invalid (RFC 4861 section 4.6): stop reading
        }
        if opts[0] == 2 && len >= 8 {
            mac = Some(MacAddr::new(opts[2], opts[3], opts[4], opts[5], opts[6], opts[7]));
        }
        opts = &opts[len..];
    }
    Some(Advertisement { to, target, mac })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet_packet::icmpv6::{self, Icmpv6Packet};
    use pnet_packet::ipv6::Ipv6Packet;
    use pnet_packet::Packet;

    const ME: &str = "2001:2::1";
    const TARGET: &str = "2001:2::2";

    #[test]
    fn solicited_node_group_and_its_mac() {
        let t: Ipv6Addr = "2001:2::12:3456".parse().unwrap();
        assert_eq!(solicited_node(t).to_string(), "ff02::1:ff12:3456");
        assert_eq!(multicast_mac(solicited_node(t)), MacAddr::new(0x33, 0x33, 0xff, 0x12, 0x34, 0x56));
    }

    #[test]
    fn builds_a_valid_solicitation() {
        let me = MacAddr::new(2, 0, 0, 0, 0, 1);
        let f = solicitation(me, ME.parse().unwrap(), TARGET.parse().unwrap());
        assert_eq!(&f[0..6], &[0x33, 0x33, 0xff, 0, 0, 2]);
        let ip = Ipv6Packet::new(&f[14..]).unwrap();
        assert_eq!((ip.get_hop_limit(), ip.get_destination().to_string()), (255, "ff02::1:ff00:2".to_string()));
        let m = Icmpv6Packet::new(ip.payload()).unwrap();
        assert_eq!(m.get_checksum(), icmpv6::checksum(&m, &ip.get_source(), &ip.get_destination()));
        assert_eq!(m.get_icmpv6_type().0, NEIGHBOR_SOLICITATION);
        assert_eq!(&ip.payload()[8..24], &TARGET.parse::<Ipv6Addr>().unwrap().octets());
        assert_eq!(&ip.payload()[24..32], &[1, 1, 2, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn builds_a_valid_echo_request() {
        let t = Echo6Template::new(MacAddr::new(2, 0, 0, 0, 0, 1), ME.parse().unwrap(), 64);
        let mut out = [0u8; 128];
        let n = t.write(MacAddr::new(2, 0, 0, 0, 0, 2), TARGET.parse().unwrap(), 0xdead_beef, &mut out);
        assert_eq!(n, ECHO_FRAME_LEN);
        let ip = Ipv6Packet::new(&out[14..n]).unwrap();
        let m = Icmpv6Packet::new(ip.payload()).unwrap();
        assert_eq!(m.get_checksum(), icmpv6::checksum(&m, &ip.get_source(), &ip.get_destination()));
        assert_eq!(m.get_icmpv6_type().0, ECHO_REQUEST);
        assert_eq!(&ip.payload()[4..8], &[0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn reads_an_advertisement() {
        // as Linux answers: flags S and O, target, target link-layer address option
        let mut m = vec![NEIGHBOR_ADVERTISEMENT, 0, 0, 0, 0x60, 0, 0, 0];
        m.extend_from_slice(&TARGET.parse::<Ipv6Addr>().unwrap().octets());
        m.extend_from_slice(&[2, 1, 2, 0, 0, 0, 0, 2]);
        let me: Ipv6Addr = ME.parse().unwrap();
        let a = parse_advertisement(&m, 255, me).unwrap();
        assert_eq!((a.target.to_string(), a.mac, a.to), (TARGET.to_string(), Some(MacAddr::new(2, 0, 0, 0, 0, 2)), me));
        assert_eq!(parse_advertisement(&m, 64, me), None, "not from the link");
        assert_eq!(parse_advertisement(&m[..20], 255, me), None);
        // without the option, and with a zero-length option: still an advertisement, no MAC
        assert_eq!(parse_advertisement(&m[..24], 255, me).unwrap().mac, None);
        let mut bad = m.clone();
        bad[25] = 0;
        assert_eq!(parse_advertisement(&bad, 255, me).unwrap().mac, None);
        let mut sol = m;
        sol[0] = NEIGHBOR_SOLICITATION;
        assert_eq!(parse_advertisement(&sol, 255, me), None);
    }
}
