//! A running scan: a send thread and a receive thread over one probe space.
//!
//! The send thread walks the seeded permutation, patches the template per probe, paces
//! with the rate limiter, and retransmits what the window says is still unanswered once
//! its RTT-derived timeout has passed. The receive thread validates each frame's cookie,
//! maps it back to its send position, deduplicates through the window, and hands packed
//! records to the sink in batches. The scan ends when every probe is answered or given up.
//!
//! Takes a `ScanConfig` and a sink; gives `ScanEvent`s to the sink (record batches, then
//! `Done`) and `ScanStats` while it runs. The stages, each in its own file:
//! - `plan.rs`: the route, the next hop and the sockets, before the first frame;
//! - `send.rs`: the send loop (pacing, congestion), with `probe.rs` (one probe's frame) and
//!   `retransmit.rs` (the queue of probes in flight);
//! - `receive.rs`: frames → records, with `validate.rs` (the cookie checks);
//! - this file: start (checks, threads), abort, stats, join; `config.rs`: the public types.

mod config;
mod plan;
mod probe;
mod receive;
mod retransmit;
mod send;
mod validate;

pub use config::{ReceivePath, ScanConfig, ScanEvent, ScanInfo, ScanStats, Sink, MAX_RETRIES_LIMIT};

use crate::addr::Family;
use crate::congestion::Congestion;
use crate::connect;
use crate::cookie::CookieKey;
use crate::error::{from_panic, Error, Result};
use crate::net::route::Route;
use crate::net::socket::Sender;
use crate::pace::PaceAnswers;
use crate::pcap::PcapWriter;
use crate::permute::Permutation;
use crate::record::{Record, RECORD_SIZE};
use crate::space::ProbeSpace;
use crate::technique::Technique;
use crate::timing::RttEstimator;
use crate::window::Window;
use plan::{open_network, Network, NextHop};
use receive::{receive_loop, CursorReport, Receiver};
use send::send_loop;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Records per batch handed to the sink, at most.
const RECORDS_PER_BATCH: usize = 4096;
/// A batch waits at most this long for more records.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// 2^20 bits of "this host answered", 128 KiB whatever the target space.
const RESPONSIVE_WORDS: usize = 1 << 14;

/// The state the send and receive threads share: the probe space and its permutation, the
/// cookie key, the route, the window of probes in flight, and the counters.
struct Shared {
    /// The targets' family (the space's): every frame, route and reply is of it.
    family: Family,
    space: ProbeSpace,
    perm: Permutation,
    key: CookieKey,
    route: Route,
    sport: u16,
    /// Retransmissions leave from sport + attempt (unless the user fixed the port): a new
    /// 4-tuple, so a target holding a half-open connection from a lost SYN/ACK answers
    /// afresh instead of with a challenge ACK.
    vary_sport: bool,
    technique: Technique,
    udp_payloads: HashMap<u16, Vec<u8>>,
    max_retries: u8,
    window: Window,
    rtt: RttEstimator,
    start: Instant,
    abort: AtomicBool,
    tx_done: AtomicBool,
    finished: AtomicBool,
    /// one past the highest position sent
    sent_upto: AtomicU64,
    /// every position below this is sent and resolved
    resume_position: AtomicU64,
    first_position: u64,
    /// one past the last position: may be 2^64
    end_position: u128,
    dry_run: bool,
    /// The interface index link-local IPv6 targets are reached on (connect scan); 0 if none.
    scope_id: u32,
    trace: Option<Mutex<Vec<u8>>>,
    outstanding: AtomicI64,
    sent: AtomicU64,
    retransmits: AtomicU64,
    received: AtomicU64,
    /// replies to first sends and to retransmissions: the congestion signal
    first_answers: AtomicU64,
    /// the highest attempt number that got an answer
    max_successful: AtomicU8,
    /// hosts that answered anything, by hash: only their silence counts as loss
    responsive: Vec<AtomicU64>,
    /// answers to first sends by the time of the send: the ramp's evidence (pace.rs)
    pace: PaceAnswers,
    /// the receive thread's clock: every frame that arrived before it has been handled
    rx_clock_us: AtomicU64,
    /// the send time of the latest-sent probe answered (at its first attempt): probes sent
    /// well before it and still unanswered are lost, not late (TCP's RACK)
    newest_answered_us: AtomicU64,
    /// the receive ring's frames and drops so far (its kernel counters, summed)
    ring_frames: AtomicU64,
    ring_drops: AtomicU64,
    /// the send rate now and at its highest (f64 bits), and the cuts for loss
    rate_bits: AtomicU64,
    peak_rate_bits: AtomicU64,
    backoffs: AtomicU64,
    records: AtomicU64,
    discarded: AtomicU64,
    tx_error: Mutex<Option<Error>>,
    /// `--os-hints`: SYN+ACKs are matched against these p0f signatures (receive.rs), each
    /// distinct reading once.
    os_hints: Option<Arc<crate::os::p0f::P0fDb>>,
    hint_cache: Mutex<HashMap<crate::os::p0f::MatchKey, crate::os::p0f::Hint>>,
}

