//! Read-only views of the IPv4, TCP, ICMP and UDP headers OS detection looks into: every
//! field the tests read, through constructors that check lengths first, so no accessor can
//! read out of bounds whatever arrives.

use std::net::Ipv4Addr;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;
pub const ECE: u8 = 0x40;
pub const CWR: u8 = 0x80;

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// An IPv4 header and what follows it.
#[derive(Debug, Clone, Copy)]
pub struct Ip<'a> {
    raw: &'a [u8],
    hl: usize,
}

impl<'a> Ip<'a> {
    /// Checks the version, a header length of at least 20 bytes and that the header is there.
    pub fn new(raw: &'a [u8]) -> Option<Self> {
        let first = *raw.first()?;
        let hl = (first & 0x0f) as usize * 4;
        (first >> 4 == 4 && hl >= 20 && raw.len() >= hl).then_some(Ip { raw, hl })
    }

    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
    pub fn header_len(&self) -> usize {
        self.hl
    }
    pub fn tos(&self) -> u8 {
        self.raw[1]
    }
    /// The total length the header claims (ip_len).
    pub fn total_len(&self) -> u16 {
        be16(self.raw, 2)
    }
    pub fn id(&self) -> u16 {
        be16(self.raw, 4)
    }
    pub fn df(&self) -> bool {
        self.raw[6] & 0x40 != 0
    }
    pub fn ttl(&self) -> u8 {
        self.raw[8]
    }
    pub fn protocol(&self) -> u8 {
        self.raw[9]
    }
    pub fn checksum(&self) -> u16 {
        be16(self.raw, 10)
    }
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.raw[12], self.raw[13], self.raw[14], self.raw[15])
    }
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.raw[16], self.raw[17], self.raw[18], self.raw[19])
    }
    /// Everything after the header that was received (never past the buffer).
    pub fn payload(&self) -> &'a [u8] {
        &self.raw[self.hl..]
    }
    /// The datagram as long as its header says, within what was received.
    pub fn claimed(&self) -> &'a [u8] {
        &self.raw[..(self.total_len() as usize).clamp(self.hl, self.raw.len())]
    }
}

/// A TCP header whose data offset covers at least 20 bytes, all received.
#[derive(Debug, Clone, Copy)]
pub struct Tcp<'a> {
    raw: &'a [u8],
}

impl<'a> Tcp<'a> {
    pub fn new(raw: &'a [u8]) -> Option<Self> {
        let off = (*raw.get(12)? >> 4) as usize * 4;
        (off >= 20 && raw.len() >= off).then_some(Tcp { raw })
    }
    pub fn sport(&self) -> u16 {
        be16(self.raw, 0)
    }
    pub fn dport(&self) -> u16 {
        be16(self.raw, 2)
    }
    pub fn seq(&self) -> u32 {
        be32(self.raw, 4)
    }
    pub fn ack(&self) -> u32 {
        be32(self.raw, 8)
    }
    pub fn header_len(&self) -> usize {
        (self.raw[12] >> 4) as usize * 4
    }
    /// The four reserved bits beside the data offset (nmap's th_x2), the NS bit included.
    pub fn reserved(&self) -> u8 {
        self.raw[12] & 0x0f
    }
    pub fn flags(&self) -> u8 {
        self.raw[13]
    }
    pub fn window(&self) -> u16 {
        be16(self.raw, 14)
    }
    pub fn urgent(&self) -> u16 {
        be16(self.raw, 18)
    }
    pub fn options(&self) -> &'a [u8] {
        &self.raw[20..self.header_len()]
    }
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The timestamp option's value, as nmap's gettcpopt_ts finds it: None when absent.
    pub fn timestamp(&self) -> Option<u32> {
        let o = self.options();
        let mut i = 0;
        while i < o.len() && o[i] != 0 {
            let op = o[i];
            if op == 1 {
                i += 1;
                continue;
            }
            let len = *o.get(i + 1)? as usize;
            if len < 2 || len > o.len() - i {
                return None;
            }
            if op == 8 && len == 10 {
                return Some(be32(o, i + 2));
            }
            i += len;
        }
        None
    }
}

/// An ICMP header (8 bytes) and what follows.
#[derive(Debug, Clone, Copy)]
pub struct Icmp<'a> {
    raw: &'a [u8],
}

impl<'a> Icmp<'a> {
    pub fn new(raw: &'a [u8]) -> Option<Self> {
        (raw.len() >= 8).then_some(Icmp { raw })
    }
    pub fn kind(&self) -> u8 {
        self.raw[0]
    }
    pub fn code(&self) -> u8 {
        self.raw[1]
    }
    pub fn id(&self) -> u16 {
        be16(self.raw, 4)
    }
    /// Bytes 4..8 as one number: the "unused" field of an unreachable.
    pub fn unused(&self) -> u32 {
        be32(self.raw, 4)
    }
    /// What follows the 8-byte header: for errors, the quoted datagram.
    pub fn body(&self) -> &'a [u8] {
        &self.raw[8..]
    }
}

/// A UDP header.
#[derive(Debug, Clone, Copy)]
pub struct Udp<'a> {
    raw: &'a [u8],
}

impl<'a> Udp<'a> {
    pub fn new(raw: &'a [u8]) -> Option<Self> {
        (raw.len() >= 8).then_some(Udp { raw })
    }
    pub fn sport(&self) -> u16 {
        be16(self.raw, 0)
    }
    pub fn dport(&self) -> u16 {
        be16(self.raw, 2)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.raw, 6)
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.raw[8..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_too_short() {
        assert!(Ip::new(&[]).is_none());
        assert!(Ip::new(&[0x45; 19]).is_none());
        assert!(Ip::new(&[0x44; 40]).is_none(), "a header length under 20");
        assert!(Ip::new(&[0x65; 40]).is_none(), "not version 4");
        let mut tcp = [0u8; 24];
        tcp[12] = 0x60; // 24 bytes of header
        assert!(Tcp::new(&tcp).is_some());
        assert!(Tcp::new(&tcp[..23]).is_none());
        tcp[12] = 0x40; // data offset under 20
        assert!(Tcp::new(&tcp).is_none());
        assert!(Icmp::new(&[0; 7]).is_none());
        assert!(Udp::new(&[0; 7]).is_none());
    }

    #[test]
    fn finds_the_timestamp_option_as_nmap_does() {
        let mut tcp = vec![0u8; 20];
        tcp[12] = 0x80; // 32 bytes: 12 of options
        tcp.extend_from_slice(&[1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0]);
        assert_eq!(Tcp::new(&tcp).unwrap().timestamp(), Some(7));
        tcp[20] = 0; // end of options first
        assert_eq!(Tcp::new(&tcp).unwrap().timestamp(), None);
        tcp[20] = 1;
        tcp[23] = 1; // a length that cannot be
        assert_eq!(Tcp::new(&tcp).unwrap().timestamp(), None);
    }
}
