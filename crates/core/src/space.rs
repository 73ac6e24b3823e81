//! The probe space: every (address, port) pair of the scan as one index in
//! `[0, addresses × ports)`, computed from compact ranges and never materialised. Addresses
//! are the engine's u128 values (addr.rs), so one space type serves IPv4 and IPv6; a space
//! holds at most 2^64 probes (an IPv6 /64 × 1 port, or a /80 × 65,536 ports), the most the
//! permutation's u64 positions can number.

use crate::addr::Family;
use crate::error::{Error, Result};

/// The most probes one scan holds: positions are u64, so 2^64.
pub const MAX_PROBES: u128 = 1 << 64;

#[derive(Clone, Debug)]
pub struct ProbeSpace {
    family: Family,
    /// Sorted, disjoint inclusive ranges of address values.
    ranges: Vec<(u128, u128)>,
    /// prefix[i] = number of addresses in ranges[..i]
    prefix: Vec<u64>,
    addresses: u128,
    ports: Vec<u16>,
    /// port -> index in `ports`, u32::MAX when not scanned
    port_index: Vec<u32>,
}

impl ProbeSpace {
    /// An IPv4 space: ranges of addresses in host order.
    pub fn new(ranges: Vec<(u32, u32)>, ports: Vec<u16>) -> Result<Self> {
        Self::of(Family::V4, ranges.into_iter().map(|(s, e)| (s as u128, e as u128)).collect(), ports)
    }

