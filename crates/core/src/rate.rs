//! The send-rate limiter: a token bucket driven by elapsed time, so the long-run rate is
//! exact whatever the batch size. Each grant is bounded to about a millisecond of traffic.
//! A sender that falls behind the schedule while it had packets to send (descheduled, a
//! slow send call) makes up up to CATCH_UP of lost time, in such grants, so the rate it
//! achieves is the rate asked for; time it spent idle (nothing to send, see `idle`) is not
//! owed, so no catch-up burst follows a pause.

use std::time::{Duration, Instant};

/// How far behind its schedule a busy sender may fall and still make the time up; debt
/// beyond it is forgiven. Longer than the few milliseconds a loaded 2-core machine
/// deschedules a thread for, short enough that the catch-up burst stays small.
pub const CATCH_UP: Duration = Duration::from_millis(25);
/// The catch-up of a rate being found (ramp.rs): a burst is what a policer or a short queue
/// on the path drops first, and the ramp would read those drops as the path's capacity.
pub const RAMP_CATCH_UP: Duration = Duration::from_millis(5);

#[derive(Debug)]
pub struct RateLimiter {
    per_packet_ns: f64,
    /// packets per grant at most: about 1 ms of traffic, at least 1, at most 256
    burst: u64,
    /// packets of schedule debt kept at most (CATCH_UP of traffic, at least one burst)
    max_debt: u64,
    start: Instant,
    /// packets granted so far, counted against the schedule
    granted: u64,
    /// schedule offset: the schedule restarts after idle periods and rate changes
    base_ns: f64,
    /// how much lost time a busy sender makes up
    catch_up: Duration,
}

/// (burst, max_debt) for a rate.
fn bounds(rate: f64, catch_up: Duration) -> (u64, u64) {
    let burst = ((rate / 1000.0) as u64).clamp(1, 256);
    let debt = ((rate * catch_up.as_secs_f64()) as u64).max(burst);
    (burst, debt)
}

impl RateLimiter {
    /// `rate` packets per second (> 0), making up CATCH_UP of lost time.
    pub fn new(rate: f64) -> Self {
        Self::with_catch_up(rate, CATCH_UP)
    }

    /// `rate` packets per second (> 0), making up at most `catch_up` of lost time.
    pub fn with_catch_up(rate: f64, catch_up: Duration) -> Self {
        let per_packet_ns = 1e9 / rate.max(1e-3);
        let (burst, max_debt) = bounds(rate, catch_up);
        Self { per_packet_ns, burst, max_debt, start: Instant::now(), granted: 0, base_ns: 0.0, catch_up }
    }

    /// Time since the limiter was created: the clock `acquire` uses.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
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
        (self.burst, self.max_debt) = bounds(rate, self.catch_up);
    }

    /// Packets due by `now_ns` on the schedule (the first is due at the schedule's start).
    fn due(&self, now_ns: f64) -> u64 {
        // a float-to-int cast saturates: before the schedule's start nothing is due
        ((now_ns - self.base_ns) / self.per_packet_ns) as u64
    }

    /// How many packets may be sent at `elapsed` since start (at most `want`); when none,
    /// how long to wait before asking again.
    pub fn grant_at(&mut self, elapsed: Duration, want: u64) -> Result<u64, Duration> {
        let now_ns = elapsed.as_nanos() as f64;
        let due = self.due(now_ns);
        if due > self.granted + self.max_debt {
            // far behind (a long stall): forget the debt beyond what may be made up
            self.granted = due - self.max_debt;
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

    /// Gives back packets granted but not sent (the sender ran out of probes), so the
    /// schedule still has them.
    pub fn refund(&mut self, n: u64) {
        self.granted = self.granted.saturating_sub(n);
    }

    /// The sender has nothing to send at `elapsed` (waiting for replies or timeouts): time
    /// spent idle is not owed, so when it is behind the schedule, the schedule restarts now.
    pub fn idle(&mut self, elapsed: Duration) {
        let now_ns = elapsed.as_nanos() as f64;
        if self.due(now_ns) > self.granted {
            self.base_ns = now_ns - self.granted as f64 * self.per_packet_ns;
        }
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

    /// Everything granted at one instant, asking until refused.
    fn drain_at(rl: &mut RateLimiter, t: Duration) -> u64 {
        let mut total = 0;
        while let Ok(n) = rl.grant_at(t, 64) {
            total += n;
        }
        total
    }

    #[test]
    fn does_not_burst_after_idle() {
        let mut rl = RateLimiter::new(1000.0);
        assert!(rl.grant_at(Duration::ZERO, 10).is_ok());
        // the sender said it had nothing to send: a second of that is not owed
        rl.idle(Duration::from_secs(1));
        assert_eq!(drain_at(&mut rl, Duration::from_secs(1)), 1);
        // and the schedule goes on from there
        assert_eq!(drain_at(&mut rl, Duration::from_millis(1_010)), 10);
    }

    #[test]
    fn idle_ahead_of_schedule_changes_nothing() {
        let mut rl = RateLimiter::new(1000.0);
        assert_eq!(drain_at(&mut rl, Duration::ZERO), 1);
        // granted up to t = 0; idling at t = 0.5 ms is not behind: the next packet is due at 1 ms
        rl.idle(Duration::from_micros(500));
        assert_eq!(rl.grant_at(Duration::from_micros(500), 1), Err(Duration::from_micros(500)));
        assert_eq!(drain_at(&mut rl, Duration::from_millis(1)), 1);
    }

    #[test]
    fn makes_up_for_a_stall_of_a_busy_sender() {
        // 100k pps, asking every 10 µs, descheduled for 5 ms every 50 ms: 10% of the time
        let rate = 100_000.0;
        let mut rl = RateLimiter::new(rate);
        let (mut sent, mut t) = (0u64, 0u64);
        while t < 2_000_000 {
            if t % 50_000 == 0 && t > 0 {
                t += 5_000;
            }
            if let Ok(n) = rl.grant_at(Duration::from_micros(t), 64) {
                sent += n;
            }
            t += 10;
        }
        let expect = rate * t as f64 / 1e6;
        assert!((sent as f64 - expect).abs() / expect < 0.01, "sent {sent}, expected {expect}");
    }

    #[test]
    fn catch_up_is_bounded_and_paced_in_bursts() {
        let rate = 100_000.0;
        let mut rl = RateLimiter::new(rate);
        assert_eq!(rl.grant_at(Duration::ZERO, 1_000), Ok(1));
        // a busy sender stalled for a whole second: at most CATCH_UP of it is made up
        let t = Duration::from_secs(1);
        let debt = (rate * CATCH_UP.as_secs_f64()) as u64;
        let mut grants = Vec::new();
        while let Ok(n) = rl.grant_at(t, 1_000) {
            grants.push(n);
        }
        let total: u64 = grants.iter().sum();
        assert!(total <= debt + 1 && total >= debt, "made up {total}, bound {debt}");
        // each grant is at most a burst (1 ms of traffic at this rate)
        assert!(grants.iter().all(|&n| n <= 100), "{grants:?}");
        // after catching up, the schedule continues at the rate
        assert_eq!(drain_at(&mut rl, t + Duration::from_millis(1)), 100);
    }

    #[test]
    fn refunded_packets_can_still_go() {
        let mut rl = RateLimiter::new(100_000.0);
        assert_eq!(drain_at(&mut rl, Duration::from_millis(1)), 101);
        // 40 of a grant were not sent: they may go now, and no more
        rl.refund(40);
        assert_eq!(drain_at(&mut rl, Duration::from_millis(1)), 40);
        assert!(rl.grant_at(Duration::from_millis(1), 1).is_err());
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
