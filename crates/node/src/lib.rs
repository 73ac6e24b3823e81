//! The napi-rs binding of ferroscan-core. It only converts: plain JS options in, a
//! `ScanConfig` out; engine batches into Buffers; engine errors into JS errors whose
//! message starts with a stable code. No engine logic lives here, and no panic crosses
//! into JS (napi-rs catches unwinding at every exported function; the engine's threads
//! report failure through the event channel, never by panicking into the caller).

pub mod os;
pub mod service;

use ferroscan_core::packet::udp::MAX_PAYLOAD;
use ferroscan_core::ramp::Profile;
use ferroscan_core::timing::RttBounds;
use ferroscan_core::{Scan, ScanConfig, ScanEvent, Technique, RECORD_LAYOUT_VERSION, RECORD_SIZE};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::{mpsc, Mutex as AsyncMutex};

fn js_error(e: ferroscan_core::Error) -> Error {
    Error::new(Status::GenericFailure, format!("{}: {}", e.code(), e))
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, format!("EINVAL: {}", msg.into()))
}

/// Options of one scan: IPv4 addresses are unsigned 32-bit integers in host order, IPv6
/// addresses text. A scan is of one family: `ranges` or `ranges6`, not both.
#[napi(object)]
pub struct NativeScanOptions {
    /// Inclusive IPv4 ranges flattened as [start0, end0, start1, end1, ...], disjoint.
    pub ranges: Vec<u32>,
    /// Inclusive IPv6 ranges flattened as ["2001:2::1", "2001:2::ff", ...], disjoint; an
    /// IPv6 scan (then `ranges` is empty). At most 2^64 probes (addresses × ports).
    pub ranges6: Option<Vec<String>>,
    /// Destination ports, each 0..65535, no duplicates.
    pub ports: Vec<u32>,
    /// Probe technique; echo, timestamp, mask, arp and ndp are discovery probes and take
    /// ports [0] (timestamp, mask and arp are IPv4 only, ndp IPv6 only).
    #[napi(
        ts_type = "'syn' | 'ack' | 'fin' | 'null' | 'xmas' | 'window' | 'maimon' | 'flags' | 'udp' | 'connect' | 'echo' | 'timestamp' | 'mask' | 'arp' | 'ndp'"
    )]
    pub technique: String,
    /// TCP flags of the probe when technique is 'flags' (--scanflags), as a byte.
    pub tcp_flags: Option<u32>,
    /// Packets per second, first sends and retransmissions together; Infinity for no limit.
    /// With `startRate`, the cap of the rate found (--max-rate); without, a fixed rate (--rate).
    pub rate: f64,
    /// Find the rate from here (packets per second): slow start, growth while replies keep
    /// pace, back-off on loss (the engine's ramp). Absent: `rate` from the first probe.
    pub start_rate: Option<f64>,
    /// The -T template (0-5) whose shape the found rate follows: its growth and back-off; 3 when absent.
    pub timing_level: Option<u32>,
    /// Seed of the permutation of (address × port).
    pub seed: Option<BigInt>,
    /// Retransmissions of an unanswered probe.
    pub max_retries: u32,
    /// Interface to send on; chosen from the routing table when absent.
    pub interface: Option<String>,
    /// Source address, of the targets' family; chosen from the routing table when absent.
    pub source_address: Option<String>,
    /// Source TCP port; random in 32768..61000 when absent.
    pub source_port: Option<u32>,
    /// UDP payloads by destination port (technique 'udp'); other ports get empty datagrams.
    pub udp_payloads: Option<Vec<UdpPayload>>,
    /// `-r`: probes in address and port order instead of the seeded permutation.
    pub sequential: Option<bool>,
    /// `--shard i/N`: this run's shard, 1-based index and count.
    pub shard_index: Option<u32>,
    pub shard_count: Option<u32>,
    /// `--resume`: the first position of the permutation to send (from a summary's resumePosition).
    pub start_position: Option<f64>,
    /// Build every packet and send none (no sockets, no routes, no privileges needed).
    pub dry_run: Option<bool>,
    /// Write every frame sent or built to this pcap file.
    pub pcap: Option<String>,
    /// Also hand out a record (kind 5) for every probe sent (`--packet-trace`).
    pub trace: Option<bool>,
    /// Also resolve nextBatch() with an empty Buffer whenever cursor() advances, so that a
    /// consumer waiting for records hears of it (a shard's heartbeat); off: it only advances.
    pub cursor_events: Option<bool>,
    /// Retransmission timeout bounds in milliseconds (nmap's --initial-rtt-timeout,
    /// --min-rtt-timeout, --max-rtt-timeout); defaults 1000, 100, 10000.
    pub initial_rtt_timeout_ms: Option<f64>,
    pub min_rtt_timeout_ms: Option<f64>,
    pub max_rtt_timeout_ms: Option<f64>,
    /// The adaptive rate never drops below this many packets per second (--min-rate).
    pub min_rate: Option<f64>,
    /// Adapt the rate to loss (default true); false keeps it at `rate`.
    pub adaptive: Option<bool>,
    /// `--os-hints`: p0f's signature file; every SYN+ACK then gets a kind-7 hint record.
    pub os_hints: Option<String>,
}

