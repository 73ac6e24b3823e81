//! One try of OS detection against one host (nmap's HostOsScanStats for a round): which
//! probe goes next and when, which answer belongs to which probe, and the fingerprint the
//! answers make. Sockets and clocks stay outside: the prober asks `poll` what to send, hands
//! back every datagram from the host with `on_reply`, and asks for `fingerprint` once `done`.
//!
//! The schedule, as nmap's: the six SEQ probes 100 ms apart (never resent; one that times
//! out is lost); then the TCP/UDP/ICMP probes in nmap's order (IE 1-2, U1, OPS resends for
//! missing SEQ answers, ECN, T1 if SEQ 1 went unanswered, T2-T7), each resent up to three
//! times when its retransmission timeout passes unanswered. nmap leaves 25 ms between these;
//! here the gap is the caller's choice (`RoundTiming`).
//!
//! Answers are told apart as nmap tells them: TCP by the destination port (each probe
//! leaves from its own port above the try's base), echo replies by identifier, U1's port
//! unreachable by the ports it quotes.

use super::fingerprint::{Fingerprint, Test};
use super::probes::{Probe, TryParams, U1Sent, ECN_PORT, OPS_PORT, PORTS_PER_TRY, SEQ_PROBES, T1_PORT};
use super::tests::{ecn_test, ie_test, initial_ttl_guess, option_string, seq_test, t_test, u1_test, SeqResult, SeqSamples, TsClass};
use super::wire::{Icmp, Ip, Tcp, ACK, PROTO_ICMP, PROTO_TCP, PROTO_UDP, RST, SYN};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// nmap's OS_SEQ_PROBE_DELAY: the SEQ probes' spacing.
pub const SEQ_GAP: Duration = Duration::from_millis(100);
/// nmap resends a TCP/UDP/ICMP probe up to three times.
pub const MAX_TRYNO: u8 = 3;
/// At most this many TCP/UDP/ICMP probes unanswered at once (nmap's initial congestion window).
const WINDOW: usize = 10;

