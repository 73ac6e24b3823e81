//! Adaptive sending, after nmap's congestion control. A reply that answers a retransmission
//! means an earlier probe or its reply was lost; a probe to a host that does answer, timing
//! out, is a drop. (Silence from hosts that never answered says nothing: a sweep of mostly
//! empty space keeps its rate.)
//! - Retries: a probe gets at most one retransmission more than the highest attempt ever
//!   answered (capped by --max-retries). Probes at that limit wait on a bench while the
//!   limit may still rise, and are sent again when it does (nmap's "probe bench").
//! - Rate: when that highest attempt rises, the rate halves from what was really sent (down
//!   to --min-rate) and a window of probes in flight takes over, starting from what got
//!   through. Clean epochs grow both back. For TCP, one cut per loss episode (TCP's NewReno):
//!   while probes sent before the last cut are unresolved, the allowance may rise but the rate
//!   holds (with 10% random loss the rate was halved five times in a row, for nothing); and a
//!   rise cuts only when drops are more than BACKOFF_SHARE of the epoch's outcomes: a steady
//!   loss of a few percent is the path's, and resends deal with it.
//! - Silence: for TCP, a port that never answers is filtered, not lost, so silence alone
//!   changes nothing. For UDP, silence from a host that does answer is Linux's ICMP error
//!   limit at work (about one port-unreachable per second per host after a burst): when
//!   drops are more than BACKOFF_SHARE of an epoch's outcomes the window and rate back off
//!   too, so resends meet the limit's pace and every closed port is seen, as nmap does.
//! - With no `--rate`, the rate is found instead (ramp.rs) for every technique but UDP: the
//!   ramp sets it, and the rules above only add their loss signal (a cut they call for cuts
//!   the ramp). UDP keeps the rules above, from UDP_START_RATE (or the template's start, if
//!   higher) and growing through clean epochs without a cap: the targets' ICMP limits, not
//!   the path, pace it.

use crate::ramp::{Profile, Ramp, Sample, Verdict};
use std::time::Duration;

/// How often the rate is reconsidered.
pub const EPOCH: Duration = Duration::from_millis(100);
pub const GROWTH: f64 = 1.25;
/// Above this share of drops among an epoch's outcomes, back off.
pub const BACKOFF_SHARE: f64 = 0.20;
/// Below it, grow.
pub const GROW_SHARE: f64 = 0.05;
/// The floor when no --min-rate is given.
pub const DEFAULT_MIN_RATE: f64 = 1.0;
/// Where a UDP scan's rate starts when none was given (the rate every UDP scan had before the
/// rate was found). Against Linux's ICMP limit (a burst, then one port-unreachable per second
/// per host) what matters is that the first probes leave before the first RTT sample shortens
/// the timeout: they keep the long initial one, and their resends meet a refilled bucket. A
/// slower start gave most probes the 100 ms minimum instead, and their resends all timed out
/// within the same empty second, before any could raise the retry allowance.
pub const UDP_START_RATE: f64 = 10_000.0;
/// Outcomes an epoch needs before its shares mean anything.
const MIN_EVIDENCE: u64 = 4;
/// A window this large no longer limits anything: drop it.
const WINDOW_RELEASE: u64 = 4096;

/// What one epoch saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Epoch {
    /// The highest attempt number ever answered.
    pub max_successful: u8,
    /// Replies in the epoch (to any attempt).
    pub answers: u64,
    /// Probes to responsive hosts that timed out in the epoch.
    pub drops: u64,
    /// Packets per second actually sent in the epoch.
    pub achieved_rate: f64,
    /// Probes sent before the last back-off are still unresolved: a resend of theirs being
    /// answered says nothing about the rate since (one cut per loss episode, as TCP's NewReno;
    /// TCP only).
    pub in_recovery: bool,
    /// The scan's clock (µs) and how long a cut takes to show in the replies (the settle
    /// time): for the ramp, which takes one cut per loss episode.
    pub now_us: u64,
    pub hold_us: u64,
}

