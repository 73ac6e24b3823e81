//! The prober: runs service probes on tokio and feeds their transcripts to each port's
//! session. Probes to one port run in parallel connections (each reads until a hard
//! match, its `totalwaitms`, EOF or nmap's 4096-byte limit), but the answer is the one
//! nmap's sequential order gives, because the session replays them in that order. Only
//! the probe after a NULL probe that got data and timed out runs, as in nmap, on the
//! NULL probe's connection after its data. Connections are bounded globally; probes that
//! are needed now wait for a slot, probes run ahead only take a free one.

use super::db::{Db, Proto};
use super::fingerprint::Stamp;
use super::plan::Plan;
use super::scripts::{self, Enterprises};
use super::session::{test_response, End, Need, ProbeState, ServiceResult, Session, Transcript};
use openssl::ssl::{SslConnector, SslMethod, SslOptions, SslVerifyMode};
use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// nmap's IANA enterprise names, read by its snmp-info script.
const ENTERPRISE_NUMBERS: &str = "/usr/share/nmap/nselib/data/enterprise_numbers.txt";
/// nmap's connect timeouts (plain, and connect + TLS handshake).
const CONNECT_MS: u64 = 5000;
const CONNECT_SSL_MS: u64 = 8000;
/// nmap stops reading a probe's response once it holds this much.
const READ_LIMIT: usize = 4096;
const READ_CHUNK: usize = 8192;

/// One port to identify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub addr: IpAddr,
    pub port: u16,
    pub proto: Proto,
}

