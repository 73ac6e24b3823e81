//! Finding the path's rate when the user gave none (no `--rate`): the rate starts modestly,
//! grows while replies keep pace with probes, and backs off to what got through when they
//! stop keeping pace. nmap's congestion control carried over from a window of probes in
//! flight to a packet rate, for a stateless sweep:
//! - Slow start: every round of evidence multiplies the rate (nmap's cwnd gains a probe per
//!   reply, so it doubles per round trip); there is no threshold until the first loss and no
//!   cap unless `--max-rate`.
//! - Evidence is the pace (pace.rs): of the first probes sent in a span, the share answered
//!   within the settle time. The seeded permutation spreads the answering targets evenly
//!   over the scan, so on a path that loses nothing that share is a constant of the target
//!   space (1 in a lab that answers everything, 0.9 with 10% random loss, 0.01 on a sparse
//!   sweep): the reference. A rate past what the path carries shows as the share falling
//!   below it within a round trip, without waiting for a retransmission timeout, while a
//!   steady random loss is part of the reference and never reads as congestion.
//! - The reference is learnt only at rates known to be carried (slow start, where each step
//!   is large enough that passing a bottleneck shows at once, and below the capacity measured
//!   at the last loss); probing past that capacity compares against it frozen, so a loss that
//!   creeps up with the rate is seen, not learnt.
//! - Loss: the share fell below the reference by LOSS_MARGIN and by Z_SCORE standard
//!   deviations of sampling noise. The capacity is the rate at which those probes got
//!   through (their send rate × share ÷ reference); the rate resumes at `backoff` of it
//!   (never below half the rate in one cut, as nmap halves its window). Samples of probes
//!   sent before the cut are not judged again: one cut per loss episode.
//! - Congestion avoidance, after a loss: below the capacity the rate closes half the gap per
//!   round (a binary search, as BIC-TCP); near and past it, it probes upward by `avoidance`
//!   of the rate, a step that grows by as much every round without loss, so a capacity that
//!   was misjudged, or that grew, is left behind within a few rounds (nmap's ca_incr, faster
//!   from -T4 on, made to accelerate).
//! - Sparse evidence grows slower: a share of answers under 1/CC_SCALE_MAX scales each step
//!   down (nmap's cc_scale, capped at 50), and a sample must hold enough probes to tell a
//!   loss from noise (`wanted_probes`); a scan that draws no answer at all keeps its start
//!   rate, since nothing says how fast the path is.
//! - A sender that cannot reach its rate (CPU-bound, or nothing left to send) stops growing:
//!   the rate stays within REACH of what is really sent.
//!
//! Other loss signals come from outside (congestion.rs: answered retransmissions and drops
//! to answering hosts as nmap counts them; the receive ring's own drop counter) through
//! `loss`. `--min-rate` floors every step, `--max-rate` caps it.

/// Below this share of its reference, a sample shows loss (beside the noise test).
pub const LOSS_MARGIN: f64 = 0.05;
/// In slow start a step doubles the rate, so passing a bottleneck shows as a large drop:
/// samples need only the precision to see that.
pub const SLOW_START_MARGIN: f64 = 0.2;
/// Standard deviations of sampling noise a share must fall below its reference to count.
pub const Z_SCORE: f64 = 3.5;
/// nmap's cc_scale_max: answers count up to this many times when few probes draw one.
pub const CC_SCALE_MAX: f64 = 50.0;
/// Growth stops while the sender sends less than the rate ÷ REACH.
pub const REACH: f64 = 2.0;
/// The fewest probes a sample is judged on.
pub const MIN_PROBES: u64 = 16;
/// The reference averages the answered share over about this many recent probes.
const REFERENCE_PROBES: f64 = 5000.0;
/// Within this share below the capacity, avoidance probes instead of closing in.
const NEAR: f64 = 0.02;
/// A cut never goes below this share of the rate.
const MAX_CUT: f64 = 0.5;

/// How a -T template shapes the ramp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Packets per second before any evidence.
    pub start: f64,
    /// Slow start: the factor per round of clean evidence.
    pub slow_start: f64,
    /// Congestion avoidance: the share of the rate added per round past the capacity (and
    /// added again every further round without loss).
    pub avoidance: f64,
    /// After a loss: the share of the measured capacity to resume at.
    pub backoff: f64,
}

