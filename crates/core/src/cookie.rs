//! Stateless validation of replies: a keyed SipHash of the probe's 4-tuple goes into the
//! TCP sequence number, so a reply proves it answers a probe this scan sent. The attempt
//! number is added to the cookie, so a reply also tells which send it answers. IPv4 tuples
//! hash their 4-byte addresses, IPv6 tuples their 16-byte ones.

use siphasher::sip::SipHasher13;
use std::hash::Hasher;
use std::net::IpAddr;

#[inline]
fn write_addr(h: &mut SipHasher13, a: IpAddr) {
    match a {
        IpAddr::V4(a) => h.write(&a.octets()),
        IpAddr::V6(a) => h.write(&a.octets()),
    }
}

#[derive(Clone, Copy, Debug)]
pub struct CookieKey {
    k0: u64,
    k1: u64,
}

impl CookieKey {
    pub fn new(k0: u64, k1: u64) -> Self {
        Self { k0, k1 }
    }

    /// A key from the OS's random source; forged replies cannot guess it.
    pub fn random() -> Self {
        let mut b = [0u8; 16];
        // getrandom only fails when the OS has no entropy source at all; a fixed key then
        // still validates replies, it only makes forgery easier.
        let _ = getrandom::getrandom(&mut b);
        let k0 = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
        let k1 = u64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
        Self { k0, k1 }
    }

    /// The cookie for a probe from `src:sport` to `dst:dport`.
    #[inline]
    pub fn cookie(&self, src: impl Into<IpAddr>, sport: u16, dst: impl Into<IpAddr>, dport: u16) -> u32 {
        let mut h = SipHasher13::new_with_keys(self.k0, self.k1);
        write_addr(&mut h, src.into());
        write_addr(&mut h, dst.into());
        h.write_u16(sport);
        h.write_u16(dport);
        h.finish() as u32
    }

    /// The sequence number of the `attempt`-th send (0 = first) of a probe.
    #[inline]
    pub fn seq(&self, src: impl Into<IpAddr>, sport: u16, dst: impl Into<IpAddr>, dport: u16, attempt: u8) -> u32 {
        self.cookie(src, sport, dst, dport).wrapping_add(attempt as u32)
    }

    /// Checks a sequence number echoed back (the ack of a reply minus one, or the seq
    /// quoted in an ICMP error) and returns the attempt it belongs to, or None if it is
    /// not ours.
    pub fn check(
        &self,
        src: impl Into<IpAddr>,
        sport: u16,
        dst: impl Into<IpAddr>,
        dport: u16,
        echoed_seq: u32,
        max_attempt: u8,
    ) -> Option<u8> {
        let d = echoed_seq.wrapping_sub(self.cookie(src, sport, dst, dport));
        (d <= max_attempt as u32).then_some(d as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const S: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const D: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    #[test]
    fn round_trips_every_attempt() {
        let k = CookieKey::new(1, 2);
        for a in 0..=10u8 {
            let seq = k.seq(S, 40000, D, 80, a);
            assert_eq!(k.check(S, 40000, D, 80, seq, 10), Some(a));
        }
    }

    #[test]
    fn rejects_a_wrong_ack() {
        let k = CookieKey::new(1, 2);
        let seq = k.seq(S, 40000, D, 80, 0);
        assert_eq!(k.check(S, 40000, D, 80, seq.wrapping_add(11), 10), None);
        assert_eq!(k.check(S, 40000, D, 80, seq.wrapping_sub(1), 10), None);
        // the same seq for another port, address or key does not validate
        assert_eq!(k.check(S, 40000, D, 81, seq, 10), None);
        assert_eq!(k.check(S, 40000, Ipv4Addr::new(198, 18, 0, 3), 80, seq, 10), None);
        assert_eq!(CookieKey::new(1, 3).check(S, 40000, D, 80, seq, 10), None);
    }

    #[test]
    fn ipv6_tuples_round_trip_and_differ_from_ipv4() {
        let k = CookieKey::new(1, 2);
        let (s6, d6): (std::net::Ipv6Addr, std::net::Ipv6Addr) = ("2001:2::1".parse().unwrap(), "2001:2::2".parse().unwrap());
        for a in 0..=10u8 {
            assert_eq!(k.check(s6, 40000, d6, 80, k.seq(s6, 40000, d6, 80, a), 10), Some(a));
        }
        assert_eq!(k.check(s6, 40000, "2001:2::3".parse::<std::net::Ipv6Addr>().unwrap(), 80, k.seq(s6, 40000, d6, 80, 0), 10), None);
        // ::1 → ::2 is not 0.0.0.1 → 0.0.0.2
        let v4 = k.cookie(Ipv4Addr::new(0, 0, 0, 1), 1, Ipv4Addr::new(0, 0, 0, 2), 2);
        let v6 = k.cookie("::1".parse::<std::net::Ipv6Addr>().unwrap(), 1, "::2".parse::<std::net::Ipv6Addr>().unwrap(), 2);
        assert_ne!(v4, v6);
    }

    #[test]
    fn random_keys_differ() {
        let a = CookieKey::random();
        let b = CookieKey::random();
        assert_ne!(a.cookie(S, 1, D, 2), b.cookie(S, 1, D, 2));
    }
}
