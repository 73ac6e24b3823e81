//! The fixed-size record that carries one reply from the engine to its consumer
//! (the N-API binding packs them into Buffers; ts/engine/records.ts decodes them).
//!
//! Layout, little-endian, `RECORD_SIZE` bytes:
//! ```text
//! off len field
//!   0   1 kind: 1 = TCP reply, 2 = ICMP error quoting our probe, 3 = UDP reply,
//!           4 = connect() outcome, 5 = probe sent (--packet-trace), 6 = ARP reply
//!   1   1 TCP flags of the reply (kind 1)
//!   2   1 TTL of the reply's IP header
//!   3   1 ICMP type (kind 2)
//!   4   1 ICMP code (kind 2)
//!   5   1 address family: 4 (6 reserved)
//!   6   2 target port probed
//!   8   2 TCP window (kind 1); UDP payload length (kind 3); errno (kind 4, 0 = connected)
//!  10   1 technique: 1 SYN, 2 ACK, 3 FIN, 4 NULL, 5 Xmas, 6 Window, 7 Maimon,
//!           8 custom flags, 9 UDP, 10 connect, 11 ICMP echo, 12 ICMP timestamp, 13 ARP,
//!           14 ICMP address mask
//!  11   1 attempt answered: 0 = first send, 1.. = retransmissions
//!  12   4 round-trip time in microseconds, 0 when unknown
//!  16  16 target address (IPv4 in the first 4 bytes, network order)
//!  32   4 responder address: the reply's IP source (the target, or a router)
//!  36   4 reserved (zero)
//!  40   6 the reply frame's Ethernet source MAC (zero when unknown, e.g. loopback)
//!  46   2 reserved (zero)
//! ```
//! With `--os-hints`, a SYN+ACK's TCP record (kind 1) also carries what p0f makes of it, in
//! bytes otherwise reserved: 36 the p0f label's index (u16, 0xFFFF none), 38 flags (bit 7: a
//! hint is present; 0 matched, 1 fuzzy, 2 generic, 3 the TTL is a maximum), 39 p0f's
//! distance, 46 the MSS (u16).
//! The family byte and the 16-byte target field leave room for IPv6; an IPv6 responder
//! will take bytes 32..48 and move the MAC to a record kind of its own (layout version 2).

use std::net::Ipv4Addr;

pub const RECORD_SIZE: usize = 48;

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
}

/// Writes a SYN+ACK's passive OS hint into its packed TCP record (layout above).
pub fn set_hint(record: &mut [u8], h: &crate::os::p0f::Hint, mss: u16) {
    if record.len() < RECORD_SIZE {
        return;
    }
    let label = h.label.map_or(u16::MAX, |l| l.min(u16::MAX as usize - 1) as u16);
    record[36..38].copy_from_slice(&label.to_le_bytes());
    record[38] = 0x80 | h.label.is_some() as u8 | (h.fuzzy as u8) << 1 | (h.generic as u8) << 2 | (h.bad_ttl as u8) << 3;
    record[39] = h.distance;
    record[46..48].copy_from_slice(&mss.to_le_bytes());
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
    pub target: Ipv4Addr,
    pub responder: Ipv4Addr,
    /// The reply frame's Ethernet source address; zero when unknown.
    pub mac: [u8; 6],
}

impl Record {
    /// Appends the packed form to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut r = [0u8; RECORD_SIZE];
        r[0] = self.kind as u8;
        r[1] = self.tcp_flags;
        r[2] = self.ttl;
        r[3] = self.icmp_type;
        r[4] = self.icmp_code;
        r[5] = 4;
        r[6..8].copy_from_slice(&self.port.to_le_bytes());
        r[8..10].copy_from_slice(&self.window.to_le_bytes());
        r[10] = self.technique;
        r[11] = self.attempt;
        r[12..16].copy_from_slice(&self.rtt_us.to_le_bytes());
        r[16..20].copy_from_slice(&self.target.octets());
        r[32..36].copy_from_slice(&self.responder.octets());
        r[40..46].copy_from_slice(&self.mac);
        out.extend_from_slice(&r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_every_field_at_its_offset() {
        let rec = Record {
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
            target: Ipv4Addr::new(198, 18, 0, 2),
            responder: Ipv4Addr::new(198, 18, 0, 1),
            mac: [2, 0, 0, 0, 0, 9],
        };
        let mut out = Vec::new();
        rec.emit(&mut out);
        assert_eq!(out.len(), RECORD_SIZE);
        assert_eq!(&out[0..6], &[2, 0x12, 64, 3, 13, 4]);
        assert_eq!(&out[6..8], &[0x90, 0x1f]);
        assert_eq!(&out[8..10], &[0xf0, 0xfa]);
        assert_eq!(&out[10..12], &[1, 2]);
        assert_eq!(&out[12..16], &[4, 3, 2, 1]);
        assert_eq!(&out[16..20], &[198, 18, 0, 2]);
        assert_eq!(&out[20..32], &[0; 12]);
        assert_eq!(&out[32..36], &[198, 18, 0, 1]);
        assert_eq!(&out[36..40], &[0; 4]);
        assert_eq!(&out[40..46], &[2, 0, 0, 0, 0, 9]);
        assert_eq!(&out[46..48], &[0; 2]);
    }
}
