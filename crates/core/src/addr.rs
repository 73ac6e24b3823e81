//! Address families in the engine. A scan probes one family (nmap's `-6` is all or nothing);
//! inside the engine every address is a `u128` value — an IPv4 address in the low 32 bits —
//! so the probe space, the permutation, the window and the next-hop table are the same code
//! for both, and only frames, routes and neighbours look at the family.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    /// The address whose value is `v` (for IPv4, the low 32 bits).
    #[inline]
    pub fn ip(self, v: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(v as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
        }
    }

    /// The largest address value of the family.
    pub fn max_value(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }

    /// The byte records carry for the family (record.rs, offset 5).
    pub fn code(self) -> u8 {
        match self {
            Family::V4 => 4,
            Family::V6 => 6,
        }
    }

    /// The unspecified address of the family (0.0.0.0 or ::).
    pub fn unspecified(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

/// The engine's value of an address.
#[inline]
pub fn value(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_in_their_family() {
        for ip in ["198.18.0.2", "0.0.0.0", "255.255.255.255", "2001:2::2", "::1", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(Family::of(ip).ip(value(ip)), ip);
        }
        // ::1 and 0.0.0.1 share a value: the family tells them apart
        assert_eq!(value("::1".parse().unwrap()), value("0.0.0.1".parse().unwrap()));
        assert_eq!(Family::V4.ip(1).to_string(), "0.0.0.1");
        assert_eq!(Family::V6.ip(1).to_string(), "::1");
    }
}
