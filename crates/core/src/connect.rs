//! The connect scan (`-sT`): for users without raw-socket rights. Each probe is a full TCP
//! connect() made by the kernel, on a tokio runtime that runs on the scan's own thread; the
//! same permutation, rate limiter and RTT-derived timeouts as the raw engine, and the
//! outcome of each connect (its errno) goes out as a record like any reply.

use crate::error::{Error, Result};
use crate::permute::Permutation;
use crate::rate::RateLimiter;
use crate::record::{Record, RecordKind};
use crate::space::ProbeSpace;
use crate::timing::RttEstimator;
use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Connections in flight at once; each holds a file descriptor.
pub const DEFAULT_PARALLELISM: usize = 512;

/// What the connect thread shares with the caller.
pub struct ConnectShared<'a> {
    pub space: &'a ProbeSpace,
    pub perm: &'a Permutation,
    pub first: u64,
    /// one past the last position (may be 2^64)
    pub end: u128,
    /// The interface index for link-local IPv6 targets (their zone); 0 otherwise.
    pub scope_id: u32,
    pub max_retries: u8,
    pub rtt: &'a RttEstimator,
    pub start: Instant,
    pub abort: &'a AtomicBool,
    pub sent: &'a AtomicU64,
    pub retransmits: &'a AtomicU64,
    pub received: &'a AtomicU64,
    pub resume_position: &'a AtomicU64,
}

/// The errno a connect ended with (0 = connected); waits as long as the kernel tries.
async fn connect_errno(addr: SocketAddr) -> i32 {
    let sock = match if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() } {
        Ok(s) => s,
        Err(e) => return e.raw_os_error().unwrap_or(libc::EIO),
    };
    match sock.connect(addr).await {
        Ok(stream) => {
            // an ordinary close (FIN), as nmap's connect scan does: a RST would make servers
            // that do not expect one (a Node net server without an error handler) crash
            drop(stream);
            0
        }
        Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
    }
}

/// Earlier attempts left open beside a new one. Linux reports an ICMPv6 error (an
/// ip6tables REJECT's admin-prohibited, say) to a connecting IPv6 socket only once its own
/// SYN retransmission, ~1 s after the first SYN, draws the error again; an attempt given up
/// before then would never see it, and the port would read filtered/no-response where nmap
/// reads admin-prohibited. So for IPv6 the previous attempt stays open while the next one
/// runs. IPv4 sockets see the first error, and keep one attempt at a time.
fn attempts_kept(addr: SocketAddr) -> usize {
    if addr.is_ipv6() {
        2
    } else {
        1
    }
}

/// Connects to `target`, retrying on timeouts (`timeout` each) up to `max_retries` times: the
/// errno that ended an attempt (None when every attempt timed out), the attempt it was, and
/// that attempt's round-trip time.
async fn connect_with_retries(target: SocketAddr, max_retries: u8, timeout: Duration, start: Instant) -> (Option<i32>, u8, u32) {
    let mut running: JoinSet<(u8, i32, Duration)> = JoinSet::new();
    let mut handles = std::collections::VecDeque::new();
    let mut attempt = 0u8;
    loop {
        let t0 = start.elapsed();
        let a = attempt;
        handles.push_back(running.spawn(async move { (a, connect_errno(target).await, t0) }));
        while handles.len() > attempts_kept(target) {
            if let Some(h) = handles.pop_front() {
                h.abort();
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                done = running.join_next() => match done {
                    // only timeouts are retried: any errno is the network's answer
                    Some(Ok((a, errno, t0))) => {
                        running.abort_all();
                        return (Some(errno), a, (start.elapsed() - t0).as_micros() as u32);
                    }
                    // an aborted older attempt: keep waiting for the others
                    Some(Err(_)) => continue,
                    None => break,
                },
                _ = &mut deadline => break,
            }
        }
        if attempt >= max_retries {
            running.abort_all();
            return (None, attempt, 0);
        }
        attempt += 1;
    }
}

