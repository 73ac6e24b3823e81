//! The send path: the seeded permutation walked position by position, each probe's frame
//! written from the template, batches paced by the rate limiter, retransmissions of probes
//! whose RTT-derived timeout has passed (retransmit.rs), and the rate adapted to loss
//! (congestion.rs). Takes the scan's shared state and the open sockets; gives frames on the
//! wire, the counters, and the resume position.
//!
//! One turn of the loop: adapt the rate (the ramp's pace samples whenever one has settled,
//! nmap's rules once per epoch) → move timed-out probes on → if nothing may leave, wait for
//! the earliest deadline → else send one batch, resends first.

use super::plan::NextHop;
use super::probe::{trace_probe, write_probe, Builder};
use super::retransmit::Flight;
use super::Shared;
use crate::congestion::{self, Congestion};
use crate::error::Result;
use crate::net::socket::Sender;
use crate::pace::{PaceLedger, BUCKET_US};
use crate::packet::icmp::{self, IcmpTemplate};
use crate::packet::icmp6::Echo6Template;
use crate::packet::template::TcpTemplate;
use crate::packet::template6::Tcp6Template;
use crate::packet::udp::{UdpTemplate, MAX_FRAME};
use crate::pcap::PcapWriter;
use crate::rate::{RateLimiter, RAMP_CATCH_UP};
use crate::technique::Technique;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Frames handed to the socket per send call.
const SEND_BATCH: usize = 64;
/// Probes sent this long before the latest-sent one answered, and unanswered, are lost
/// (beside a quarter of the RTT, as TCP's RACK reordering window).
const REORDER_US: u64 = 2_000;

/// The send thread's body: sends every probe of the scan's positions, and resends, until
/// all are resolved or the scan is aborted.
pub(super) fn send_loop(
    s: &Shared,
    sock: &Sender,
    next_hop: &NextHop,
    rate: f64,
    control: Option<Congestion>,
    pcap: Option<PcapWriter>,
) -> Result<()> {
    SendLoop::new(s, sock, next_hop, rate, control, pcap).run()
}

/// The send thread's state between turns of its loop.
struct SendLoop<'a> {
    s: &'a Shared,
    sock: &'a Sender,
    next_hop: &'a NextHop,
    control: Option<Congestion>,
    pcap: Option<PcapWriter>,
    limiter: Option<RateLimiter>,
    flight: Flight,
    template: Builder,
    frames: Vec<[u8; MAX_FRAME]>,
    lens: [usize; SEND_BATCH],
    traced: Vec<u8>,
    /// The next position to send for the first time, and one past the last (u128: a space of
    /// 2^64 probes ends past every u64).
    next_pos: u128,
    end: u128,
    /// Window slots: a probe may not leave this far ahead of the oldest unresolved one.
    cap: u64,
    /// Epoch start, answers and packets sent until then, drops seen in it.
    epoch: (Instant, u64, u64),
    drops: u64,
    /// The send position at the last back-off: probes before it belong to that loss episode.
    recovery_from: u64,
    /// First sends and packets per time bucket, for the ramp's pace samples.
    ledger: PaceLedger,
    /// The receive ring's frame and drop counts already judged.
    ring_seen: (u64, u64),
    /// The send rate of the last pace sample.
    sample_rate: f64,
    /// FERROSCAN_RATE_TRACE=1: every pace sample and what it did, on stderr (for benches/).
    rate_trace: bool,
}

/// The most probes the bench holds (16 bytes each: 1 MiB). Past it a probe out of retries is
/// given up at once, as nmap gives it up: in a sweep where almost nothing answers the retry
/// allowance may never rise, and an unbounded bench grew with every probe sent (the soak,
/// benches/soak.mjs, measured 11 MiB per million probes).
const BENCH_MAX: usize = 65_536;

impl<'a> SendLoop<'a> {
    fn new(
        s: &'a Shared,
        sock: &'a Sender,
        next_hop: &'a NextHop,
        rate: f64,
        control: Option<Congestion>,
        pcap: Option<PcapWriter>,
    ) -> Self {
        let ramp = control.as_ref().is_some_and(|c| c.ramp().is_some());
        let limiter = rate.is_finite().then(|| if ramp { RateLimiter::with_catch_up(rate, RAMP_CATCH_UP) } else { RateLimiter::new(rate) });
        Self {
            s,
            sock,
            next_hop,
            control,
            pcap,
            limiter,
            // UDP probes keep the timeout they left with: Linux answers closed UDP ports at about
            // one ICMP error per second per host after a burst, and a resend that waits out the
            // (long) early timeout meets a refilled bucket. TCP probes are judged against the
            // timeout now (nmap's rule), so a scan's early probes do not hold it open for the
            // initial 1 s.
            flight: Flight::new(s.max_retries, s.technique == Technique::Udp),
            template: template_for(s),
            frames: vec![[0u8; MAX_FRAME]; SEND_BATCH],
            lens: [0usize; SEND_BATCH],
            traced: Vec::new(),
            next_pos: s.first_position as u128,
            end: s.end_position,
            cap: s.window.capacity(),
            epoch: (Instant::now(), 0u64, 0u64),
            drops: 0,
            recovery_from: 0,
            ledger: PaceLedger::default(),
            ring_seen: (0, 0),
            sample_rate: 0.0,
            rate_trace: std::env::var_os("FERROSCAN_RATE_TRACE").is_some_and(|v| v == "1"),
        }
    }

