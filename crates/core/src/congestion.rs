//! Adaptive send rate, in the spirit of nmap's congestion control: a reply that answers a
//! retransmission means an earlier probe or its reply was lost. When a large share of the
//! replies in an epoch answer retransmissions, the rate halves (down to --min-rate); when
//! few do, it grows back towards --rate. Modest random loss (a few percent) holds the rate:
//! retransmission already covers it, and slowing would not bring those packets back.

use std::time::Duration;

/// How often the rate is reconsidered.
pub const EPOCH: Duration = Duration::from_millis(100);
/// Above this share of replies answering retransmissions, the rate halves.
pub const BACKOFF_SHARE: f64 = 0.20;
/// Below this share, the rate grows by GROWTH.
pub const GROW_SHARE: f64 = 0.05;
pub const GROWTH: f64 = 1.25;
/// Fewer replies than this in an epoch say too little to act on, unless probes went unanswered.
const MIN_EVIDENCE: u64 = 4;

#[derive(Debug, Clone)]
pub struct Congestion {
    max_rate: f64,
    min_rate: f64,
    rate: f64,
}

impl Congestion {
    pub fn new(max_rate: f64, min_rate: f64) -> Self {
        let min_rate = min_rate.min(max_rate).max(f64::MIN_POSITIVE);
        Self { max_rate, min_rate, rate: max_rate }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// One epoch's evidence: replies to first sends, replies to retransmissions, and
    /// retransmissions sent. Returns the new rate.
    pub fn epoch(&mut self, first_answers: u64, retry_answers: u64, retransmits: u64) -> f64 {
        let answers = first_answers + retry_answers;
        if answers < MIN_EVIDENCE && retransmits == 0 {
            return self.rate;
        }
        let share = if answers == 0 { 1.0 } else { retry_answers as f64 / answers as f64 };
        // silence after retransmissions is only a drop signal when something does answer:
        // a port that is filtered stays silent at any rate
        if retry_answers > 0 && share > BACKOFF_SHARE {
            self.rate = (self.rate / 2.0).max(self.min_rate);
        } else if share < GROW_SHARE || retry_answers == 0 {
            self.rate = if self.rate.is_finite() { (self.rate * GROWTH).min(self.max_rate) } else { self.rate };
        }
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_heavy_loss_and_recovers() {
        let mut c = Congestion::new(1000.0, 10.0);
        assert_eq!(c.epoch(10, 10, 20), 500.0);
        assert_eq!(c.epoch(0, 5, 50), 250.0);
        for _ in 0..10 {
            c.epoch(1, 9, 9);
        }
        assert_eq!(c.rate(), 10.0, "never below --min-rate");
        for _ in 0..40 {
            c.epoch(100, 0, 0);
        }
        assert_eq!(c.rate(), 1000.0, "never above --rate");
    }

    #[test]
    fn holds_through_modest_random_loss_and_filtered_ports() {
        let mut c = Congestion::new(1000.0, 1.0);
        // 10% of replies answer retransmissions: between the thresholds, hold
        assert_eq!(c.epoch(90, 10, 10), 1000.0);
        // filtered ports: retransmissions but no answers to them at all
        assert_eq!(c.epoch(50, 0, 500), 1000.0);
        // too little evidence
        assert_eq!(c.epoch(1, 1, 0), 1000.0);
    }
}
