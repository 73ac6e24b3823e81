//! A running scan: a send thread and a receive thread over one probe space.
//!
//! The send thread walks the seeded permutation, patches the template per probe, paces
//! with the rate limiter, and retransmits what the window says is still unanswered once
//! its RTT-derived timeout has passed. The receive thread validates each frame's cookie,
//! maps it back to its send position, deduplicates through the window, and hands packed
//! records to the sink in batches. The scan ends when every probe is answered or given up.

use crate::congestion::{self, Congestion};
use crate::connect;
use crate::cookie::CookieKey;
use crate::error::{from_panic, Error, Result};
use crate::net::neighbor;
use crate::net::ring::{self, Replies, RingGeometry, RxRing};
use crate::net::route::{route_to, Route};
use crate::net::socket::{Direction, PacketSocket, RawIpSocket, Sender};
use crate::packet::arp;
use crate::packet::icmp::{self, IcmpTemplate};
use crate::packet::reply::{parse_frame, ProbeTuple, Reply};
use crate::packet::template::{Probe, TcpTemplate};
use crate::packet::udp::{self, UdpProbe, UdpTemplate, MAX_FRAME};
use crate::pcap::PcapWriter;
use crate::permute::Permutation;
use crate::rate::RateLimiter;
use crate::record::{Record, RecordKind, RECORD_SIZE};
use crate::space::ProbeSpace;
use crate::technique::Technique;
use crate::timing::{RttBounds, RttEstimator};
use crate::window::{Mark, Window};
use pnet_base::MacAddr;
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Largest number of retransmissions accepted (attempt numbers must fit the window slot).
pub const MAX_RETRIES_LIMIT: u8 = 50;
/// On-link targets are resolved by ARP one by one; beyond this many, refuse for now.
const MAX_ONLINK_TARGETS: u64 = 65_536;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_ARP: u16 = 0x0806;
const SEND_BATCH: usize = 64;
const RECORDS_PER_BATCH: usize = 4096;
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// The longest the receive thread waits for frames before looking at the scan's state again.
const RX_WAIT: Duration = Duration::from_millis(10);
/// 2^20 bits of "this host answered", 128 KiB whatever the target space.
const RESPONSIVE_WORDS: usize = 1 << 14;

#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Inclusive address ranges (host order), disjoint.
    pub ranges: Vec<(u32, u32)>,
    pub ports: Vec<u16>,
    pub technique: Technique,
    /// Packets per second.
    pub rate: f64,
    pub seed: u64,
    pub max_retries: u8,
    pub interface: Option<String>,
    pub source: Option<Ipv4Addr>,
    pub source_port: Option<u16>,
    /// UDP payloads by destination port (UDP scans only); other ports get empty datagrams.
    pub udp_payloads: HashMap<u16, Vec<u8>>,
    /// `-r`: probes in address and port order instead of the seeded permutation.
    pub sequential: bool,
    /// `--shard i/N` as (i, N), i counted from 0: this run sends positions
    /// [i·n/N, (i+1)·n/N) of the permutation, so N shards with one seed cover it exactly.
    pub shard: Option<(u64, u64)>,
    /// `--resume`: the first position to send (positions before it were done).
    pub start_position: u64,
    /// Build every packet, send none: no sockets, no routes, no replies.
    pub dry_run: bool,
    /// Write every frame sent (or built, in a dry run) to this pcap file.
    pub pcap: Option<std::path::PathBuf>,
    /// Also emit a ProbeSent record for every probe (`--packet-trace`).
    pub trace: bool,
    /// Retransmission timeout bounds (`--initial-rtt-timeout`, `--min-/--max-rtt-timeout`).
    pub rtt: RttBounds,
    /// The adaptive rate never goes below this (`--min-rate`); 0 for no floor.
    pub min_rate: f64,
    /// Adapt the rate to loss (see congestion.rs); off, the rate stays at `rate`.
    pub adaptive: bool,
}

impl ScanConfig {
    /// A SYN scan of `ranges` × `ports` with every other option at its default.
    pub fn new(ranges: Vec<(u32, u32)>, ports: Vec<u16>) -> Self {
        Self {
            ranges,
            ports,
            technique: Technique::Syn,
            rate: 10_000.0,
            seed: 0,
            max_retries: 10,
            interface: None,
            source: None,
            source_port: None,
            udp_payloads: HashMap::new(),
            sequential: false,
            shard: None,
            start_position: 0,
            dry_run: false,
            pcap: None,
            trace: false,
            rtt: RttBounds::default(),
            min_rate: 0.0,
            adaptive: true,
        }
    }
}

/// What the sink receives, always from the receive thread.
#[derive(Debug)]
pub enum ScanEvent {
    /// Packed records, a multiple of RECORD_SIZE bytes.
    Batch(Vec<u8>),
    /// The last event of every scan.
    Done(Result<()>),
}

pub type Sink = Box<dyn FnMut(ScanEvent) + Send>;

#[derive(Debug, Clone)]
pub struct ScanInfo {
    pub interface: String,
    pub source: Ipv4Addr,
    pub source_port: u16,
    pub total: u64,
    /// The positions this run covers: [first, end).
    pub first_position: u64,
    pub end_position: u64,
    /// On-link targets that did not answer ARP, so got no probe.
    pub unresolved: Vec<Ipv4Addr>,
    pub receive_path: ReceivePath,
}