/// Slots of the fingerprint's tests after SEQ/OPS/WIN, in nmap's order.
const ECN: usize = 0;
const T1: usize = 1;
const U1: usize = 8;
const IE: usize = 9;
const NAMES: [&str; 10] = ["ECN", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "U1", "IE"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundTiming {
    /// Between two SEQ probes (nmap: 100 ms, or --scan-delay if longer).
    pub seq_gap: Duration,
    /// Between two other probes (nmap: 25 ms, or --scan-delay if longer).
    pub gap: Duration,
    /// nmap's --scan-delay, which also decides whether the ISN tests are made.
    pub scan_delay_ms: u64,
}

impl Default for RoundTiming {
    fn default() -> Self {
        RoundTiming { seq_gap: SEQ_GAP, gap: Duration::from_millis(25), scan_delay_ms: 0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Seq,
    Tui,
}

#[derive(Debug, Clone, Copy)]
struct Active {
    probe: Probe,
    sent: Instant,
    tryno: u8,
}

/// A probe that an answer settled, for the caller's RTT estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered {
    pub probe: Probe,
    pub sent: Instant,
    /// 0 for a first send.
    pub tryno: u8,
}

/// What the host's earlier tries learned that later ones use (nmap keeps these per host).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// Hops to the host, from the TTL left in the first port unreachable that quoted U1.
    pub distance: Option<i32>,
    /// Initial TTL guess minus the TTL received, from the first answer with a TTL.
    pub distance_guess: Option<i32>,
    /// U1 got its port unreachable, so its port is known closed.
    pub closed_udp: Option<u16>,
}

pub struct Round {
    pub params: TryParams,
    localhost: bool,
    timing: RoundTiming,
    u1: U1Sent,
    phase: Phase,
    seq_next: usize,
    to_send: VecDeque<(Probe, u8)>,
    active: Vec<Active>,
    last_sent: Option<Instant>,
    /// Instant and Unix time (µs) of the same moment: SEQ send times are wall times.
    clock: (Instant, i64),
    samples: SeqSamples,
    seq_answers: usize,
    last_ipid: u16,
    ops: [Option<String>; SEQ_PROBES],
    win: [Option<String>; SEQ_PROBES],
    tests: [Option<Test>; 10],
    /// The first echo reply, kept until the other one arrives: (datagram, which IE).
    echo: Option<(Vec<u8>, u8)>,
    /// The TTL U1 had left when it reached the host.
    u1_quoted_ttl: Option<u8>,
    /// Warnings for the user, as nmap prints them.
    pub warnings: Vec<String>,
}

impl Round {
    pub fn new(params: TryParams, localhost: bool, timing: RoundTiming, now: Instant, now_unix_us: i64) -> Self {
        let mut r = Round {
            u1: params.u1_sent(),
            params,
            localhost,
            timing,
            phase: Phase::Seq,
            seq_next: 0,
            to_send: VecDeque::new(),
            active: Vec::new(),
            last_sent: None,
            clock: (now, now_unix_us),
            samples: SeqSamples::default(),
            seq_answers: 0,
            last_ipid: 0,
            ops: Default::default(),
            win: Default::default(),
            tests: Default::default(),
            echo: None,
            u1_quoted_ttl: None,
            warnings: Vec::new(),
        };
        if params.open_tcp.is_none() {
            r.start_tui();
        }
        r
    }

    fn unix_us(&self, at: Instant) -> i64 {
        self.clock.1 + at.saturating_duration_since(self.clock.0).as_micros() as i64
    }

    /// nmap's buildTUIProbeList.
    fn start_tui(&mut self) {
        self.phase = Phase::Tui;
        let mut list = vec![Probe::Ie(0), Probe::Ie(1), Probe::U1];
        if self.params.open_tcp.is_some() {
            for i in 0..SEQ_PROBES {
                if self.ops[i].is_none() || self.win[i].is_none() {
                    list.push(Probe::Ops(i as u8));
                }
            }
            list.push(Probe::Ecn);
            for i in 0..4 {
                if self.tests[T1 + i].is_none() {
                    list.push(Probe::T(i as u8));
                }
            }
        }
        for i in 4..7 {
            if self.tests[T1 + i].is_none() {
                list.push(Probe::T(i as u8));
            }
        }
        self.to_send = list.into_iter().map(|p| (p, 0)).collect();
    }

    /// Retires probes whose timeout passed: SEQ ones are lost, others go back in line or,
    /// after their last resend, are given up.
    fn expire(&mut self, now: Instant, timeout: Duration) {
        let mut i = 0;
        while i < self.active.len() {
            let a = self.active[i];
            if now.saturating_duration_since(a.sent) > timeout {
                self.active.swap_remove(i);
                if !matches!(a.probe, Probe::Seq(_)) && a.tryno < MAX_TRYNO {
                    self.to_send.push_back((a.probe, a.tryno + 1));
                }
            } else {
                i += 1;
            }
        }
        if self.phase == Phase::Seq && self.seq_next == SEQ_PROBES && self.active.is_empty() {
            self.start_tui();
        }
    }

    /// The probe to send now, if one is due; otherwise when to ask again (None: only
    /// answers can move this try on, or it is done).
    pub fn poll(&mut self, now: Instant, timeout: Duration) -> Result<(Probe, u8), Option<Instant>> {
        self.expire(now, timeout);
        let earliest_timeout = self.active.iter().map(|a| a.sent + timeout + Duration::from_micros(1)).min();
        let gap = match self.phase {
            Phase::Seq => self.timing.seq_gap,
            Phase::Tui => self.timing.gap,
        };
        let ready_at = self.last_sent.map_or(now, |t| t + gap);
        let can = match self.phase {
            Phase::Seq => self.seq_next < SEQ_PROBES,
            Phase::Tui => !self.to_send.is_empty() && self.active.len() < WINDOW,
        };
        if can && ready_at <= now {
            let next = match self.phase {
                Phase::Seq => (Probe::Seq(self.seq_next as u8), 0),
                Phase::Tui => self.to_send[0],
            };
            return Ok(next);
        }
        let wake = can.then_some(ready_at);
        Err(match (wake, earliest_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// Records that the probe `poll` returned has left at `now`.
    pub fn sent(&mut self, probe: Probe, tryno: u8, now: Instant) {
        match probe {
            Probe::Seq(i) => {
                self.seq_next = i as usize + 1;
                self.samples.sent_us[i as usize] = self.unix_us(now);
            }
            _ => {
                if let Some(at) = self.to_send.iter().position(|&(p, _)| p == probe) {
                    self.to_send.remove(at);
                }
            }
        }
        self.active.push(Active { probe, sent: now, tryno });
        self.last_sent = Some(now);
    }

    pub fn done(&self) -> bool {
        self.phase == Phase::Tui && self.to_send.is_empty() && self.active.is_empty()
    }

    /// SEQ is over, every other probe has been sent, and the closed-port probes (T5-T7, whose
    /// IP IDs make CI) are answered or have timed out once: what the try says about the host's
    /// IP ID and ISN counters is known.
    pub fn counters_known(&self) -> bool {
        self.phase == Phase::Tui
            && self.to_send.iter().all(|&(_, t)| t > 0)
            && !self.active.iter().any(|a| a.tryno == 0 && matches!(a.probe, Probe::T(4..=6)))
    }

    /// Whether a datagram from the host is an answer to this try's probes.
    pub fn owns(&self, ip: &Ip<'_>) -> bool {
        let base = self.params.tcp_base;
        match ip.protocol() {
            PROTO_TCP => Tcp::new(ip.payload()).is_some_and(|t| t.dport().wrapping_sub(base) < PORTS_PER_TRY),
            PROTO_ICMP => match Icmp::new(ip.payload()) {
                Some(i) if i.kind() == 0 => i.id().wrapping_sub(self.params.echo_id) < 2,
                Some(i) if i.kind() == 3 && i.code() == 3 => {
                    Ip::new(i.body())
                        .filter(|q| q.protocol() == PROTO_UDP)
                        .and_then(|q| q.payload().get(..2).map(|p| u16::from_be_bytes([p[0], p[1]])))
                        == Some(self.u1.sport)
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn take_active(&mut self, probe: Probe) -> Option<Active> {
        let at = self.active.iter().position(|a| a.probe == probe)?;
        Some(self.active.swap_remove(at))
    }

    fn active(&self, probe: Probe) -> Option<&Active> {
        self.active.iter().find(|a| a.probe == probe)
    }

    /// nmap's processTSeqResp.
    fn seq_answer(&mut self, ip: &Ip<'_>, tcp: &Tcp<'_>, n: usize) -> bool {
        if self.last_ipid != 0 && ip.id() == self.last_ipid {
            // probably a duplicate (localhost shows each frame twice)
            return false;
        }
        self.last_ipid = ip.id();
        if tcp.flags() & RST != 0 {
            if self.seq_answers == 0 {
                self.warnings.push(format!("WARNING: RST from {} port {} -- is this port really open?", ip.src(), tcp.sport()));
            }
            return false;
        }
        if tcp.flags() & (SYN | ACK) != SYN | ACK {
            return false;
        }
        // nmap checks the acknowledged number against the port's slot, and keeps the slot
        let slot = n;
        if self.samples.seqs[slot] != 0 {
            return false;
        }
        self.seq_answers += 1;
        self.samples.seqs[slot] = tcp.seq();
        match tcp.timestamp() {
            None => self.samples.ts_class = Some(TsClass::Unsupported),
            Some(0) => self.samples.ts_class = Some(TsClass::Zero),
            Some(_) => {}
        }
        self.samples.timestamps[slot] = tcp.timestamp().unwrap_or(0);
        true
    }

    fn ops_answer(&mut self, tcp: &Tcp<'_>, n: usize) -> bool {
        let mut useful = false;
        if self.ops[n].is_none() {
            self.ops[n] = Some(option_string(tcp.options()));
            useful = true;
        }
        if self.win[n].is_none() {
            self.win[n] = Some(format!("{:X}", tcp.window()));
            useful = true;
        }
        useful
    }

    fn t_answer(&mut self, ip: &Ip<'_>, tcp: &Tcp<'_>, n: usize) -> bool {
        if self.tests[T1 + n].is_some() {
            return false;
        }
        self.tests[T1 + n] = Some(t_test(n, ip, tcp, self.params.seq_base, self.params.ack));
        true
    }

    /// Takes one datagram from the host (nmap's processResp). Returns the probe it settled,
    /// if it settled one still waiting.
    pub fn on_reply(&mut self, ip: &Ip<'_>, facts: &mut HostFacts) -> Option<Answered> {
        let (useful, probe) = match ip.protocol() {
            PROTO_TCP => {
                let tcp = Tcp::new(ip.payload())?;
                let n = tcp.dport().wrapping_sub(self.params.tcp_base);
                match n {
                    n if n < SEQ_PROBES as u16 => {
                        let n = n as usize;
                        let useful = self.seq_answer(ip, &tcp, n);
                        if useful {
                            self.samples.tcp_ipids[n] = Some(ip.id() as u32);
                        }
                        if n == 0 {
                            self.t_answer(ip, &tcp, 0);
                        }
                        // every SEQ answer, SYN/ACK or not, gives its OPS and WIN
                        self.ops_answer(&tcp, n);
                        (useful, Probe::Seq(n as u8))
                    }
                    n if (OPS_PORT..OPS_PORT + SEQ_PROBES as u16).contains(&n) => {
                        let i = (n - OPS_PORT) as usize;
                        (self.ops_answer(&tcp, i), Probe::Ops(i as u8))
                    }
                    ECN_PORT => {
                        let useful = self.tests[ECN].is_none();
                        if useful {
                            self.tests[ECN] = Some(ecn_test(ip, &tcp));
                        }
                        (useful, Probe::Ecn)
                    }
                    n if (T1_PORT..T1_PORT + 7).contains(&n) => {
                        let i = (n - T1_PORT) as usize;
                        let useful = self.t_answer(ip, &tcp, i);
                        if useful && i >= 4 {
                            self.samples.closed_ipids[i - 4] = Some(ip.id() as u32);
                        }
                        (useful, Probe::T(i as u8))
                    }
                    _ => return None,
                }
            }
            PROTO_ICMP => {
                let icmp = Icmp::new(ip.payload())?;
                if icmp.kind() == 0 {
                    let n = icmp.id().wrapping_sub(self.params.echo_id);
                    if n > 1 {
                        return None;
                    }
                    let useful = self.echo_answer(ip, n as u8);
                    let probe = Probe::Ie(n as u8);
                    if useful && self.active(probe).is_some_and(|a| a.tryno == 0) {
                        // a resent probe's IP ID says nothing of the sequence
                        self.samples.icmp_ipids[n as usize] = Some(ip.id() as u32);
                    }
                    (useful, probe)
                } else if icmp.kind() == 3 && icmp.code() == 3 {
                    let quoted = Ip::new(icmp.body())?;
                    if quoted.payload().len() < 8 {
                        return None;
                    }
                    let useful = self.tests[U1].is_none()
                        && match u1_test(ip, &icmp, &self.u1) {
                            Some((test, ttl)) => {
                                self.tests[U1] = Some(test);
                                self.u1_quoted_ttl = Some(ttl);
                                facts.closed_udp.get_or_insert(self.u1.dport);
                                if facts.distance.is_none() {
                                    facts.distance = Some(self.params.udp_ttl as i32 - ttl as i32 + 1);
                                }
                                true
                            }
                            None => false,
                        };
                    (useful, Probe::U1)
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        if !useful {
            return None;
        }
        let a = self.take_active(probe)?;
        Some(Answered { probe: a.probe, sent: a.sent, tryno: a.tryno })
    }

    /// nmap's processTIcmpResp: the first reply waits for the other.
    fn echo_answer(&mut self, ip: &Ip<'_>, n: u8) -> bool {
        if self.tests[IE].is_some() {
            return false;
        }
        match &self.echo {
            None => {
                self.echo = Some((ip.claimed().to_vec(), n));
                true
            }
            Some((_, stored)) if *stored == n => false,
            Some((raw, stored)) => {
                let Some(other) = Ip::new(raw) else { return false };
                let (first, second) = if *stored == 0 { (other, *ip) } else { (*ip, other) };
                match ie_test(&first, &second) {
                    Some(t) => {
                        self.tests[IE] = Some(t);
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// The try's fingerprint (nmap's makeFP), and its SEQ analysis. `closed_tcp_known`: the
    /// closed TCP port came from the port scan (else unanswered T5-T7 are left out).
    pub fn fingerprint(&self, facts: &mut HostFacts, closed_tcp_known: bool) -> (Fingerprint, SeqResult) {
        let seq = seq_test(&self.samples, self.localhost, self.timing.scan_delay_ms);
        let mut tests = Vec::new();
        if let Some(t) = &seq.test {
            tests.push(t.clone());
        }
        if self.ops.iter().all(Option::is_some) {
            let attrs = self.ops.iter().enumerate().map(|(i, o)| (format!("O{}", i + 1), o.clone().unwrap_or_default())).collect();
            tests.push(Test { name: "OPS".into(), attrs });
        }
        if self.win.iter().all(Option::is_some) {
            let attrs = self.win.iter().enumerate().map(|(i, w)| (format!("W{}", i + 1), w.clone().unwrap_or_default())).collect();
            tests.push(Test { name: "WIN".into(), attrs });
        }
        let open = self.params.open_tcp.is_some();
        for (slot, name) in NAMES.iter().enumerate() {
            match &self.tests[slot] {
                None => {
                    let expected = match slot {
                        ECN..=4 => open,
                        5..=7 => closed_tcp_known,
                        _ => true,
                    };
                    if expected {
                        tests.push(Test::new(name, vec![("R", "N".into())]));
                    }
                }
                Some(t) => {
                    let mut t = t.clone();
                    if let Some(at) = t.attrs.iter().position(|(a, _)| a == "T") {
                        let ttl: i32 = t.attrs[at].1.parse().unwrap_or(0);
                        if facts.distance_guess.is_none() {
                            facts.distance_guess = Some(initial_ttl_guess(ttl as u8) as i32 - ttl);
                        }
                        t.attrs[at] = match facts.distance {
                            // the received TTL plus the hops it lost on the way
                            Some(d) => ("T".into(), format!("{:X}", (ttl + d - 1) as u16)),
                            None => ("TG".into(), format!("{:X}", initial_ttl_guess(ttl as u8))),
                        };
                    }
                    tests.push(t);
                }
            }
        }
        (Fingerprint { tests }, seq)
    }

    /// How long the SEQ probes took against the 500 ms they should (nmap's timingRatio, which
    /// measures from the first answered probe's send, after makeTSeqFP packed the answers).
    pub fn timing_ratio(&self) -> f64 {
        if self.params.open_tcp.is_none() {
            return 0.0;
        }
        let s = &self.samples;
        let first = (0..SEQ_PROBES).find(|&i| s.seqs[i] != 0).unwrap_or(0);
        let (a, b) = (s.sent_us[first], s.sent_us[SEQ_PROBES - 1]);
        // TIMEVAL_MSEC_SUBTRACT: whole seconds in ms plus the microseconds' difference in ms
        let ms = (b.div_euclid(1_000_000) - a.div_euclid(1_000_000)) * 1000 + (b.rem_euclid(1_000_000) - a.rem_euclid(1_000_000)) / 1000;
        ms as f64 / (SEQ_GAP.as_millis() as f64 * (SEQ_PROBES - 1) as f64)
    }

    /// The TTL U1 had left when it arrived (the distance's source).
    pub fn u1_quoted_ttl(&self) -> Option<u8> {
        self.u1_quoted_ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::fingerprint::{format, merge, Fingerprint};
    use crate::os::wire::{Udp, PROTO_UDP};
    use std::net::Ipv4Addr;

    /// The answers of the OS lab's Linux target (scripts/lab-os.sh, 198.18.24.2, kernel
    /// defaults) to one try of ferroscan's probes, captured with tcpdump in the scanner's
    /// namespace (the probes themselves bypass the tap). That run printed this fingerprint.
    const CAPTURE: &[u8] = include_bytes!("../../tests/fixtures/os-linux.pcap");
    const PRINTED: &str = "SEQ(SP=104%GCD=1%ISR=10A%TI=Z%CI=Z%II=I%TS=21)\
OPS(O1=M5B4ST11NWA%O2=M5B4ST11NWA%O3=M5B4NNT11NWA%O4=M5B4ST11NWA%O5=M5B4ST11NWA%O6=M5B4ST11)\
WIN(W1=FE88%W2=FE88%W3=FE88%W4=FE88%W5=FE88%W6=FE88)ECN(R=Y%DF=Y%T=40%W=FAF0%O=M5B4NNSNWA%CC=Y%Q=)\
T1(R=Y%DF=Y%T=40%S=O%A=S+%F=AS%RD=0%Q=)T2(R=N)T3(R=N)T4(R=Y%DF=Y%T=40%W=0%S=A%A=Z%F=R%O=%RD=0%Q=)\
T5(R=Y%DF=Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)T6(R=Y%DF=Y%T=40%W=0%S=A%A=Z%F=R%O=%RD=0%Q=)\
T7(R=Y%DF=Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)U1(R=Y%DF=N%T=40%IPL=164%UN=0%RIPL=G%RID=G%RIPCK=G%RUCK=G%RUD=G)\
IE(R=Y%DFI=N%T=40%CD=S)";

    /// (µs since the epoch, IPv4 datagram) of every frame in a libpcap file.
    fn frames(pcap: &[u8]) -> Vec<(i64, &[u8])> {
        let u32_at = |at: usize| u32::from_le_bytes([pcap[at], pcap[at + 1], pcap[at + 2], pcap[at + 3]]);
        let mut out = Vec::new();
        let mut at = 24;
        while at + 16 <= pcap.len() {
            let (sec, usec, len) = (u32_at(at) as i64, u32_at(at + 4) as i64, u32_at(at + 8) as usize);
            out.push((sec * 1_000_000 + usec, &pcap[at + 16 + 14..at + 16 + len]));
            at += 16 + len;
        }
        out
    }

    #[test]
    fn a_captured_try_gives_the_fingerprint_it_gave_live() {
        let target = Ipv4Addr::new(198, 18, 24, 2);
        let replies: Vec<(i64, Ip<'_>)> =
            frames(CAPTURE).into_iter().filter_map(|(t, d)| Ip::new(d).map(|ip| (t, ip))).filter(|(_, ip)| ip.src() == target).collect();
        // what the try had drawn, read back from the answers: SEQ 1's port and acknowledgement,
        // T4's RST (its sequence number is our acknowledgement), the echo identifier, U1's ports
        let tcp = |i: usize| Tcp::new(replies[i].1.payload()).unwrap();
        let seq1 = tcp(0);
        let t4 = replies
            .iter()
            .map(|(_, ip)| Tcp::new(ip.payload()))
            .find(|t| t.is_some_and(|t| t.flags() == RST && t.dport() == seq1.dport() + T1_PORT + 3))
            .flatten()
            .unwrap();
        let echo =
            replies.iter().find_map(|(_, ip)| Icmp::new(ip.payload()).filter(|i| ip.protocol() == PROTO_ICMP && i.kind() == 0)).unwrap();
        let unreach =
            replies.iter().find_map(|(_, ip)| Icmp::new(ip.payload()).filter(|i| ip.protocol() == PROTO_ICMP && i.kind() == 3)).unwrap();
        let quoted = Ip::new(unreach.body()).unwrap();
        assert_eq!(quoted.protocol(), PROTO_UDP);
        let udp = Udp::new(quoted.payload()).unwrap();
        let params = TryParams {
            src: Ipv4Addr::new(198, 18, 24, 1),
            dst: target,
            tcp_base: seq1.dport(),
            udp_port: udp.sport(),
            seq_base: seq1.ack().wrapping_sub(1),
            ack: t4.seq(),
            echo_id: echo.id(),
            // one hop: the TTL it arrived with is the one it left with
            udp_ttl: quoted.ttl(),
            open_tcp: Some(22),
            closed_tcp: 1,
            closed_udp: udp.dport(),
        };
        // replay: each probe sent just before its answer (SEQ ones at their answers' times,
        // 0.1 ms earlier: the lab's round trip), every other probe once, after the SEQ round
        let base = Instant::now();
        let at = |us: i64| base + Duration::from_micros((us - replies[0].0 + 1_000_000) as u64);
        let timing = RoundTiming { gap: Duration::ZERO, ..RoundTiming::default() };
        let mut round = Round::new(params, false, timing, base, replies[0].0 - 1_000_000);
        let timeout = Duration::from_millis(100);
        let mut facts = HostFacts::default();
        for (i, (time, _)) in replies.iter().take(SEQ_PROBES).enumerate() {
            let t = at(time - 100);
            assert_eq!(round.poll(t, timeout), Ok((Probe::Seq(i as u8), 0)));
            round.sent(Probe::Seq(i as u8), 0, t);
        }
        let mut t = at(replies[SEQ_PROBES - 1].0);
        for (time, ip) in &replies {
            // the SEQ round ends as its last answer arrives; the others follow
            while let Ok((p, n)) = round.poll(t, timeout) {
                round.sent(p, n, t);
            }
            t = at(*time);
            round.on_reply(ip, &mut facts);
        }
        // T2 and T3 never answer: their resends run out
        for _ in 0..20 {
            t += Duration::from_millis(150);
            while let Ok((p, n)) = round.poll(t, timeout) {
                round.sent(p, n, t);
            }
        }
        assert!(round.done());
        let (fp, seq) = round.fingerprint(&mut facts, true);
        let tests: String = fp.tests.iter().map(|t| t.to_string()).collect();
        assert_eq!(tests, PRINTED);
        assert_eq!(facts.distance, Some(1));
        assert_eq!(facts.closed_udp, Some(udp.dport()));
        assert_eq!(seq.seqs.len(), 6);
        assert!(format("SCAN()", &merge([&Fingerprint { tests: fp.tests.clone() }]), true).starts_with("OS:SCAN()SEQ(SP="));
    }
}
