//! The IPv6 header (RFC 8200): writing the fixed 40 bytes of a probe, the pseudo-header sum
//! that TCP, UDP and ICMPv6 checksums start from, and reading a datagram — received, or
//! quoted inside an ICMPv6 error — by walking its extension-header chain (Hop-by-Hop,
//! Routing, Fragment, Destination Options, Authentication) to the transport header. Reading
//! never panics on short or malformed input.

use super::checksum::{add_bytes, add_u32};
use std::net::Ipv6Addr;

pub const ETHERTYPE: u16 = 0x86dd;
pub const HEADER_LEN: usize = 40;

/// Next-header values (IANA "Assigned Internet Protocol Numbers").
pub mod next {
    pub const HOP_BY_HOP: u8 = 0;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const AUTH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const DEST_OPTIONS: u8 = 60;
}

mod field {
    pub const PAYLOAD_LEN: std::ops::Range<usize> = 4..6;
    pub const NEXT: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: std::ops::Range<usize> = 8..24;
    pub const DST: std::ops::Range<usize> = 24..40;
}

/// Writes a fixed IPv6 header into `out[..40]`: traffic class and flow label zero.
pub fn write_header(out: &mut [u8], payload_len: u16, next: u8, hop_limit: u8, src: &Ipv6Addr, dst: &Ipv6Addr) {
    let h = &mut out[..HEADER_LEN];
    h[..4].copy_from_slice(&[0x60, 0, 0, 0]);
    h[field::PAYLOAD_LEN].copy_from_slice(&payload_len.to_be_bytes());
    h[field::NEXT] = next;
    h[field::HOP_LIMIT] = hop_limit;
    h[field::SRC].copy_from_slice(&src.octets());
    h[field::DST].copy_from_slice(&dst.octets());
}

/// Adds a 128-bit address as eight words.
#[inline]
pub fn add_addr(sum: u32, a: u128) -> u32 {
    add_u32(add_u32(add_u32(add_u32(sum, (a >> 96) as u32), (a >> 64) as u32), (a >> 32) as u32), a as u32)
}

/// The pseudo-header sum (RFC 8200 section 8.1) of an upper-layer packet of `len` bytes.
pub fn pseudo_sum(src: &Ipv6Addr, dst: &Ipv6Addr, len: u32, next: u8) -> u32 {
    let s = add_bytes(add_bytes(0, &src.octets()), &dst.octets());
    add_u32(s, len) + next as u32
}

/// What a datagram holds once its extension headers are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    /// The upper-layer protocol (TCP, UDP, ICMPv6, ...): the last next-header value.
    pub proto: u8,
    /// The upper-layer bytes present (a quoted datagram is often cut short).
    pub payload: &'a [u8],
    /// True for a fragment other than the first: it carries no transport header.
    pub later_fragment: bool,
}

/// Extension headers walked at most: each is 8 bytes or more, so a chain ends anyway; this
/// only bounds the work a crafted packet can ask for.
const MAX_EXTENSIONS: usize = 16;

