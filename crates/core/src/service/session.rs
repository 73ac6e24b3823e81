//! The answer for one port, worked out exactly as nmap's sequential state machine would
//! reach it (service_scan.cc's read/connect handlers, end_svcprobe, scanThroughTunnel),
//! from the transcripts of probes that may have run in parallel. The prober hands in one
//! transcript per probe; the session replays them in nmap's order, so the first hard
//! match in that order wins, a softmatch narrows what comes after it, and the NULL
//! probe's quick close means tcpwrapped.

use super::db::{Db, Proto};
use super::fingerprint::{Fingerprint, Stamp};
use super::plan::Plan;
use super::template::{self, VersionInfo};

/// A match found in a response: which probe's match lines, which line, soft or hard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub probe: usize,
    pub index: usize,
    pub soft: bool,
}

/// How reading a probe's response ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// A hard match: reading stopped there.
    HardMatch,
    /// The probe's wait ran out (or nmap's 4096-byte read limit was passed).
    Timeout,
    /// The peer closed the connection, this long after the probe started.
    Eof { ms: u32 },
    /// The peer reset the connection (or refused it after connecting).
    Reset { ms: u32 },
    /// Host or network unreachable: nmap gives up on the port.
    Unreachable,
    /// Another read error (EPIPE, EIO, a TLS failure, …): nmap goes on with the next probe.
    Error,
    /// The connection (or TLS handshake) failed or timed out, or the probe could not be
    /// written: nmap gives up on the port.
    ConnectFailed,
}

/// What one probe got: the bytes in the order read, where each read ended with the
/// match found at that point, and how it ended.
#[derive(Clone, Debug)]
pub struct Transcript {
    pub data: Vec<u8>,
    pub reads: Vec<(usize, Option<Hit>)>,
    pub end: End,
}

/// nmap's final probe states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeState {
    HardMatched,
    SoftMatched,
    NoMatch,
    Tcpwrapped,
    Incomplete,
    Excluded,
}

/// The service answer for one port, as nmap stores it for output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceResult {
    pub state: ProbeState,
    /// The service name; None means "look it up in the port table" (method table).
    pub name: Option<String>,
    pub ssl: bool,
    pub product: Option<String>,
    pub version: Option<String>,
    pub extrainfo: Option<String>,
    pub hostname: Option<String>,
    pub ostype: Option<String>,
    pub devicetype: Option<String>,
    pub cpe: Vec<String>,
    /// The SF fingerprint to print, when nmap prints one.
    pub fingerprint: Option<String>,
    /// "probed" or "table".
    pub method: &'static str,
    pub conf: u8,
    /// Whether any probe got data (nmap then marks an open|filtered port open).
    pub responded: bool,
    /// --version-trace lines, in nmap's order.
    pub trace: Vec<String>,
}

/// What the session wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// The transcript of this probe (an index into `db.probes`). `after_null` means nmap
    /// would send it on the NULL probe's connection, after the NULL probe's data.
    Probe {
        probe: usize,
        ssl: bool,
        after_null: bool,
    },
    Done,
}

pub struct Session<'a> {
    db: &'a Db,
    plan: Plan,
    current: Option<usize>,
    after_null: bool,
    matched: Option<String>,
    soft: bool,
    info: VersionInfo,
    tcpwrap_possible: bool,
    responded: bool,
    fp: Fingerprint,
    stamp: Stamp,
    addr: String,
    trace_on: bool,
    trace: Vec<String>,
    result: Option<ServiceResult>,
}