/// Runs the whole connect scan; `emit` receives each record (on this thread).
/// `emit` gets each record, and None now and then so it can flush a batch that waits.
pub fn run(s: &ConnectShared<'_>, rate: f64, parallelism: usize, emit: &mut dyn FnMut(Option<Record>)) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::io("starting the connect scan's runtime", e))?;
    rt.block_on(async {
        let mut limiter = rate.is_finite().then(|| RateLimiter::new(rate));
        let mut tasks: JoinSet<(u64, IpAddr, u16, Option<i32>, u8, u32)> = JoinSet::new();
        // u128: the position after the last may be 2^64
        let mut pos = s.first as u128;
        let mut lowest_open = std::collections::BTreeSet::new();
        loop {
            if s.abort.load(Ordering::Acquire) {
                tasks.abort_all();
                break;
            }
            let room = tasks.len() < parallelism.max(1);
            if pos < s.end && room {
                if let Some(l) = limiter.as_mut() {
                    if let Err(wait) = l.grant_at(s.start.elapsed(), 1) {
                        // let finished connects through while the rate limiter holds us
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            Some(done) = tasks.join_next() => handle(s, done, &mut lowest_open, emit)?,
                        }
                        continue;
                    }
                }
                let (value, port) = s.space.probe(s.perm.at(pos as u64));
                let addr = s.space.family().ip(value);
                let target = match addr {
                    IpAddr::V6(a) => {
                        SocketAddr::V6(SocketAddrV6::new(a, port, 0, if crate::net::route::is_link_local(addr) { s.scope_id } else { 0 }))
                    }
                    IpAddr::V4(_) => SocketAddr::new(addr, port),
                };
                let p = pos as u64;
                lowest_open.insert(p);
                pos += 1;
                s.sent.fetch_add(1, Ordering::Relaxed);
                let max_retries = s.max_retries;
                let timeout_us = s.rtt.timeout_us();
                let start = s.start;
                tasks.spawn(async move {
                    let (r, attempt, rtt) = connect_with_retries(target, max_retries, Duration::from_micros(timeout_us), start).await;
                    (p, addr, port, r, attempt, rtt)
                });
                continue;
            }
            tokio::select! {
                done = tasks.join_next() => match done {
                    Some(done) => handle(s, done, &mut lowest_open, emit)?,
                    None if pos >= s.end => break,
                    None => {}
                },
                // wake now and then so a quiet scan still flushes what it found
                _ = tokio::time::sleep(Duration::from_millis(20)) => emit(None),
            }
        }
        s.resume_position.store(lowest_open.first().copied().unwrap_or(pos.min(u64::MAX as u128) as u64), Ordering::Release);
        Ok(())
    })
}

type Outcome = std::result::Result<(u64, IpAddr, u16, Option<i32>, u8, u32), tokio::task::JoinError>;

fn handle(
    s: &ConnectShared<'_>,
    done: Outcome,
    lowest_open: &mut std::collections::BTreeSet<u64>,
    emit: &mut dyn FnMut(Option<Record>),
) -> Result<()> {
    let (pos, addr, port, result, attempt, rtt) = done.map_err(|e| Error::Internal(format!("a connect task failed: {e}")))?;
    lowest_open.remove(&pos);
    if let Some(&low) = lowest_open.first() {
        s.resume_position.store(low, Ordering::Release);
    }
    s.retransmits.fetch_add(attempt as u64, Ordering::Relaxed);
    let Some(errno) = result else { return Ok(()) };
    if is_local_failure(errno) {
        let shown = if addr.is_ipv6() { format!("[{addr}]:{port}") } else { format!("{addr}:{port}") };
        return Err(Error::io(format!("connecting to {shown}"), io::Error::from_raw_os_error(errno)));
    }
    if attempt == 0 && (errno == 0 || errno == libc::ECONNREFUSED) {
        s.rtt.observe(rtt as u64);
    }
    s.received.fetch_add(1, Ordering::Relaxed);
    emit(Some(Record {
        kind: RecordKind::Connect,
        tcp_flags: 0,
        ttl: 0,
        icmp_type: 0,
        icmp_code: 0,
        port,
        window: errno as u16,
        technique: 10,
        attempt,
        rtt_us: rtt.max(1),
        target: addr,
        responder: addr,
        mac: [0; 6],
    }));
    Ok(())
}

/// Whether this errno means the connect itself could not be attempted (a local failure,
/// not an answer from the network): those end the scan with an error.
pub fn is_local_failure(errno: i32) -> bool {
    matches!(errno, libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::EADDRNOTAVAIL)
}
