//! The receive path: frames from the ring (or recvfrom) → validated records. Each frame is
//! parsed and its cookie checked (validate.rs), mapped back to its send position, deduplicated
//! through the window, timed from the kernel's receive stamp, and packed into the batch the
//! sink gets every 20 ms or 4096 records, each followed by the cursor when it advanced. Takes
//! frames; gives record batches and cursors.

use super::validate::validate;
use super::{ScanEvent, Shared, Sink, FLUSH_EVERY, RECORDS_PER_BATCH};
use crate::error::Result;
use crate::net::ring::{self, Replies, RingGeometry, RxRing};
use crate::net::route::Route;
use crate::net::socket::{Direction, PacketSocket};
use crate::packet::reply::parse_frame;
use crate::record::RECORD_SIZE;
use crate::technique::Technique;
use crate::window::Mark;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ETH_P_IP: u16 = 0x0800;
const ETH_P_ARP: u16 = 0x0806;
/// The longest the receive thread waits for frames before looking at the scan's state again.
const RX_WAIT: Duration = Duration::from_millis(10);
/// How often the receive ring's kernel counters are read (for frames it had to drop).
const RING_STATS_EVERY: Duration = Duration::from_millis(10);
/// How long a frame may sit in a ring block the kernel has not handed over yet (blocks
/// retire 1 ms after they open, on the kernel's timer).
const RING_HOLD_US: u64 = 2_000;

/// Where the receive thread reads replies.
pub(super) enum Receiver {
    Ring(RxRing),
    Socket(PacketSocket),
}

