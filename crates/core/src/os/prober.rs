//! The OS-detection engine: sends every host's tries through raw packet sockets, hands the
//! answers to each try (round.rs), fingerprints and matches each try as it completes, and
//! decides, as nmap does, when a host is done: at its first try with a perfect match, or
//! after --max-os-tries tries (two when the fingerprint is unfit for submission), keeping
//! the most accurate try then (nmap's endRound, expireUnmatchedHosts, findBestFPs).
//!
//! All hosts run at once, each on its own schedule, on one thread: it sends what is due,
//! then waits for answers (a receive thread per interface) until the next thing is due.
//!
//! Where this differs from nmap, on purpose, in time only: nmap runs a try's SEQ probes for
//! every host, then the other probes, waits one second (2.5 s before the fourth) and starts
//! the next try. Here all of a host's tries start together, 5 ms apart, each from its own
//! source ports, and are judged in order as nmap judges them (the first perfect match ends
//! the host; later tries' results are dropped). That is sound for a host whose IP IDs and
//! ISNs do not count across connections (TI and CI zero or random, ISNs unpredictable:
//! SP ≥ 0x40, as Linux's): it gives every try the answers it would give it alone. Once the
//! first try shows otherwise (Windows' incrementing IP IDs, say: the overlap shows as well,
//! the counter then moving by several per probe), every try is discarded and the host's
//! tries run again one after another, each as soon as the previous one is settled. The
//! cost of this speed: a host that matches perfectly at its first try got up to
//! --max-os-tries tries' worth of probes where nmap sends one.

use super::db::{OsDb, SharedDb};
use super::fingerprint::{DistanceMethod, Fingerprint};
use super::matcher::{classify, Classification, Matcher, Matches, Outcome, GUESS_THRESHOLD};
use super::probes::{Draw, TryParams, PORTS_PER_TRY};
use super::round::{HostFacts, Round, RoundTiming, SEQ_GAP};
use super::tests::{SeqResult, TsClass};
use super::wire::Ip;
use crate::error::{Error, Result};
use crate::net::neighbor;
use crate::net::ring::{self, Replies, RingGeometry, RxRing};
use crate::net::route::{local_addresses, route_to, Route};
use crate::net::socket::{Direction, PacketSocket, RawIpSocket, Sender};
use crate::timing::{RttBounds, RttEstimator};
use pnet_base::MacAddr;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ETH_P_IP: u16 = 0x0800;
/// nmap's default --max-os-tries, and its limit for a print unfit for submission.
pub const DEFAULT_MAX_TRIES: u32 = 5;
const UNFIT_MAX_TRIES: u32 = 2;
pub const MAX_TRIES_LIMIT: u32 = 50;
/// The gap between a try's non-SEQ probes (nmap: 25 ms).
pub const DEFAULT_GAP: Duration = Duration::from_millis(5);

/// What the port scan found on a host, for choosing the probes' ports as nmap does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsTarget {
    pub addr: Ipv4Addr,
    /// The first open TCP port; none: no SEQ, OPS, WIN, ECN or T1-T4.
    pub open_tcp: Option<u16>,
    /// The first closed TCP port (reported as used); else an unfiltered one is probed
    /// (not reported), else a random one in 30000-44780.
    pub closed_tcp: Option<u16>,
    pub unfiltered_tcp: Option<u16>,
    /// Likewise for U1.
    pub closed_udp: Option<u16>,
    pub unfiltered_udp: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct OsConfig {
    pub targets: Vec<OsTarget>,
    /// --max-os-tries.
    pub max_tries: u32,
    pub interface: Option<String>,
    pub source: Option<Ipv4Addr>,
    pub rtt: RttBounds,
    /// --scan-delay in ms.
    pub scan_delay_ms: u64,
    /// -T level (5 makes a print unfit for submission).
    pub timing_level: u8,
    /// A UDP scan ran (without one, a missing U1 answer makes the print unfit).
    pub udp_scan: bool,
    /// The gap between a try's non-SEQ probes.
    pub gap: Duration,
    /// Let a host's later tries run together when its first try shows that is safe.
    pub overlap_tries: bool,
    /// The SCAN line's V and P.
    pub version: String,
    pub platform: String,
}

