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
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
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
    pub end: u64,
    pub max_retries: u8,
    pub rtt: &'a RttEstimator,
    pub start: Instant,
    pub abort: &'a AtomicBool,
    pub sent: &'a AtomicU64,
    pub retransmits: &'a AtomicU64,
    pub received: &'a AtomicU64,
    pub resume_position: &'a AtomicU64,
}

/// The errno a connect ended with (0 = connected), or None for a timeout.
async fn connect_once(addr: SocketAddrV4, timeout: Duration) -> Option<i32> {
    let sock = match tokio::net::TcpSocket::new_v4() {
        Ok(s) => s,
        Err(e) => return Some(e.raw_os_error().unwrap_or(libc::EIO)),
    };
    match tokio::time::timeout(timeout, sock.connect(SocketAddr::V4(addr))).await {
        Ok(Ok(stream)) => {
            // an ordinary close (FIN), as nmap's connect scan does: a RST would make servers
            // that do not expect one (a Node net server without an error handler) crash
            drop(stream);
            Some(0)
        }
        Ok(Err(e)) => Some(e.raw_os_error().unwrap_or(libc::EIO)),
        Err(_) => None,
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
        let mut tasks: JoinSet<(u64, u32, u16, Option<i32>, u8, u32)> = JoinSet::new();
        let mut pos = s.first;
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
                let (addr, port) = s.space.probe(s.perm.at(pos));
                let target = SocketAddrV4::new(Ipv4Addr::from(addr), port);
                let p = pos;
                lowest_open.insert(p);
                pos += 1;
                s.sent.fetch_add(1, Ordering::Relaxed);
                let max_retries = s.max_retries;
                let timeout_us = s.rtt.timeout_us();
                let start = s.start;
                tasks.spawn(async move {
                    let mut attempt = 0u8;
                    loop {
                        let t0 = start.elapsed();
                        let r = connect_once(target, Duration::from_micros(timeout_us)).await;
                        let rtt = (start.elapsed() - t0).as_micros() as u32;
                        // only timeouts are retried: any errno is the network's answer
                        if r.is_some() || attempt >= max_retries {
                            return (p, addr, port, r, attempt, rtt);
                        }
                        attempt += 1;
                    }
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
        s.resume_position.store(lowest_open.first().copied().unwrap_or(pos), Ordering::Release);
        Ok(())
    })
}

type Outcome = std::result::Result<(u64, u32, u16, Option<i32>, u8, u32), tokio::task::JoinError>;

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
        return Err(Error::io(format!("connecting to {}:{port}", Ipv4Addr::from(addr)), io::Error::from_raw_os_error(errno)));
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
        target: Ipv4Addr::from(addr),
        responder: Ipv4Addr::from(addr),
        mac: [0; 6],
    }));
    Ok(())
}

/// Whether this errno means the connect itself could not be attempted (a local failure,
/// not an answer from the network): those end the scan with an error.
pub fn is_local_failure(errno: i32) -> bool {
    matches!(errno, libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::EADDRNOTAVAIL)
}