/// What an epoch decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    /// The highest answered attempt rose: benched probes may go again.
    pub rose: bool,
    /// The rate and window were cut: a new loss episode starts at the current send position.
    pub backed_off: bool,
}

#[derive(Debug, Clone)]
pub struct Congestion {
    max_rate: f64,
    min_rate: f64,
    rate: f64,
    max_successful: u8,
    /// probes allowed in flight; None while no loss has been seen
    window: Option<u64>,
    /// whether silence from answering hosts counts as loss (UDP)
    silence_is_loss: bool,
    /// the rate's finder when none was given (not for UDP)
    ramp: Option<Ramp>,
}

impl Congestion {
    pub fn new(max_rate: f64, min_rate: f64, silence_is_loss: bool) -> Self {
        let min_rate = if min_rate > 0.0 { min_rate } else { DEFAULT_MIN_RATE }.min(max_rate);
        Self { max_rate, min_rate, rate: max_rate, max_successful: 0, window: None, silence_is_loss, ramp: None }
    }

    /// No `--rate`: the rate found from `profile`'s start, at most `max_rate` (may be infinite).
    pub fn discover(profile: Profile, max_rate: f64, min_rate: f64, silence_is_loss: bool) -> Self {
        let mut c = Self::new(max_rate, min_rate, silence_is_loss);
        if silence_is_loss {
            c.rate = profile.start.max(UDP_START_RATE).min(max_rate).max(c.min_rate);
        } else {
            c.ramp = Some(Ramp::new(profile, max_rate, c.min_rate));
        }
        c
    }

    pub fn rate(&self) -> f64 {
        self.ramp.as_ref().map_or(self.rate, Ramp::rate)
    }

    /// The ramp, when the rate is being found.
    pub fn ramp(&self) -> Option<&Ramp> {
        self.ramp.as_ref()
    }

    /// Probes a pace sample should hold (ramp.rs); None when no ramp runs.
    pub fn wanted_probes(&self) -> Option<u64> {
        self.ramp.as_ref().map(Ramp::wanted_probes)
    }

    /// A pace sample for the ramp; whether it cut the rate.
    pub fn sample(&mut self, s: Sample, now_us: u64) -> bool {
        self.ramp.as_mut().is_some_and(|r| r.sample(s, now_us) == Verdict::Cut)
    }

    /// The receive ring dropped `lost` of the replies while `sent_rate` went out: the
    /// scanner's own receive path is the bottleneck. Whether it cut the rate.
    pub fn ring_loss(&mut self, now_us: u64, hold_us: u64, sent_rate: f64, lost: f64) -> bool {
        self.ramp.as_mut().is_some_and(|r| r.loss(now_us, hold_us, sent_rate, lost) == Verdict::Cut)
    }

    /// The number of probes that may be in flight, if limited.
    pub fn window(&self) -> Option<u64> {
        self.window
    }

    /// Retransmissions a probe may have now, given the user's cap.
    pub fn allowed_retries(&self, max_retries: u8) -> u8 {
        max_retries.min(self.max_successful.saturating_add(1))
    }

    /// Whether the allowance may still rise (so probes at it go to the bench).
    pub fn may_allow_more(&self, max_retries: u8) -> bool {
        self.allowed_retries(max_retries) < max_retries
    }

    fn back_off(&mut self, achieved: f64, got_through: u64) {
        self.rate = (self.rate.min(achieved.max(self.min_rate)) / 2.0).max(self.min_rate);
        self.window = Some(match self.window {
            Some(w) => (w / 2).max(1),
            None => got_through.max(1),
        });
    }

