//! Round-trip estimation as nmap does it (RFC 6298 smoothing): the timeout after which an
//! unanswered probe is sent again follows the measured RTT, within fixed bounds.

use std::sync::atomic::{AtomicU64, Ordering};

pub const INITIAL_TIMEOUT_US: u64 = 1_000_000;
pub const MIN_TIMEOUT_US: u64 = 100_000;
pub const MAX_TIMEOUT_US: u64 = 10_000_000;

/// The bounds of the retransmission timeout (nmap's --initial/--min/--max-rtt-timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttBounds {
    pub initial_us: u64,
    pub min_us: u64,
    pub max_us: u64,
}

impl Default for RttBounds {
    fn default() -> Self {
        Self { initial_us: INITIAL_TIMEOUT_US, min_us: MIN_TIMEOUT_US, max_us: MAX_TIMEOUT_US }
    }
}

/// Written by the receive thread, read by the send thread.
#[derive(Debug)]
pub struct RttEstimator {
    srtt_us: AtomicU64,
    rttvar_us: AtomicU64,
    timeout_us: AtomicU64,
    bounds: RttBounds,
}

impl Default for RttEstimator {
    fn default() -> Self {
        Self::new(RttBounds::default())
    }
}

impl RttEstimator {
    pub fn new(bounds: RttBounds) -> Self {
        let initial = bounds.initial_us.clamp(bounds.min_us, bounds.max_us.max(bounds.min_us));
        Self { srtt_us: AtomicU64::new(0), rttvar_us: AtomicU64::new(0), timeout_us: AtomicU64::new(initial), bounds }
    }

    /// Adds one measurement (only from a probe that was not retransmitted: Karn's rule).
    pub fn observe(&self, rtt_us: u64) {
        let srtt = self.srtt_us.load(Ordering::Relaxed);
        let (srtt, var) = if srtt == 0 {
            (rtt_us.max(1), rtt_us / 2)
        } else {
            let var = self.rttvar_us.load(Ordering::Relaxed);
            let var = (3 * var + srtt.abs_diff(rtt_us)) / 4;
            ((7 * srtt + rtt_us) / 8, var)
        };
        self.srtt_us.store(srtt, Ordering::Relaxed);
        self.rttvar_us.store(var, Ordering::Relaxed);
        let b = self.bounds;
        self.timeout_us.store((srtt + 4 * var).clamp(b.min_us, b.max_us.max(b.min_us)), Ordering::Relaxed);
    }

    pub fn srtt_us(&self) -> u64 {
        self.srtt_us.load(Ordering::Relaxed)
    }

    pub fn timeout_us(&self) -> u64 {
        self.timeout_us.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_measurements_within_bounds() {
        let e = RttEstimator::default();
        assert_eq!(e.timeout_us(), INITIAL_TIMEOUT_US);
        for _ in 0..50 {
            e.observe(50);
        }
        assert!(e.srtt_us() >= 49 && e.srtt_us() <= 51);
        assert_eq!(e.timeout_us(), MIN_TIMEOUT_US, "a fast link still waits the minimum");
        for _ in 0..50 {
            e.observe(3_000_000);
        }
        assert!(e.timeout_us() >= 3_000_000 && e.timeout_us() <= MAX_TIMEOUT_US);
        e.observe(60_000_000);
        assert_eq!(e.timeout_us(), MAX_TIMEOUT_US);
    }

    #[test]
    fn honours_chosen_bounds() {
        let e = RttEstimator::new(RttBounds { initial_us: 250_000, min_us: 50_000, max_us: 300_000 });
        assert_eq!(e.timeout_us(), 250_000);
        e.observe(10);
        assert_eq!(e.timeout_us(), 50_000);
        e.observe(5_000_000);
        assert_eq!(e.timeout_us(), 300_000);
    }
}