/// The payload sent to one UDP port.
#[napi(object)]
pub struct UdpPayload {
    pub port: u32,
    pub payload: Buffer,
}

/// Counters and facts about a scan.
#[napi(object)]
pub struct NativeSummary {
    pub sent: f64,
    pub retransmits: f64,
    pub received: f64,
    pub records: f64,
    pub discarded: f64,
    pub total: f64,
    pub elapsed_ms: f64,
    pub srtt_us: f64,
    pub interface: String,
    pub source_address: String,
    pub source_port: u32,
    /// On-link targets that did not answer ARP or neighbour solicitation and so got no
    /// probe (as text).
    pub unresolved: Vec<String>,
    pub finished: bool,
    /// The positions of the permutation this run covers: [firstPosition, endPosition)
    /// (IPv6 spaces reach 2^64, beyond a double's exact integers: positions are rounded
    /// down, so a resume never skips a probe).
    pub first_position: f64,
    pub end_position: f64,
    /// Every position before this one is sent and resolved: pass it as startPosition to resume.
    pub resume_position: f64,
    /// The send rate the engine holds now and the highest it held (packets per second; Infinity when unlimited).
    pub rate: f64,
    pub peak_rate: f64,
    /// Times the rate was cut for loss.
    pub backoffs: f64,
    /// Replies the receive ring dropped for want of room.
    pub ring_drops: f64,
}

