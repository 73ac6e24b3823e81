//! The fixed-size record that carries one reply from the engine to its consumer
//! (the N-API binding packs them into Buffers; ts/engine/records.ts decodes them).
//!
//! Layout version 2, little-endian, `RECORD_SIZE` (64) bytes, one layout for both families:
//! ```text
//! off len field
//!   0   1 kind: 1 = TCP reply, 2 = ICMP/ICMPv6 error quoting our probe (or an echo reply),
//!           3 = UDP reply, 4 = connect() outcome, 5 = probe sent (--packet-trace),
//!           6 = ARP reply, 7 = NDP neighbour advertisement
//!   1   1 TCP flags of the reply (kind 1)
//!   2   1 TTL (IPv4) or hop limit (IPv6) of the reply's IP header
//!   3   1 ICMP or ICMPv6 type (kind 2)
//!   4   1 ICMP or ICMPv6 code (kind 2)
//!   5   1 address family: 4 or 6; says how to read both address fields
//!   6   2 target port probed
//!   8   2 TCP window (kind 1); UDP payload length (kind 3); errno (kind 4, 0 = connected)
//!  10   1 technique: 1 SYN, 2 ACK, 3 FIN, 4 NULL, 5 Xmas, 6 Window, 7 Maimon,
//!           8 custom flags, 9 UDP, 10 connect, 11 ICMP echo, 12 ICMP timestamp, 13 ARP,
//!           14 ICMP address mask, 15 NDP neighbour solicitation
//!  11   1 attempt answered: 0 = first send, 1.. = retransmissions
//!  12   4 round-trip time in microseconds, 0 when unknown
//!  16  16 target address: IPv4 in the first 4 bytes (the rest zero), IPv6 all 16; network order
//!  32  16 responder address, the same way: the reply's IP source (the target, or a router)
//!  48   6 the reply frame's Ethernet source MAC (zero when unknown, e.g. loopback)
//!  54  10 reserved (zero)
//! ```
//! Why one 64-byte layout rather than a version per family: a batch is then a plain array of
//! equal records whatever the scan, the decoder branches on one byte per record, and a
//! consumer never has to know in advance which family a scan had. Version 1 (48 bytes) had
//! room for a 16-byte target but only 4 bytes of responder, with the MAC where the IPv6
//! responder must go; the 16 extra bytes cost nothing measurable (benches/records.mjs).
//! With `--os-hints`, a SYN+ACK's TCP record (kind 1) also carries what p0f makes of it, in
//! bytes otherwise reserved: 54 the p0f label's index (u16, 0xFFFF none), 56 flags (bit 7: a
//! hint is present; 0 matched, 1 fuzzy, 2 generic, 3 the TTL is a maximum), 57 p0f's
//! distance, 58 the MSS (u16).

use crate::addr::Family;
use std::net::IpAddr;

pub const RECORD_SIZE: usize = 64;
/// The layout described above; the binding exports it so a decoder can check it.
pub const RECORD_LAYOUT_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordKind {
    Tcp = 1,
    Icmp = 2,
    Udp = 3,
    Connect = 4,
    /// `--packet-trace`: a probe left (window = source port, rtt_us = µs since start,
    /// responder = our source address, tcp_flags = the probe's flags).
    ProbeSent = 5,
    /// An ARP reply (discovery): target = the answering address, mac = its hardware address.
    Arp = 6,
    /// A neighbour advertisement answering our solicitation (IPv6 discovery on the link):
    /// target = the address it advertises, mac = its link-layer address.
    Ndp = 7,
}

/// Writes a SYN+ACK's passive OS hint into its packed TCP record (layout above).
pub fn set_hint(record: &mut [u8], h: &crate::os::p0f::Hint, mss: u16) {
    if record.len() < RECORD_SIZE {
        return;
    }
    let label = h.label.map_or(u16::MAX, |l| l.min(u16::MAX as usize - 1) as u16);
    record[54..56].copy_from_slice(&label.to_le_bytes());
    record[56] = 0x80 | h.label.is_some() as u8 | (h.fuzzy as u8) << 1 | (h.generic as u8) << 2 | (h.bad_ttl as u8) << 3;
    record[57] = h.distance;
    record[58..60].copy_from_slice(&mss.to_le_bytes());
}

