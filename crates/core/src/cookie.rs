//! Stateless validation of replies: a keyed SipHash of the probe's 4-tuple goes into the
//! TCP sequence number, so a reply proves it answers a probe this scan sent. The attempt
//! number is added to the cookie, so a reply also tells which send it answers.

use siphasher::sip::SipHasher13;
use std::hash::Hasher;
use std::net::Ipv4Addr;

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
    pub fn cookie(&self, src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> u32 {
        let mut h = SipHasher13::new_with_keys(self.k0, self.k1);
        h.write(&src.octets());
        h.write(&dst.octets());
        h.write_u16(sport);
        h.write_u16(dport);
        h.finish() as u32
    }

    /// The sequence number of the `attempt`-th send (0 = first) of a probe.
    pub fn seq(&self, src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, attempt: u8) -> u32 {
        self.cookie(src, sport, dst, dport).wrapping_add(attempt as u32)
    }

    /// Checks a sequence number echoed back (the ack of a reply minus one, or the seq
    /// quoted in an ICMP error) and returns the attempt it belongs to, or None if it is
    /// not ours.
    pub fn check(&self, src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, echoed_seq: u32, max_attempt: u8) -> Option<u8> {
        let d = echoed_seq.wrapping_sub(self.cookie(src, sport, dst, dport));
        (d <= max_attempt as u32).then_some(d as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn random_keys_differ() {
        let a = CookieKey::random();
        let b = CookieKey::random();
        assert_ne!(a.cookie(S, 1, D, 2), b.cookie(S, 1, D, 2));
    }
}