fn to_config(o: NativeScanOptions) -> Result<ScanConfig> {
    let flags = o.tcp_flags.map(|f| u8::try_from(f).map_err(|_| invalid(format!("TCP flags {f} do not fit a byte")))).transpose()?;
    let technique = Technique::parse(&o.technique, flags).map_err(js_error)?;
    if !o.ranges.len().is_multiple_of(2) {
        return Err(invalid("ranges must hold pairs of addresses"));
    }
    let ranges = o.ranges.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    let ranges6 = parse_ranges6(o.ranges6.unwrap_or_default())?;
    let ports =
        o.ports.iter().map(|&p| u16::try_from(p).map_err(|_| invalid(format!("port {p} is out of range")))).collect::<Result<Vec<_>>>()?;
    let seed = match o.seed {
        None => 0,
        Some(b) => {
            let (negative, v, lossless) = b.get_u64();
            if negative || !lossless {
                return Err(invalid("seed must be an unsigned 64-bit integer"));
            }
            v
        }
    };
    let max_retries = u8::try_from(o.max_retries).map_err(|_| invalid(format!("max-retries {} is too large", o.max_retries)))?;
    let source = o
        .source_address
        .map(|s| s.parse::<IpAddr>().map_err(|_| invalid(format!("source address {s:?} is not an IP address"))))
        .transpose()?;
    let source_port =
        o.source_port.map(|p| u16::try_from(p).map_err(|_| invalid(format!("source port {p} is out of range")))).transpose()?;
    let mut udp_payloads = HashMap::new();
    for p in o.udp_payloads.unwrap_or_default() {
        let port = u16::try_from(p.port).map_err(|_| invalid(format!("UDP payload port {} is out of range", p.port)))?;
        if p.payload.len() > MAX_PAYLOAD {
            return Err(invalid(format!("UDP payload for port {port} is {} bytes, more than {MAX_PAYLOAD}", p.payload.len())));
        }
        udp_payloads.insert(port, p.payload.to_vec());
    }
    let ms = |name: &str, v: Option<f64>, default: u64| -> Result<u64> {
        match v {
            None => Ok(default),
            Some(x) if x.is_finite() && x >= 0.0 => Ok((x * 1000.0) as u64),
            Some(x) => Err(invalid(format!("{name} {x} is not a duration in milliseconds"))),
        }
    };
    let d = RttBounds::default();
    let rtt = RttBounds {
        initial_us: ms("initial RTT timeout", o.initial_rtt_timeout_ms, d.initial_us)?,
        min_us: ms("minimum RTT timeout", o.min_rtt_timeout_ms, d.min_us)?,
        max_us: ms("maximum RTT timeout", o.max_rtt_timeout_ms, d.max_us)?,
    };
    if rtt.min_us > rtt.max_us {
        return Err(invalid("the minimum RTT timeout is above the maximum"));
    }
    if let Some(m) = o.min_rate {
        if !(m.is_finite() && m >= 0.0) || m > o.rate {
            return Err(invalid(format!("min-rate {m} must be between 0 and the rate ({})", o.rate)));
        }
    }
    let ramp = match o.start_rate {
        None => None,
        Some(r) if r.is_finite() && r > 0.0 => {
            let level = u8::try_from(o.timing_level.unwrap_or(3)).ok().filter(|l| *l <= 5);
            let level = level.ok_or_else(|| invalid(format!("timing level {} is not 0-5", o.timing_level.unwrap_or(3))))?;
            Some(Profile::for_level(level).starting_at(r))
        }
        Some(r) => return Err(invalid(format!("start rate {r} must be a positive number of packets per second"))),
    };
    let shard = match (o.shard_index, o.shard_count) {
        (None, None) => None,
        (Some(i), Some(n)) if i >= 1 && i <= n => Some((i as u64 - 1, n as u64)),
        (i, n) => return Err(invalid(format!("shard {}/{} does not exist (1 ≤ i ≤ N)", i.unwrap_or(0), n.unwrap_or(0)))),
    };
    let start_position = match o.start_position {
        None => 0,
        // above 2^53 a double is a whole number already, rounded down by summary()
        Some(p) if p.is_finite() && p >= 0.0 && p.fract() == 0.0 && p < 2f64.powi(64) => p as u64,
        Some(p) => return Err(invalid(format!("start position {p} is not a whole number of probes"))),
    };
    Ok(ScanConfig {
        ranges,
        ranges6,
        ports,
        technique,
        rate: o.rate,
        ramp,
        seed,
        max_retries,
        interface: o.interface,
        source,
        source_port,
        udp_payloads,
        sequential: o.sequential.unwrap_or(false),
        shard,
        start_position,
        dry_run: o.dry_run.unwrap_or(false),
        pcap: o.pcap.map(Into::into),
        trace: o.trace.unwrap_or(false),
        rtt,
        min_rate: o.min_rate.unwrap_or(0.0),
        adaptive: o.adaptive.unwrap_or(true),
        os_hints: o
            .os_hints
            .map(|p| ferroscan_core::os::p0f::P0fDb::load(std::path::Path::new(&p)).map(std::sync::Arc::new))
            .transpose()
            .map_err(js_error)?,
    })
}