impl Profile {
    /// The profile of -T`level` (0 paranoid … 5 insane; above 5 counts as 5). T0-T2 start low and
    /// grow slowly (their scan delay caps them far lower anyway); T3, the default, doubles per
    /// round as nmap's slow start does; T4 and T5 start higher and probe faster past a loss.
    pub fn for_level(level: u8) -> Self {
        let (start, slow_start, avoidance, backoff) = match level {
            0 => (1.0, 1.25, 0.005, 0.5),
            1 => (10.0, 1.25, 0.005, 0.5),
            2 => (100.0, 1.5, 0.005, 0.7),
            3 => (1_000.0, 2.0, 0.01, 0.85),
            4 => (5_000.0, 2.0, 0.02, 0.9),
            _ => (20_000.0, 3.0, 0.04, 0.9),
        };
        Self { start, slow_start, avoidance, backoff }
    }

    /// The same profile from another start rate.
    pub fn starting_at(self, start: f64) -> Self {
        Self { start, ..self }
    }
}

/// First probes sent in a span of time, and how many of them were answered in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// When the span of sends began and ended: µs since the scan started.
    pub from_us: u64,
    pub to_us: u64,
    /// First sends in the span, and of them those answered within the settle time.
    pub probes: u64,
    pub answered: u64,
    /// Every packet sent in the span, retransmissions too: the rate they went at.
    pub packets: u64,
}

impl Sample {
    /// Packets per second sent in the span.
    pub fn send_rate(&self) -> f64 {
        self.packets as f64 / ((self.to_us.saturating_sub(self.from_us)).max(1) as f64 / 1e6)
    }

    pub fn share(&self) -> f64 {
        if self.probes == 0 {
            0.0
        } else {
            self.answered as f64 / self.probes as f64
        }
    }

    /// This sample and the next one as one.
    pub fn merge(self, next: Sample) -> Sample {
        if self.probes == 0 && self.packets == 0 {
            return Sample { from_us: self.from_us.min(next.from_us), ..next };
        }
        Sample {
            from_us: self.from_us,
            to_us: next.to_us.max(self.to_us),
            probes: self.probes + next.probes,
            answered: self.answered + next.answered,
            packets: self.packets + next.packets,
        }
    }
}

/// What a sample or a loss signal did to the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Grew,
    Held,
    Cut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    SlowStart,
    Avoidance,
}

/// The ramp's state.
#[derive(Debug, Clone)]
pub struct Ramp {
    profile: Profile,
    rate: f64,
    max_rate: f64,
    min_rate: f64,
    phase: Phase,
    /// The capacity measured at the last loss: avoidance closes in on it, then probes past it.
    capacity: f64,
    /// The reference share's evidence: answered and probes, decayed to REFERENCE_PROBES.
    ref_answered: f64,
    ref_probes: f64,
    /// Samples of probes sent before this (µs) were sent at a rate since cut: not judged.
    judge_from_us: u64,
    /// The last growth: the next needs evidence from probes sent after it.
    grown_at_us: u64,
    /// Rounds of probing past the capacity without a loss.
    probing: u32,
    /// After a cut judged on the pace: the rate those probes went at and the rate at which
    /// they were answered (answers per second), for the first sample after the cut.
    after_cut: Option<(f64, f64)>,
    peak: f64,
    cuts: u64,
}