/// How the receive thread reads replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivePath {
    /// A TPACKET_V3 ring, a block of frames at a time (net/ring.rs): the default.
    Ring,
    /// recvfrom, a frame per call: where the ring cannot be set up, or with the
    /// environment variable FERROSCAN_RX_RING=0.
    Recvfrom,
    /// Nothing to read: a dry run, or a connect scan.
    None,
}

#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    pub sent: u64,
    pub retransmits: u64,
    pub received: u64,
    pub records: u64,
    pub discarded: u64,
    pub elapsed: Duration,
    pub srtt_us: u64,
    pub finished: bool,
    /// Every position before this one has been sent and resolved: where `--resume` starts.
    pub resume_position: u64,
}

/// How frames reach each target's next hop.
enum NextHop {
    All(MacAddr),
    PerTarget(HashMap<u32, MacAddr>),
}

impl NextHop {
    #[inline]
    fn mac(&self, addr: u32) -> Option<MacAddr> {
        match self {
            NextHop::All(m) => Some(*m),
            NextHop::PerTarget(t) => t.get(&addr).copied(),
        }
    }
}

struct Shared {
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
    end_position: u64,
    dry_run: bool,
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
    records: AtomicU64,
    discarded: AtomicU64,
    tx_error: Mutex<Option<Error>>,
}

impl Shared {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn responsive_bit(addr: u32) -> (usize, u64) {
        let h = (addr as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
        (((h >> 6) as usize) % RESPONSIVE_WORDS, 1 << (h & 63))
    }

    fn mark_responsive(&self, addr: u32) {
        let (w, b) = Self::responsive_bit(addr);
        self.responsive[w].fetch_or(b, Ordering::Relaxed);
    }