/// A running scan; batches are pulled with `nextBatch()`.
#[napi]
pub struct NativeScan {
    scan: Mutex<Option<Scan>>,
    /// set once the engine's final event has been seen
    done: AtomicBool,
    events: AsyncMutex<mpsc::UnboundedReceiver<ScanEvent>>,
    /// the engine's last cursor taken from the channel, and whether to wake JS for it
    cursor: AtomicU64,
    cursor_events: bool,
}

#[napi]
impl NativeScan {
    /// The next batch of packed records, or null when the scan is over. Rejects with the
    /// engine's error if the scan failed.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub async fn next_batch(&self) -> Result<Option<Buffer>> {
        let mut rx = self.events.lock().await;
        loop {
            return match rx.recv().await {
                Some(ScanEvent::Batch(b)) => Ok(Some(b.into())),
                Some(ScanEvent::Cursor(c)) => {
                    self.cursor.store(c, Ordering::Release);
                    if !self.cursor_events {
                        continue;
                    }
                    Ok(Some(Vec::new().into()))
                }
                Some(ScanEvent::Done(Ok(()))) => {
                    self.done.store(true, Ordering::Release);
                    rx.close();
                    Ok(None)
                }
                Some(ScanEvent::Done(Err(e))) => {
                    self.done.store(true, Ordering::Release);
                    rx.close();
                    Err(js_error(e))
                }
                // after the final event the channel stays closed: keep answering null
                None if self.done.load(Ordering::Acquire) => Ok(None),
                // closed without a final event: the engine vanished; never pass that off as a complete scan
                None => Err(Error::from_reason("EINTERNAL: the engine stopped without finishing the scan")),
            };
        }
    }

    /// Asks the engine to stop; nextBatch() then drains and resolves null.
    #[napi(catch_unwind)]
    pub fn abort(&self) {
        if let Ok(g) = self.scan.lock() {
            if let Some(s) = g.as_ref() {
                s.abort();
            }
        }
    }

    /// Every probe below this position of the permutation was sent and resolved, and the
    /// record of each that answered is in a batch nextBatch() has already resolved with; read
    /// it between batches. Passed back as startPosition, it resumes the scan losing nothing.
    #[napi(catch_unwind)]
    pub fn cursor(&self) -> f64 {
        self.cursor.load(Ordering::Acquire) as f64
    }

    #[napi(catch_unwind)]
    pub fn summary(&self) -> Result<NativeSummary> {
        let g = self.scan.lock().map_err(|_| Error::from_reason("EIO: scan state poisoned"))?;
        let s = g.as_ref().ok_or_else(|| Error::from_reason("EIO: scan already released"))?;
        let st = s.stats();
        let info = s.info();
        Ok(NativeSummary {
            sent: st.sent as f64,
            retransmits: st.retransmits as f64,
            received: st.received as f64,
            records: st.records as f64,
            discarded: st.discarded as f64,
            total: info.total as f64,
            elapsed_ms: st.elapsed.as_secs_f64() * 1000.0,
            srtt_us: st.srtt_us as f64,
            interface: info.interface.clone(),
            source_address: info.source.to_string(),
            source_port: info.source_port as u32,
            unresolved: info.unresolved.iter().map(|a| a.to_string()).collect(),
            finished: st.finished,
            first_position: down(info.first_position as u128),
            end_position: down(info.end_position),
            resume_position: down(st.resume_position as u128),
            rate: st.rate,
            peak_rate: st.peak_rate,
            backoffs: st.backoffs as f64,
            ring_drops: st.ring_drops as f64,
        })
    }
}

/// Records per Buffer handed to JS at most. The engine may pass on far bigger batches (a dry
/// run's trace: everything built in 5 ms); decoded in one piece, such a batch outlives V8's
/// young generation and decoding it is mostly garbage collection (benches/records.mjs).
const MAX_BATCH_RECORDS: usize = 4096;