impl OsConfig {
    pub fn new(targets: Vec<OsTarget>) -> Self {
        OsConfig {
            targets,
            max_tries: DEFAULT_MAX_TRIES,
            interface: None,
            source: None,
            rtt: RttBounds::default(),
            scan_delay_ms: 0,
            timing_level: 3,
            udp_scan: false,
            gap: DEFAULT_GAP,
            overlap_tries: true,
            version: env!("CARGO_PKG_VERSION").to_string(),
            platform: format!("{}-unknown-{}-gnu", std::env::consts::ARCH, std::env::consts::OS),
        }
    }
}

/// What OS detection found for one host.
#[derive(Debug, Clone)]
pub struct OsResult {
    pub addr: Ipv4Addr,
    /// The host could not be probed (no route, no ARP answer): why.
    pub error: Option<String>,
    /// Every try's fingerprint, in order.
    pub tries: Vec<Fingerprint>,
    /// The matches of the chosen try (the perfect one, else the most accurate).
    pub matches: Matches,
    pub classification: Classification,
    /// Which try matched perfectly (0-based), if one did.
    pub perfect_try: Option<usize>,
    /// The SEQ analysis nmap reports (of the perfect try, else of the last one).
    pub seq: Option<SeqResult>,
    pub distance: Option<i32>,
    pub method: DistanceMethod,
    /// The ports the report names as used (nmap's portused): known open/closed ones only.
    pub open_tcp: Option<u16>,
    pub closed_tcp: Option<u16>,
    pub closed_udp: Option<u16>,
    /// The host's hardware address, when it is on the link.
    pub mac: Option<[u8; 6]>,
    pub max_timing_ratio: f64,
    /// Why the print is unfit for submission (nmap's OmitSubmissionFP), if it is.
    pub omit_reason: Option<String>,
    /// Unix time of the report, for the SCAN line.
    pub time: u32,
    pub month: u32,
    pub day: u32,
    pub private: bool,
    pub warnings: Vec<String>,
}

#[derive(Debug)]
pub struct OsRun {
    pub hosts: Vec<OsResult>,
    pub aborted: bool,
    pub sent: u64,
    pub received: u64,
}

/// nmap's isipprivate.
/// A link's IPv4 source address (links are only made for routes with one: OS detection is IPv4's).
fn source_v4(route: &Route) -> Ipv4Addr {
    match route.source {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

pub fn is_private(a: Ipv4Addr) -> bool {
    let o = a.octets();
    o[0] == 10 || (o[0] == 172 && (16..=31).contains(&o[1])) || (o[0] == 169 && o[1] == 254) || (o[0] == 192 && o[1] == 168)
}

/// A small generator for the values nmap draws at random (ports, ISN bases, IP IDs, TTLs).
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let mut b = [0u8; 8];
        let _ = getrandom::getrandom(&mut b);
        Rng(u64::from_le_bytes(b) | 1)
    }
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % n as u64) as u32
    }
    fn draw(&mut self) -> Draw {
        Draw { ip_id: self.next() as u16, ttl: 37 + self.below(23) as u8 }
    }
}

fn unix_now() -> (i64, u32) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_micros() as i64, d.as_secs() as u32)
}

/// Month and day of `secs` in local time (the SCAN line's D).
fn local_month_day(secs: u32) -> (u32, u32) {
    let t = secs as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which lives for the call
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        (tm.tm_mon as u32 + 1, tm.tm_mday as u32)
    } else {
        (0, 0)
    }
}

/// One interface the probes leave from, and its receive thread.
struct Link {
    route: Route,
    sender: Sender,
    rx: Option<JoinHandle<()>>,
}

enum RxEvent {
    Datagram(Vec<u8>),
    Failed(Error),
}

fn open_receiver(route: &Route) -> Result<std::result::Result<RxRing, PacketSocket>> {
    let open = || -> Result<PacketSocket> {
        let sock = PacketSocket::open(&route.iface, ETH_P_IP)?;
        let _ = sock.attach_filter(&ring::reply_filter(Replies::Ipv4, route.source));
        sock.ignore_outgoing();
        Ok(sock)
    };
    let sock = open()?;
    // a small ring: OS detection draws a few dozen answers per host
    let geometry = RingGeometry { block_size: 1 << 15, block_nr: 64, frame_size: 2048, retire_ms: 1 };
    match RxRing::new(sock, geometry) {
        Ok(r) => Ok(Ok(r)),
        Err(_) => {
            let sock = open()?;
            sock.set_receive_timeout(Duration::from_millis(10))?;
            Ok(Err(sock))
        }
    }
}