impl Shared {
    /// The state of a scan starting at `start_at`, before either thread runs.
    fn new(cfg: &ScanConfig, space: ProbeSpace, route: Route, sport: u16, start_at: u64, end: u128) -> Self {
        let total = space.len();
        Shared {
            perm: if cfg.sequential { Permutation::sequential(total) } else { Permutation::new(total, cfg.seed) },
            // a dry run has nothing in flight
            window: Window::new(if cfg.dry_run { 0 } else { (end - start_at as u128).min(u64::MAX as u128) as u64 }),
            family: space.family(),
            space,
            key: CookieKey::random(),
            route,
            sport,
            vary_sport: cfg.source_port.is_none(),
            technique: cfg.technique,
            udp_payloads: cfg.udp_payloads.clone(),
            max_retries: cfg.max_retries,
            rtt: RttEstimator::new(cfg.rtt),
            start: Instant::now(),
            abort: AtomicBool::new(false),
            tx_done: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            sent_upto: AtomicU64::new(start_at),
            resume_position: AtomicU64::new(start_at),
            first_position: start_at,
            end_position: end,
            dry_run: cfg.dry_run,
            scope_id: 0,
            trace: cfg.trace.then(|| Mutex::new(Vec::new())),
            outstanding: AtomicI64::new(0),
            sent: AtomicU64::new(0),
            retransmits: AtomicU64::new(0),
            received: AtomicU64::new(0),
            first_answers: AtomicU64::new(0),
            max_successful: AtomicU8::new(0),
            responsive: (0..RESPONSIVE_WORDS).map(|_| AtomicU64::new(0)).collect(),
            pace: PaceAnswers::default(),
            rx_clock_us: AtomicU64::new(0),
            newest_answered_us: AtomicU64::new(0),
            ring_frames: AtomicU64::new(0),
            ring_drops: AtomicU64::new(0),
            rate_bits: AtomicU64::new(0),
            peak_rate_bits: AtomicU64::new(0),
            backoffs: AtomicU64::new(0),
            records: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            tx_error: Mutex::new(None),
            os_hints: cfg.os_hints.clone(),
            hint_cache: Mutex::new(HashMap::new()),
        }
    }

    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// The send rate now, published for stats (the highest is kept beside it).
    fn publish_rate(&self, rate: f64) {
        self.rate_bits.store(rate.to_bits(), Ordering::Relaxed);
        if rate > f64::from_bits(self.peak_rate_bits.load(Ordering::Relaxed)) {
            self.peak_rate_bits.store(rate.to_bits(), Ordering::Relaxed);
        }
    }

