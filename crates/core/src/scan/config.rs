//! What a scan is asked to do and what it tells: its configuration, the events its sink
//! receives, the facts fixed at start and the counters read while it runs. Plain data, the
//! crate's public scan API (re-exported by `scan`).

use crate::addr::Family;
use crate::error::Result;
use crate::ramp::Profile;
use crate::technique::Technique;
use crate::timing::RttBounds;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Largest number of retransmissions accepted (attempt numbers must fit the window slot).
pub const MAX_RETRIES_LIMIT: u8 = 50;

#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Inclusive IPv4 address ranges (host order), disjoint; empty for an IPv6 scan.
    pub ranges: Vec<(u32, u32)>,
    /// Inclusive IPv6 address ranges (as u128 values), disjoint; a scan with any is an IPv6
    /// scan, and then `ranges` must be empty (one family per scan, as nmap's -6).
    pub ranges6: Vec<(u128, u128)>,
    pub ports: Vec<u16>,
    pub technique: Technique,
    /// Packets per second: the fixed rate (`--rate`), or with `ramp` the cap (`--max-rate`;
    /// infinite for none).
    pub rate: f64,
    /// Find the rate (ramp.rs) from this profile's start instead of sending at `rate` from
    /// the first probe; None: `rate` is a fixed target, lowered only by nmap's loss rules.
    pub ramp: Option<Profile>,
    pub seed: u64,
    pub max_retries: u8,
    pub interface: Option<String>,
    /// Of the targets' family.
    pub source: Option<IpAddr>,
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
    /// Adapt the rate to loss (congestion.rs, ramp.rs); off, the rate stays at `rate`
    /// (and `ramp` is ignored).
    pub adaptive: bool,
    /// `--os-hints`: p0f's signatures, matched against every SYN+ACK (os/p0f.rs).
    pub os_hints: Option<std::sync::Arc<crate::os::p0f::P0fDb>>,
}

impl ScanConfig {
    /// A SYN scan of `ranges` × `ports` with every other option at its default: the rate
    /// found from -T3's start, no cap.
    pub fn new(ranges: Vec<(u32, u32)>, ports: Vec<u16>) -> Self {
        Self {
            ranges,
            ranges6: Vec::new(),
            ports,
            technique: Technique::Syn,
            rate: f64::INFINITY,
            ramp: Some(Profile::for_level(3)),
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
            os_hints: None,
        }
    }

    /// The same for IPv6 targets (ranges of u128 address values).
    pub fn new6(ranges6: Vec<(u128, u128)>, ports: Vec<u16>) -> Self {
        Self { ranges6, ..Self::new(Vec::new(), ports) }
    }

    /// The scan's address family: IPv6 when it has IPv6 ranges.
    pub fn family(&self) -> Family {
        if self.ranges6.is_empty() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

/// What the sink receives, always from the receive thread.
#[derive(Debug)]
pub enum ScanEvent {
    /// Packed records, a multiple of RECORD_SIZE bytes.
    Batch(Vec<u8>),
    /// Every probe below this position is sent and resolved, and the records of those that
    /// answered went to the sink before this event: a shard restarted here loses nothing.
    Cursor(u64),
    /// The last event of every scan.
    Done(Result<()>),
}

pub type Sink = Box<dyn FnMut(ScanEvent) + Send>;

#[derive(Debug, Clone)]
pub struct ScanInfo {
    pub interface: String,
    pub source: IpAddr,
    pub source_port: u16,
    /// Probes in the whole space: at most 2^64.
    pub total: u128,
    /// The positions this run covers: [first, end); end may be 2^64.
    pub first_position: u64,
    pub end_position: u128,
    /// On-link targets that did not answer ARP or neighbour solicitation, so got no probe.
    pub unresolved: Vec<IpAddr>,
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
    /// The send rate the engine holds now and the highest it held (packets per second;
    /// infinite when unlimited).
    pub rate: f64,
    pub peak_rate: f64,
    /// Times the rate was cut for loss.
    pub backoffs: u64,
    /// Frames the receive ring dropped for want of room (replies never seen).
    pub ring_drops: u64,
}