/// How to probe.
#[derive(Clone, Debug)]
pub struct Options {
    /// --version-intensity, 0-9 (nmap's default 7).
    pub intensity: u8,
    /// --allports: probe ports the database's Exclude directive names.
    pub all_ports: bool,
    /// --version-trace: collect nmap's trace lines in each result.
    pub trace: bool,
    /// Connections (and UDP sockets) open at once, over all ports.
    pub parallelism: usize,
    /// Probes one port may have running at once.
    pub per_port: usize,
    /// How long a port's NULL probe (or first probe) runs alone before later probes are
    /// run ahead: banner services answer within it and cost one connection.
    pub ahead_after_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { intensity: 7, all_ports: false, trace: false, parallelism: 1024, per_port: 64, ahead_after_ms: 300 }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Conn = Box<dyn Io>;

struct Ctx {
    db: Arc<Db>,
    opts: Options,
    slots: Arc<Semaphore>,
    tls: Option<SslConnector>,
    stamp: Stamp,
    abort: Arc<AtomicBool>,
    /// Read the first time snmp-info needs them.
    enterprises: std::sync::OnceLock<Enterprises>,
}

fn tls_connector() -> Option<SslConnector> {
    let mut b = SslConnector::builder(SslMethod::tls()).ok()?;
    b.set_verify(SslVerifyMode::NONE);
    // version detection does not care about security: accept what old servers offer
    b.set_security_level(0);
    let _ = b.set_min_proto_version(None);
    let _ = b.set_cipher_list("ALL:@SECLEVEL=0");
    b.set_options(SslOptions::IGNORE_UNEXPECTED_EOF);
    Some(b.build())
}

/// Identifies every job's service; `emit` gets (job index, result) as each finishes.
/// Runs its own tokio runtime on the calling thread. `abort` stops it early.
pub fn detect(
    db: Arc<Db>,
    jobs: &[Job],
    opts: &Options,
    abort: Arc<AtomicBool>,
    emit: &mut dyn FnMut(usize, ServiceResult),
) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    raise_fd_limit(opts.parallelism + 256);
    let ctx = Arc::new(Ctx {
        db,
        opts: Options { parallelism: opts.parallelism.max(1), per_port: opts.per_port.max(1), ..opts.clone() },
        slots: Arc::new(Semaphore::new(opts.parallelism.max(1))),
        tls: tls_connector(),
        stamp: Stamp::now(),
        abort,
        enterprises: std::sync::OnceLock::new(),
    });
    rt.block_on(async {
        let mut tasks: JoinSet<(usize, ServiceResult)> = JoinSet::new();
        let mut next = 0;
        // at most `parallelism` ports in progress: each needs at least one connection
        let max_ports = ctx.opts.parallelism;
        loop {
            while next < jobs.len() && tasks.len() < max_ports && !ctx.abort.load(Ordering::Relaxed) {
                let c = ctx.clone();
                let job = jobs[next];
                let i = next;
                tasks.spawn(async move { (i, run_port(c, job).await) });
                next += 1;
            }
            match tasks.join_next().await {
                Some(Ok((i, r))) => emit(i, r),
                Some(Err(_)) => {}
                None => break,
            }
            if ctx.abort.load(Ordering::Relaxed) {
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    });
    Ok(())
}

/// Lifts the soft limit on open files toward `want` (within the hard limit), so that
/// `parallelism` connections fit; a limit that cannot be raised is left as it is.
fn raise_fd_limit(want: usize) {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && (r.rlim_cur as usize) < want {
            r.rlim_cur = (want as libc::rlim_t).min(r.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// What a probe task hands back: the transcript and, for a NULL probe that timed out,
/// its connection (nmap sends the next probe on it).
type ProbeOut = (Transcript, Option<Conn>);

async fn run_port(ctx: Arc<Ctx>, job: Job) -> ServiceResult {
    let db = &*ctx.db;
    if !ctx.opts.all_ports && db.is_excluded(job.port, job.proto) {
        return Session::excluded();
    }
    let mut session = Session::new(db, job.proto, job.port, ctx.opts.intensity, job.addr.to_string(), ctx.opts.trace, ctx.stamp);
    let mut running: JoinSet<((usize, bool), ProbeOut)> = JoinSet::new();
    let mut handles: HashMap<(usize, bool), tokio::task::AbortHandle> = HashMap::new();
    let mut done: HashMap<(usize, bool), ProbeOut> = HashMap::new();
    let mut started_at: Option<(bool, Instant)> = None;
    let mut sequential = false;
    let mut per_port = ctx.opts.per_port;
    let mut tls_started: Option<Instant> = None;
    while let Need::Probe { probe, ssl, after_null } = session.need() {
        let key = (probe, ssl);
        if started_at.is_none_or(|(s, _)| s != ssl) {
            started_at = Some((ssl, if ssl { tls_started.unwrap_or_else(Instant::now) } else { Instant::now() }));
        }
        if after_null {
            if let Some(null) = db.null {
                let null_had_data = done.get(&(null, ssl)).is_some_and(|(t, _)| !t.data.is_empty());
                if null_had_data {
                    let (prefix, conn) = match done.get_mut(&(null, ssl)) {
                        Some((t, c)) => (t.data.clone(), c.take()),
                        None => (Vec::new(), None),
                    };
                    if let Some(conn) = conn {
                        let permit = ctx.slots.clone().acquire_owned().await.ok();
                        let t = probe_on(&ctx, conn, probe, prefix).await.0;
                        drop(permit);
                        session.feed(&t);
                        continue;
                    }
                }
            }
        }
        // the probe needed now: run it unless it is running or done
        if !done.contains_key(&key) && !handles.contains_key(&key) {
            let permit = ctx.slots.clone().acquire_owned().await.ok();
            let c = ctx.clone();
            let h = running.spawn(async move {
                let out = run_probe(&c, job, probe, ssl).await;
                drop(permit);
                (key, out)
            });
            handles.insert(key, h);
        }
        // run ahead: later probes in nmap's order, once the first has had its moment, and
        // never past one that already hard-matched (nothing after it can count)
        let ahead_after = Duration::from_millis(ctx.opts.ahead_after_ms.max(1));
        let window = started_at.map_or(0, |(_, t)| ramp(t.elapsed(), ahead_after, per_port));
        let wanted: Vec<usize> = session.lookahead(per_port);
        if window > 0 && !sequential {
            launch(&ctx, job, &wanted, ssl, window, &done, &mut handles, &mut running);
        }
        // TLS found early: once a probe of the plain phase hard-matched "ssl", nmap restarts
        // inside TLS unless a probe before it matches first; start that phase now too
        if !ssl && !sequential && tls_started.is_none() && done.iter().any(|(k, (t, _))| !k.1 && ends_in_ssl(db, t)) {
            tls_started = Some(Instant::now());
        }
        if let (false, Some(t0)) = (ssl, tls_started) {
            let tls = Plan::new(job.proto, job.port, true, ctx.opts.intensity).lookahead(db, None, per_port);
            let n = ramp(t0.elapsed(), ahead_after, per_port).max(1);
            launch(&ctx, job, &tls[..n.min(tls.len())], true, per_port, &done, &mut handles, &mut running);
        }
        // stop probes nothing can need any more (behind us, or filtered out by a softmatch)
        let keep: HashSet<(usize, bool)> = wanted.iter().map(|&p| (p, ssl)).chain(std::iter::once(key)).collect();
        handles.retain(|k, h| {
            // the TLS phase run ahead stays while the plain phase goes on
            let live = keep.contains(k) || db.null.is_some_and(|n| *k == (n, ssl)) || (k.1 && !ssl);
            if !live {
                h.abort();
            }
            live
        });
        if done.get(&key).is_some_and(|o| o.0.end == End::ConnectFailed) && !sequential {
            // a connection that failed while other probes of this port were open may have
            // failed because of them (a small backlog, a server that accepts one at a
            // time): from here on run this port's probes one at a time, as nmap does, and
            // try this one again
            sequential = true;
            per_port = 1;
            for (_, h) in handles.drain() {
                h.abort();
            }
            done.retain(|k, _| db.null.is_some_and(|n| *k == (n, ssl)));
            continue;
        }
        if let Some(out) = done.get(&key) {
            let t = out.0.clone();
            if std::env::var_os("FERROSCAN_SV_DEBUG").is_some() {
                eprintln!("sv-debug {}:{} {} ssl={ssl}: {} bytes, {:?}", job.addr, job.port, db.probes[probe].name, t.data.len(), t.end);
            }
            session.feed(&t);
            continue;
        }
        // wait for the needed probe; wake up to run ahead when the moment comes
        let now = Instant::now();
        let wake = [started_at.map(|(_, t)| t), tls_started.filter(|_| !ssl)]
            .into_iter()
            .flatten()
            .filter_map(|t| next_step(t, now, ahead_after, per_port))
            .min();
        let timer = async {
            match wake {
                Some(w) => tokio::time::sleep_until(w.into()).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            r = running.join_next() => match r {
                Some(Ok((k, out))) => {
                    handles.remove(&k);
                    done.insert(k, out);
                }
                Some(Err(_)) => {}
                None => {
                    // nothing running and the needed probe not done: cannot happen, but never spin
                    break;
                }
            },
            _ = timer => {}
        }
    }
    running.abort_all();
    let mut result = session.into_result().unwrap_or_else(Session::incomplete);
    let v3 =
        db.probe_named("SNMPv3GetRequest", Proto::Udp).and_then(|p| done.get(&(p, false))).map(|o| o.0.data.clone()).unwrap_or_default();
    drop(done);
    snmp_info(&ctx, job, v3, &mut result).await;
    result
}

/// nmap's snmp-info script (version category, so part of -sV): on UDP 161 or a service
/// named snmp, at intensity 7 or more, the SNMPv3 engine ID names the agent's vendor in
/// the product. It reuses the SNMPv3GetRequest probe's reply, or sends that probe itself.
async fn snmp_info(ctx: &Ctx, job: Job, mut resp: Vec<u8>, r: &mut ServiceResult) {
    let db = &*ctx.db;
    if job.proto != Proto::Udp || ctx.opts.intensity < 7 || r.state == ProbeState::Excluded {
        return;
    }
    if job.port != 161 && r.name.as_deref() != Some("snmp") {
        return;
    }
    let Some(p) = db.probe_named("SNMPv3GetRequest", Proto::Udp) else { return };
    if resp.is_empty() {
        resp = udp_probe(ctx, job, p).await.data;
    }
    let ents = ctx.enterprises.get_or_init(|| Enterprises::load(std::path::Path::new(ENTERPRISE_NUMBERS)));
    let Some(enterprise) = scripts::snmp_enterprise(&resp, ents) else { return };
    r.name = Some("snmp".into());
    r.product = Some(scripts::snmp_product(r.product.as_deref(), &enterprise));
    r.state = ProbeState::HardMatched;
    r.method = "probed";
    r.conf = 10;
    r.responded = true;
    r.fingerprint = None;
}

/// How many probes of a phase may run ahead `elapsed` after it began: none during the
/// first `step` (a banner usually settles the port by then), then 4, doubling every step
/// up to `max`, so a port that answers early costs few connections and one that answers
/// nothing has all its probes running within a few steps.
fn ramp(elapsed: Duration, step: Duration, max: usize) -> usize {
    let steps = (elapsed.as_micros() / step.as_micros().max(1)) as u32;
    if steps == 0 {
        return 0;
    }
    (4usize << (steps - 1).min(16)).min(max)
}

/// When the window of a phase that began at `start` next grows, if it still does.
fn next_step(start: Instant, now: Instant, step: Duration, max: usize) -> Option<Instant> {
    let elapsed = now.saturating_duration_since(start);
    if ramp(elapsed, step, max) >= max {
        return None;
    }
    let steps = (elapsed.as_micros() / step.as_micros().max(1)) as u32 + 1;
    Some(start + step * steps)
}

/// Whether a transcript ended in a hard match of the service "ssl" (nmap then goes into TLS).
fn ends_in_ssl(db: &Db, t: &Transcript) -> bool {
    t.end == End::HardMatch && t.reads.last().and_then(|r| r.1).is_some_and(|h| db.probes[h.probe].matches[h.index].service == "ssl")
}

/// Starts the probes of `list` (in order) that are neither running nor done, on free
/// connection slots only, stopping at one that already hard-matched.
#[allow(clippy::too_many_arguments)]
fn launch(
    ctx: &Arc<Ctx>,
    job: Job,
    list: &[usize],
    ssl: bool,
    per_port: usize,
    done: &HashMap<(usize, bool), ProbeOut>,
    handles: &mut HashMap<(usize, bool), tokio::task::AbortHandle>,
    running: &mut JoinSet<((usize, bool), ProbeOut)>,
) {
    for &p in list {
        let k = (p, ssl);
        if let Some((t, _)) = done.get(&k) {
            if t.end == End::HardMatch {
                break;
            }
            continue;
        }
        if handles.contains_key(&k) {
            continue;
        }
        if handles.len() >= per_port {
            break;
        }
        let Ok(permit) = ctx.slots.clone().try_acquire_owned() else { break };
        let c = ctx.clone();
        let h = running.spawn(async move {
            let out = run_probe(&c, job, p, ssl).await;
            drop(permit);
            (k, out)
        });
        handles.insert(k, h);
    }
}

fn classify(e: &io::Error) -> End {
    match e.raw_os_error() {
        Some(libc::ECONNRESET) | Some(libc::ECONNREFUSED) | Some(libc::ECONNABORTED) => End::Reset { ms: 0 },
        Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) | Some(libc::EHOSTDOWN) | Some(libc::ENONET) => End::Unreachable,
        _ => End::Error,
    }
}

async fn connect(ctx: &Ctx, job: Job, ssl: bool) -> Option<Conn> {
    let addr = SocketAddr::new(job.addr, job.port);
    if !ssl {
        let s = tokio::time::timeout(Duration::from_millis(CONNECT_MS), TcpStream::connect(addr)).await.ok()?.ok()?;
        let _ = s.set_nodelay(true);
        return Some(Box::new(s));
    }
    let tls = ctx.tls.as_ref()?;
    let fut = async {
        let s = TcpStream::connect(addr).await.ok()?;
        let _ = s.set_nodelay(true);
        let mut cfg = tls.configure().ok()?;
        cfg.set_verify_hostname(false);
        cfg.set_use_server_name_indication(false);
        let ssl = cfg.into_ssl("").ok()?;
        let mut st = tokio_openssl::SslStream::new(ssl, s).ok()?;
        Pin::new(&mut st).connect().await.ok()?;
        Some(Box::new(st) as Conn)
    };
    tokio::time::timeout(Duration::from_millis(CONNECT_SSL_MS), fut).await.ok()?
}

/// Runs one probe on its own connection (or socket).
async fn run_probe(ctx: &Ctx, job: Job, probe: usize, ssl: bool) -> ProbeOut {
    let failed = || (Transcript { data: Vec::new(), reads: Vec::new(), end: End::ConnectFailed }, None);
    if ctx.abort.load(Ordering::Relaxed) {
        return failed();
    }
    match job.proto {
        Proto::Tcp => match connect(ctx, job, ssl).await {
            Some(conn) => probe_on(ctx, conn, probe, Vec::new()).await,
            None => failed(),
        },
        Proto::Udp => (udp_probe(ctx, job, probe).await, None),
    }
}

/// Sends the probe on `conn` and reads its response after `prefix` (the NULL probe's data
/// when it shares the connection).
async fn probe_on(ctx: &Ctx, mut conn: Conn, probe: usize, prefix: Vec<u8>) -> ProbeOut {
    let db = &*ctx.db;
    let p = &db.probes[probe];
    let start = Instant::now();
    let wait = Duration::from_millis(p.totalwaitms as u64);
    let mut t = Transcript { data: prefix, reads: Vec::new(), end: End::Timeout };
    if !p.payload.is_empty() {
        let w = tokio::time::timeout(wait, async {
            conn.write_all(&p.payload).await?;
            conn.flush().await
        })
        .await;
        if !matches!(w, Ok(Ok(()))) {
            // nmap's write handler gives up on the port
            t.end = End::ConnectFailed;
            return (t, None);
        }
    }
    let mut scratch = Vec::new();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let left = wait.saturating_sub(start.elapsed());
        if left.is_zero() {
            t.end = End::Timeout;
            break;
        }
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Err(_) => {
                t.end = End::Timeout;
                break;
            }
            Ok(Ok(0)) => {
                t.end = End::Eof { ms: start.elapsed().as_millis() as u32 };
                return (t, None);
            }
            Ok(Ok(n)) => {
                t.data.extend_from_slice(&buf[..n]);
                let hit = test_response(db, probe, &t.data, &mut scratch);
                t.reads.push((t.data.len(), hit));
                if hit.is_some_and(|h| !h.soft) {
                    t.end = End::HardMatch;
                    return (t, None);
                }
                if t.data.len() >= READ_LIMIT || start.elapsed() >= wait {
                    t.end = End::Timeout;
                    break;
                }
            }
            Ok(Err(e)) => {
                t.end = match classify(&e) {
                    End::Reset { .. } => End::Reset { ms: start.elapsed().as_millis() as u32 },
                    other => other,
                };
                return (t, None);
            }
        }
    }
    // a NULL probe's connection stays open for the probe nmap sends after it
    let keep = p.is_null().then_some(conn);
    (t, keep)
}

async fn udp_probe(ctx: &Ctx, job: Job, probe: usize) -> Transcript {
    let db = &*ctx.db;
    let p = &db.probes[probe];
    let mut t = Transcript { data: Vec::new(), reads: Vec::new(), end: End::Timeout };
    let any: IpAddr = if job.addr.is_ipv4() { std::net::Ipv4Addr::UNSPECIFIED.into() } else { std::net::Ipv6Addr::UNSPECIFIED.into() };
    let bind = SocketAddr::new(any, 0);
    let sock = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(_) => {
            t.end = End::ConnectFailed;
            return t;
        }
    };
    if sock.connect(SocketAddr::new(job.addr, job.port)).await.is_err() {
        t.end = End::ConnectFailed;
        return t;
    }
    let start = Instant::now();
    if let Err(e) = sock.send(&p.payload).await {
        t.end = classify(&e);
        return t;
    }
    let wait = Duration::from_millis(p.totalwaitms as u64);
    let mut scratch = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let left = wait.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(left, sock.recv(&mut buf)).await {
            Err(_) => break,
            Ok(Ok(n)) => {
                t.data.extend_from_slice(&buf[..n]);
                let hit = test_response(db, probe, &t.data, &mut scratch);
                t.reads.push((t.data.len(), hit));
                if hit.is_some_and(|h| !h.soft) {
                    t.end = End::HardMatch;
                    return t;
                }
                if t.data.len() >= READ_LIMIT {
                    break;
                }
            }
            Ok(Err(e)) => {
                t.end = match classify(&e) {
                    End::Reset { .. } => End::Reset { ms: start.elapsed().as_millis() as u32 },
                    other => other,
                };
                return t;
            }
        }
    }
    t.end = End::Timeout;
    t
}