    /// Whether `addr` has answered (a hashed set: rarely, a silent host shares a bit).
    fn is_responsive(&self, addr: u32) -> bool {
        let (w, b) = Self::responsive_bit(addr);
        self.responsive[w].load(Ordering::Relaxed) & b != 0
    }
}

pub struct Scan {
    shared: Arc<Shared>,
    info: ScanInfo,
    threads: Vec<JoinHandle<()>>,
}

/// Picks the route for every target range and checks they agree.
fn plan_route(cfg: &ScanConfig, space: &ProbeSpace) -> Result<Route> {
    let mut chosen: Option<Route> = None;
    for &(s, e) in space.ranges() {
        for a in [s, e] {
            let r = route_to(Ipv4Addr::from(a), cfg.interface.as_deref(), cfg.source)?;
            match &chosen {
                None => chosen = Some(r),
                Some(c) if c.iface != r.iface || c.source != r.source || c.gateway != r.gateway => {
                    return Err(Error::Route(format!(
                        "targets need different routes ({} via {}, {} via {}); scan them separately",
                        Ipv4Addr::from(space.ranges()[0].0),
                        c.iface,
                        Ipv4Addr::from(a),
                        r.iface
                    )))
                }
                Some(_) => {}
            }
        }
    }
    chosen.ok_or_else(|| Error::InvalidOptions("no targets to scan".into()))
}

fn plan_next_hop(route: &Route, space: &ProbeSpace) -> Result<(NextHop, Vec<Ipv4Addr>)> {
    if route.loopback {
        return Ok((NextHop::All(MacAddr::zero()), vec![]));
    }
    if let Some(gw) = route.gateway {
        let m = neighbor::resolve(route, &[gw], 3, Duration::from_millis(500))?;
        let mac = m.get(&gw).copied().ok_or_else(|| Error::Route(format!("the gateway {gw} on {} does not answer ARP", route.iface)))?;
        return Ok((NextHop::All(mac), vec![]));
    }
    if space.addresses() > MAX_ONLINK_TARGETS {
        return Err(Error::Route(format!(
            "{} on-link targets on {}: more than {MAX_ONLINK_TARGETS} are not supported yet",
            space.addresses(),
            route.iface
        )));
    }
    let wanted: Vec<Ipv4Addr> = space.ranges().iter().flat_map(|&(s, e)| (s..=e).map(Ipv4Addr::from)).collect();
    let found = neighbor::resolve(route, &wanted, 3, Duration::from_millis(300))?;
    let unresolved = wanted.iter().copied().filter(|a| !found.contains_key(a)).collect();
    Ok((NextHop::PerTarget(found.into_iter().map(|(a, m)| (u32::from(a), m)).collect()), unresolved))
}

impl Scan {
    /// Resolves the route, opens the sockets and starts both threads. Errors here are
    /// synchronous; errors later arrive as `ScanEvent::Done(Err(..))`.
    pub fn start(cfg: ScanConfig, sink: Sink) -> Result<Scan> {
        // an infinite rate means "as fast as the sender goes" (dry runs, benchmarks)
        if cfg.rate.is_nan() || cfg.rate <= 0.0 {
            return Err(Error::InvalidOptions(format!("rate must be a positive number of packets per second, not {}", cfg.rate)));
        }
        if cfg.max_retries > MAX_RETRIES_LIMIT {
            return Err(Error::InvalidOptions(format!("max-retries may be at most {MAX_RETRIES_LIMIT}")));
        }
        let space = ProbeSpace::new(cfg.ranges.clone(), cfg.ports.clone())?;
        let total = space.len();
        let (first, end) = match cfg.shard {
            None => (0, total),
            Some((i, n)) if n > 0 && i < n => {
                let at = |k: u64| ((total as u128 * k as u128) / n as u128) as u64;
                (at(i), at(i + 1))
            }
            Some((i, n)) => return Err(Error::InvalidOptions(format!("shard {}/{n} does not exist (1 ≤ i ≤ N)", i + 1))),
        };
        let start_at = cfg.start_position.clamp(first, end);
        let pcap = cfg.pcap.as_deref().map(PcapWriter::create).transpose()?;
        let (route, rx, tx, next_hop, unresolved) = if cfg.dry_run || !cfg.technique.is_raw() {
            // a dry run asks nothing of the network: no routes, no sockets, no ARP; the
            // connect scan leaves routing to the kernel
            let route = Route {
                iface: cfg.interface.clone().unwrap_or_else(|| if cfg.dry_run { "none".into() } else { "kernel".into() }),
                source: cfg.source.unwrap_or(Ipv4Addr::UNSPECIFIED),
                gateway: None,
                loopback: false,
                src_mac: MacAddr::zero(),
            };
            (route, None, Sender::Null, NextHop::All(MacAddr::zero()), vec![])
        } else {
            // open the receiving socket first: it is where missing privileges show
            let route = plan_route(&cfg, &space)?;
            if cfg.technique == Technique::Arp && (route.loopback || route.gateway.is_some()) {
                return Err(Error::Route(format!(
                    "ARP ping needs targets on the local link; {} is reached through {}",
                    Ipv4Addr::from(space.ranges()[0].0),
                    route.gateway.map_or("loopback".to_string(), |g| g.to_string())
                )));
            }
            let rx = open_receiver(&route, cfg.technique)?;
            let tx = if route.loopback {
                Sender::Loopback(RawIpSocket::open()?)
            } else {
                let s = PacketSocket::open(&route.iface, 0)?;
                s.bypass_qdisc();
                Sender::Link(s)
            };
            // ARP probes are broadcasts: there is nothing to resolve first
            let (next_hop, unresolved) =
                if cfg.technique == Technique::Arp { (NextHop::All(MacAddr::broadcast()), vec![]) } else { plan_next_hop(&route, &space)? };
            (route, Some(rx), tx, next_hop, unresolved)
        };
        let sport = cfg.source_port.unwrap_or_else(|| {
            let mut b = [0u8; 2];
            let _ = getrandom::getrandom(&mut b);
            32768 + u16::from_le_bytes(b) % (61000 - 32768)
        });
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
        let shared = Arc::new(Shared {
            perm: if cfg.sequential { Permutation::sequential(total) } else { Permutation::new(total, cfg.seed) },
            // a dry run has nothing in flight
            window: Window::new(if cfg.dry_run { 0 } else { end - start_at }),
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
            trace: cfg.trace.then(|| Mutex::new(Vec::new())),
            outstanding: AtomicI64::new(0),
            sent: AtomicU64::new(0),
            retransmits: AtomicU64::new(0),
            received: AtomicU64::new(0),
            first_answers: AtomicU64::new(0),
            max_successful: AtomicU8::new(0),
            responsive: (0..RESPONSIVE_WORDS).map(|_| AtomicU64::new(0)).collect(),
            records: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            tx_error: Mutex::new(None),
        });
        if !cfg.technique.is_raw() && !cfg.dry_run {
            let s1 = shared.clone();
            let rate = cfg.rate;
            let t = std::thread::Builder::new()
                .name("ferroscan-connect".into())
                .spawn(move || {
                    let mut sink = sink;
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| connect_loop(&s1, rate, &mut sink)))
                        .unwrap_or_else(|p| Err(from_panic(p)));
                    s1.tx_done.store(true, Ordering::Release);
                    s1.finished.store(true, Ordering::Release);
                    sink(ScanEvent::Done(r));
                })
                .map_err(|e| Error::io("starting the connect thread", e))?;
            return Ok(Scan { shared, info, threads: vec![t] });
        }
        let s1 = shared.clone();
        let rate = cfg.rate;
        let t_tx = std::thread::Builder::new()
            .name("ferroscan-tx".into())
            .spawn(move || {
                let control = (cfg.adaptive && !cfg.dry_run).then(|| Congestion::new(rate, cfg.min_rate, cfg.technique == Technique::Udp));
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| send_loop(&s1, &tx, &next_hop, rate, control, pcap)))
                    .unwrap_or_else(|p| Err(from_panic(p)));
                if let Err(e) = r {
                    if let Ok(mut slot) = s1.tx_error.lock() {
                        *slot = Some(e);
                    }
                }
                s1.tx_done.store(true, Ordering::Release);
            })
            .map_err(|e| Error::io("starting the send thread", e))?;
        let s2 = shared.clone();
        let t_rx = std::thread::Builder::new()
            .name("ferroscan-rx".into())
            .spawn(move || {
                let (mut sink, mut rx) = (sink, rx);
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| receive_loop(&s2, rx.as_mut(), &mut sink)))
                    .unwrap_or_else(|p| Err(from_panic(p)));
                let r = match r {
                    Ok(()) => s2.tx_error.lock().ok().and_then(|mut g| g.take()).map_or(Ok(()), Err),
                    Err(e) => Err(e),
                };
                // the receive thread ends last: make sure the sender has stopped too
                s2.abort.store(true, Ordering::Release);
                s2.finished.store(true, Ordering::Release);
                sink(ScanEvent::Done(r));
                // closed only now: closing a packet socket waits out an RCU grace period or
                // two (~10-40 ms), which the scan's consumer need not wait for
                drop(rx);
            })
            .map_err(|e| Error::io("starting the receive thread", e))?;
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
    let mut emit = |rec: Option<Record>| {
        if let Some(r) = rec {
            r.emit(&mut batch);
            s.records.fetch_add(1, Ordering::Relaxed);
        }
        if !batch.is_empty() && (batch.len() >= RECORDS_PER_BATCH * RECORD_SIZE || last_flush.elapsed() >= FLUSH_EVERY) {
            sink(ScanEvent::Batch(std::mem::replace(&mut batch, Vec::with_capacity(RECORDS_PER_BATCH * RECORD_SIZE))));
            last_flush = Instant::now();
        }
    };
    let r = connect::run(&cs, rate, connect::DEFAULT_PARALLELISM, &mut emit);
    if !batch.is_empty() {
        sink(ScanEvent::Batch(batch));
    }
    r
}