/// One validated reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub kind: RecordKind,
    pub tcp_flags: u8,
    pub ttl: u8,
    pub icmp_type: u8,
    pub icmp_code: u8,
    pub port: u16,
    pub window: u16,
    pub technique: u8,
    pub attempt: u8,
    pub rtt_us: u32,
    /// Target and responder are of one family (the scan's).
    pub target: IpAddr,
    pub responder: IpAddr,
    /// The reply frame's Ethernet source address; zero when unknown.
    pub mac: [u8; 6],
}

#[inline]
fn put_addr(out: &mut [u8], a: IpAddr) {
    match a {
        IpAddr::V4(a) => out[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => out.copy_from_slice(&a.octets()),
    }
}

impl Record {
    /// Appends the packed form to `out`.
    #[inline]
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut r = [0u8; RECORD_SIZE];
        r[0] = self.kind as u8;
        r[1] = self.tcp_flags;
        r[2] = self.ttl;
        r[3] = self.icmp_type;
        r[4] = self.icmp_code;
        r[5] = Family::of(self.target).code();
        r[6..8].copy_from_slice(&self.port.to_le_bytes());
        r[8..10].copy_from_slice(&self.window.to_le_bytes());
        r[10] = self.technique;
        r[11] = self.attempt;
        r[12..16].copy_from_slice(&self.rtt_us.to_le_bytes());
        put_addr(&mut r[16..32], self.target);
        put_addr(&mut r[32..48], self.responder);
        r[48..54].copy_from_slice(&self.mac);
        out.extend_from_slice(&r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn sample(target: IpAddr, responder: IpAddr) -> Record {
        Record {
            kind: RecordKind::Icmp,
            tcp_flags: 0x12,
            ttl: 64,
            icmp_type: 3,
            icmp_code: 13,
            port: 0x1f90,
            window: 0xfaf0,
            technique: 1,
            attempt: 2,
            rtt_us: 0x01020304,
            target,
            responder,
            mac: [2, 0, 0, 0, 0, 9],
        }
    }

    #[test]
    fn packs_every_field_at_its_offset() {
        let mut out = Vec::new();
        sample(Ipv4Addr::new(198, 18, 0, 2).into(), Ipv4Addr::new(198, 18, 0, 1).into()).emit(&mut out);
        assert_eq!(out.len(), RECORD_SIZE);
        assert_eq!(&out[0..6], &[2, 0x12, 64, 3, 13, 4]);
        assert_eq!(&out[6..8], &[0x90, 0x1f]);
        assert_eq!(&out[8..10], &[0xf0, 0xfa]);
        assert_eq!(&out[10..12], &[1, 2]);
        assert_eq!(&out[12..16], &[4, 3, 2, 1]);
        assert_eq!(&out[16..20], &[198, 18, 0, 2]);
        assert_eq!(&out[20..32], &[0; 12]);
        assert_eq!(&out[32..36], &[198, 18, 0, 1]);
        assert_eq!(&out[36..48], &[0; 12]);
        assert_eq!(&out[48..54], &[2, 0, 0, 0, 0, 9]);
        assert_eq!(&out[54..64], &[0; 10]);
    }

    #[test]
    fn packs_ipv6_addresses_whole() {
        let t: Ipv6Addr = "2001:2:0:1::abcd".parse().unwrap();
        let r: Ipv6Addr = "2001:2::fe".parse().unwrap();
        let mut out = Vec::new();
        sample(t.into(), r.into()).emit(&mut out);
        assert_eq!(out.len(), RECORD_SIZE);
        assert_eq!(out[5], 6);
        assert_eq!(&out[16..32], &t.octets());
        assert_eq!(&out[32..48], &r.octets());
        assert_eq!(&out[48..54], &[2, 0, 0, 0, 0, 9]);
    }
}