    /// The address of an address value of the scan's family.
    #[inline]
    fn ip(&self, v: u128) -> std::net::IpAddr {
        self.family.ip(v)
    }

    fn responsive_bit(addr: u128) -> (usize, u64) {
        let folded = (addr as u64) ^ ((addr >> 64) as u64).rotate_left(29);
        let h = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
        (((h >> 6) as usize) % RESPONSIVE_WORDS, 1 << (h & 63))
    }

    fn mark_responsive(&self, addr: u128) {
        let (w, b) = Self::responsive_bit(addr);
        self.responsive[w].fetch_or(b, Ordering::Relaxed);
    }

    /// Whether `addr` has answered (a hashed set: rarely, a silent host shares a bit).
    fn is_responsive(&self, addr: u128) -> bool {
        let (w, b) = Self::responsive_bit(addr);
        self.responsive[w].load(Ordering::Relaxed) & b != 0
    }
}

/// A started scan; dropping it unfinished stops it.
pub struct Scan {
    shared: Arc<Shared>,
    info: ScanInfo,
    threads: Vec<JoinHandle<()>>,
}

impl Scan {
    /// Resolves the route, opens the sockets and starts both threads. Errors here are
    /// synchronous; errors later arrive as `ScanEvent::Done(Err(..))`.
    pub fn start(cfg: ScanConfig, sink: Sink) -> Result<Scan> {
        check_limits(&cfg)?;
        let space = match cfg.family() {
            Family::V4 => ProbeSpace::new(cfg.ranges.clone(), cfg.ports.clone())?,
            Family::V6 => ProbeSpace::of(Family::V6, cfg.ranges6.clone(), cfg.ports.clone())?,
        };
        let total = space.len();
        let (first, end) = shard_positions(cfg.shard, total)?;
        let start_at = (cfg.start_position as u128).clamp(first as u128, end) as u64;
        let pcap = cfg.pcap.as_deref().map(PcapWriter::create).transpose()?;
        let Network { route, rx, tx, next_hop, unresolved } = open_network(&cfg, &space)?;
        let sport = cfg.source_port.unwrap_or_else(random_source_port);
        let info = ScanInfo {
            interface: route.iface.clone(),
            source: route.source,
            source_port: sport,
            total,
            first_position: first,
            end_position: end,
            unresolved,
            receive_path: match &rx {
                Some(Receiver::Ring(_)) => ReceivePath::Ring,
                Some(Receiver::Socket(_)) => ReceivePath::Recvfrom,
                None => ReceivePath::None,
            },
        };
        let mut shared = Shared::new(&cfg, space, route, sport, start_at, end);
        if let (Family::V6, Some(i)) = (shared.family, cfg.interface.as_deref()) {
            shared.scope_id = crate::net::socket::ifindex(i).map_or(0, |x| x as u32);
        }
        let shared = Arc::new(shared);
        if !cfg.technique.is_raw() && !cfg.dry_run {
            // connects are paced by their parallelism and timeouts; a rate given caps them
            shared.publish_rate(cfg.rate);
            let t = spawn_connect(shared.clone(), cfg.rate, sink)?;
            return Ok(Scan { shared, info, threads: vec![t] });
        }
        let udp = cfg.technique == Technique::Udp;
        let control = (cfg.adaptive && !cfg.dry_run).then(|| match cfg.ramp {
            Some(profile) => Congestion::discover(profile, cfg.rate, cfg.min_rate, udp),
            None => Congestion::new(cfg.rate, cfg.min_rate, udp),
        });
        // the limiter starts where the controller does (a found rate starts low)
        let rate = control.as_ref().map_or(cfg.rate, Congestion::rate);
        shared.publish_rate(rate);
        let t_tx = spawn_sender(shared.clone(), tx, next_hop, rate, control, pcap)?;
        let t_rx = spawn_receiver(shared.clone(), rx, sink)?;
        Ok(Scan { shared, info, threads: vec![t_tx, t_rx] })
    }

