//! Adaptive sending, after nmap's: a reply to a retransmission means an earlier probe or
//! its reply was lost, and the highest attempt ever answered ("max successful try") says
//! how lossy the path is.
//! - A probe gets at most one retransmission more than the highest attempt ever answered
//!   (and never more than --max-retries): on a clean path a filtered port costs one resend,
//!   on a lossy one probes keep trying as long as resends are seen to work.
//! - Each time that highest attempt rises, the rate halves from what was really sent, down
//!   to --min-rate: Linux's ICMP error limit (about one per second per host) or a policer
//!   then answers every probe at the pace it allows, instead of most probes timing out.
//! - Epochs with replies to first sends and no new loss grow the rate back towards --rate.

use std::time::Duration;

/// How often the rate is reconsidered.
pub const EPOCH: Duration = Duration::from_millis(100);
pub const GROWTH: f64 = 1.25;
/// The floor when no --min-rate is given.
pub const DEFAULT_MIN_RATE: f64 = 1.0;
/// Replies to first sends an epoch needs before the rate may grow.
const MIN_EVIDENCE: u64 = 4;

#[derive(Debug, Clone)]
pub struct Congestion {
    max_rate: f64,
    min_rate: f64,
    rate: f64,
    max_successful: u8,
}

impl Congestion {
    pub fn new(max_rate: f64, min_rate: f64) -> Self {
        let min_rate = if min_rate > 0.0 { min_rate } else { DEFAULT_MIN_RATE }.min(max_rate);
        Self { max_rate, min_rate, rate: max_rate, max_successful: 0 }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Retransmissions a probe may have now, given the user's cap.
    pub fn allowed_retries(&self, max_retries: u8) -> u8 {
        max_retries.min(self.max_successful.saturating_add(1))
    }

    /// One epoch's evidence: the highest attempt answered so far, replies to first sends in
    /// the epoch, and the rate actually achieved in it (packets per second). Returns the new rate.
    pub fn epoch(&mut self, max_successful: u8, first_answers: u64, achieved_rate: f64) -> f64 {
        if max_successful > self.max_successful {
            self.max_successful = max_successful;
            self.rate = (self.rate.min(achieved_rate.max(self.min_rate)) / 2.0).max(self.min_rate);
        } else if first_answers >= MIN_EVIDENCE && self.rate.is_finite() {
            self.rate = (self.rate * GROWTH).min(self.max_rate);
        }
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_highest_answered_attempt() {
        let mut c = Congestion::new(1000.0, 1.0);
        assert_eq!(c.allowed_retries(10), 1, "a clean path: one resend for silent ports");
        c.epoch(3, 0, 1000.0);
        assert_eq!(c.allowed_retries(10), 4);
        assert_eq!(c.allowed_retries(2), 2, "never past --max-retries");
    }

    #[test]
    fn halves_from_the_achieved_rate_on_new_loss_and_recovers() {
        let mut c = Congestion::new(10_000.0, 10.0);
        // only 400 packets/s were really sent: halve from there, not from 10000
        assert_eq!(c.epoch(1, 0, 400.0), 200.0);
        assert_eq!(c.epoch(1, 0, 200.0), 200.0, "the same loss level again: hold");
        assert_eq!(c.epoch(2, 0, 200.0), 100.0);
        for a in 3..20 {
            c.epoch(a, 0, 100.0);
        }
        assert_eq!(c.rate(), 10.0, "never below --min-rate");
        for _ in 0..60 {
            c.epoch(19, 100, 10.0);
        }
        assert_eq!(c.rate(), 10_000.0, "never above --rate");
        assert_eq!(Congestion::new(1000.0, 0.0).min_rate, DEFAULT_MIN_RATE);
    }

    #[test]
    fn silence_alone_changes_nothing() {
        let mut c = Congestion::new(1000.0, 1.0);
        assert_eq!(c.epoch(0, 0, 1000.0), 1000.0);
        assert_eq!(c.epoch(0, 2, 1000.0), 1000.0, "too little evidence to grow");
    }
}