impl Ramp {
    /// A ramp from the profile's start, within [min_rate, max_rate] (max_rate may be infinite).
    pub fn new(profile: Profile, max_rate: f64, min_rate: f64) -> Self {
        let min_rate = min_rate.min(max_rate);
        let rate = profile.start.min(max_rate).max(min_rate);
        Self {
            profile,
            rate,
            max_rate,
            min_rate,
            phase: Phase::SlowStart,
            capacity: f64::INFINITY,
            ref_answered: 0.0,
            ref_probes: 0.0,
            judge_from_us: 0,
            grown_at_us: 0,
            probing: 0,
            after_cut: None,
            peak: rate,
            cuts: 0,
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The highest rate set so far.
    pub fn peak(&self) -> f64 {
        self.peak
    }

    /// Back-offs so far.
    pub fn cuts(&self) -> u64 {
        self.cuts
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The capacity measured at the last loss (infinite before any).
    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    /// The answered share the ramp takes for a path that loses nothing, once it has one.
    pub fn reference(&self) -> Option<f64> {
        (self.ref_probes > 0.0).then(|| self.ref_answered / self.ref_probes)
    }

    /// Probes a sample should hold to tell the loss the ramp looks for from noise; the
    /// sampler gathers this many, or what a span of time brings.
    pub fn wanted_probes(&self) -> u64 {
        let p = self.reference().unwrap_or(1.0).clamp(1e-3, 1.0);
        let margin = if self.phase == Phase::SlowStart { SLOW_START_MARGIN } else { LOSS_MARGIN };
        ((Z_SCORE * Z_SCORE * (1.0 - p) / (margin * margin * p)).ceil() as u64).clamp(MIN_PROBES, 1 << 20)
    }

    /// Judges one sample, taken at `now_us`.
    pub fn sample(&mut self, s: Sample, now_us: u64) -> Verdict {
        if s.probes == 0 || s.from_us < self.judge_from_us {
            return Verdict::Held;
        }
        let share = s.share();
        let n = s.probes as f64;
        let Some(reference) = self.reference() else {
            // the first evidence (or the first after a descent) sets the reference
            self.learn(s);
            return self.grow(s, now_us);
        };
        // the noise of the sample and of the reference itself; (a+1)/(n+2) keeps a
        // reference of 1 from claiming no noise at all
        let pv = (self.ref_answered + 1.0) / (self.ref_probes + 2.0);
        let noise = Z_SCORE * (pv * (1.0 - pv) * (1.0 / n + 1.0 / self.ref_probes)).sqrt() + 1.0 / n;
        let after_cut = self.after_cut.take();
        if reference > 0.0 && reference - share > (LOSS_MARGIN * reference).max(noise) {
            if let Some((sent_before, answered_before)) = after_cut {
                if let Some(verdict) = self.descend(s, now_us, sent_before, answered_before) {
                    return verdict;
                }
            }
            let capacity = s.send_rate() * share / reference;
            self.capacity = capacity;
            let verdict = self.cut(now_us, capacity * self.profile.backoff);
            self.after_cut = Some((s.send_rate(), s.send_rate() * share));
            return verdict;
        }
        // loss only ever lowers the share: a reference this far below a sample was learnt
        // while probes were being lost
        let relearn = share - reference > noise;
        if relearn {
            self.ref_answered = 0.0;
            self.ref_probes = 0.0;
        }
        // learnt where the path is known to carry the rate; frozen while probing past it
        if relearn || self.phase == Phase::SlowStart || s.send_rate() < self.capacity * (1.0 - NEAR) {
            self.learn(s);
        }
        self.grow(s, now_us)
    }

    /// The first sample after a cut still shows loss. If the answers per second did not fall
    /// with the rate, the path is still full here and the reference was learnt while probes
    /// were being lost (a start above the path's capacity): the path carries at least what
    /// it answers now, so the rate goes there and the reference is learnt afresh; the rate
    /// of these probes bounds the capacity from above.
    fn descend(&mut self, s: Sample, now_us: u64, sent_before: f64, answered_before: f64) -> Option<Verdict> {
        let answering = s.send_rate() * s.share();
        if s.send_rate() >= 0.9 * sent_before || answering < answered_before * (1.0 - (1.0 - self.profile.backoff) / 2.0) {
            return None;
        }
        self.ref_answered = 0.0;
        self.ref_probes = 0.0;
        self.capacity = s.send_rate();
        self.rate = answering.max(self.min_rate).min(self.rate);
        self.judge_from_us = now_us;
        self.grown_at_us = now_us;
        self.probing = 0;
        Some(Verdict::Cut)
    }

    fn learn(&mut self, s: Sample) {
        self.ref_answered += s.answered as f64;
        self.ref_probes += s.probes as f64;
        if self.ref_probes > REFERENCE_PROBES {
            let k = REFERENCE_PROBES / self.ref_probes;
            self.ref_answered *= k;
            self.ref_probes *= k;
        }
    }

    /// A loss seen elsewhere (the receive ring's drops, nmap's signals): `lost` of what was
    /// sent at `sent_rate` did not get through. Ignored within `hold_us` of the last cut,
    /// whose effect the signal may predate.
    pub fn loss(&mut self, now_us: u64, hold_us: u64, sent_rate: f64, lost: f64) -> Verdict {
        if self.cuts > 0 && now_us < self.judge_from_us.saturating_add(hold_us) {
            return Verdict::Held;
        }
        let capacity = self.rate.min(sent_rate) * (1.0 - lost.clamp(0.0, 1.0));
        self.capacity = capacity;
        self.cut(now_us, capacity * self.profile.backoff)
    }

    fn cut(&mut self, now_us: u64, to: f64) -> Verdict {
        self.after_cut = None;
        self.rate = to.min(self.rate).max(self.rate * MAX_CUT).max(self.min_rate);
        self.phase = Phase::Avoidance;
        self.judge_from_us = now_us;
        self.grown_at_us = now_us;
        self.probing = 0;
        self.cuts += 1;
        Verdict::Cut
    }

    fn grow(&mut self, s: Sample, now_us: u64) -> Verdict {
        let reference = self.reference().unwrap_or(0.0);
        // evidence about the rate before the last step is no evidence for the next one; a
        // sender that does not reach its rate gains nothing from a higher one
        if reference <= 0.0 || s.to_us <= self.grown_at_us || s.send_rate() * REACH < self.rate || self.rate >= self.max_rate {
            return Verdict::Held;
        }
        let credit = (reference * CC_SCALE_MAX).min(1.0);
        let next = match self.phase {
            Phase::SlowStart => self.rate * (1.0 + (self.profile.slow_start - 1.0) * credit),
            Phase::Avoidance if self.rate < self.capacity * (1.0 - NEAR) => {
                self.probing = 0;
                self.rate + (self.capacity - self.rate) / 2.0 * credit
            }
            Phase::Avoidance => {
                self.probing += 1;
                let step = (self.profile.avoidance * self.probing as f64).min(self.profile.slow_start - 1.0);
                self.rate * (1.0 + step * credit)
            }
        };
        self.rate = next.min(self.max_rate).max(self.min_rate);
        self.peak = self.peak.max(self.rate);
        self.grown_at_us = now_us;
        Verdict::Grew
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulated path, round by round: the sender sends min(rate, sender_limit); the path
    /// carries at most `bottleneck` packets per second (a policer dropping the rest) and
    /// loses `loss` of what it carries at random; a share `answering` of the targets answers;
    /// a sample covers the probes of one round, judged `lag` rounds later.
    struct Path {
        bottleneck: f64,
        loss: f64,
        answering: f64,
        sender_limit: f64,
        round_us: u64,
        lag: usize,
        seed: u64,
    }

    impl Path {
        fn clean() -> Self {
            Self { bottleneck: f64::INFINITY, loss: 0.0, answering: 1.0, sender_limit: f64::INFINITY, round_us: 10_000, lag: 1, seed: 1 }
        }

        /// xorshift: a binomial draw by summing Bernoulli trials, enough for tests
        fn draw(&mut self, n: u64, p: f64) -> u64 {
            (0..n)
                .filter(|_| {
                    self.seed ^= self.seed << 13;
                    self.seed ^= self.seed >> 7;
                    self.seed ^= self.seed << 17;
                    ((self.seed >> 11) as f64 / (1u64 << 53) as f64) < p
                })
                .count() as u64
        }

        /// Runs `rounds` rounds; returns the rate after each. Settled rounds gather into a
        /// sample until it holds what the ramp wants, or 100 ms of sends (as pace.rs does).
        fn run(&mut self, ramp: &mut Ramp, rounds: usize) -> Vec<f64> {
            let mut pending: std::collections::VecDeque<Sample> = Default::default();
            let mut acc: Option<Sample> = None;
            let mut rates = Vec::new();
            for r in 0..rounds {
                let t = r as u64 * self.round_us;
                let send = ramp.rate().min(self.sender_limit);
                let packets = (send * self.round_us as f64 / 1e6).round() as u64;
                let through = if send > self.bottleneck { self.bottleneck / send } else { 1.0 };
                let answered = self.draw(packets, through * (1.0 - self.loss) * self.answering);
                pending.push_back(Sample { from_us: t, to_us: t + self.round_us, probes: packets, answered, packets });
                if pending.len() > self.lag {
                    let s = pending.pop_front().unwrap();
                    let a = acc.map_or(s, |a| a.merge(s));
                    if a.probes >= ramp.wanted_probes() || a.to_us - a.from_us >= 100_000 {
                        ramp.sample(a, t + self.round_us);
                        acc = None;
                    } else {
                        acc = Some(a);
                    }
                }
                rates.push(ramp.rate());
            }
            rates
        }
    }

    #[test]
    fn profiles_follow_the_templates() {
        let (t2, t3, t4, t5) = (Profile::for_level(2), Profile::for_level(3), Profile::for_level(4), Profile::for_level(5));
        assert!(t2.start < t3.start && t3.start < t4.start && t4.start < t5.start, "higher templates start higher");
        assert!(t2.slow_start < t3.slow_start && t4.slow_start <= t5.slow_start);
        assert!(t3.avoidance < t4.avoidance && t4.avoidance < t5.avoidance, "and probe faster past a loss");
        assert_eq!(Profile::for_level(9), t5);
        assert_eq!(t3.starting_at(42.0).start, 42.0);
    }

    #[test]
    fn grows_without_a_cap_on_a_clean_path() {
        let mut ramp = Ramp::new(Profile::for_level(3), f64::INFINITY, 0.0);
        let rates = Path::clean().run(&mut ramp, 40);
        assert_eq!(rates[0], 1_000.0);
        // a round of evidence per step, each a doubling: past a million packets/s in 40 rounds
        assert!(*rates.last().unwrap() > 1e6, "{rates:?}");
        assert!(rates.windows(2).all(|w| w[1] >= w[0]), "never lower on a clean path");
        assert_eq!((ramp.cuts(), ramp.phase()), (0, Phase::SlowStart));
    }

    #[test]
    fn steady_random_loss_is_not_congestion() {
        let mut ramp = Ramp::new(Profile::for_level(3), f64::INFINITY, 0.0);
        let mut path = Path { loss: 0.1, ..Path::clean() };
        let rates = path.run(&mut ramp, 40);
        assert!(*rates.last().unwrap() > 1e6, "{rates:?}");
        let reference = ramp.reference().unwrap();
        assert!((reference - 0.9).abs() < 0.03, "reference {reference}");
    }

    #[test]
    fn settles_near_a_bottleneck() {
        for (level, n) in [(3u8, 20_000.0), (3, 150_000.0), (4, 20_000.0), (5, 5_000.0), (3, 2_000.0)] {
            let mut ramp = Ramp::new(Profile::for_level(level), f64::INFINITY, 0.0);
            let mut path = Path { bottleneck: n, ..Path::clean() };
            let rates = path.run(&mut ramp, 600);
            let late = &rates[300..];
            let mean = late.iter().sum::<f64>() / late.len() as f64;
            let (lo, hi) = late.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
            assert!(mean > 0.9 * n && mean < 1.1 * n, "T{level} N={n}: mean {mean}");
            // probing past the capacity overshoots by a few rounds of growth: further at -T5
            // (four times -T3's steps) and on slow paths (a round holds few probes)
            assert!(lo > 0.7 * n && hi < 1.3 * n, "T{level} N={n}: between {lo} and {hi}");
            assert!(ramp.cuts() >= 2 && ramp.phase() == Phase::Avoidance, "T{level} N={n}: {} cuts", ramp.cuts());
        }
    }

    #[test]
    fn settles_near_a_bottleneck_behind_random_loss_and_sparse_answers() {
        let n = 20_000.0;
        let mut ramp = Ramp::new(Profile::for_level(3), f64::INFINITY, 0.0);
        let mut path = Path { bottleneck: n, loss: 0.1, answering: 0.3, seed: 7, ..Path::clean() };
        let rates = path.run(&mut ramp, 800);
        let late = &rates[400..];
        let mean = late.iter().sum::<f64>() / late.len() as f64;
        assert!(mean > 0.8 * n && mean < 1.15 * n, "mean {mean}");
    }

    #[test]
    fn a_slow_sender_stops_the_growth() {
        let mut ramp = Ramp::new(Profile::for_level(3), f64::INFINITY, 0.0);
        let mut path = Path { sender_limit: 100_000.0, ..Path::clean() };
        let rates = path.run(&mut ramp, 100);
        // one step past the reach, no further
        assert!(*rates.last().unwrap() <= 100_000.0 * REACH * 2.0, "{rates:?}");
        assert!(*rates.last().unwrap() >= 100_000.0);
    }

    #[test]
    fn max_and_min_rate_bound_every_step() {
        let mut ramp = Ramp::new(Profile::for_level(3), 30_000.0, 0.0);
        let rates = Path::clean().run(&mut ramp, 50);
        assert!(rates.iter().all(|&r| r <= 30_000.0));
        assert_eq!(*rates.last().unwrap(), 30_000.0);
        assert_eq!(ramp.peak(), 30_000.0);
        // a floor above the start raises the start; a bottleneck below the floor cannot push under it
        let mut ramp = Ramp::new(Profile::for_level(3), f64::INFINITY, 8_000.0);
        assert_eq!(ramp.rate(), 8_000.0);
        let rates = Path { bottleneck: 2_000.0, ..Path::clean() }.run(&mut ramp, 200);
        assert!(rates.iter().all(|&r| r >= 8_000.0), "{rates:?}");
        assert!(ramp.cuts() > 0);
        // a cap below the start lowers the start
        assert_eq!(Ramp::new(Profile::for_level(5), 500.0, 0.0).rate(), 500.0);
    }

    #[test]
    fn no_answers_keep_the_start_rate() {
        let mut ramp = Ramp::new(Profile::for_level(4), f64::INFINITY, 0.0);
        let rates = Path { answering: 0.0, ..Path::clean() }.run(&mut ramp, 50);
        assert!(rates.iter().all(|&r| r == 5_000.0));
    }

    #[test]
    fn sparse_answers_grow_slower() {
        let mut dense = Ramp::new(Profile::for_level(3), f64::INFINITY, 0.0);
        let mut sparse = Ramp::new(Profile::for_level(3), f64::INFINITY, 0.0);
        Path::clean().run(&mut dense, 12);
        Path { answering: 0.005, ..Path::clean() }.run(&mut sparse, 12);
        assert!(sparse.rate() > 1_000.0 && sparse.rate() < dense.rate() / 4.0, "{} vs {}", sparse.rate(), dense.rate());
    }

    #[test]
    fn one_cut_per_loss_episode() {
        let mut ramp = Ramp::new(Profile::for_level(3), f64::INFINITY, 0.0);
        let clean = Sample { from_us: 0, to_us: 10_000, probes: 10, answered: 10, packets: 10 };
        assert_eq!(ramp.sample(clean, 12_000), Verdict::Grew);
        assert_eq!(ramp.rate(), 2_000.0);
        // sent at 2,000/s, half answered: the path carried 1,000/s; the rate resumes at
        // 0.85 of that, but a cut never goes below half the rate
        let lossy = |from_us| Sample { from_us, to_us: from_us + 10_000, probes: 20, answered: 10, packets: 20 };
        assert_eq!(ramp.sample(lossy(10_000), 22_000), Verdict::Cut);
        assert_eq!((ramp.rate(), ramp.phase()), (1_000.0, Phase::Avoidance));
        // probes sent before the cut are not judged again
        assert_eq!(ramp.sample(lossy(20_000), 32_000), Verdict::Held);
        assert_eq!(ramp.cuts(), 1);
        // a signal from elsewhere right after the cut belongs to the same episode; later, a new one
        assert_eq!(ramp.loss(23_000, 10_000, 1_000.0, 0.5), Verdict::Held);
        assert_eq!(ramp.loss(40_000, 10_000, 1_000.0, 0.5), Verdict::Cut);
        assert_eq!(ramp.rate(), 500.0);
    }
}