    /// The next first-send position as a u64, saturating (see `Shared::sent_upto`).
    fn next_u64(&self) -> u64 {
        self.next_pos.min(u64::MAX as u128) as u64
    }

    fn run(&mut self) -> Result<()> {
        let s = self.s;
        while !s.abort.load(Ordering::Acquire) {
            let now = s.now_us();
            self.follow_pace(now);
            self.adapt_rate(now);
            let timeout = s.rtt.timeout_us();
            self.expire(now, timeout);
            let oldest = self.flight.oldest();
            s.resume_position.store(oldest.unwrap_or(self.next_u64()).min(self.next_u64()), Ordering::Release);
            let window = self.control.as_ref().and_then(|c| c.window()).unwrap_or(u64::MAX);
            let room = self.flight.in_flight < window;
            let can_start = room && self.next_pos < self.end && oldest.is_none_or(|o| self.next_pos - (o as u128) < self.cap as u128);
            let can_resend = room && !self.flight.ready.is_empty();
            if can_start || can_resend {
                self.send_batch(window)?;
            } else if self.wait(now, timeout) {
                break;
            }
        }
        s.resume_position.store(self.flight.oldest().unwrap_or(self.next_u64()).min(self.next_u64()), Ordering::Release);
        if let Some(p) = self.pcap.as_mut() {
            p.flush()?;
        }
        Ok(())
    }

    /// When the rate is being found: every pace sample that has settled, and any drop the
    /// receive ring counted, go to the ramp; its rate goes to the limiter.
    fn follow_pace(&mut self, now: u64) {
        let s = self.s;
        let Some(c) = self.control.as_mut() else {
            return;
        };
        let Some(wanted) = c.wanted_probes() else {
            return;
        };
        let settled = settled_until(s);
        let lag = now.saturating_sub(settled);
        let mut cut = false;
        if let Some(sample) = self.ledger.take(&s.pace, settled as u32, wanted) {
            self.sample_rate = sample.send_rate();
            let before = c.rate();
            cut |= c.sample(sample, now);
            if self.rate_trace {
                trace_sample(now, lag, &sample, before, c);
            }
        }
        let seen = (s.ring_frames.load(Ordering::Relaxed), s.ring_drops.load(Ordering::Relaxed));
        let (frames, drops) = (seen.0 - self.ring_seen.0, seen.1 - self.ring_seen.1);
        self.ring_seen = seen;
        if drops > 0 {
            let sent_rate = if self.sample_rate > 0.0 { self.sample_rate } else { c.rate() };
            cut |= c.ring_loss(now, lag + BUCKET_US as u64, sent_rate, drops as f64 / (frames + drops) as f64);
        }
        if cut {
            self.recovery_from = self.next_pos.min(u64::MAX as u128) as u64;
            s.backoffs.fetch_add(1, Ordering::Relaxed);
        }
        let rate = c.rate();
        if let Some(l) = self.limiter.as_mut() {
            l.set_rate(rate, l.elapsed());
        }
        s.publish_rate(rate);
    }

    /// Once per congestion epoch: the controller's verdict on it, applied to the limiter.
    fn adapt_rate(&mut self, now: u64) {
        let s = self.s;
        let Some(c) = self.control.as_mut() else {
            return;
        };
        let dt = self.epoch.0.elapsed();
        if dt < congestion::EPOCH {
            return;
        }
        let (answers, sent) = (s.records.load(Ordering::Relaxed), s.sent.load(Ordering::Relaxed));
        let decision = c.epoch(congestion::Epoch {
            max_successful: s.max_successful.load(Ordering::Relaxed),
            answers: answers - self.epoch.1,
            drops: self.drops,
            achieved_rate: (sent - self.epoch.2) as f64 / dt.as_secs_f64(),
            in_recovery: self.flight.oldest().is_some_and(|o| o < self.recovery_from),
            now_us: now,
            hold_us: now.saturating_sub(settled_until(s)) + BUCKET_US as u64,
        });
        if decision.backed_off {
            self.recovery_from = self.next_pos.min(u64::MAX as u128) as u64;
            s.backoffs.fetch_add(1, Ordering::Relaxed);
        }
        if decision.rose {
            self.flight.release_bench();
        }
        if let Some(l) = self.limiter.as_mut() {
            l.set_rate(c.rate(), l.elapsed());
        }
        s.publish_rate(c.rate());
        self.epoch = (Instant::now(), answers, sent);
        self.drops = 0;
    }