fn send_loop(
    s: &Shared,
    sock: &Sender,
    next_hop: &NextHop,
    rate: f64,
    mut control: Option<Congestion>,
    mut pcap: Option<PcapWriter>,
) -> Result<()> {
    let n = s.end_position;
    let cap = s.window.capacity();
    let mut limiter = rate.is_finite().then(|| RateLimiter::new(rate));
    // UDP probes keep the timeout they left with: Linux answers closed UDP ports at about one
    // ICMP error per second per host after a burst, and a resend that waits out the (long) early
    // timeout meets a refilled bucket. TCP probes are judged against the timeout now (nmap's
    // rule), so a scan's early probes do not hold it open for the initial 1 s.
    let mut flight = Flight::new(s.max_retries, s.technique == Technique::Udp);
    let mut frames = vec![[0u8; MAX_FRAME]; SEND_BATCH];
    let mut lens = [0usize; SEND_BATCH];
    let mut traced: Vec<u8> = Vec::new();
    let template = match s.technique {
        Technique::Udp => Builder::Udp(UdpTemplate::new(s.route.src_mac, s.route.source, 64, s.udp_payloads.clone())),
        Technique::Echo => Builder::Icmp(IcmpTemplate::new(s.route.src_mac, s.route.source, 64, icmp::ECHO_REQUEST)),
        Technique::Timestamp => Builder::Icmp(IcmpTemplate::new(s.route.src_mac, s.route.source, 64, icmp::TIMESTAMP_REQUEST)),
        Technique::Mask => Builder::Icmp(IcmpTemplate::new(s.route.src_mac, s.route.source, 64, icmp::MASK_REQUEST)),
        Technique::Arp => Builder::Arp,
        _ => Builder::Tcp(TcpTemplate::new(s.route.src_mac, s.route.source, 64, 1024, s.technique.flags())),
    };
    let mut next_pos = s.first_position;
    // epoch start, answers and packets sent until then, drops seen in it
    let mut epoch = (Instant::now(), 0u64, 0u64);
    let mut drops = 0u64;
    // the send position at the last back-off: probes before it belong to that loss episode
    let mut recovery_from = 0u64;
    loop {
        if s.abort.load(Ordering::Acquire) {
            break;
        }
        let now = s.now_us();
        if let Some(c) = control.as_mut() {
            let dt = epoch.0.elapsed();
            if dt >= congestion::EPOCH {
                let (answers, sent) = (s.records.load(Ordering::Relaxed), s.sent.load(Ordering::Relaxed));
                let decision = c.epoch(congestion::Epoch {
                    max_successful: s.max_successful.load(Ordering::Relaxed),
                    answers: answers - epoch.1,
                    drops,
                    achieved_rate: (sent - epoch.2) as f64 / dt.as_secs_f64(),
                    in_recovery: flight.oldest().is_some_and(|o| o < recovery_from),
                });
                if decision.backed_off {
                    recovery_from = next_pos;
                }
                if decision.rose {
                    flight.release_bench();
                }
                if let Some(l) = limiter.as_mut() {
                    l.set_rate(c.rate(), l.elapsed());
                }
                epoch = (Instant::now(), answers, sent);
                drops = 0;
            }
        }
        // probes whose time is up leave the flight: for a resend, the bench, or for good
        let timeout = s.rtt.timeout_us();
        while let Some((attempt, pos)) = flight.pop_expired(now, timeout, s) {
            if s.is_responsive(s.space.probe(s.perm.at(pos)).0) {
                drops += 1;
            }
            // as nmap: no more resends than the path has shown to be worth (congestion.rs)
            let allowed = control.as_ref().map_or(s.max_retries, |c| c.allowed_retries(s.max_retries));
            if attempt < allowed {
                flight.ready.push_back((pos, attempt + 1));
            } else if control.as_ref().is_some_and(|c| c.may_allow_more(s.max_retries)) {
                flight.bench.push((pos, attempt));
            } else if s.window.give_up(pos) {
                s.outstanding.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let oldest = flight.oldest();
        s.resume_position.store(oldest.unwrap_or(next_pos).min(next_pos), Ordering::Release);
        let window = control.as_ref().and_then(|c| c.window()).unwrap_or(u64::MAX);
        let room = flight.in_flight < window;
        let can_start = room && next_pos < n && oldest.is_none_or(|o| next_pos - o < cap);
        let can_resend = room && !flight.ready.is_empty();
        if !can_start && !can_resend {
            if next_pos >= n && flight.is_empty() && flight.ready.is_empty() && !flight.bench.is_empty() {
                // nothing left that could raise the retry allowance: the bench gives up
                for (pos, _) in flight.bench.drain(..) {
                    if s.window.give_up(pos) {
                        s.outstanding.fetch_sub(1, Ordering::AcqRel);
                    }
                }
            }
            if next_pos >= n && s.outstanding.load(Ordering::Acquire) <= 0 {
                break;
            }
            // nothing to send until the earliest deadline (or an answer empties the queues);
            // the rate limiter owes no packets for this time
            if let Some(l) = limiter.as_mut() {
                l.idle(l.elapsed());
            }
            let earliest = flight.earliest(timeout).unwrap_or(now + 1000);
            std::thread::sleep(Duration::from_micros(earliest.saturating_sub(now).clamp(50, 5000)));
            continue;
        }
        let budget = limiter.as_mut().map_or(SEND_BATCH, |l| l.acquire(SEND_BATCH as u64) as usize);
        let now = s.now_us();
        let timeout = s.rtt.timeout_us();
        let mut k = 0usize;
        // retransmissions first: they are the oldest debts
        while k < budget && flight.in_flight < window {
            let Some((pos, next)) = flight.ready.pop_front() else {
                break;
            };
            if !s.window.retry(pos, next, now as u32) {
                continue; // answered meanwhile
            }
            let (addr, port) = s.space.probe(s.perm.at(pos));
            let Some(mac) = next_hop.mac(addr) else {
                continue;
            };
            lens[k] = write_probe(s, &template, mac, addr, port, next, &mut frames[k]);
            trace_probe(s, &mut traced, addr, port, next, now);
            k += 1;
            s.retransmits.fetch_add(1, Ordering::Relaxed);
            flight.push(next as usize, pos, now, timeout);
        }
        while k < budget && next_pos < n && flight.in_flight < window {
            if flight.oldest().is_some_and(|o| next_pos - o >= cap) {
                break;
            }
            let pos = next_pos;
            next_pos += 1;
            let (addr, port) = s.space.probe(s.perm.at(pos));
            // an on-link target that did not answer ARP gets no probe
            let Some(mac) = next_hop.mac(addr) else {
                continue;
            };
            lens[k] = write_probe(s, &template, mac, addr, port, 0, &mut frames[k]);
            trace_probe(s, &mut traced, addr, port, 0, now);
            k += 1;
            if !s.dry_run {
                s.window.start(pos, now as u32);
                s.outstanding.fetch_add(1, Ordering::AcqRel);
                flight.push(0, pos, now, timeout);
            }
        }
        if k < budget {
            // granted but not sent (answered meanwhile, no ARP answer, window full): the
            // schedule keeps them
            if let Some(l) = limiter.as_mut() {
                l.refund((budget - k) as u64);
            }
        }
        if k > 0 {
            if let Some(p) = pcap.as_mut() {
                for (f, len) in frames[..k].iter().zip(&lens[..k]) {
                    p.write(&f[..*len])?;
                }
            }
            // published before the frames leave: a reply may beat the send call's return
            s.sent_upto.store(next_pos, Ordering::Release);
            let refs: Vec<&[u8]> = frames[..k].iter().zip(&lens[..k]).map(|(f, n)| &f[..*n]).collect();
            sock.send(&refs)?;
            s.sent.fetch_add(k as u64, Ordering::Relaxed);
            if let (Some(t), false) = (&s.trace, traced.is_empty()) {
                if let Ok(mut g) = t.lock() {
                    g.append(&mut traced);
                }
            }
        }
    }
    s.resume_position.store(flight.oldest().unwrap_or(next_pos).min(next_pos), Ordering::Release);
    if let Some(p) = pcap.as_mut() {
        p.flush()?;
    }
    Ok(())
}

/// The probes of a scan that are sent but not resolved: one queue per attempt number (each
/// stays ordered by position and by send time), and the bench of probes waiting for the
/// retry allowance to rise.
struct Flight {
    /// in flight, by attempt: (position, µs sent at, timeout it left with)
    queues: Vec<VecDeque<(u64, u64, u64)>>,
    /// timed out and due for a resend: (position, next attempt)
    ready: VecDeque<(u64, u8)>,
    /// at the retry allowance, waiting for it to rise: (position, attempt)
    bench: Vec<(u64, u8)>,
    in_flight: u64,
    /// whether a probe keeps the timeout it left with (else: the timeout now applies)
    fixed_timeouts: bool,
}

impl Flight {
    fn new(max_retries: u8, fixed_timeouts: bool) -> Self {
        Self {
            queues: (0..=max_retries).map(|_| VecDeque::new()).collect(),
            ready: VecDeque::new(),
            bench: Vec::new(),
            in_flight: 0,
            fixed_timeouts,
        }
    }

    /// When a probe sent at `sent_at` with timeout `left_with` times out, the timeout now being `timeout`.
    fn due(&self, sent_at: u64, left_with: u64, timeout: u64) -> u64 {
        sent_at + if self.fixed_timeouts { left_with } else { timeout }
    }

    fn push(&mut self, attempt: usize, pos: u64, sent_at: u64, timeout: u64) {
        if attempt >= self.queues.len() {
            self.queues.resize_with(attempt + 1, VecDeque::new);
        }
        self.queues[attempt].push_back((pos, sent_at, timeout));
        self.in_flight += 1;
    }

    /// The next probe unanswered for `timeout` µs: (attempt, position). Answered probes met
    /// on the way are dropped.
    fn pop_expired(&mut self, now: u64, timeout: u64, s: &Shared) -> Option<(u8, u64)> {
        for a in 0..self.queues.len() {
            while let Some(&(pos, sent_at, left_with)) = self.queues[a].front() {
                if s.window.answered(pos) {
                    self.pop(a);
                    continue;
                }
                if self.due(sent_at, left_with, timeout) > now {
                    break;
                }
                self.pop(a);
                return Some((a as u8, pos));
            }
        }
        None
    }

    fn pop(&mut self, attempt: usize) {
        if self.queues[attempt].pop_front().is_some() {
            self.in_flight -= 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.in_flight == 0
    }

    /// The lowest position still unresolved (window slots from it on are in use).
    fn oldest(&self) -> Option<u64> {
        let q = self.queues.iter().filter_map(|q| q.front().map(|e| e.0)).min();
        let r = self.ready.iter().map(|e| e.0).min();
        let b = self.bench.iter().map(|e| e.0).min();
        q.into_iter().chain(r).chain(b).min()
    }

    /// When the first probe in flight times out, given the timeout now.
    fn earliest(&self, timeout: u64) -> Option<u64> {
        self.queues.iter().filter_map(|q| q.front().map(|e| self.due(e.1, e.2, timeout))).min()
    }

    /// The retry allowance rose: benched probes go again, now.
    fn release_bench(&mut self) {
        self.ready.extend(self.bench.drain(..).map(|(pos, attempt)| (pos, attempt + 1)));
    }
}

/// Appends a ProbeSent record when tracing (`--packet-trace`).
#[inline]
fn trace_probe(s: &Shared, out: &mut Vec<u8>, addr: u32, port: u16, attempt: u8, now_us: u64) {
    if s.trace.is_none() {
        return;
    }
    let sport = if !s.technique.is_tcp() {
        udp::sport(s.key.cookie(s.route.source, 0, Ipv4Addr::from(addr), port), attempt)
    } else if s.vary_sport {
        s.sport + attempt as u16
    } else {
        s.sport
    };
    Record {
        kind: RecordKind::ProbeSent,
        tcp_flags: s.technique.flags(),
        ttl: 64,
        icmp_type: 0,
        icmp_code: 0,
        port,
        window: sport,
        technique: s.technique.code(),
        attempt,
        rtt_us: now_us as u32,
        target: Ipv4Addr::from(addr),
        responder: s.route.source,
        mac: [0; 6],
    }
    .emit(out);
}

/// The per-probe frame writer of the scan's technique.
enum Builder {
    Tcp(TcpTemplate),
    Udp(UdpTemplate),
    Icmp(IcmpTemplate),
    Arp,
}

#[inline]
fn write_probe(s: &Shared, t: &Builder, mac: MacAddr, addr: u32, port: u16, attempt: u8, out: &mut [u8; MAX_FRAME]) -> usize {
    let dst = Ipv4Addr::from(addr);
    match t {
        Builder::Tcp(t) => {
            let seq = s.key.seq(s.route.source, s.sport, dst, port, attempt);
            let sport = if s.vary_sport { s.sport + attempt as u16 } else { s.sport };
            t.write(&Probe { dst_mac: mac, dst, dport: port, sport, seq, ip_id: (seq >> 16) as u16 ^ (seq as u16) }, out)
        }
        Builder::Icmp(t) => {
            let value = s.key.seq(s.route.source, 0, dst, 0, attempt);
            t.write(mac, dst, value, (value >> 16) as u16 ^ value as u16, out)
        }
        Builder::Arp => {
            let f = arp::request(s.route.src_mac, s.route.source, dst);
            out[..f.len()].copy_from_slice(&f);
            f.len()
        }
        Builder::Udp(t) => {
            // the UDP cookie cannot depend on the source port it chooses: key it with port 0
            let cookie = s.key.cookie(s.route.source, 0, dst, port);
            t.write(
                &UdpProbe {
                    dst_mac: mac,
                    dst,
                    dport: port,
                    sport: udp::sport(cookie, attempt),
                    ip_id: (cookie >> 16) as u16 ^ attempt as u16,
                },
                out,
            )
        }
    }
}

/// Validates a parsed reply against the cookie and the probe space; returns the record
/// and the position of the probe it answers.
fn validate(s: &Shared, reply: &Reply) -> Option<(Record, u64)> {
    let base = |kind, probe: &ProbeTuple, ttl: u8| Record {
        kind,
        tcp_flags: 0,
        ttl,
        icmp_type: 0,
        icmp_code: 0,
        port: probe.dport,
        window: 0,
        technique: s.technique.code(),
        attempt: 0,
        rtt_us: 0,
        target: probe.dst,
        responder: probe.dst,
        mac: [0; 6],
    };
    let tcp = s.technique.is_tcp();
    let is_icmp = matches!(s.technique, Technique::Echo | Technique::Timestamp | Technique::Mask);
    let (probe, rec) = match *reply {
        Reply::Tcp { ref probe, seq, ack, flags, window, ttl } if tcp => {
            let attempt = check_tcp(s, probe, s.technique.echoed(seq, ack))?;
            (probe, Record { tcp_flags: flags, window, attempt, ..base(RecordKind::Tcp, probe, ttl) })
        }
        Reply::IcmpReply { ref probe, icmp_type, echoed, ttl } if is_icmp => {
            let want = match s.technique {
                Technique::Echo => icmp::ECHO_REPLY,
                Technique::Timestamp => icmp::TIMESTAMP_REPLY,
                _ => icmp::MASK_REPLY,
            };
            if icmp_type != want {
                return None;
            }
            let attempt = check_icmp(s, probe, echoed)?;
            (probe, Record { icmp_type, attempt, ..base(RecordKind::Icmp, probe, ttl) })
        }
        Reply::Arp(a) if s.technique == Technique::Arp => {
            // ARP echoes nothing of ours: the reply must be addressed to us, from a target
            // whose request went out (checked against the window by the caller)
            if a.target != s.route.source || a.target_mac != s.route.src_mac {
                return None;
            }
            let probe = ProbeTuple { src: a.target, sport: 0, dst: a.sender, dport: 0 };
            let index = s.space.index_of(u32::from(a.sender), 0)?;
            let rec = Record { mac: a.sender_mac.octets(), ..base(RecordKind::Arp, &probe, 0) };
            return Some((rec, s.perm.position_of(index)));
        }
        Reply::Udp { ref probe, len, ttl } if s.technique == Technique::Udp => {
            let attempt = check_udp(s, probe)?;
            // the window field carries the reply's payload length for UDP
            (probe, Record { window: len, attempt, ..base(RecordKind::Udp, probe, ttl) })
        }
        Reply::Icmp { ref probe, quoted_proto, quoted_seq, icmp_type, icmp_code, ttl, responder } => {
            let attempt = match quoted_proto {
                6 if tcp => check_tcp(s, probe, quoted_seq)?,
                17 if s.technique == Technique::Udp => check_udp(s, probe)?,
                1 if is_icmp => check_icmp(s, probe, quoted_seq)?,
                _ => return None,
            };
            (probe, Record { icmp_type, icmp_code, attempt, responder, ..base(RecordKind::Icmp, probe, ttl) })
        }
        _ => return None,
    };
    let index = s.space.index_of(u32::from(probe.dst), probe.dport)?;
    Some((rec, s.perm.position_of(index)))
}

/// The attempt a TCP reply or quote answers, if its cookie is ours.
fn check_tcp(s: &Shared, probe: &ProbeTuple, echoed: u32) -> Option<u8> {
    if probe.src != s.route.source {
        return None;
    }
    let by_port = probe.sport.checked_sub(s.sport)?;
    if by_port > if s.vary_sport { MAX_RETRIES_LIMIT as u16 } else { 0 } {
        return None;
    }
    let attempt = s.key.check(probe.src, s.sport, probe.dst, probe.dport, echoed, MAX_RETRIES_LIMIT)?;
    (!s.vary_sport || attempt as u16 == by_port).then_some(attempt)
}

/// The attempt an ICMP reply or quote answers, from its identifier and sequence number.
fn check_icmp(s: &Shared, probe: &ProbeTuple, echoed: u32) -> Option<u8> {
    if probe.src != s.route.source {
        return None;
    }
    s.key.check(probe.src, 0, probe.dst, 0, echoed, MAX_RETRIES_LIMIT)
}

/// The attempt a UDP reply or quote answers, from the cookie in its source port.
fn check_udp(s: &Shared, probe: &ProbeTuple) -> Option<u8> {
    if probe.src != s.route.source {
        return None;
    }
    udp::check_sport(s.key.cookie(probe.src, 0, probe.dst, probe.dport), probe.sport, MAX_RETRIES_LIMIT)
}

/// Where the receive thread reads replies.
enum Receiver {
    Ring(RxRing),
    Socket(PacketSocket),
}

/// Opens the receiving side on the route's interface: a packet socket that only gets frames
/// that could be replies (the kernel filters the rest and keeps our own outgoing frames),
/// read through a TPACKET_V3 ring where it can be set up, else with recvfrom.
fn open_receiver(route: &Route, technique: Technique) -> Result<Receiver> {
    let (ethertype, replies) = if technique == Technique::Arp { (ETH_P_ARP, Replies::Arp) } else { (ETH_P_IP, Replies::Ipv4) };
    let filter = ring::reply_filter(replies, route.source);
    let open = || -> Result<PacketSocket> {
        let sock = PacketSocket::open(&route.iface, ethertype)?;
        // both only spare work: validate() still judges every frame that arrives, and
        // outgoing frames that do arrive are skipped by their direction
        let _ = sock.attach_filter(&filter);
        sock.ignore_outgoing();
        Ok(sock)
    };
    // opened first, whichever path follows: missing privileges show here
    let sock = open()?;
    let sock = if std::env::var_os("FERROSCAN_RX_RING").is_some_and(|v| v == "0") {
        sock
    } else {
        match RxRing::new(sock, RingGeometry::default()) {
            Ok(r) => return Ok(Receiver::Ring(r)),
            // the failed set-up consumed its socket (which may be left half set up): a fresh one
            Err(_) => open()?,
        }
    };
    // a large buffer, so bursts of replies are not dropped while we parse
    sock.grow_receive_buffer(64 << 20);
    sock.set_receive_timeout(RX_WAIT)?;
    Ok(Receiver::Socket(sock))
}

/// Moves the probes traced so far into the batch: they go first, so each reply follows
/// the probe it answers.
fn take_trace(s: &Shared, batch: &mut Vec<u8>) {
    if let Some(t) = &s.trace {
        if let Ok(mut g) = t.lock() {
            batch.append(&mut g);
        }
    }
}

/// The scan's clock (µs since start) at which a frame arrived, from the kernel's receive
/// timestamp (CLOCK_REALTIME) and one reading of both clocks: a frame may wait in a ring
/// block for milliseconds before we see it, and RTTs must not include that wait.
struct ArrivalClock {
    now_us: u64,
    real_ns: i64,
}

impl ArrivalClock {
    /// A timestamp further back than this (or in the future) is not believed (the real-time
    /// clock was stepped): the frame counts as arriving now.
    const MAX_AGE_NS: i64 = 1_000_000_000;

    fn now(s: &Shared) -> Self {
        let real_ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
        Self { now_us: s.now_us(), real_ns }
    }

    fn arrival_us(&self, sec: u32, nsec: u32) -> u64 {
        let age = self.real_ns - (sec as i64 * 1_000_000_000 + nsec as i64);
        if (0..=Self::MAX_AGE_NS).contains(&age) {
            self.now_us.saturating_sub(age as u64 / 1000)
        } else {
            self.now_us
        }
    }
}

/// Judges one incoming frame, received at `arrived_us`; a valid first answer becomes a record.
fn on_frame(s: &Shared, frame: &[u8], arrived_us: u64, batch: &mut Vec<u8>) {
    let Some((mut rec, pos)) = parse_frame(frame).and_then(|r| validate(s, &r)) else {
        s.discarded.fetch_add(1, Ordering::Relaxed);
        return;
    };
    // the frame's sender on the link (nmap's "MAC Address:" line)
    if !s.route.loopback && rec.mac == [0; 6] {
        rec.mac.copy_from_slice(&frame[6..12]);
    }
    s.received.fetch_add(1, Ordering::Relaxed);
    if pos >= s.sent_upto.load(Ordering::Acquire) {
        // valid cookie for a probe not sent yet: cannot be genuine
        s.discarded.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let emit = match s.window.mark(pos) {
        Mark::First { resolved_now, last_attempt, sent_at_us } => {
            s.mark_responsive(u32::from(rec.target));
            if rec.attempt == 0 {
                s.first_answers.fetch_add(1, Ordering::Relaxed);
            } else {
                s.max_successful.fetch_max(rec.attempt, Ordering::Relaxed);
            }
            if resolved_now {
                s.outstanding.fetch_sub(1, Ordering::AcqRel);
            }
            if rec.attempt == last_attempt {
                let rtt = (arrived_us as u32).wrapping_sub(sent_at_us);
                // an arrival time read from another clock may round to just before the send
                let rtt = if rtt > u32::MAX / 2 { 0 } else { rtt };
                rec.rtt_us = rtt.max(1);
                if last_attempt == 0 {
                    s.rtt.observe(rtt as u64);
                }
            }
            true
        }
        Mark::Duplicate => false,
        Mark::Stale => true,
    };
    if emit {
        rec.emit(batch);
        s.records.fetch_add(1, Ordering::Relaxed);
    }
}

fn receive_loop(s: &Shared, mut rx: Option<&mut Receiver>, sink: &mut Sink) -> Result<()> {
    const FULL: usize = RECORDS_PER_BATCH * RECORD_SIZE;
    let mut buf = if matches!(rx, Some(Receiver::Socket(_))) { vec![0u8; 65536] } else { Vec::new() };
    let mut batch: Vec<u8> = Vec::with_capacity(FULL);
    let mut last_flush = Instant::now();
    let mut result = Ok(());
    loop {
        let got = match rx.as_mut() {
            Some(Receiver::Ring(ring)) => {
                let block = ring.next_block(RX_WAIT);
                take_trace(s, &mut batch);
                block.map(|block| {
                    let Some(block) = block else { return };
                    let clock = ArrivalClock::now(s);
                    for f in block.frames().filter(|f| f.direction == Direction::Incoming) {
                        on_frame(s, f.data, clock.arrival_us(f.sec, f.nsec), &mut batch);
                        if batch.len() >= FULL {
                            sink(ScanEvent::Batch(std::mem::replace(&mut batch, Vec::with_capacity(FULL))));
                            last_flush = Instant::now();
                        }
                    }
                    // dropping the block hands it back to the kernel
                })
            }
            Some(Receiver::Socket(sock)) => {
                let got = sock.recv(&mut buf);
                take_trace(s, &mut batch);
                got.map(|got| {
                    if let Some((len, Direction::Incoming)) = got {
                        on_frame(s, &buf[..len], s.now_us(), &mut batch);
                    }
                })
            }
            None => {
                // a dry run: nothing to receive, only the trace to pass on
                std::thread::sleep(Duration::from_millis(5));
                take_trace(s, &mut batch);
                Ok(())
            }
        };
        if let Err(e) = got {
            result = Err(e);
            s.abort.store(true, Ordering::Release);
        }
        let done = s.tx_done.load(Ordering::Acquire);
        if done {
            take_trace(s, &mut batch);
        }
        if !batch.is_empty() && (done || batch.len() >= FULL || last_flush.elapsed() >= FLUSH_EVERY) {
            sink(ScanEvent::Batch(std::mem::replace(&mut batch, Vec::with_capacity(FULL))));
            last_flush = Instant::now();
        }
        if done || result.is_err() {
            break;
        }
    }
    result
}
