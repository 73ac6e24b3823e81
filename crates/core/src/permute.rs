//! A seeded bijective permutation of `[0, n)` for n up to 2^64 (n is a u128 so that 2^64
//! itself, an IPv6 /64 × 1 port, can be named; positions are u64): a balanced Feistel network
//! over the smallest even power of two that holds n, with cycle-walking back into range
//! (as masscan's BlackRock). Invertible, so a reply's index maps back to its position in
//! the send order without storing anything per probe.

#[derive(Clone, Debug)]
pub struct Permutation {
    n: u128,
    /// `-r`: positions are indices, in order
    identity: bool,
    half_bits: u32,
    mask: u64,
    keys: [u64; ROUNDS],
}

const ROUNDS: usize = 6;

/// A cheap keyed mixing function (the splitmix64 finaliser): good diffusion, no allocation.
#[inline]
fn mix(x: u64, k: u64) -> u64 {
    let mut z = x ^ k;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Permutation {
    /// `n` at most 2^64 (larger values are taken as 2^64).
    pub fn new(n: u128, seed: u64) -> Self {
        let n = n.min(1 << 64);
        // bits needed for n-1, rounded up to an even number so both halves are equal
        let bits = 128 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let mask = if half_bits >= 64 { u64::MAX } else { (1u64 << half_bits) - 1 };
        let mut keys = [0u64; ROUNDS];
        let mut s = seed;
        for k in keys.iter_mut() {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            *k = mix(s, 0x5851_f42d_4c95_7f2d);
        }
        Self { n, identity: false, half_bits, mask, keys }
    }

    /// The identity on `[0, n)`: probes go out in address and port order.
    pub fn sequential(n: u128) -> Self {
        Self { identity: true, ..Self::new(n, 0) }
    }

    pub fn len(&self) -> u128 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    #[inline]
    fn encrypt(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> self.half_bits, x & self.mask);
        for k in &self.keys {
            let t = l ^ (mix(r, *k) & self.mask);
            l = r;
            r = t;
        }
        (l << self.half_bits) | r
    }

    #[inline]
    fn decrypt(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> self.half_bits, x & self.mask);
        for k in self.keys.iter().rev() {
            let t = r ^ (mix(l, *k) & self.mask);
            r = l;
            l = t;
        }
        (l << self.half_bits) | r
    }

    /// The index sent at position `pos` (pos < n).
    #[inline]
    pub fn at(&self, pos: u64) -> u64 {
        if self.identity {
            return pos;
        }
        let mut x = self.encrypt(pos);
        while x as u128 >= self.n {
            x = self.encrypt(x);
        }
        x
    }

    /// The position at which `index` is sent (index < n): the inverse of `at`.
    #[inline]
    pub fn position_of(&self, index: u64) -> u64 {
        if self.identity {
            return index;
        }
        let mut x = self.decrypt(index);
        while x as u128 >= self.n {
            x = self.decrypt(x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_bijection_on_small_spaces() {
        for n in [1u64, 2, 3, 7, 16, 17, 100, 255, 256, 1000, 4097, 65_537] {
            for seed in [0u64, 1, 0xdead_beef] {
                let p = Permutation::new(n as u128, seed);
                let mut seen = vec![false; n as usize];
                for pos in 0..n {
                    let i = p.at(pos);
                    assert!(i < n, "n={n} pos={pos} gave {i}");
                    assert!(!seen[i as usize], "n={n} seed={seed}: {i} twice");
                    seen[i as usize] = true;
                    assert_eq!(p.position_of(i), pos);
                }
            }
        }
    }

    #[test]
    fn inverts_on_a_sample_of_the_full_space() {
        // 2^32 addresses × 65536 ports: check a sample, stride through the space
        let n = 1u64 << 48;
        let p = Permutation::new(n as u128, 42);
        let mut pos = 0u64;
        for _ in 0..200_000 {
            let i = p.at(pos);
            assert!(i < n);
            assert_eq!(p.position_of(i), pos);
            pos = pos.wrapping_add(0x0000_1357_9bdf_1235) % n;
        }
        // and a space that is not a power of four
        let n = (1u64 << 32) * 1000 + 7;
        let p = Permutation::new(n as u128, 7);
        for pos in (0..n).step_by((n / 100_000) as usize) {
            let i = p.at(pos);
            assert!(i < n);
            assert_eq!(p.position_of(i), pos);
        }
    }

    #[test]
    fn covers_two_to_the_64() {
        // an IPv6 /64 × 1 port: every u64 is a position and an index
        let p = Permutation::new(1 << 64, 9);
        assert_eq!(p.len(), 1 << 64);
        let mut pos = u64::MAX;
        for _ in 0..100_000 {
            let i = p.at(pos);
            assert_eq!(p.position_of(i), pos);
            pos = pos.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1);
        }
        assert_ne!(p.at(0), 0);
    }

    #[test]
    fn sequential_is_the_identity() {
        let p = Permutation::sequential(10);
        assert_eq!((0..10).map(|i| p.at(i)).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
        assert_eq!(p.position_of(7), 7);
    }

    #[test]
    fn seed_changes_the_order() {
        let a = Permutation::new(1000, 1);
        let b = Permutation::new(1000, 2);
        let same = (0..1000).filter(|&i| a.at(i) == b.at(i)).count();
        assert!(same < 20, "{same} positions agree");
        // and it is not the identity
        assert!((0..1000).filter(|&i| a.at(i) == i).count() < 20);
    }
}
