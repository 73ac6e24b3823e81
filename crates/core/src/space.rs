//! The probe space: every (address, port) pair of the scan as one index in
//! `[0, addresses × ports)`, computed from compact ranges and never materialised.

use crate::error::{Error, Result};
use std::net::Ipv4Addr;

#[derive(Clone, Debug)]
pub struct ProbeSpace {
    /// Sorted, disjoint inclusive ranges of addresses (host order).
    ranges: Vec<(u32, u32)>,
    /// prefix[i] = number of addresses in ranges[..i]
    prefix: Vec<u64>,
    addresses: u64,
    ports: Vec<u16>,
    /// port -> index in `ports`, u32::MAX when not scanned
    port_index: Vec<u32>,
}

impl ProbeSpace {
    pub fn new(mut ranges: Vec<(u32, u32)>, ports: Vec<u16>) -> Result<Self> {
        if ranges.is_empty() {
            return Err(Error::InvalidOptions("no targets to scan".into()));
        }
        if ports.is_empty() {
            return Err(Error::InvalidOptions("no ports to scan".into()));
        }
        for &(s, e) in &ranges {
            if s > e {
                return Err(Error::InvalidOptions(format!("address range {}-{} is reversed", Ipv4Addr::from(s), Ipv4Addr::from(e))));
            }
        }
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            if w[1].0 <= w[0].1 {
                return Err(Error::InvalidOptions(format!("address ranges overlap at {}", Ipv4Addr::from(w[1].0))));
            }
        }
        let mut prefix = Vec::with_capacity(ranges.len());
        let mut total = 0u64;
        for &(s, e) in &ranges {
            prefix.push(total);
            total += (e - s) as u64 + 1;
        }
        let mut port_index = vec![u32::MAX; 65536];
        for (i, &p) in ports.iter().enumerate() {
            if port_index[p as usize] != u32::MAX {
                return Err(Error::InvalidOptions(format!("port {p} is listed twice")));
            }
            port_index[p as usize] = i as u32;
        }
        Ok(Self { ranges, prefix, addresses: total, ports, port_index })
    }

    pub fn addresses(&self) -> u64 {
        self.addresses
    }

    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }

    /// addresses × ports
    pub fn len(&self) -> u64 {
        self.addresses * self.ports.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The address and port of probe `index` (index < len()).
    #[inline]
    pub fn probe(&self, index: u64) -> (u32, u16) {
        let np = self.ports.len() as u64;
        let (ai, pi) = (index / np, index % np);
        // the last range whose prefix is <= ai
        let r = self.prefix.partition_point(|&p| p <= ai) - 1;
        let addr = self.ranges[r].0 + (ai - self.prefix[r]) as u32;
        (addr, self.ports[pi as usize])
    }

    /// The index of probe (addr, port), or None when it is not part of the scan.
    #[inline]
    pub fn index_of(&self, addr: u32, port: u16) -> Option<u64> {
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
        for i in 0..s.len() {
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
        assert_eq!(s.len(), 1u64 << 48);
        let last = s.len() - 1;
        assert_eq!(s.probe(last), (u32::MAX, 65535));
        assert_eq!(s.index_of(u32::MAX, 65535), Some(last));
    }
}