    /// A space of `family` over ranges of address values (addr.rs).
    pub fn of(family: Family, mut ranges: Vec<(u128, u128)>, ports: Vec<u16>) -> Result<Self> {
        if ranges.is_empty() {
            return Err(Error::InvalidOptions("no targets to scan".into()));
        }
        if ports.is_empty() {
            return Err(Error::InvalidOptions("no ports to scan".into()));
        }
        let show = |v: u128| family.ip(v).to_string();
        for &(s, e) in &ranges {
            if s > e {
                return Err(Error::InvalidOptions(format!("address range {}-{} is reversed", show(s), show(e))));
            }
            if e > family.max_value() {
                return Err(Error::InvalidOptions(format!("address value {e:#x} is not an {family:?} address")));
            }
        }
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            if w[1].0 <= w[0].1 {
                return Err(Error::InvalidOptions(format!("address ranges overlap at {}", show(w[1].0))));
            }
        }
        let too_many = || {
            Error::InvalidOptions(format!(
                "more than 2^64 probes (addresses times ports): the most one scan holds is 2^64, e.g. an IPv6 /64 with 1 port or a /80 with 65,536 ports; split the scan ({} port{} per address here)",
                ports.len(),
                if ports.len() == 1 { "" } else { "s" }
            ))
        };
        let mut prefix = Vec::with_capacity(ranges.len());
        let mut total = 0u128;
        for &(s, e) in &ranges {
            // every prefix stays below the total, which stays at most 2^64: prefixes fit u64
            let size = (e - s).checked_add(1).ok_or_else(too_many)?;
            total = total.checked_add(size).filter(|t| *t <= MAX_PROBES).ok_or_else(too_many)?;
            prefix.push((total - size) as u64);
        }
        if total * ports.len() as u128 > MAX_PROBES {
            return Err(too_many());
        }
        let mut port_index = vec![u32::MAX; 65536];
        for (i, &p) in ports.iter().enumerate() {
            if port_index[p as usize] != u32::MAX {
                return Err(Error::InvalidOptions(format!("port {p} is listed twice")));
            }
            port_index[p as usize] = i as u32;
        }
        Ok(Self { family, ranges, prefix, addresses: total, ports, port_index })
    }

    pub fn family(&self) -> Family {
        self.family
    }

    pub fn addresses(&self) -> u128 {
        self.addresses
    }

    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    /// addresses × ports: at most 2^64.
    pub fn len(&self) -> u128 {
        self.addresses * self.ports.len() as u128
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The address and port of probe `index` (index < len()).
    #[inline]
    pub fn probe(&self, index: u64) -> (u128, u16) {
        let np = self.ports.len() as u64;
        let (ai, pi) = (index / np, index % np);
        // the last range whose prefix is <= ai
        let r = self.prefix.partition_point(|&p| p <= ai) - 1;
        let addr = self.ranges[r].0 + (ai - self.prefix[r]) as u128;
        (addr, self.ports[pi as usize])
    }

    /// The index of probe (addr, port), or None when it is not part of the scan.
    #[inline]
    pub fn index_of(&self, addr: u128, port: u16) -> Option<u64> {
        let pi = self.port_index[port as usize];
        if pi == u32::MAX {
            return None;
        }
        let r = self.ranges.partition_point(|&(s, _)| s <= addr).checked_sub(1)?;
        let (s, e) = self.ranges[r];
        if addr > e {
            return None;
        }
        let ai = self.prefix[r] + (addr - s) as u64;
        Some(ai * self.ports.len() as u64 + pi as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_indices_both_ways() {
        let s = ProbeSpace::new(vec![(100, 102), (10, 10), (200, 203)], vec![80, 22]).unwrap();
        assert_eq!(s.addresses(), 8);
        assert_eq!(s.len(), 16);
        let mut seen = std::collections::HashSet::new();
        for i in 0..s.len() as u64 {
            let (a, p) = s.probe(i);
            assert_eq!(s.index_of(a, p), Some(i));
            assert!(seen.insert((a, p)));
        }
        assert_eq!(s.probe(0), (10, 80));
        assert_eq!(s.index_of(11, 80), None);
        assert_eq!(s.index_of(100, 23), None);
        assert_eq!(s.index_of(9, 80), None);
        assert_eq!(s.index_of(204, 80), None);
    }

    #[test]
    fn rejects_overlaps_duplicates_and_empty_input() {
        assert!(ProbeSpace::new(vec![(1, 5), (5, 9)], vec![1]).is_err());
        assert!(ProbeSpace::new(vec![(1, 5)], vec![1, 1]).is_err());
        assert!(ProbeSpace::new(vec![], vec![1]).is_err());
        assert!(ProbeSpace::new(vec![(1, 5)], vec![]).is_err());
        assert!(ProbeSpace::new(vec![(6, 5)], vec![1]).is_err());
    }

    #[test]
    fn holds_the_whole_ipv4_space() {
        let ports: Vec<u16> = (0..=65535).collect();
        let s = ProbeSpace::new(vec![(0, u32::MAX)], ports).unwrap();
        assert_eq!(s.len(), 1u128 << 48);
        let last = (s.len() - 1) as u64;
        assert_eq!(s.probe(last), (u32::MAX as u128, 65535));
        assert_eq!(s.index_of(u32::MAX as u128, 65535), Some(last));
    }

    const P: u128 = 0x2001_0002_0000_0001_0000_0000_0000_0000; // 2001:2:0:1::

    #[test]
    fn holds_up_to_two_to_the_64_ipv6_probes() {
        // a /64 × 1 port and a /80 × 65,536 ports: exactly 2^64 probes
        let s = ProbeSpace::of(Family::V6, vec![(P, P | 0xffff_ffff_ffff_ffff)], vec![80]).unwrap();
        assert_eq!(s.len(), MAX_PROBES);
        assert_eq!(s.probe(u64::MAX), (P | 0xffff_ffff_ffff_ffff, 80));
        assert_eq!(s.index_of(P | 0xffff_ffff_ffff_ffff, 80), Some(u64::MAX));
        assert_eq!(s.index_of(P + (1 << 64), 80), None);
        let ports: Vec<u16> = (0..=65535).collect();
        let s = ProbeSpace::of(Family::V6, vec![(P, P | 0xffff_ffff_ffff)], ports).unwrap();
        assert_eq!(s.len(), MAX_PROBES);
        assert_eq!(s.probe(u64::MAX), (P | 0xffff_ffff_ffff, 65535));
        // one more address, or one more range, is too many: a one-line error saying the limit
        let e = ProbeSpace::of(Family::V6, vec![(P, P | 0xffff_ffff_ffff_ffff), (P + (1 << 64), P + (1 << 64))], vec![80]).unwrap_err();
        assert!(e.to_string().contains("2^64"), "{e}");
        assert!(ProbeSpace::of(Family::V6, vec![(P, P | 0xffff_ffff_ffff_ffff)], vec![80, 443]).is_err());
        assert!(ProbeSpace::of(Family::V6, vec![(0, u128::MAX)], vec![80]).is_err(), "2^128 addresses");
        assert!(ProbeSpace::of(Family::V4, vec![(0, 1 << 40)], vec![80]).is_err(), "not an IPv4 value");
    }

    #[test]
    fn maps_ipv6_indices_both_ways() {
        let s = ProbeSpace::of(Family::V6, vec![(P + 0x10, P + 0x12), (1, 1)], vec![22, 80]).unwrap();
        assert_eq!(s.len(), 8);
        for i in 0..8 {
            let (a, p) = s.probe(i);
            assert_eq!(s.index_of(a, p), Some(i));
        }
        assert_eq!(s.probe(0), (1, 22), "::1 first: ranges are sorted");
        assert_eq!(s.index_of(P + 0x13, 22), None);
    }
}
