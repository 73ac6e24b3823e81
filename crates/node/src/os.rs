//! The binding of OS detection: loading nmap's database on a worker thread, matching a
//! fingerprint given as text, and running detection against hosts on the engine's own thread.
//! Conversion only; the rules live in ferroscan-core's `os` module.

use crate::{invalid, js_error};
use ferroscan_core::os::db::{OsDb, SharedDb};
use ferroscan_core::os::fingerprint::{format, merge, parse, DistanceMethod, Fingerprint, ScanInfo};
use ferroscan_core::os::matcher::{classify, Classification, Matcher, Matches, Outcome, GUESS_THRESHOLD};
use ferroscan_core::os::prober::{detect, OsConfig, OsResult, OsTarget, DEFAULT_MAX_TRIES};
use ferroscan_core::os::tests::difficulty;
use ferroscan_core::timing::RttBounds;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// nmap's fingerprint database, read on a thread of its own from the moment it is asked for,
/// and shared by every detection (which starts probing before it is read).
#[napi]
pub struct NativeOsDb {
    db: Arc<SharedDb>,
}

impl NativeOsDb {
    fn get(&self) -> Result<Arc<OsDb>> {
        self.db.wait().map_err(Error::from_reason)
    }
}

#[napi]
impl NativeOsDb {
    /// Resolves once the database is read; rejects with reading's error.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn ready(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        let db = self.db.clone();
        std::thread::Builder::new()
            .name("ferroscan-osdb-wait".into())
            .spawn(move || {
                let _ = tx.send(db.wait().map(|_| ()));
            })
            .map_err(|e| Error::from_reason(format!("EIO: starting a thread: {e}")))?;
        match rx.await {
            Ok(r) => r.map_err(Error::from_reason),
            Err(_) => Err(Error::from_reason("EINTERNAL: reading the OS database failed")),
        }
    }

    /// How many reference prints the database holds (waits until it is read).
    #[napi(getter)]
    pub fn prints(&self) -> Result<u32> {
        Ok(self.get()?.prints.len() as u32)
    }

    /// Lines nmap would report as parse errors and skip (waits until it is read).
    #[napi(getter)]
    pub fn warnings(&self) -> Result<Vec<String>> {
        Ok(self.get()?.warnings.clone())
    }
}

/// Starts reading the database at `path` on a thread; `ready()` says when it is done.
#[napi(catch_unwind)]
pub fn load_os_db(path: String) -> Result<NativeOsDb> {
    Ok(NativeOsDb { db: SharedDb::load(path.into()).map_err(js_error)? })
}

#[napi(object)]
pub struct NativeOsClass {
    pub vendor: String,
    pub family: String,
    pub generation: Option<String>,
    #[napi(js_name = "type")]
    pub device_type: String,
    pub cpe: Vec<String>,
    /// The accuracy of the match it came from (0..1).
    pub accuracy: f64,
}

#[napi(object)]
pub struct NativeOsMatch {
    pub name: String,
    /// 0..1, as nmap computes it.
    pub accuracy: f64,
    /// The line of its `Fingerprint` in nmap-os-db.
    pub line: u32,
    pub classes: Vec<NativeOsClass>,
}

/// Ranked matches and the classes they make (nmap's match_fingerprint, populateClassification).
#[napi(object)]
pub struct NativeOsMatches {
    #[napi(ts_type = "'success' | 'no-matches' | 'too-many-matches'")]
    pub outcome: String,
    pub matches: Vec<NativeOsMatch>,
    /// How many of `matches` (the first ones) are perfect.
    pub perfect: u32,
    #[napi(ts_type = "'success' | 'no-matches' | 'too-many-matches'")]
    pub class_outcome: String,
    pub classes: Vec<NativeOsClass>,
    pub class_perfect: u32,
}

fn outcome(o: Outcome) -> String {
    match o {
        Outcome::Success => "success",
        Outcome::NoMatches => "no-matches",
        Outcome::TooManyMatches => "too-many-matches",
    }
    .into()
}

fn class_of(db: &OsDb, print: usize, class: usize, accuracy: f64) -> NativeOsClass {
    let c = &db.prints[print].classes[class];
    NativeOsClass {
        vendor: c.vendor.clone(),
        family: c.family.clone(),
        generation: c.generation.clone(),
        device_type: c.device_type.clone(),
        cpe: c.cpe.clone(),
        accuracy,
    }
}