/// Opens the receiving side on the route's interface: a packet socket that only gets frames
/// that could be replies (the kernel filters the rest and keeps our own outgoing frames),
/// read through a TPACKET_V3 ring where it can be set up, else with recvfrom.
pub(super) fn open_receiver(route: &Route, technique: Technique) -> Result<Receiver> {
    let (ethertype, replies) = if technique == Technique::Arp {
        (ETH_P_ARP, Replies::Arp)
    } else if route.source.is_ipv6() {
        (crate::packet::ipv6::ETHERTYPE, Replies::Ipv6)
    } else {
        (ETH_P_IP, Replies::Ipv4)
    };
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
    // sent_upto saturates at u64::MAX in a space of 2^64 probes: every position is sent by then
    let sent_upto = s.sent_upto.load(Ordering::Acquire);
    if pos >= sent_upto && sent_upto != u64::MAX {
        // valid cookie for a probe not sent yet: cannot be genuine
        s.discarded.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let emit = match s.window.mark(pos) {
        Mark::First { resolved_now, last_attempt, sent_at_us } => {
            s.mark_responsive(crate::addr::value(rec.target));
            if rec.attempt == 0 {
                s.first_answers.fetch_add(1, Ordering::Relaxed);
                if last_attempt == 0 {
                    // answered before any resend: the ramp's evidence, by the send's time
                    s.pace.answered(sent_at_us);
                    let now = s.now_us();
                    let sent_at = now.saturating_sub((now as u32).wrapping_sub(sent_at_us) as u64);
                    s.newest_answered_us.fetch_max(sent_at, Ordering::AcqRel);
                }
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
        if let Some(db) = &s.os_hints {
            hint(s, db, frame, &rec, batch);
        }
    }
}

/// Adds what the ring's kernel counters say since the last reading to the scan's totals.
fn read_ring_stats(s: &Shared, ring: &RxRing) {
    if let Ok(st) = ring.stats() {
        s.ring_frames.fetch_add(st.frames, Ordering::Relaxed);
        s.ring_drops.fetch_add(st.drops, Ordering::Relaxed);
    }
}

/// `--os-hints`: what p0f's signatures say of a SYN+ACK, written into its record (the last in
/// the batch). The SYN it answers carried the template's MSS, which p0f weighs in window
/// multiples. Answers that look alike (a sweep's are mostly one kernel's) are matched once.
fn hint(s: &Shared, db: &crate::os::p0f::P0fDb, frame: &[u8], rec: &crate::record::Record, batch: &mut [u8]) {
    const SYN_ACK: u8 = 0x12;
    if rec.kind != crate::record::RecordKind::Tcp || rec.tcp_flags & SYN_ACK != SYN_ACK {
        return;
    }
    let Some(o) = frame.get(14..).and_then(crate::os::p0f::observe) else { return };
    let key = o.match_key();
    let h = match s.hint_cache.lock() {
        Ok(mut cache) => match cache.get(&key) {
            Some(h) => *h,
            None => {
                let h = db.match_response(&o, crate::packet::template::PROBE_MSS);
                if cache.len() < 4096 {
                    cache.insert(key, h);
                }
                h
            }
        },
        Err(_) => db.match_response(&o, crate::packet::template::PROBE_MSS),
    };
    let at = batch.len().saturating_sub(crate::record::RECORD_SIZE);
    crate::record::set_hint(&mut batch[at..], &h, o.mss);
}

/// The receive thread: frames in, validated and deduplicated records out to the sink in
/// batches (traced probes first), until the send thread is done.
pub(super) fn receive_loop(s: &Shared, mut rx: Option<&mut Receiver>, sink: &mut Sink) -> Result<()> {
    const FULL: usize = RECORDS_PER_BATCH * RECORD_SIZE;
    let mut buf = if matches!(rx, Some(Receiver::Socket(_))) { vec![0u8; 65536] } else { Vec::new() };
    let mut batch: Vec<u8> = Vec::with_capacity(FULL);
    let mut last_flush = Instant::now();
    let mut cursor = CursorReport::default();
    let mut last_stats = Instant::now();
    let mut result = Ok(());
    loop {
        let got = match rx.as_mut() {
            Some(Receiver::Ring(ring)) => {
                if !ring.has_ready_block() {
                    // every block handed over is handled: only frames of the last ~RING_HOLD_US may wait
                    s.rx_clock_us.fetch_max(s.now_us().saturating_sub(RING_HOLD_US), Ordering::AcqRel);
                }
                if last_stats.elapsed() >= RING_STATS_EVERY {
                    read_ring_stats(s, ring);
                    last_stats = Instant::now();
                }
                let block = ring.next_block(RX_WAIT);
                take_trace(s, &mut batch);
                block.map(|block| {
                    let Some(block) = block else { return };
                    let clock = ArrivalClock::now(s);
                    let mut last_arrival = 0;
                    for f in block.frames() {
                        let arrived = clock.arrival_us(f.sec, f.nsec);
                        last_arrival = arrived;
                        if f.direction != Direction::Incoming {
                            continue;
                        }
                        on_frame(s, f.data, arrived, &mut batch);
                        if batch.len() >= FULL {
                            sink(ScanEvent::Batch(std::mem::replace(&mut batch, Vec::with_capacity(FULL))));
                            last_flush = Instant::now();
                        }
                    }
                    // blocks fill in arrival order: every frame up to this block's last is handled
                    s.rx_clock_us.fetch_max(last_arrival, Ordering::AcqRel);
                    // dropping the block hands it back to the kernel
                })
            }
            Some(Receiver::Socket(sock)) => {
                // recvfrom cannot tell how many frames wait in the socket: assume none do
                s.rx_clock_us.store(s.now_us(), Ordering::Release);
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
        cursor.offer(s, batch.is_empty(), done, sink);
        if done || result.is_err() {
            break;
        }
    }
    result
}

/// When the sink hears the resume position (`ScanEvent::Cursor`): only with no record held
/// back (so every record below it has gone out), when it advanced, at most once per flush
/// period, and always at the end. The connect scan's loop uses it too.
#[derive(Default)]
pub(super) struct CursorReport {
    sent: u64,
    at: Option<Instant>,
}

impl CursorReport {
    pub(super) fn offer(&mut self, s: &Shared, nothing_held: bool, last: bool, sink: &mut Sink) {
        let due = last || self.at.is_none_or(|t| t.elapsed() >= FLUSH_EVERY);
        if !nothing_held || !due {
            return;
        }
        let c = s.resume_position.load(Ordering::Acquire);
        if c > self.sent || (last && self.at.is_none()) {
            self.sent = c;
            self.at = Some(Instant::now());
            sink(ScanEvent::Cursor(c));
        }
    }
}
