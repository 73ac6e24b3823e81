//! The send-rate limiter: a token bucket driven by elapsed time, so the long-run rate is
//! exact whatever the batch size, with bursts bounded to about a millisecond of traffic.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    per_packet_ns: f64,
    burst: u64,
    start: Instant,
    /// packets granted so far, counted against the schedule
    granted: u64,
    /// schedule offset: the schedule restarts after idle periods so no catch-up burst forms
    base_ns: f64,
}

impl RateLimiter {
    /// `rate` packets per second (> 0).
    pub fn new(rate: f64) -> Self {
        let per_packet_ns = 1e9 / rate.max(1e-3);
        // about 1 ms of packets, at least 1, at most 256 per burst
        let burst = ((rate / 1000.0) as u64).clamp(1, 256);
        Self { per_packet_ns, burst, start: Instant::now(), granted: 0, base_ns: 0.0 }
    }

    /// Changes the rate from now on, without a burst or a stall at the switch.
    pub fn set_rate(&mut self, rate: f64, elapsed: Duration) {
        let per_packet_ns = 1e9 / rate.max(1e-3);
        if (per_packet_ns - self.per_packet_ns).abs() < f64::EPSILON {
            return;
        }
        // restart the schedule at the packets granted so far, as of now
        self.base_ns = elapsed.as_nanos() as f64 - self.granted as f64 * per_packet_ns;
        self.per_packet_ns = per_packet_ns;
        self.burst = ((rate / 1000.0) as u64).clamp(1, 256);
    }

    /// How many packets may be sent at `elapsed` since start (at most `want`); when none,
    /// how long to wait before asking again.
    pub fn grant_at(&mut self, elapsed: Duration, want: u64) -> Result<u64, Duration> {
        let now_ns = elapsed.as_nanos() as f64;
        let due = ((now_ns - self.base_ns) / self.per_packet_ns) as u64;
        if due > self.granted + self.burst {
            // we fell behind (idle or descheduled): forget the debt beyond one burst
            self.granted = due - self.burst;
        }
        let avail = (due + 1).saturating_sub(self.granted).min(self.burst);
        if avail == 0 {
            let next_ns = self.base_ns + self.granted as f64 * self.per_packet_ns;
            return Err(Duration::from_nanos((next_ns - now_ns).max(0.0) as u64));
        }
        let n = avail.min(want);
        self.granted += n;
        Ok(n)
    }

    /// Blocks until at least one packet may go, then grants up to `want`.
    pub fn acquire(&mut self, want: u64) -> u64 {
        loop {
            match self.grant_at(self.start.elapsed(), want) {
                Ok(n) => return n,
                Err(wait) if wait > Duration::from_micros(200) => std::thread::sleep(wait - Duration::from_micros(100)),
                Err(_) => std::hint::spin_loop(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates a sender that asks as often as it likes for `secs` of virtual time.
    fn simulate(rate: f64, secs: f64, step_us: u64) -> u64 {
        let mut rl = RateLimiter::new(rate);
        let mut sent = 0;
        let mut t = 0u64;
        while (t as f64) < secs * 1e6 {
            if let Ok(n) = rl.grant_at(Duration::from_micros(t), 64) {
                sent += n;
            }
            t += step_us;
        }
        sent
    }

    #[test]
    fn holds_its_rate_across_orders_of_magnitude() {
        for (rate, step) in [(100.0, 50), (10_000.0, 7), (1_000_000.0, 1), (5_000_000.0, 1)] {
            let secs = 2.0;
            let sent = simulate(rate, secs, step) as f64;
            let expect = rate * secs;
            assert!((sent - expect).abs() / expect < 0.01, "rate {rate}: sent {sent}, expected {expect}");
        }
    }

    #[test]
    fn does_not_burst_after_idle() {
        let mut rl = RateLimiter::new(1000.0);
        assert!(rl.grant_at(Duration::ZERO, 10).is_ok());
        // after a second of silence, no more than a burst goes at once
        let n = rl.grant_at(Duration::from_secs(1), 10_000).unwrap();
        assert!(n <= 256, "burst of {n}");
    }

    #[test]
    fn changes_rate_midway_without_a_burst() {
        let mut rl = RateLimiter::new(10_000.0);
        let mut sent = 0u64;
        let mut t = 0u64;
        while t < 1_000_000 {
            if let Ok(n) = rl.grant_at(Duration::from_micros(t), 64) {
                sent += n;
            }
            t += 5;
        }
        rl.set_rate(1000.0, Duration::from_micros(t));
        let mut later = 0u64;
        while t < 2_000_000 {
            if let Ok(n) = rl.grant_at(Duration::from_micros(t), 64) {
                later += n;
            }
            t += 5;
        }
        assert!((9_900..=10_100).contains(&sent), "{sent}");
        assert!((990..=1_010).contains(&later), "{later}");
    }

    #[test]
    fn says_how_long_to_wait() {
        let mut rl = RateLimiter::new(10.0);
        assert_eq!(rl.grant_at(Duration::ZERO, 5), Ok(1));
        let wait = rl.grant_at(Duration::from_millis(10), 5).unwrap_err();
        assert!(wait > Duration::from_millis(80) && wait <= Duration::from_millis(90), "{wait:?}");
    }
}
