//! ICMP discovery probes (nmap's -PE, -PP and -PM): echo, timestamp and address mask requests, with the cookie
//! and attempt in the identifier and sequence number, which every reply echoes back and every
//! ICMP error quotes.

use super::checksum::{add_bytes, finish};
use pnet_base::MacAddr;
use std::net::Ipv4Addr;

const ETH: usize = 14;
const IP: usize = 20;
pub const ECHO_REQUEST: u8 = 8;
pub const ECHO_REPLY: u8 = 0;
pub const TIMESTAMP_REQUEST: u8 = 13;
pub const TIMESTAMP_REPLY: u8 = 14;
pub const MASK_REQUEST: u8 = 17;
pub const MASK_REPLY: u8 = 18;

/// The identifier and sequence number that carry `value` (cookie + attempt).
pub fn split(value: u32) -> (u16, u16) {
    ((value >> 16) as u16, value as u16)
}

/// The value an echoed identifier and sequence number carry.
pub fn join(ident: u16, seq: u16) -> u32 {
    (ident as u32) << 16 | seq as u32
}

#[derive(Clone, Debug)]
pub struct IcmpTemplate {
    src_mac: MacAddr,
    src: Ipv4Addr,
    ttl: u8,
    icmp_type: u8,
}

impl IcmpTemplate {
    /// `icmp_type`: ECHO_REQUEST or TIMESTAMP_REQUEST.
    pub fn new(src_mac: MacAddr, src: Ipv4Addr, ttl: u8, icmp_type: u8) -> Self {
        Self { src_mac, src, ttl, icmp_type }
    }

    /// Writes the frame into `out`; returns its length.
    pub fn write(&self, dst_mac: MacAddr, dst: Ipv4Addr, value: u32, ip_id: u16, out: &mut [u8]) -> usize {
        // echo: 8 header bytes; timestamp: 8 + originate, receive, transmit (RFC 792);
        // address mask: 8 + the mask (RFC 950)
        let body = match self.icmp_type {
            TIMESTAMP_REQUEST => 20,
            MASK_REQUEST => 12,
            _ => 8,
        };
        let total = ETH + IP + body;
        let out = &mut out[..total];
        out[0..6].copy_from_slice(&dst_mac.octets());
        out[6..12].copy_from_slice(&self.src_mac.octets());
        out[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut out[ETH..ETH + IP];
        ip.copy_from_slice(&[0x45, 0, 0, 0, 0, 0, 0, 0, self.ttl, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        ip[2..4].copy_from_slice(&((IP + body) as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
        ip[12..16].copy_from_slice(&self.src.octets());
        ip[16..20].copy_from_slice(&dst.octets());
        let c = finish(add_bytes(0, ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let m = &mut out[ETH + IP..];
        m.fill(0);
        m[0] = self.icmp_type;
        let (ident, seq) = split(value);
        m[4..6].copy_from_slice(&ident.to_be_bytes());
        m[6..8].copy_from_slice(&seq.to_be_bytes());
        if self.icmp_type == TIMESTAMP_REQUEST {
            // originate timestamp: milliseconds since midnight UT
            let ms =
                (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() % 86_400_000) as u32;
            m[8..12].copy_from_slice(&ms.to_be_bytes());
        }
        let c = finish(add_bytes(0, m));
        m[2..4].copy_from_slice(&c.to_be_bytes());
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet_packet::icmp::{self, IcmpPacket};
    use pnet_packet::ipv4::{self, Ipv4Packet};
    use pnet_packet::Packet;

    #[test]
    fn builds_valid_echo_and_timestamp_requests() {
        for (t, len) in [(ECHO_REQUEST, 8usize), (TIMESTAMP_REQUEST, 20), (MASK_REQUEST, 12)] {
            let tpl = IcmpTemplate::new(MacAddr::new(2, 0, 0, 0, 0, 1), Ipv4Addr::new(198, 18, 0, 1), 64, t);
            let mut out = [0u8; 128];
            let n = tpl.write(MacAddr::new(2, 0, 0, 0, 0, 2), Ipv4Addr::new(198, 18, 0, 2), 0xdead_beef, 9, &mut out);
            assert_eq!(n, 14 + 20 + len);
            let ip = Ipv4Packet::new(&out[14..n]).unwrap();
            assert_eq!(ip.get_checksum(), ipv4::checksum(&ip));
            let m = IcmpPacket::new(ip.payload()).unwrap();
            assert_eq!(m.get_checksum(), icmp::checksum(&m));
            assert_eq!(m.get_icmp_type().0, t);
            assert_eq!(&ip.payload()[4..8], &[0xde, 0xad, 0xbe, 0xef]);
        }
        assert_eq!(join(0xdead, 0xbeef), 0xdead_beef);
        assert_eq!(split(0xdead_beef), (0xdead, 0xbeef));
    }
}