    /// Takes one epoch's evidence.
    pub fn epoch(&mut self, e: Epoch) -> Decision {
        let outcomes = e.answers + e.drops;
        let drop_share = if outcomes == 0 { 0.0 } else { e.drops as f64 / outcomes as f64 };
        let rose = e.max_successful > self.max_successful;
        if rose {
            self.max_successful = e.max_successful;
        }
        let heavy = outcomes >= MIN_EVIDENCE && drop_share > BACKOFF_SHARE;
        let silence = self.silence_is_loss && heavy;
        // UDP keeps nmap's rule (every rise cuts): against Linux's ICMP limit the cuts are what
        // paces the resends to about one answer per second. TCP cuts for a new loss episode
        // only when the loss is heavy (or too little was seen to tell): a path that loses a
        // steady few percent at any rate is served by resends, not by a slower scan.
        let tcp_cut = rose && !e.in_recovery && (heavy || outcomes < MIN_EVIDENCE);
        if let Some(ramp) = self.ramp.as_mut() {
            // the ramp sets the rate and grows it; these rules only signal loss, as nmap's halving
            let cut = tcp_cut && ramp.loss(e.now_us, e.hold_us, e.achieved_rate, 0.5) == Verdict::Cut;
            return Decision { rose, backed_off: cut };
        }
        if (rose && self.silence_is_loss) || tcp_cut || silence {
            self.back_off(e.achieved_rate, e.answers);
            return Decision { rose, backed_off: true };
        } else if rose {
            // the allowance rose (above), the rate holds: this loss belongs to the episode already answered
        } else if e.answers >= MIN_EVIDENCE && drop_share < GROW_SHARE {
            if self.rate.is_finite() {
                self.rate = (self.rate * GROWTH).min(self.max_rate);
            }
            self.window = self.window.map(|w| w + e.answers).filter(|w| *w < WINDOW_RELEASE);
        }
        Decision { rose, backed_off: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(max_successful: u8, answers: u64, drops: u64, achieved_rate: f64) -> Epoch {
        Epoch { max_successful, answers, drops, achieved_rate, ..Epoch::default() }
    }

    #[test]
    fn retries_follow_the_highest_answered_attempt() {
        let mut c = Congestion::new(1000.0, 1.0, false);
        assert_eq!(c.allowed_retries(10), 1, "a clean path: one resend for silent ports");
        assert!(c.may_allow_more(10));
        assert!(c.epoch(ep(3, 1, 0, 1000.0)).rose);
        assert_eq!(c.allowed_retries(10), 4);
        assert_eq!(c.allowed_retries(2), 2, "never past --max-retries");
        assert!(!c.may_allow_more(2));
    }

    #[test]
    fn backs_off_from_the_achieved_rate_and_recovers() {
        let mut c = Congestion::new(10_000.0, 10.0, true);
        // UDP: 34 drops, nothing answered, 400 packets/s really sent: halve from there
        c.epoch(ep(0, 0, 34, 400.0));
        assert_eq!(c.rate(), 200.0);
        assert_eq!(c.window(), Some(1));
        c.epoch(ep(1, 1, 5, 200.0));
        assert_eq!(c.rate(), 100.0);
        for a in 2..20 {
            c.epoch(ep(a, 1, 5, 100.0));
        }
        assert_eq!(c.rate(), 10.0, "never below --min-rate");
        assert_eq!(c.window(), Some(1));
        for _ in 0..80 {
            c.epoch(ep(19, 100, 0, 10.0));
        }
        assert_eq!(c.rate(), 10_000.0, "never above --rate");
        assert_eq!(c.window(), None, "a clean path lifts the window");
        assert_eq!(Congestion::new(1000.0, 0.0, true).min_rate, DEFAULT_MIN_RATE);
    }

    #[test]
    fn one_cut_per_loss_episode() {
        let mut c = Congestion::new(1000.0, 1.0, false);
        assert_eq!(c.epoch(ep(1, 50, 20, 1000.0)), Decision { rose: true, backed_off: true });
        assert_eq!(c.rate(), 500.0);
        // resends of probes sent before that cut keep being answered at higher attempts
        let late = Epoch { in_recovery: true, ..ep(2, 50, 20, 500.0) };
        assert_eq!(c.epoch(late), Decision { rose: true, backed_off: false });
        assert_eq!((c.rate(), c.allowed_retries(10)), (500.0, 3), "the allowance rises, the rate holds");
        // a rise among probes sent after the cut is a new episode
        assert_eq!(c.epoch(ep(3, 50, 20, 500.0)), Decision { rose: true, backed_off: true });
        assert_eq!(c.rate(), 250.0);
    }

    #[test]
    fn steady_light_tcp_loss_keeps_the_rate() {
        // 10% of probes lost at random: resends get answered (the allowance rises), the rate holds
        let mut c = Congestion::new(1000.0, 1.0, false);
        for a in 1..5 {
            assert_eq!(c.epoch(ep(a, 90, 10, 1000.0)), Decision { rose: true, backed_off: false });
        }
        assert_eq!((c.rate(), c.allowed_retries(10)), (1000.0, 5));
        // a small scan's first answered resend: too little seen to tell, nmap's rule
        let mut c = Congestion::new(1000.0, 1.0, false);
        assert!(c.epoch(ep(1, 1, 0, 1000.0)).backed_off);
    }

    #[test]
    fn tcp_silence_is_filtering_not_loss() {
        // hundreds of silent (filtered) ports on a host that answers others: no back-off
        let mut c = Congestion::new(1000.0, 1.0, false);
        for _ in 0..20 {
            assert!(!c.epoch(ep(0, 5, 395, 1000.0)).rose);
        }
        assert_eq!((c.rate(), c.window()), (1000.0, None));
    }

    #[test]
    fn modest_loss_and_silence_change_nothing() {
        let mut c = Congestion::new(1000.0, 1.0, true);
        // 10% drops: between the thresholds, hold
        assert!(!c.epoch(ep(0, 90, 10, 1000.0)).rose);
        assert_eq!((c.rate(), c.window()), (1000.0, None));
        // no evidence at all
        c.epoch(ep(0, 0, 0, 1000.0));
        c.epoch(ep(0, 2, 0, 1000.0));
        assert_eq!((c.rate(), c.window()), (1000.0, None));
    }

    #[test]
    fn no_rate_given_tcp_ramps_udp_starts_where_it_always_did() {
        let t3 = Profile::for_level(3);
        let tcp = Congestion::discover(t3, f64::INFINITY, 0.0, false);
        assert_eq!((tcp.rate(), tcp.wanted_probes().is_some()), (t3.start, true), "TCP: the ramp, from the template's start");
        let udp = Congestion::discover(t3, f64::INFINITY, 0.0, true);
        assert_eq!((udp.rate(), udp.wanted_probes()), (UDP_START_RATE, None), "UDP: nmap's rules from the old start");
        assert_eq!(Congestion::discover(t3, 500.0, 0.0, true).rate(), 500.0, "never above --max-rate");
        assert_eq!(Congestion::discover(Profile::for_level(5), f64::INFINITY, 0.0, true).rate(), 20_000.0);
        // a clean UDP sweep grows past the old start without a cap
        let mut udp = udp;
        for _ in 0..20 {
            udp.epoch(ep(0, 100, 0, udp.rate()));
        }
        assert!(udp.rate() > 50_000.0, "{}", udp.rate());
        // TCP: nmap's rules cut the ramp, once per episode
        let mut tcp = tcp;
        let rise = Epoch { now_us: 1_000_000, hold_us: 10_000, ..ep(1, 1, 0, 1_000.0) };
        assert!(tcp.epoch(rise).backed_off);
        assert_eq!(tcp.rate(), 500.0);
        assert!(
            !tcp.epoch(Epoch { now_us: 1_005_000, hold_us: 10_000, ..ep(2, 1, 0, 500.0) }).backed_off,
            "within the hold: the same episode"
        );
    }
}