fn matches_of(db: &OsDb, m: &Matches, c: &Classification) -> NativeOsMatches {
    NativeOsMatches {
        outcome: outcome(m.outcome),
        matches: m
            .entries
            .iter()
            .map(|e| {
                let p = &db.prints[e.print];
                NativeOsMatch {
                    name: p.name.clone(),
                    accuracy: e.accuracy,
                    line: p.line,
                    classes: (0..p.classes.len()).map(|ci| class_of(db, e.print, ci, e.accuracy)).collect(),
                }
            })
            .collect(),
        perfect: m.perfect as u32,
        class_outcome: outcome(c.outcome),
        classes: c.classes.iter().map(|x| class_of(db, x.print, x.class, x.accuracy)).collect(),
        class_perfect: c.perfect as u32,
    }
}

/// Matches a fingerprint in nmap's text form (`OS:` lines or one test per line) against
/// the database. `threshold` defaults to nmap's 0.85.
#[napi(catch_unwind)]
pub fn match_fingerprint(db: &NativeOsDb, fingerprint: String, threshold: Option<f64>) -> Result<NativeOsMatches> {
    let tests = parse(&fingerprint).map_err(|e| invalid(format!("not a fingerprint: {e}")))?;
    let threshold = threshold.unwrap_or(GUESS_THRESHOLD);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(invalid(format!("threshold {threshold} is not between 0 and 1")));
    }
    let fp = Fingerprint { tests };
    let db = db.get()?;
    let m = Matcher::new(&db).best(&fp, threshold);
    let c = classify(&db, &m);
    Ok(matches_of(&db, &m, &c))
}

/// Matches `fingerprint` against the whole database `times` times and returns the seconds
/// it took (the matcher benchmark: no JS in the loop).
#[napi(catch_unwind)]
pub fn bench_match(db: &NativeOsDb, fingerprint: String, times: u32) -> Result<f64> {
    let tests = parse(&fingerprint).map_err(|e| invalid(format!("not a fingerprint: {e}")))?;
    let fp = Fingerprint { tests };
    let db = db.get()?;
    let mut m = Matcher::new(&db);
    let t = std::time::Instant::now();
    for _ in 0..times {
        std::hint::black_box(m.best(&fp, GUESS_THRESHOLD));
    }
    Ok(t.elapsed().as_secs_f64())
}

/// What the port scan found on one host.
#[napi(object)]
pub struct NativeOsTarget {
    pub address: String,
    pub open_tcp_port: Option<u32>,
    pub closed_tcp_port: Option<u32>,
    pub unfiltered_tcp_port: Option<u32>,
    pub closed_udp_port: Option<u32>,
    pub unfiltered_udp_port: Option<u32>,
}

#[napi(object)]
pub struct NativeOsOptions {
    pub targets: Vec<NativeOsTarget>,
    /// --max-os-tries (default 5).
    pub max_tries: Option<u32>,
    pub interface: Option<String>,
    pub source_address: Option<String>,
    pub initial_rtt_timeout_ms: Option<f64>,
    pub min_rtt_timeout_ms: Option<f64>,
    pub max_rtt_timeout_ms: Option<f64>,
    pub scan_delay_ms: Option<f64>,
    /// The -T level (0-5).
    pub timing_level: Option<u32>,
    /// A UDP scan ran too.
    pub udp_scan: Option<bool>,
    /// The gap between a try's non-SEQ probes in ms (default 5; nmap 25).
    pub gap_ms: Option<f64>,
    /// Let a host's later tries overlap when its first shows per-connection counters (default true).
    pub overlap_tries: Option<bool>,
}

#[napi(object)]
pub struct NativeOsSequence {
    /// SEQ answers used.
    pub responses: u32,
    /// TCP sequence predictability index, and nmap's words for it.
    pub index: u32,
    pub difficulty: String,
    pub values: Vec<u32>,
    pub ipids: Vec<u32>,
    pub ipid_class: String,
    pub timestamps: Vec<u32>,
    pub ts_class: String,
    /// False when the host returned no timestamps (nmap then lists no values).
    pub ts_values: bool,
    /// Unix time of the last boot the timestamps imply.
    pub last_boot: Option<f64>,
}

#[napi(object)]
pub struct NativeOsHost {
    pub address: String,
    /// Why the host could not be probed.
    pub error: Option<String>,
    pub result: NativeOsMatches,
    /// Tries made, and the one that matched perfectly (0-based).
    pub tries: u32,
    pub perfect_try: Option<u32>,
    /// The merged fingerprint wrapped in `OS:` lines; G=Y when fit for submission.
    pub fingerprint: String,
    /// The same unwrapped, one test per line, with G=N (nmap's form for unfit prints).
    pub fingerprint_plain: String,
    /// Why the print is unfit for submission, in nmap's words.
    pub omit_reason: Option<String>,
    pub distance: Option<i32>,
    #[napi(ts_type = "'' | 'localhost' | 'direct' | 'icmp'")]
    pub distance_method: String,
    pub open_tcp_port: Option<u32>,
    pub closed_tcp_port: Option<u32>,
    pub closed_udp_port: Option<u32>,
    pub sequence: Option<NativeOsSequence>,
    pub max_timing_ratio: f64,
    pub warnings: Vec<String>,
}