    pub fn info(&self) -> &ScanInfo {
        &self.info
    }

    /// Asks both threads to stop; the sink still gets a final Done.
    pub fn abort(&self) {
        self.shared.abort.store(true, Ordering::Release);
    }

    pub fn stats(&self) -> ScanStats {
        let s = &self.shared;
        ScanStats {
            sent: s.sent.load(Ordering::Relaxed),
            retransmits: s.retransmits.load(Ordering::Relaxed),
            received: s.received.load(Ordering::Relaxed),
            records: s.records.load(Ordering::Relaxed),
            discarded: s.discarded.load(Ordering::Relaxed),
            elapsed: s.start.elapsed(),
            srtt_us: s.rtt.srtt_us(),
            finished: s.finished.load(Ordering::Acquire),
            resume_position: s.resume_position.load(Ordering::Acquire),
            rate: f64::from_bits(s.rate_bits.load(Ordering::Relaxed)),
            peak_rate: f64::from_bits(s.peak_rate_bits.load(Ordering::Relaxed)),
            backoffs: s.backoffs.load(Ordering::Relaxed),
            ring_drops: s.ring_drops.load(Ordering::Relaxed),
        }
    }

    /// Waits for both threads.
    pub fn join(mut self) -> ScanStats {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stats()
    }
}

impl Drop for Scan {
    fn drop(&mut self) {
        // a scan dropped unfinished stops rather than running on unobserved
        if !self.threads.is_empty() {
            self.abort();
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
    }
}

/// The connect scan on this thread, records batched to the sink as the raw path does.
fn connect_loop(s: &Shared, rate: f64, sink: &mut Sink) -> Result<()> {
    let cs = connect::ConnectShared {
        space: &s.space,
        perm: &s.perm,
        first: s.first_position,
        end: s.end_position,
        scope_id: s.scope_id,
        max_retries: s.max_retries,
        rtt: &s.rtt,
        start: s.start,
        abort: &s.abort,
        sent: &s.sent,
        retransmits: &s.retransmits,
        received: &s.received,
        resume_position: &s.resume_position,
    };
    let mut batch: Vec<u8> = Vec::with_capacity(RECORDS_PER_BATCH * RECORD_SIZE);
    let mut last_flush = Instant::now();
    let mut cursor = CursorReport::default();
    let mut emit = |rec: Option<Record>| {
        if let Some(r) = rec {
            r.emit(&mut batch);
            s.records.fetch_add(1, Ordering::Relaxed);
        }
        if !batch.is_empty() && (batch.len() >= RECORDS_PER_BATCH * RECORD_SIZE || last_flush.elapsed() >= FLUSH_EVERY) {
            sink(ScanEvent::Batch(std::mem::replace(&mut batch, Vec::with_capacity(RECORDS_PER_BATCH * RECORD_SIZE))));
            last_flush = Instant::now();
        }
        cursor.offer(s, batch.is_empty(), false, sink);
    };
    let r = connect::run(&cs, rate, connect::DEFAULT_PARALLELISM, &mut emit);
    if !batch.is_empty() {
        sink(ScanEvent::Batch(batch));
    }
    cursor.offer(s, true, true, sink);
    r
}

/// The options the engine refuses before anything is opened.
fn check_limits(cfg: &ScanConfig) -> Result<()> {
    // an infinite rate means "as fast as the sender goes" (dry runs, benchmarks)
    if cfg.rate.is_nan() || cfg.rate <= 0.0 {
        return Err(Error::InvalidOptions(format!("rate must be a positive number of packets per second, not {}", cfg.rate)));
    }
    if cfg.max_retries > MAX_RETRIES_LIMIT {
        return Err(Error::InvalidOptions(format!("max-retries may be at most {MAX_RETRIES_LIMIT}")));
    }
    if !cfg.ranges.is_empty() && !cfg.ranges6.is_empty() {
        return Err(Error::InvalidOptions("a scan has IPv4 or IPv6 targets, not both: scan them separately".into()));
    }
    let family = cfg.family();
    if !cfg.technique.exists_in(family) {
        return Err(Error::InvalidOptions(format!("{:?} probes do not exist in {family:?}", cfg.technique)));
    }
    if let Some(s) = cfg.source.filter(|s| Family::of(*s) != family) {
        return Err(Error::InvalidOptions(format!("source address {s} is not of the targets' family ({family:?})")));
    }
    Ok(())
}

/// The positions [first, end) of a run: all of them, or one shard's. `total` is at most 2^64,
/// so every first position fits a u64; an end may be 2^64.
fn shard_positions(shard: Option<(u64, u64)>, total: u128) -> Result<(u64, u128)> {
    match shard {
        None => Ok((0, total)),
        Some((i, n)) if n > 0 && i < n => {
            // total × k fits a u128: total ≤ 2^64 and k < 2^64
            let at = |k: u64| (total * k as u128) / n as u128;
            Ok((at(i) as u64, at(i + 1)))
        }
        Some((i, n)) => Err(Error::InvalidOptions(format!("shard {}/{n} does not exist (1 ≤ i ≤ N)", i + 1))),
    }
}

/// A source port from the ephemeral range, leaving room for the retransmissions' ports above it.
fn random_source_port() -> u16 {
    let mut b = [0u8; 2];
    let _ = getrandom::getrandom(&mut b);
    32768 + u16::from_le_bytes(b) % (61000 - 32768)
}

/// The connect scan's one thread: probes, records and the final Done.
fn spawn_connect(shared: Arc<Shared>, rate: f64, sink: Sink) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("ferroscan-connect".into())
        .spawn(move || {
            let mut sink = sink;
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| connect_loop(&shared, rate, &mut sink)))
                .unwrap_or_else(|p| Err(from_panic(p)));
            shared.tx_done.store(true, Ordering::Release);
            shared.finished.store(true, Ordering::Release);
            sink(ScanEvent::Done(r));
        })
        .map_err(|e| Error::io("starting the connect thread", e))
}