impl<'a> Session<'a> {
    /// `addr` is the address as the trace prints it.
    pub fn new(db: &'a Db, proto: Proto, port: u16, intensity: u8, addr: String, trace: bool, stamp: Stamp) -> Session<'a> {
        let mut s = Session {
            db,
            plan: Plan::new(proto, port, false, intensity.min(9)),
            current: None,
            after_null: false,
            matched: None,
            soft: false,
            info: VersionInfo::default(),
            tcpwrap_possible: true,
            responded: false,
            fp: Fingerprint::default(),
            stamp,
            addr,
            trace_on: trace,
            trace: Vec::new(),
            result: None,
        };
        s.advance(false);
        s
    }

    /// The finished answer for a port nmap's Exclude directive skips.
    pub fn excluded() -> ServiceResult {
        ServiceResult {
            state: ProbeState::Excluded,
            name: None,
            ssl: false,
            product: Some("Excluded from version scan".into()),
            version: None,
            extrainfo: None,
            hostname: None,
            ostype: None,
            devicetype: None,
            cpe: Vec::new(),
            fingerprint: None,
            method: "table",
            conf: 3,
            responded: false,
            trace: Vec::new(),
        }
    }

    /// The answer for a port whose probing was cut short before nmap's sequence ended.
    pub fn incomplete() -> ServiceResult {
        ServiceResult { state: ProbeState::Incomplete, product: None, ..Session::excluded() }
    }

    pub fn need(&self) -> Need {
        match (self.result.is_some(), self.current) {
            (false, Some(p)) => Need::Probe { probe: p, ssl: self.plan.ssl, after_null: self.after_null },
            _ => Need::Done,
        }
    }

    /// The probes that may be needed after the current one, in order, if nothing
    /// softmatches: the ones worth running ahead.
    pub fn lookahead(&self, max: usize) -> Vec<usize> {
        if self.result.is_some() {
            return Vec::new();
        }
        let soft = if self.soft { self.matched.as_deref() } else { None };
        self.plan.lookahead(self.db, soft, max)
    }

    pub fn ssl(&self) -> bool {
        self.plan.ssl
    }

    pub fn result(&self) -> Option<&ServiceResult> {
        self.result.as_ref()
    }

    pub fn into_result(self) -> Option<ServiceResult> {
        self.result
    }

    /// Moves to the next probe (nmap's startNextProbe / nextProbe). `restart` is
    /// startNextProbe's alwaysrestart.
    fn advance(&mut self, restart: bool) {
        let was_null = self.current.is_some() && self.current == self.db.null;
        let soft = if self.soft { self.matched.clone() } else { None };
        self.current = self.plan.next(self.db, soft.as_deref());
        // after a NULL probe that timed out nmap keeps the connection and its data
        self.after_null = was_null && !restart;
        match self.current {
            Some(p) => {
                if self.trace_on {
                    let pr = &self.db.probes[p];
                    self.trace.push(format!(
                        "Service scan sending probe {} to {}:{} ({})",
                        pr.name,
                        self.addr,
                        self.plan.port,
                        if self.plan.proto == Proto::Tcp { "tcp" } else { "udp" }
                    ));
                }
            }
            None => self.finish(if self.soft { ProbeState::SoftMatched } else { ProbeState::NoMatch }),
        }
    }

    /// Feeds the transcript of the probe `need()` asked for.
    pub fn feed(&mut self, t: &Transcript) {
        let Some(probe) = self.current else { return };
        if self.result.is_some() {
            return;
        }
        let pr = &self.db.probes[probe];
        for &(len, hit) in &t.reads {
            self.tcpwrap_possible = false;
            self.responded = true;
            let Some(hit) = hit else { continue };
            if hit.soft && self.matched.is_some() {
                // nmap keeps the first softmatch and ignores later ones
                continue;
            }
            let resp = &t.data[..len.min(t.data.len())];
            let m = &self.db.probes[hit.probe].matches[hit.index];
            let groups = m.pattern.captures(resp).unwrap_or_default();
            let v = template::fill(&m.templates, resp, &groups);
            if self.trace_on {
                let via = &self.db.probes[hit.probe].name;
                let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                let tunnel = if self.plan.ssl { "SSL/" } else { "" };
                if !v.product.is_empty() || !v.version.is_empty() || !v.info.is_empty() {
                    self.trace.push(format!(
                        "Service scan match (Probe {} matched with {} line {}): {}:{} is {tunnel}{}.  Version: |{}|{}|{}|",
                        pr.name,
                        via,
                        m.line,
                        self.addr,
                        self.plan.port,
                        m.service,
                        s(&v.product),
                        s(&v.version),
                        s(&v.info)
                    ));
                } else {
                    self.trace.push(format!(
                        "Service scan {} match (Probe {} matched with {} line {}): {}:{} is {tunnel}{}",
                        if m.soft { "soft" } else { "hard" },
                        pr.name,
                        via,
                        m.line,
                        self.addr,
                        self.plan.port,
                        m.service
                    ));
                }
            }
            self.matched = Some(m.service.clone());
            // a field the match leaves empty keeps what an earlier softmatch gave
            let keep = |old: &mut Vec<u8>, new: Vec<u8>| {
                if !new.is_empty() {
                    *old = new;
                }
            };
            keep(&mut self.info.product, v.product);
            keep(&mut self.info.version, v.version);
            keep(&mut self.info.info, v.info);
            keep(&mut self.info.hostname, v.hostname);
            keep(&mut self.info.ostype, v.ostype);
            keep(&mut self.info.devicetype, v.devicetype);
            keep(&mut self.info.cpe_a, v.cpe_a);
            keep(&mut self.info.cpe_h, v.cpe_h);
            keep(&mut self.info.cpe_o, v.cpe_o);
            self.soft = hit.soft;
            if !hit.soft {
                self.through_tunnel();
                return;
            }
        }
        let data = &t.data;
        match t.end {
            End::HardMatch => {
                // a hard match the replay did not see (cannot happen with a consistent
                // transcript): treat as the end of the data
                self.note_fp(probe, data);
                self.advance(false);
            }
            End::Timeout => {
                self.tcpwrap_possible = false;
                self.note_fp(probe, data);
                self.advance(false);
            }
            End::Eof { ms } => {
                if !data.is_empty() {
                    self.note_fp(probe, data);
                    self.tcpwrap_possible = false;
                }
                if self.tcpwrap_possible && pr.is_null() && data.is_empty() && ms < pr.tcpwrappedms {
                    self.finish(ProbeState::Tcpwrapped);
                } else {
                    self.advance(true);
                }
            }
            End::Reset { ms } => {
                if self.tcpwrap_possible && pr.is_null() && ms < pr.tcpwrappedms {
                    self.finish(ProbeState::Tcpwrapped);
                } else {
                    self.advance(true);
                }
            }
            End::Unreachable => {
                self.tcpwrap_possible = false;
                self.finish(ProbeState::Incomplete);
            }
            End::Error => self.advance(true),
            End::ConnectFailed => self.finish(ProbeState::Incomplete),
        }
    }

    fn note_fp(&mut self, probe: usize, data: &[u8]) {
        if !data.is_empty() {
            let p = &self.db.probes[probe];
            self.fp.add(&p.name, data, self.plan.port, self.plan.proto, self.plan.ssl, self.plan.intensity, self.stamp);
        }
    }

    /// nmap's scanThroughTunnel after a hard match.
    fn through_tunnel(&mut self) {
        if let Some(name) = self.matched.as_deref() {
            if let Some(rest) = name.strip_prefix("ssl/") {
                self.matched = Some(rest.to_string());
                self.plan.ssl = true;
                self.finish(ProbeState::HardMatched);
                return;
            }
        }
        if !self.plan.ssl && self.plan.proto == Proto::Tcp && self.matched.as_deref() == Some("ssl") {
            // start over inside TLS
            self.matched = None;
            self.info = VersionInfo::default();
            self.soft = false;
            self.fp.clear();
            self.plan.reset(true);
            self.current = None;
            self.advance(true);
            return;
        }
        self.finish(ProbeState::HardMatched);
    }

    /// nmap's end_svcprobe followed by processResults and setServiceProbeResults.
    fn finish(&mut self, state: ProbeState) {
        let state = if self.tcpwrap_possible { ProbeState::Tcpwrapped } else { state };
        let s = |v: &[u8], n: usize| if v.is_empty() { None } else { Some(template::sanitize(v, n)).filter(|x| !x.is_empty()) };
        let i = &self.info;
        let mut cpe = Vec::new();
        for c in [&i.cpe_a, &i.cpe_h, &i.cpe_o] {
            if let Some(c) = s(c, 80) {
                cpe.push(c);
            }
        }
        let (mut name, method, conf) = match state {
            ProbeState::HardMatched | ProbeState::SoftMatched => (self.matched.clone(), "probed", 10),
            ProbeState::Tcpwrapped => (self.matched.clone().or_else(|| Some("tcpwrapped".into())), "probed", 8),
            _ => (self.matched.clone(), "table", 3),
        };
        let fingerprint = match state {
            ProbeState::NoMatch => self.fp.finish(),
            ProbeState::HardMatched => None,
            _ if self.plan.intensity < 7 => None,
            _ => self.fp.finish(),
        };
        let mut r = ServiceResult {
            state,
            name: name.take(),
            ssl: self.plan.ssl,
            product: None,
            version: None,
            extrainfo: None,
            hostname: None,
            ostype: None,
            devicetype: None,
            cpe: Vec::new(),
            fingerprint,
            method,
            conf,
            responded: self.responded,
            trace: std::mem::take(&mut self.trace),
        };
        if state != ProbeState::NoMatch {
            r.product = s(&i.product, 80);
            r.version = s(&i.version, 80);
            r.extrainfo = s(&i.info, 256);
            r.hostname = s(&i.hostname, 80);
            r.ostype = s(&i.ostype, 32);
            r.devicetype = s(&i.devicetype, 32);
            r.cpe = cpe;
        } else {
            r.name = None;
        }
        self.current = None;
        self.result = Some(r);
    }
}

/// Tests one response against a probe's match lines and its fallbacks' (nmap's order),
/// using each probe's prefilter. The first line that matches, soft or hard, wins.
pub fn test_response(db: &Db, probe: usize, resp: &[u8], scratch: &mut Vec<u32>) -> Option<Hit> {
    for &f in &db.probes[probe].fallbacks {
        let p = &db.probes[f];
        p.prefilter.candidates(resp, scratch);
        for &c in scratch.iter() {
            let m = &p.matches[c as usize];
            if m.pattern.is_match(resp) {
                return Some(Hit { probe: f, index: c as usize, soft: m.soft });
            }
        }
    }
    None
}