#[napi(object)]
pub struct NativeOsReport {
    pub hosts: Vec<NativeOsHost>,
    pub aborted: bool,
    pub sent: f64,
    pub received: f64,
    pub elapsed_ms: f64,
}

fn host_of(db: &OsDb, cfg: &OsConfig, h: &OsResult) -> NativeOsHost {
    let c = &h.classification;
    let scan = ScanInfo {
        version: cfg.version.clone(),
        month: h.month,
        day: h.day,
        open_tcp: h.open_tcp,
        closed_tcp: h.closed_tcp,
        closed_udp: h.closed_udp,
        private: h.private,
        distance: h.distance,
        method: h.method,
        mac_prefix: h.mac.map(|m| [m[0], m[1], m[2]]),
        time: h.time,
        platform: cfg.platform.clone(),
    };
    let tests = merge(h.tries.iter());
    let sequence = h.seq.as_ref().map(|s| NativeOsSequence {
        responses: s.seqs.len() as u32,
        index: s.index,
        difficulty: difficulty(s.index).into(),
        values: s.seqs.clone(),
        ipids: s.ipids.clone(),
        ipid_class: s.ipid_class.description().into(),
        timestamps: s.timestamps.clone(),
        ts_class: s.ts_class.description().into(),
        ts_values: s.ts_class.has_values(),
        last_boot: s.last_boot.map(|t| t as f64),
    });
    NativeOsHost {
        address: h.addr.to_string(),
        error: h.error.clone(),
        result: matches_of(db, &h.matches, c),
        tries: h.tries.len() as u32,
        perfect_try: h.perfect_try.map(|p| p as u32),
        fingerprint: format(&scan.line(h.omit_reason.is_none()), &tests, true),
        fingerprint_plain: format(&scan.line(false), &tests, false),
        omit_reason: h.omit_reason.clone(),
        distance: h.distance,
        distance_method: match h.method {
            DistanceMethod::None => "",
            DistanceMethod::Localhost => "localhost",
            DistanceMethod::Direct => "direct",
            DistanceMethod::Icmp => "icmp",
        }
        .into(),
        open_tcp_port: h.open_tcp.map(u32::from),
        closed_tcp_port: h.closed_tcp.map(u32::from),
        closed_udp_port: h.closed_udp.map(u32::from),
        sequence,
        max_timing_ratio: h.max_timing_ratio,
        warnings: h.warnings.clone(),
    }
}

fn port(name: &str, p: Option<u32>) -> Result<Option<u16>> {
    p.map(|p| u16::try_from(p).ok().filter(|&p| p > 0).ok_or_else(|| invalid(format!("{name} {p} is out of range")))).transpose()
}

fn to_os_config(o: NativeOsOptions) -> Result<OsConfig> {
    let mut targets = Vec::with_capacity(o.targets.len());
    for t in o.targets {
        let addr: Ipv4Addr = t.address.parse().map_err(|_| invalid(format!("{:?} is not an IPv4 address", t.address)))?;
        targets.push(OsTarget {
            addr,
            open_tcp: port("open TCP port", t.open_tcp_port)?,
            closed_tcp: port("closed TCP port", t.closed_tcp_port)?,
            unfiltered_tcp: port("unfiltered TCP port", t.unfiltered_tcp_port)?,
            closed_udp: port("closed UDP port", t.closed_udp_port)?,
            unfiltered_udp: port("unfiltered UDP port", t.unfiltered_udp_port)?,
        });
    }
    let mut cfg = OsConfig::new(targets);
    cfg.max_tries = o.max_tries.unwrap_or(DEFAULT_MAX_TRIES);
    cfg.interface = o.interface;
    cfg.source =
        o.source_address.map(|s| s.parse().map_err(|_| invalid(format!("source address {s:?} is not an IPv4 address")))).transpose()?;
    let ms = |name: &str, v: Option<f64>, default: u64| -> Result<u64> {
        match v {
            None => Ok(default),
            Some(x) if x.is_finite() && x >= 0.0 => Ok((x * 1000.0) as u64),
            Some(x) => Err(invalid(format!("{name} {x} is not a duration in milliseconds"))),
        }
    };
    let d = RttBounds::default();
    cfg.rtt = RttBounds {
        initial_us: ms("initial RTT timeout", o.initial_rtt_timeout_ms, d.initial_us)?,
        min_us: ms("minimum RTT timeout", o.min_rtt_timeout_ms, d.min_us)?,
        max_us: ms("maximum RTT timeout", o.max_rtt_timeout_ms, d.max_us)?,
    };
    cfg.scan_delay_ms = ms("scan delay", o.scan_delay_ms, 0)? / 1000;
    cfg.timing_level = o.timing_level.unwrap_or(3).min(5) as u8;
    cfg.udp_scan = o.udp_scan.unwrap_or(false);
    if let Some(g) = o.gap_ms {
        cfg.gap = std::time::Duration::from_micros(ms("probe gap", Some(g), 0)?);
    }
    cfg.overlap_tries = o.overlap_tries.unwrap_or(true);
    Ok(cfg)
}