    /// Probes whose time is up leave the flight: for a resend, the bench, or for good.
    fn expire(&mut self, now: u64, timeout: u64) {
        let s = self.s;
        while let Some((attempt, pos)) = self.flight.pop_expired(now, timeout, s) {
            if s.is_responsive(s.space.probe(s.perm.at(pos)).0) {
                self.drops += 1;
            }
            // as nmap: no more resends than the path has shown to be worth (congestion.rs)
            let allowed = self.control.as_ref().map_or(s.max_retries, |c| c.allowed_retries(s.max_retries));
            if attempt < allowed {
                self.flight.ready.push_back((pos, attempt + 1));
            } else if self.flight.bench.len() < BENCH_MAX && self.control.as_ref().is_some_and(|c| c.may_allow_more(s.max_retries)) {
                self.flight.bench.push((pos, attempt));
            } else if s.window.give_up(pos) {
                s.outstanding.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Nothing may leave now: true when the scan is over, else sleeps until the earliest
    /// deadline (or until an answer may have emptied the queues).
    fn wait(&mut self, now: u64, timeout: u64) -> bool {
        let s = self.s;
        let flight = &mut self.flight;
        if self.next_pos >= self.end && flight.is_empty() && flight.ready.is_empty() && !flight.bench.is_empty() {
            // nothing left that could raise the retry allowance: the bench gives up
            for (pos, _) in flight.bench.drain(..) {
                if s.window.give_up(pos) {
                    s.outstanding.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
        if self.next_pos >= self.end && s.outstanding.load(Ordering::Acquire) <= 0 {
            return true;
        }
        // the rate limiter owes no packets for this time
        if let Some(l) = self.limiter.as_mut() {
            l.idle(l.elapsed());
        }
        let earliest = self.flight.earliest(timeout).unwrap_or(now + 1000);
        std::thread::sleep(Duration::from_micros(earliest.saturating_sub(now).clamp(50, 5000)));
        false
    }

    /// One batch, as many frames as the rate limiter grants: resends first (they are the
    /// oldest debts), then first sends.
    fn send_batch(&mut self, window: u64) -> Result<()> {
        let budget = self.limiter.as_mut().map_or(SEND_BATCH, |l| l.acquire(SEND_BATCH as u64) as usize);
        let now = self.s.now_us();
        let timeout = self.s.rtt.timeout_us();
        let resent = self.resends(budget, window, now, timeout);
        let k = self.first_sends(resent, budget, window, now, timeout);
        if k < budget {
            // granted but not sent (answered meanwhile, no ARP answer, window full): the
            // schedule keeps them
            if let Some(l) = self.limiter.as_mut() {
                l.refund((budget - k) as u64);
            }
        }
        if k > 0 {
            if !self.s.dry_run {
                // counted before the frames leave: an answer may beat the send call's return
                self.ledger.sent(&self.s.pace, now as u32, (k - resent) as u32, k as u32);
            }
            self.transmit(k)?;
        }
        Ok(())
    }

    /// Writes the due resends into the batch from its start; returns the frames written.
    fn resends(&mut self, budget: usize, window: u64, now: u64, timeout: u64) -> usize {
        let s = self.s;
        let mut k = 0usize;
        while k < budget && self.flight.in_flight < window {
            let Some((pos, next)) = self.flight.ready.pop_front() else {
                break;
            };
            if !s.window.retry(pos, next, now as u32) {
                continue; // answered meanwhile
            }
            let (addr, port) = s.space.probe(s.perm.at(pos));
            let Some(mac) = self.next_hop.mac(addr) else {
                continue;
            };
            self.lens[k] = write_probe(s, &self.template, mac, addr, port, next, &mut self.frames[k]);
            trace_probe(s, &mut self.traced, addr, port, next, now);
            k += 1;
            s.retransmits.fetch_add(1, Ordering::Relaxed);
            self.flight.push(next as usize, pos, now, timeout);
        }
        k
    }

    /// Adds first sends to the batch after its `k` frames; returns the frames written in all.
    fn first_sends(&mut self, mut k: usize, budget: usize, window: u64, now: u64, timeout: u64) -> usize {
        let s = self.s;
        while k < budget && self.next_pos < self.end && self.flight.in_flight < window {
            if self.flight.oldest().is_some_and(|o| self.next_pos - (o as u128) >= self.cap as u128) {
                break;
            }
            let pos = self.next_pos as u64;
            self.next_pos += 1;
            let (addr, port) = s.space.probe(s.perm.at(pos));
            // an on-link target that did not answer ARP gets no probe
            let Some(mac) = self.next_hop.mac(addr) else {
                continue;
            };
            self.lens[k] = write_probe(s, &self.template, mac, addr, port, 0, &mut self.frames[k]);
            trace_probe(s, &mut self.traced, addr, port, 0, now);
            k += 1;
            if !s.dry_run {
                s.window.start(pos, now as u32);
                s.outstanding.fetch_add(1, Ordering::AcqRel);
                self.flight.push(0, pos, now, timeout);
            }
        }
        k
    }

    /// The batch's first `k` frames to the pcap file and the socket; their trace records on.
    fn transmit(&mut self, k: usize) -> Result<()> {
        let s = self.s;
        if let Some(p) = self.pcap.as_mut() {
            for (f, len) in self.frames[..k].iter().zip(&self.lens[..k]) {
                p.write(&f[..*len])?;
            }
        }
        // published before the frames leave: a reply may beat the send call's return
        s.sent_upto.store(self.next_u64(), Ordering::Release);
        let refs: Vec<&[u8]> = self.frames[..k].iter().zip(&self.lens[..k]).map(|(f, n)| &f[..*n]).collect();
        self.sock.send(&refs)?;
        s.sent.fetch_add(k as u64, Ordering::Relaxed);
        if let (Some(t), false) = (&s.trace, self.traced.is_empty()) {
            if let Ok(mut g) = t.lock() {
                g.append(&mut self.traced);
            }
        }
        Ok(())
    }
}

/// One line per pace sample (FERROSCAN_RATE_TRACE=1): when, how late, the sample, the rate
/// before and after, and the ramp's reference and capacity.
fn trace_sample(now: u64, lag: u64, x: &crate::ramp::Sample, before: f64, c: &Congestion) {
    let (reference, capacity) = c.ramp().map_or((None, f64::INFINITY), |r| (r.reference(), r.capacity()));
    eprintln!(
        "ferroscan-rate t={:.1}ms lag={:.1}ms sent={:.1}-{:.1}ms probes={} answered={} share={:.3} send_rate={:.0} rate={:.0}->{:.0} reference={} capacity={:.0}",
        now as f64 / 1e3,
        lag as f64 / 1e3,
        x.from_us as f64 / 1e3,
        x.to_us as f64 / 1e3,
        x.probes,
        x.answered,
        x.share(),
        x.send_rate(),
        before,
        c.rate(),
        reference.map_or("-".into(), |r| format!("{r:.3}")),
        capacity
    );
}

/// Every probe sent before this (the scan's clock) that is unanswered now is lost: probes sent
/// well after it have been answered (TCP's RACK: so a path or a host that only slows down
/// reads as no loss), or its retransmission timeout passed with every frame handled.
fn settled_until(s: &Shared) -> u64 {
    let reorder = REORDER_US + s.rtt.srtt_us() / 4;
    let by_order = s.newest_answered_us.load(Ordering::Acquire).saturating_sub(reorder);
    let by_time = s.rx_clock_us.load(Ordering::Acquire).saturating_sub(s.rtt.timeout_us());
    by_order.max(by_time)
}

/// The frame template of the scan's technique and family.
fn template_for(s: &Shared) -> Builder {
    let src = s.route.source;
    match (s.technique, src) {
        (Technique::Udp, _) => Builder::Udp(UdpTemplate::new(s.route.src_mac, src, 64, s.udp_payloads.clone())),
        (Technique::Echo, IpAddr::V6(a)) => Builder::Echo6(Echo6Template::new(s.route.src_mac, a, 64)),
        (Technique::Ndp, IpAddr::V6(a)) => Builder::Ndp(a),
        (t, IpAddr::V6(a)) => Builder::Tcp6(Tcp6Template::new(s.route.src_mac, a, 64, 1024, t.flags())),
        (Technique::Echo, IpAddr::V4(a)) => Builder::Icmp(IcmpTemplate::new(s.route.src_mac, a, 64, icmp::ECHO_REQUEST)),
        (Technique::Timestamp, IpAddr::V4(a)) => Builder::Icmp(IcmpTemplate::new(s.route.src_mac, a, 64, icmp::TIMESTAMP_REQUEST)),
        (Technique::Mask, IpAddr::V4(a)) => Builder::Icmp(IcmpTemplate::new(s.route.src_mac, a, 64, icmp::MASK_REQUEST)),
        (Technique::Arp, IpAddr::V4(a)) => Builder::Arp(a),
        (t, IpAddr::V4(a)) => Builder::Tcp(TcpTemplate::new(s.route.src_mac, a, 64, 1024, t.flags())),
    }
}