/// The send thread (send.rs); its error is left for the receive thread to report.
fn spawn_sender(
    shared: Arc<Shared>,
    tx: Sender,
    next_hop: NextHop,
    rate: f64,
    control: Option<Congestion>,
    pcap: Option<PcapWriter>,
) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("ferroscan-tx".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| send_loop(&shared, &tx, &next_hop, rate, control, pcap)))
                .unwrap_or_else(|p| Err(from_panic(p)));
            if let Err(e) = r {
                if let Ok(mut slot) = shared.tx_error.lock() {
                    *slot = Some(e);
                }
            }
            shared.tx_done.store(true, Ordering::Release);
        })
        .map_err(|e| Error::io("starting the send thread", e))
}

/// The receive thread (receive.rs), which ends last and sends the final Done.
fn spawn_receiver(shared: Arc<Shared>, rx: Option<Receiver>, sink: Sink) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("ferroscan-rx".into())
        .spawn(move || {
            let (mut sink, mut rx) = (sink, rx);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| receive_loop(&shared, rx.as_mut(), &mut sink)))
                .unwrap_or_else(|p| Err(from_panic(p)));
            let r = match r {
                Ok(()) => shared.tx_error.lock().ok().and_then(|mut g| g.take()).map_or(Ok(()), Err),
                Err(e) => Err(e),
            };
            // the receive thread ends last: make sure the sender has stopped too
            shared.abort.store(true, Ordering::Release);
            shared.finished.store(true, Ordering::Release);
            sink(ScanEvent::Done(r));
            // closed only now: closing a packet socket waits out an RCU grace period or
            // two (~10-40 ms), which the scan's consumer need not wait for
            drop(rx);
        })
        .map_err(|e| Error::io("starting the receive thread", e))
}