/// OS detection running on the engine's thread.
#[napi]
pub struct NativeOsDetection {
    abort: Arc<AtomicBool>,
    result: Mutex<Option<oneshot::Receiver<Result<NativeOsReport>>>>,
}

#[napi]
impl NativeOsDetection {
    /// The report, once every host is done (or the detection was aborted).
    #[napi(ts_return_type = "Promise<NativeOsReport>")]
    pub async fn result(&self) -> Result<NativeOsReport> {
        let rx = self.result.lock().map_err(|_| Error::from_reason("EIO: detection state poisoned"))?.take();
        match rx {
            Some(rx) => rx.await.unwrap_or_else(|_| Err(Error::from_reason("EINTERNAL: OS detection stopped without a report"))),
            None => Err(Error::from_reason("EINVAL: the report was already taken")),
        }
    }

    /// Asks the engine to stop; result() then resolves with what is done, aborted: true.
    #[napi(catch_unwind)]
    pub fn abort(&self) {
        self.abort.store(true, Ordering::Release);
    }
}

/// Starts OS detection against the targets (root or CAP_NET_RAW).
#[napi(catch_unwind)]
pub fn start_os_detection(db: &NativeOsDb, options: NativeOsOptions) -> Result<NativeOsDetection> {
    let cfg = to_os_config(options)?;
    let db = db.db.clone();
    let abort = Arc::new(AtomicBool::new(false));
    let flag = abort.clone();
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("ferroscan-os".into())
        .spawn(move || {
            let t = std::time::Instant::now();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| detect(&cfg, &db, &flag)));
            let r = match r.map(|r| r.and_then(|run| db.wait().map(|d| (run, d)).map_err(ferroscan_core::Error::Internal))) {
                Ok(Ok((run, db))) => Ok(NativeOsReport {
                    hosts: run.hosts.iter().map(|h| host_of(&db, &cfg, h)).collect(),
                    aborted: run.aborted,
                    sent: run.sent as f64,
                    received: run.received as f64,
                    elapsed_ms: t.elapsed().as_secs_f64() * 1000.0,
                }),
                Ok(Err(e)) => Err(js_error(e)),
                Err(_) => Err(Error::from_reason("EINTERNAL: OS detection failed")),
            };
            let _ = tx.send(r);
        })
        .map_err(|e| Error::from_reason(format!("EIO: starting a thread: {e}")))?;
    Ok(NativeOsDetection { abort, result: Mutex::new(Some(rx)) })
}

/// One `label` of p0f's SYN+ACK signatures, as `--os-hints` records name them by index.
#[napi(object)]
pub struct NativeP0fLabel {
    /// "Linux 3.x": name and flavor, as p0f prints them.
    pub os: String,
    /// The OS family class ("unix", "win", ...).
    pub class: String,
    pub name: String,
    pub flavor: String,
    /// A last-resort signature ('g').
    pub generic: bool,
    /// Its line in the file.
    pub line: u32,
}

/// The labels of p0f's `[tcp:response]` section, in order (hint records carry their index).
#[napi(catch_unwind, js_name = "p0fLabels")]
pub fn p0f_labels(path: String) -> Result<Vec<NativeP0fLabel>> {
    let db = ferroscan_core::os::p0f::P0fDb::load(std::path::Path::new(&path)).map_err(js_error)?;
    Ok(db
        .labels
        .iter()
        .map(|l| NativeP0fLabel {
            os: l.os(),
            class: l.class.clone(),
            name: l.name.clone(),
            flavor: l.flavor.clone(),
            generic: l.generic,
            line: l.line,
        })
        .collect())
}