/// Reads an IPv6 datagram from `raw`, bounded by its payload length (frames may be padded;
/// a datagram quoted in an ICMPv6 error may be truncated, and is read as far as it goes).
pub fn parse(raw: &[u8]) -> Option<Datagram<'_>> {
    let h = raw.get(..HEADER_LEN)?;
    if h[0] >> 4 != 6 {
        return None;
    }
    let claimed = u16::from_be_bytes([h[4], h[5]]) as usize;
    let end = (HEADER_LEN + claimed).min(raw.len());
    let mut rest = &raw[HEADER_LEN..end];
    let mut proto = h[field::NEXT];
    let mut later_fragment = false;
    for _ in 0..MAX_EXTENSIONS {
        let len = match proto {
            next::HOP_BY_HOP | next::ROUTING | next::DEST_OPTIONS => (*rest.get(1)? as usize + 1) * 8,
            next::FRAGMENT => {
                let f = rest.get(..8)?;
                // offset in 8-octet units, in the top 13 bits of bytes 2-3
                later_fragment |= u16::from_be_bytes([f[2], f[3]]) >> 3 != 0;
                8
            }
            next::AUTH => (*rest.get(1)? as usize + 2) * 4,
            _ => break,
        };
        let n = *rest.first()?;
        rest = rest.get(len..)?;
        proto = n;
    }
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&h[field::SRC]).ok()?);
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&h[field::DST]).ok()?);
    Some(Datagram { src, dst, hop_limit: h[field::HOP_LIMIT], proto, payload: rest, later_fragment })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "2001:2::2";
    const DST: &str = "2001:2::1";

    /// An IPv6 header with `next`, then `body`.
    fn datagram(next: u8, body: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; HEADER_LEN];
        write_header(&mut d, body.len() as u16, next, 64, &SRC.parse().unwrap(), &DST.parse().unwrap());
        d.extend_from_slice(body);
        d
    }

    #[test]
    fn writes_the_fixed_header() {
        let d = datagram(next::TCP, &[1, 2, 3, 4]);
        assert_eq!(&d[..8], &[0x60, 0, 0, 0, 0, 4, 6, 64]);
        assert_eq!(&d[8..24], &SRC.parse::<Ipv6Addr>().unwrap().octets());
        let p = parse(&d).unwrap();
        assert_eq!((p.proto, p.payload, p.hop_limit, p.later_fragment), (next::TCP, &[1u8, 2, 3, 4][..], 64, false));
        assert_eq!(p.src.to_string(), SRC);
    }

    #[test]
    fn walks_every_extension_header_to_the_transport() {
        // Hop-by-Hop (8 bytes: next Routing), Routing (16 bytes: next Destination Options),
        // Destination Options (8: next Fragment), Fragment (offset 0, more: next AH),
        // AH (12 bytes: payload length 1 → (1 + 2) × 4), then TCP
        let mut body = vec![next::ROUTING, 0, 1, 4, 0, 0, 0, 0];
        body.extend_from_slice(&[next::DEST_OPTIONS, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&[next::FRAGMENT, 0, 1, 4, 0, 0, 0, 0]);
        body.extend_from_slice(&[next::AUTH, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        body.extend_from_slice(&[next::TCP, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        body.extend_from_slice(&[0x00, 0x50, 0x9c, 0x40]);
        let d = datagram(next::HOP_BY_HOP, &body);
        let p = parse(&d).unwrap();
        assert_eq!((p.proto, p.payload, p.later_fragment), (next::TCP, &[0x00u8, 0x50, 0x9c, 0x40][..], false));
        // a later fragment: offset 1 (8 bytes in)
        let d = datagram(next::FRAGMENT, &[next::TCP, 0, 0x00, 0x08, 0, 0, 0, 1, 9, 9]);
        let p = parse(&d).unwrap();
        assert!(p.later_fragment);
        assert_eq!(p.proto, next::TCP);
    }

    #[test]
    fn truncated_and_padded_input() {
        let d = datagram(next::UDP, &[0, 53, 0x80, 0, 0, 8, 0, 0]);
        for n in 0..HEADER_LEN {
            assert_eq!(parse(&d[..n]), None);
        }
        // a quote cut short is read as far as it goes
        assert_eq!(parse(&d[..HEADER_LEN + 4]).unwrap().payload, &[0, 53, 0x80, 0]);
        // Ethernet padding after the datagram is not payload
        let mut padded = d.clone();
        padded.extend_from_slice(&[0xee; 6]);
        assert_eq!(parse(&padded).unwrap().payload.len(), 8);
        // an extension header that runs past the end is nothing
        let cut = datagram(next::HOP_BY_HOP, &[next::TCP, 3, 0, 0]);
        assert_eq!(parse(&cut), None);
        // not version 6
        let mut v4 = d;
        v4[0] = 0x45;
        assert_eq!(parse(&v4), None);
    }

    #[test]
    fn random_input_never_panics() {
        // a poor man's fuzzer: random chains of extension headers, random lengths, random
        // cuts, through the datagram walker and the whole frame parser
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let heads =
            [next::HOP_BY_HOP, next::ROUTING, next::FRAGMENT, next::AUTH, next::DEST_OPTIONS, next::TCP, next::UDP, next::ICMPV6, 59];
        for _ in 0..50_000 {
            let n = (next() % 160) as usize;
            let mut d: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            if d.len() >= 8 {
                d[0] = 0x60;
                d[6] = heads[(next() % heads.len() as u64) as usize];
            }
            for i in (40..d.len()).step_by(8) {
                if next() % 2 == 0 {
                    d[i] = heads[(next() % heads.len() as u64) as usize];
                }
            }
            let _ = parse(&d);
            let mut frame = vec![0u8; 12];
            frame.extend_from_slice(&ETHERTYPE.to_be_bytes());
            frame.extend_from_slice(&d);
            let _ = super::super::reply::parse_frame(&frame);
        }
    }

    #[test]
    fn pseudo_header_sum_matches_rfc_layout() {
        let (s, d): (Ipv6Addr, Ipv6Addr) = (SRC.parse().unwrap(), DST.parse().unwrap());
        let mut ph = Vec::new();
        ph.extend_from_slice(&s.octets());
        ph.extend_from_slice(&d.octets());
        ph.extend_from_slice(&24u32.to_be_bytes());
        ph.extend_from_slice(&[0, 0, 0, 6]);
        assert_eq!(super::super::checksum::finish(pseudo_sum(&s, &d, 24, 6)), super::super::checksum::finish(add_bytes(0, &ph)));
        assert_eq!(add_addr(0, u128::from(d)), add_bytes(0, &d.octets()));
    }
}