fn receive_loop(rx: std::result::Result<RxRing, PacketSocket>, from: Arc<HashSet<u32>>, out: mpsc::Sender<RxEvent>, stop: Arc<AtomicBool>) {
    let keep = |frame: &[u8]| -> Option<Vec<u8>> {
        let ip = Ip::new(frame.get(14..)?)?;
        from.contains(&u32::from(ip.src())).then(|| ip.claimed().to_vec())
    };
    let mut buf = vec![0u8; 65536];
    let mut rx = rx;
    while !stop.load(Ordering::Acquire) {
        let r: Result<()> = match &mut rx {
            Ok(ring) => ring.next_block(Duration::from_millis(10)).map(|b| {
                if let Some(block) = b {
                    for f in block.frames() {
                        if f.direction == Direction::Incoming {
                            if let Some(d) = keep(f.data) {
                                let _ = out.send(RxEvent::Datagram(d));
                            }
                        }
                    }
                }
            }),
            Err(sock) => sock.recv(&mut buf).map(|got| {
                if let Some((n, Direction::Incoming)) = got {
                    if let Some(d) = keep(&buf[..n]) {
                        let _ = out.send(RxEvent::Datagram(d));
                    }
                }
            }),
        };
        if let Err(e) = r {
            let _ = out.send(RxEvent::Failed(e));
            return;
        }
    }
}

/// A try in flight and what is known of it.
struct TryState {
    round: Round,
    /// Not sent yet before this moment (staggered starts).
    start_at: Instant,
}

struct Host {
    target: OsTarget,
    link: usize,
    next_hop: MacAddr,
    mac: Option<MacAddr>,
    localhost: bool,
    closed_tcp: u16,
    closed_udp: u16,
    tcp_base: u16,
    udp_base: u16,
    tries: Vec<TryState>,
    /// Tries started so far, discarded ones included: each takes its own source ports.
    slots: usize,
    evaluated: usize,
    overlap_decided: bool,
    facts: HostFacts,
    rtt: RttEstimator,
    fps: Vec<Fingerprint>,
    matches: Vec<Matches>,
    seqs: Vec<SeqResult>,
    max_ratio: f64,
    distance: Option<i32>,
    method: DistanceMethod,
    perfect_try: Option<usize>,
    finished: bool,
    incomplete: bool,
    warnings: Vec<String>,
}

/// nmap's OmitSubmissionFP.
fn omit_reason(
    cfg: &OsConfig,
    open: Option<u16>,
    closed: Option<u16>,
    closed_udp: Option<u16>,
    distance: Option<i32>,
    ratio: f64,
    incomplete: bool,
) -> Option<String> {
    if cfg.scan_delay_ms > 500 {
        return Some(format!("Scan delay ({}) is greater than 500", cfg.scan_delay_ms));
    }
    if cfg.timing_level > 4 {
        return Some("Timing level 5 (Insane) used".into());
    }
    if open.is_none_or(|p| p == 0) {
        return Some("Missing an open TCP port so results incomplete".into());
    }
    if closed.is_none_or(|p| p == 0) {
        return Some("Missing a closed TCP port so results incomplete".into());
    }
    let d = distance.unwrap_or(-1);
    if d < -1 {
        return Some(format!("Host distance ({d} network hops) appears to be negative"));
    }
    if d > 5 {
        return Some(format!("Host distance ({d} network hops) is greater than five"));
    }
    if ratio > 1.4 {
        return Some(format!("maxTimingRatio ({}) is greater than 1.4", c_exp(ratio)));
    }
    if closed_udp.is_none() && !cfg.udp_scan {
        return Some("Didn't receive UDP response. Please try again with -sSU".into());
    }
    if incomplete {
        return Some("Some probes failed to send so results incomplete".into());
    }
    None
}