/// Starts a scan on the engine's own threads.
#[napi(catch_unwind)]
pub fn start_scan(options: NativeScanOptions) -> Result<NativeScan> {
    let cursor_events = options.cursor_events.unwrap_or(false);
    let cfg = to_config(options)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let sink = Box::new(move |ev: ScanEvent| {
        // the receiver is gone only when JS dropped the scan; nothing is waiting then
        match ev {
            ScanEvent::Batch(b) if b.len() > MAX_BATCH_RECORDS * RECORD_SIZE => {
                for chunk in b.chunks(MAX_BATCH_RECORDS * RECORD_SIZE) {
                    let _ = tx.send(ScanEvent::Batch(chunk.to_vec()));
                }
            }
            ev => {
                let _ = tx.send(ev);
            }
        }
    });
    let scan = Scan::start(cfg, sink).map_err(js_error)?;
    let start = scan.stats().resume_position;
    Ok(NativeScan {
        scan: Mutex::new(Some(scan)),
        done: AtomicBool::new(false),
        events: AsyncMutex::new(rx),
        cursor: AtomicU64::new(start),
        cursor_events,
    })
}

/// The most retransmissions a scan may ask for (the engine's `MAX_RETRIES_LIMIT`).
#[napi(catch_unwind)]
pub fn max_retries_limit() -> u32 {
    ferroscan_core::scan::MAX_RETRIES_LIMIT as u32
}

/// A user account as the system's user database has it.
#[napi(object)]
pub struct UserAccount {
    pub name: Option<String>,
    pub uid: u32,
    pub gid: u32,
}

/// Looks a user up by name (NSS); null when there is no such user.
#[napi(catch_unwind)]
pub fn look_up_user(name: String) -> Result<Option<UserAccount>> {
    let found = ferroscan_core::privilege::lookup_user(&name).map_err(js_error)?;
    Ok(found.map(|a| UserAccount { name: a.name, uid: a.uid, gid: a.gid }))
}

/// Gives root up for the whole process (ferroscan_core::privilege::drop_to): to `account`,
/// keeping `keep` ("net_raw", "net_admin") on the calling thread, as ambient capabilities
/// too when `ambient`. Returns the groups the process is now in.
#[napi(catch_unwind)]
pub fn drop_privileges(account: UserAccount, keep: Vec<String>, ambient: bool) -> Result<Vec<u32>> {
    let caps = keep
        .iter()
        .map(|k| ferroscan_core::privilege::capability(k).ok_or_else(|| invalid(format!("unknown capability {k:?}"))))
        .collect::<Result<Vec<_>>>()?;
    let target = ferroscan_core::privilege::Account { name: account.name, uid: account.uid, gid: account.gid };
    let dropped = ferroscan_core::privilege::drop_to(&target, &caps, ambient).map_err(js_error)?;
    Ok(dropped.groups)
}

/// Bytes per packed record.
#[napi(catch_unwind)]
pub fn record_size() -> u32 {
    RECORD_SIZE as u32
}

/// The record layout (crates/core/src/record.rs): 2 = 64 bytes with 16-byte addresses.
#[napi(catch_unwind)]
pub fn record_layout_version() -> u32 {
    RECORD_LAYOUT_VERSION
}

/// A position as a double, rounded down where a double cannot hold it exactly (above 2^53).
fn down(p: u128) -> f64 {
    let f = p as f64;
    if f as u128 > p {
        f.next_down()
    } else {
        f
    }
}

/// IPv6 ranges from their text pairs.
fn parse_ranges6(flat: Vec<String>) -> Result<Vec<(u128, u128)>> {
    if !flat.len().is_multiple_of(2) {
        return Err(invalid("ranges6 must hold pairs of addresses"));
    }
    let one = |s: &String| s.parse::<Ipv6Addr>().map(u128::from).map_err(|_| invalid(format!("{s:?} is not an IPv6 address")));
    flat.chunks_exact(2).map(|c| Ok((one(&c[0])?, one(&c[1])?))).collect()
}