/// C's "%e": 1.523000e+00.
fn c_exp(v: f64) -> String {
    let s = format!("{v:.6e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

impl Host {
    fn params(&self, n: usize, source: Ipv4Addr, rng: &mut Rng) -> TryParams {
        let (_, secs) = unix_now();
        TryParams {
            src: source,
            dst: self.target.addr,
            tcp_base: self.tcp_base + n as u16 * PORTS_PER_TRY,
            udp_port: self.udp_base + n as u16,
            seq_base: rng.next() as u32,
            ack: rng.next() as u32,
            echo_id: rng.next() as u16,
            udp_ttl: (secs % 14 + 51) as u8,
            open_tcp: self.target.open_tcp,
            closed_tcp: self.closed_tcp,
            closed_udp: self.closed_udp,
        }
    }

    fn start_try(&mut self, at: Instant, source: Ipv4Addr, timing: RoundTiming, rng: &mut Rng) {
        let params = self.params(self.slots, source, rng);
        self.slots += 1;
        let (wall, _) = unix_now();
        let now = Instant::now();
        let wall_at = wall + at.saturating_duration_since(now).as_micros() as i64;
        self.tries.push(TryState { round: Round::new(params, self.localhost, timing, at.max(now), wall_at), start_at: at });
    }

    fn max_tries(&self, cfg: &OsConfig) -> u32 {
        let fit = self.reason(cfg).is_none();
        if fit {
            cfg.max_tries
        } else {
            cfg.max_tries.min(UNFIT_MAX_TRIES)
        }
    }

    fn reason(&self, cfg: &OsConfig) -> Option<String> {
        omit_reason(
            cfg,
            self.target.open_tcp,
            self.target.closed_tcp,
            self.facts.closed_udp,
            self.distance,
            self.max_ratio,
            self.incomplete,
        )
    }

    /// Whether the first try shows per-connection IP IDs and ISNs (see the module comment).
    fn tries_may_overlap(&self) -> bool {
        let Some(first) = self.tries.first() else { return false };
        let (_, seq) = first.round.fingerprint(&mut self.facts.clone(), self.target.closed_tcp.is_some());
        let Some(t) = seq.test else { return false };
        let per_connection = |v: Option<&str>| matches!(v, Some("Z") | Some("RD"));
        let sp = t.get("SP").and_then(|v| u32::from_str_radix(v, 16).ok());
        per_connection(t.get("TI")) && (t.get("CI").is_none() || per_connection(t.get("CI"))) && sp.is_some_and(|sp| sp >= 0x40)
    }
}

/// Runs OS detection against every target. Blocks until done or `abort` is set.
pub fn detect(cfg: &OsConfig, db: &SharedDb, abort: &AtomicBool) -> Result<OsRun> {
    if cfg.max_tries == 0 || cfg.max_tries > MAX_TRIES_LIMIT {
        return Err(Error::InvalidOptions(format!("max-os-tries must be between 1 and {MAX_TRIES_LIMIT}")));
    }
    let mut rng = Rng::new();
    let locals: HashSet<Ipv4Addr> = local_addresses()?.into_iter().map(|(_, a)| a).collect();
    let mut links: Vec<Link> = Vec::new();
    let mut hosts: Vec<Host> = Vec::new();
    let mut failed: Vec<OsResult> = Vec::new();
    let (tx, rx) = mpsc::channel::<RxEvent>();
    let stop = Arc::new(AtomicBool::new(false));
    let from: Arc<HashSet<u32>> = Arc::new(cfg.targets.iter().map(|t| u32::from(t.addr)).collect());
    let (_, report_time) = unix_now();
    let (month, day) = local_month_day(report_time);
    let empty = |t: &OsTarget, error: String| OsResult {
        addr: t.addr,
        error: Some(error),
        tries: vec![],
        matches: Matches { outcome: Outcome::NoMatches, entries: vec![], perfect: 0 },
        classification: Classification { outcome: Outcome::NoMatches, classes: vec![], perfect: 0 },
        perfect_try: None,
        seq: None,
        distance: None,
        method: DistanceMethod::None,
        open_tcp: t.open_tcp,
        closed_tcp: t.closed_tcp,
        closed_udp: t.closed_udp,
        mac: None,
        max_timing_ratio: 0.0,
        omit_reason: None,
        time: report_time,
        month,
        day,
        private: is_private(t.addr),
        warnings: vec![],
    };
    // next hops: the gateway's (or each on-link target's) hardware address, per interface
    let mut per_link_targets: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut routes: Vec<Option<(usize, Route)>> = Vec::new();
    for (i, t) in cfg.targets.iter().enumerate() {
        match route_to(t.addr, cfg.interface.as_deref(), cfg.source.map(IpAddr::V4)) {
            Ok(r) if !r.source.is_ipv4() => {
                failed.push(empty(t, format!("no IPv4 source address on {}", r.iface)));
                routes.push(None);
            }
            Ok(r) => {
                let at = match links.iter().position(|l| l.route.iface == r.iface && l.route.source == r.source) {
                    Some(at) => at,
                    None => {
                        let receiver = open_receiver(&r)?;
                        let sender = if r.loopback {
                            Sender::Loopback(RawIpSocket::open()?)
                        } else {
                            let s = PacketSocket::open(&r.iface, 0)?;
                            s.bypass_qdisc();
                            Sender::Link(s)
                        };
                        let (tx, from, stop) = (tx.clone(), from.clone(), stop.clone());
                        let handle = std::thread::Builder::new()
                            .name("ferroscan-os-rx".into())
                            .spawn(move || receive_loop(receiver, from, tx, stop))
                            .map_err(|e| Error::io("starting the receive thread", e))?;
                        links.push(Link { route: r.clone(), sender, rx: Some(handle) });
                        links.len() - 1
                    }
                };
                per_link_targets.entry(at).or_default().push(i);
                routes.push(Some((at, r)));
            }
            Err(e) => {
                failed.push(empty(t, e.to_string()));
                routes.push(None);
            }
        }
    }
    let mut macs: HashMap<Ipv4Addr, MacAddr> = HashMap::new();
    for (&at, idx) in &per_link_targets {
        let route = &links[at].route;
        if route.loopback {
            continue;
        }
        let mut wanted: Vec<Ipv4Addr> = Vec::new();
        for &i in idx {
            if let Some((_, r)) = &routes[i] {
                wanted.push(match r.gateway {
                    Some(IpAddr::V4(g)) => g,
                    _ => cfg.targets[i].addr,
                });
            }
        }
        wanted.sort();
        wanted.dedup();
        macs.extend(neighbor::resolve(route, &wanted, 3, Duration::from_millis(300))?);
    }
    let timing = RoundTiming {
        seq_gap: SEQ_GAP.max(Duration::from_millis(cfg.scan_delay_ms)),
        gap: cfg.gap.max(Duration::from_millis(cfg.scan_delay_ms)),
        scan_delay_ms: cfg.scan_delay_ms,
    };
    for (i, t) in cfg.targets.iter().enumerate() {
        let Some((link, r)) = routes[i].clone() else { continue };
        let hop = match r.gateway {
            Some(IpAddr::V4(g)) => g,
            _ => t.addr,
        };
        let next_hop = if r.loopback {
            MacAddr::zero()
        } else {
            match macs.get(&hop) {
                Some(m) => *m,
                None => {
                    failed.push(empty(t, format!("{hop} does not answer ARP on {}", r.iface)));
                    continue;
                }
            }
        };
        let localhost = r.loopback || locals.contains(&t.addr) || t.addr.is_loopback();
        let on_link = !r.loopback && r.gateway.is_none();
        // room for every slot: each try once, and again when speculative tries are discarded
        let base = 33000 + rng.below(31000 - MAX_SLOTS * PORTS_PER_TRY as u32) as u16;
        let udp_base = 33000 + rng.below(31000 - MAX_SLOTS) as u16;
        let closed_tcp = t.closed_tcp.or(t.unfiltered_tcp).unwrap_or_else(|| 30000 + rng.below(14781) as u16);
        let closed_udp = t.closed_udp.or(t.unfiltered_udp).unwrap_or_else(|| 30000 + rng.below(14781) as u16);
        let mut h = Host {
            target: t.clone(),
            link,
            next_hop,
            mac: on_link.then_some(next_hop),
            localhost,
            closed_tcp,
            closed_udp,
            tcp_base: base,
            udp_base,
            tries: vec![],
            slots: 0,
            evaluated: 0,
            overlap_decided: false,
            facts: HostFacts::default(),
            rtt: RttEstimator::new(cfg.rtt),
            fps: vec![],
            matches: vec![],
            seqs: vec![],
            max_ratio: 0.0,
            distance: None,
            method: DistanceMethod::None,
            perfect_try: None,
            finished: false,
            incomplete: false,
            warnings: vec![],
        };
        if t.closed_udp.is_some() {
            h.facts.closed_udp = t.closed_udp;
        }
        let now = Instant::now();
        h.start_try(now, source_v4(&links[link].route), timing, &mut rng);
        if cfg.overlap_tries {
            // the other tries start at once, speculatively: kept if the first try shows
            // per-connection counters, discarded (and run one after another) if not
            for k in 1..cfg.max_tries {
                h.start_try(now + STAGGER * k, source_v4(&links[link].route), timing, &mut rng);
            }
        }
        hosts.push(h);
    }
    drop(tx);

    // the database may still be loading: it is waited for when a first try needs matching
    let mut loaded: Option<Arc<OsDb>> = None;
    let mut database = || -> Result<Arc<OsDb>> {
        if loaded.is_none() {
            loaded = Some(db.wait().map_err(|e| match e.strip_prefix("EINVAL: ") {
                Some(m) => Error::InvalidOptions(m.to_string()),
                None => Error::Internal(e),
            })?);
        }
        Ok(loaded.clone().unwrap_or_else(|| unreachable!()))
    };
    let (mut sent, mut received) = (0u64, 0u64);
    let by_addr: HashMap<u32, usize> = hosts.iter().enumerate().map(|(i, h)| (u32::from(h.target.addr), i)).collect();
    let mut frames: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut failure: Option<Error> = None;
    let mut aborted = false;
    while hosts.iter().any(|h| !h.finished) {
        if abort.load(Ordering::Acquire) {
            aborted = true;
            break;
        }
        let now = Instant::now();
        let mut wake = now + Duration::from_millis(50);
        for h in hosts.iter_mut().filter(|h| !h.finished) {
            let timeout = Duration::from_micros(h.rtt.timeout_us());
            let src = links[h.link].route.source;
            for t in h.tries.iter_mut() {
                if t.start_at > now {
                    wake = wake.min(t.start_at);
                    continue;
                }
                loop {
                    match t.round.poll(now, timeout) {
                        Ok((probe, tryno)) => {
                            let draw = rng.draw();
                            match t.round.params.build(probe, draw) {
                                Some(ip) => {
                                    let mut f = Vec::with_capacity(14 + ip.len());
                                    f.extend_from_slice(&h.next_hop.octets());
                                    f.extend_from_slice(&links[h.link].route.src_mac.octets());
                                    f.extend_from_slice(&ETH_P_IP.to_be_bytes());
                                    f.extend_from_slice(&ip);
                                    frames.push((h.link, f));
                                }
                                None => h.incomplete = true,
                            }
                            t.round.sent(probe, tryno, now);
                        }
                        Err(w) => {
                            if let Some(w) = w {
                                wake = wake.min(w);
                            }
                            break;
                        }
                    }
                }
            }
            let _ = src;
        }
        for (link, f) in frames.drain(..) {
            match links[link].sender.send(&[&f]) {
                Ok(n) => sent += n as u64,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if failure.is_some() {
            break;
        }
        // answers until the next thing is due
        let mut first = true;
        loop {
            let ev = if first {
                first = false;
                rx.recv_timeout(wake.saturating_duration_since(Instant::now()))
            } else {
                rx.try_recv().map_err(|e| match e {
                    mpsc::TryRecvError::Empty => mpsc::RecvTimeoutError::Timeout,
                    mpsc::TryRecvError::Disconnected => mpsc::RecvTimeoutError::Disconnected,
                })
            };
            match ev {
                Ok(RxEvent::Datagram(d)) => {
                    received += 1;
                    let Some(ip) = Ip::new(&d) else { continue };
                    let Some(&hi) = by_addr.get(&u32::from(ip.src())) else { continue };
                    let h = &mut hosts[hi];
                    if h.finished {
                        continue;
                    }
                    let at = Instant::now();
                    for t in h.tries.iter_mut() {
                        if t.round.owns(&ip) {
                            if let Some(a) = t.round.on_reply(&ip, &mut h.facts) {
                                if a.tryno == 0 {
                                    h.rtt.observe(at.saturating_duration_since(a.sent).as_micros() as u64);
                                }
                            }
                            break;
                        }
                    }
                }
                Ok(RxEvent::Failed(e)) => {
                    failure = Some(e);
                    break;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    failure.get_or_insert(Error::Internal("the receive threads ended early".into()));
                    break;
                }
            }
        }
        if failure.is_some() {
            break;
        }
        let now = Instant::now();
        for h in hosts.iter_mut().filter(|h| !h.finished) {
            overlap(h, cfg, timing, source_v4(&links[h.link].route), &mut rng, now);
            // with overlapping tries, nothing is judged before the first try says they may stay
            let judged = !cfg.overlap_tries || h.overlap_decided;
            if judged && h.tries.get(h.evaluated).is_some_and(|t| t.round.done()) {
                let db = match database() {
                    Ok(db) => db,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                settle(h, cfg, &db, timing, source_v4(&links[h.link].route), &mut rng, now);
            }
        }
        if failure.is_some() {
            break;
        }
    }
    stop.store(true, Ordering::Release);
    for l in links.iter_mut() {
        if let Some(t) = l.rx.take() {
            let _ = t.join();
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let db = if hosts.is_empty() { None } else { Some(database()?) };
    let mut out: Vec<OsResult> = hosts
        .into_iter()
        .map(|h| {
            let reason = h.reason(cfg);
            let chosen = h.perfect_try.unwrap_or_else(|| best_try(&h.matches));
            let matches = h.matches.get(chosen).cloned().unwrap_or(Matches { outcome: Outcome::NoMatches, entries: vec![], perfect: 0 });
            let classification = db
                .as_deref()
                .map_or(Classification { outcome: Outcome::NoMatches, classes: vec![], perfect: 0 }, |db| classify(db, &matches));
            let seq = match h.perfect_try {
                Some(p) => h.seqs.get(p).cloned(),
                None => h.seqs.last().cloned(),
            };
            let mut warnings = h.warnings;
            for t in &h.tries {
                warnings.extend(t.round.warnings.iter().cloned());
            }
            warnings.dedup();
            OsResult {
                addr: h.target.addr,
                error: None,
                tries: h.fps,
                matches,
                classification,
                perfect_try: h.perfect_try,
                seq,
                distance: h.distance,
                method: h.method,
                open_tcp: h.target.open_tcp,
                closed_tcp: h.target.closed_tcp,
                closed_udp: h.facts.closed_udp,
                mac: h.mac.map(|m| m.octets()),
                max_timing_ratio: h.max_ratio,
                omit_reason: reason,
                time: report_time,
                month,
                day,
                private: is_private(h.target.addr),
                warnings,
            }
        })
        .collect();
    out.extend(failed);
    let order: HashMap<Ipv4Addr, usize> = cfg.targets.iter().enumerate().map(|(i, t)| (t.addr, i)).collect();
    out.sort_by_key(|r| order.get(&r.addr).copied().unwrap_or(usize::MAX));
    Ok(OsRun { hosts: out, aborted, sent, received })
}

/// nmap's findBestFPs: the first try with the most accurate top match.
fn best_try(matches: &[Matches]) -> usize {
    let mut best = (0usize, 0.0f64);
    for (i, m) in matches.iter().enumerate() {
        if m.outcome == Outcome::Success && !m.entries.is_empty() && m.entries[0].accuracy > best.1 {
            best = (i, m.entries[0].accuracy);
            if m.perfect > 0 {
                break;
            }
        }
    }
    best.0
}

/// Once the first try shows how the host counts (its SEQ and closed-port answers are in),
/// keeps the tries that started with it if that is safe (see the module comment); if not,
/// every try so far is discarded and they run again, one after another.
fn overlap(h: &mut Host, cfg: &OsConfig, timing: RoundTiming, source: Ipv4Addr, rng: &mut Rng, now: Instant) {
    if !cfg.overlap_tries || h.overlap_decided || h.evaluated > 0 || !h.tries.first().is_some_and(|t| t.round.counters_known()) {
        return;
    }
    h.overlap_decided = true;
    if h.tries.len() > 1 && !h.tries_may_overlap() {
        h.tries.clear();
        h.facts = HostFacts { closed_udp: h.facts.closed_udp, ..HostFacts::default() };
        // after the answers to what was already sent have come (they would move the
        // host's shared counters under the new try's feet)
        h.start_try(now + Duration::from_micros(h.rtt.timeout_us()), source, timing, rng);
    }
}

/// Most tries a host may start: each once, and again after discarded speculative ones.
const MAX_SLOTS: u32 = 2 * MAX_TRIES_LIMIT;

/// Between the starts of overlapping tries: their SEQ probes interleave a few ms apart.
const STAGGER: Duration = Duration::from_millis(5);

/// Fingerprints and matches the host's tries that have completed, in order, and decides
/// what comes next (nmap's endRound and expireUnmatchedHosts).
fn settle(h: &mut Host, cfg: &OsConfig, db: &OsDb, timing: RoundTiming, source: Ipv4Addr, rng: &mut Rng, now: Instant) {
    while h.evaluated < h.tries.len() && h.tries[h.evaluated].round.done() {
        let n = h.evaluated;
        h.evaluated += 1;
        let round = &h.tries[n].round;
        let (fp, seq) = round.fingerprint(&mut h.facts, h.target.closed_tcp.is_some());
        h.max_ratio = h.max_ratio.max(round.timing_ratio());
        let m = Matcher::new(db).best(&fp, GUESS_THRESHOLD);
        let perfect = m.outcome == Outcome::Success && m.perfect > 0;
        h.fps.push(fp);
        h.matches.push(m);
        h.seqs.push(seq);
        (h.distance, h.method) = if h.localhost {
            (Some(0), DistanceMethod::Localhost)
        } else if h.mac.is_some() {
            (Some(1), DistanceMethod::Direct)
        } else if let Some(d) = h.facts.distance {
            (Some(d), DistanceMethod::Icmp)
        } else {
            (None, DistanceMethod::None)
        };
        if perfect {
            if n > 0 {
                h.warnings.push(format!("WARNING: OS didn't match until try #{}", n + 1));
            }
            h.perfect_try = Some(n);
            h.finished = true;
            return;
        }
        if h.evaluated as u32 >= h.max_tries(cfg) {
            h.finished = true;
            return;
        }
        if h.tries.len() == h.evaluated {
            h.start_try(now, source, timing, rng);
        }
    }
}

impl TsClass {
    /// Whether the XML lists the timestamp values (nmap omits them when unsupported).
    pub fn has_values(self) -> bool {
        self != TsClass::Unsupported
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn printf_exponent_as_c() {
        assert_eq!(c_exp(1.523), "1.523000e+00");
        assert_eq!(c_exp(12.0), "1.200000e+01");
        assert_eq!(c_exp(0.0012), "1.200000e-03");
    }

    #[test]
    fn private_as_nmap_judges() {
        assert!(is_private(Ipv4Addr::new(10, 1, 2, 3)));
        assert!(is_private(Ipv4Addr::new(172, 31, 0, 1)));
        assert!(!is_private(Ipv4Addr::new(172, 32, 0, 1)));
        assert!(is_private(Ipv4Addr::new(169, 254, 1, 1)));
        assert!(!is_private(Ipv4Addr::new(198, 18, 0, 1)));
        assert!(!is_private(Ipv4Addr::new(127, 0, 0, 1)), "nmap does not count loopback");
    }

    #[test]
    fn unfit_prints_as_nmap_says() {
        let cfg = OsConfig::new(vec![]);
        let r = |o, c, u, d, ratio| omit_reason(&cfg, o, c, u, d, ratio, false);
        assert_eq!(r(Some(22), Some(1), Some(30000), Some(1), 1.0), None);
        assert_eq!(r(None, Some(1), Some(3), Some(1), 1.0).as_deref(), Some("Missing an open TCP port so results incomplete"));
        assert_eq!(r(Some(22), None, Some(3), Some(1), 1.0).as_deref(), Some("Missing a closed TCP port so results incomplete"));
        assert_eq!(r(Some(22), Some(1), Some(3), Some(6), 1.0).as_deref(), Some("Host distance (6 network hops) is greater than five"));
        assert_eq!(r(Some(22), Some(1), Some(3), Some(1), 1.5).as_deref(), Some("maxTimingRatio (1.500000e+00) is greater than 1.4"));
        assert_eq!(r(Some(22), Some(1), None, Some(1), 1.0).as_deref(), Some("Didn't receive UDP response. Please try again with -sSU"));
    }
}
