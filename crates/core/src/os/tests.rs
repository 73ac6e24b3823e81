//! The tests computed from the probes' answers, as nmap computes them (osscan2.cc:
//! makeTSeqFP, processT1_7Resp, processTEcnResp, processTUdpResp, processTIcmpResp,
//! get_tcpopt_string; the IP ID classification of get_ipid_sequence_16):
//!
//! - SEQ: SP (predictability index), GCD and ISR (rate) of the ISNs of the SEQ answers; TI,
//!   CI, II (IP ID classes of the SEQ answers, of T5-T7's, of the echo replies); SS (shared
//!   TCP/ICMP IP ID sequence); TS (timestamp frequency class), and the uptime it implies.
//! - OPS O1-O6 and WIN W1-W6: each SEQ answer's option layout and window.
//! - ECN, T1-T7: R, DF, T (received TTL; made the initial TTL later), W, S, A, F, O, RD, Q, CC.
//! - U1: IPL, UN, RIPL, RID, RIPCK, RUCK, RUD of the port unreachable that quotes U1.
//! - IE: DFI, T, CD of the two echo replies.
//!
//! T is kept as the received TTL in decimal here, as nmap does until the fingerprint is
//! complete: see `Round::fingerprint` for the conversion.

use super::fingerprint::Test;
use super::probes::{U1Sent, SEQ_PROBES, U1_FILL, U1_IP_ID, U1_PAYLOAD};
use super::wire::{Icmp, Ip, Tcp, Udp, ACK, CWR, ECE, FIN, PSH, RST, SYN, URG};
use crate::packet::checksum::{add_bytes, finish};

/// How a target picks IP IDs (nmap's IPID_SEQ_* classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpidClass {
    Unknown,
    Incremental,
    BrokenIncremental,
    RandomPositive,
    Random,
    Constant,
    Zero,
    IncrementalBy2,
}

impl IpidClass {
    /// The wording of nmap's "IP ID Sequence Generation:" line and XML `class`.
    pub fn description(self) -> &'static str {
        match self {
            IpidClass::Constant => "Duplicated ipid (!)",
            IpidClass::Incremental => "Incremental",
            IpidClass::IncrementalBy2 => "Incrementing by 2",
            IpidClass::BrokenIncremental => "Broken little-endian incremental",
            IpidClass::Random => "Randomized",
            IpidClass::RandomPositive => "Random positive increments",
            IpidClass::Zero => "All zeros",
            IpidClass::Unknown => "Busy server or unknown class",
        }
    }

    /// The test value (TI, CI, II); None leaves the attribute out. `first` is the first IP ID.
    fn value(self, first: u32) -> Option<String> {
        Some(match self {
            IpidClass::Constant => format!("{first:X}"),
            IpidClass::Incremental | IpidClass::IncrementalBy2 => "I".into(),
            IpidClass::BrokenIncremental => "BI".into(),
            IpidClass::RandomPositive => "RI".into(),
            IpidClass::Random => "RD".into(),
            IpidClass::Zero => "Z".into(),
            IpidClass::Unknown => return None,
        })
    }

    fn counts(self) -> bool {
        matches!(self, IpidClass::Incremental | IpidClass::BrokenIncremental | IpidClass::RandomPositive)
    }
}

/// How a target's TCP timestamps advance (nmap's TS_SEQ_* classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsClass {
    Unknown,
    Zero,
    Hz2,
    Hz100,
    Hz1000,
    Other,
    Unsupported,
}

impl TsClass {
    /// The wording of nmap's XML `tcptssequence` class.
    pub fn description(self) -> &'static str {
        match self {
            TsClass::Zero => "zero timestamp",
            TsClass::Hz2 => "2HZ",
            TsClass::Hz100 => "100HZ",
            TsClass::Hz1000 => "1000HZ",
            TsClass::Other => "other",
            TsClass::Unsupported => "none returned (unsupported)",
            TsClass::Unknown => "unknown class",
        }
    }
}

/// nmap's words for a TCP sequence predictability index.
pub fn difficulty(index: u32) -> &'static str {
    match index {
        0..=2 => "Trivial joke",
        3..=5 => "Easy",
        6..=10 => "Medium",
        11 => "Formidable",
        12..=15 => "Worthy challenge",
        _ => "Good luck!",
    }
}

/// nmap's get_initial_ttl_guess.
pub fn initial_ttl_guess(ttl: u8) -> u32 {
    match ttl {
        0..=32 => 32,
        33..=64 => 64,
        65..=128 => 128,
        _ => 255,
    }
}

/// The IP ID class of `ipids` (16-bit IP IDs in order), nmap's get_ipid_sequence_16.
pub fn ipid_class(ipids: &[u32], localhost: bool) -> IpidClass {
    let n = ipids.len();
    if n < 2 {
        return IpidClass::Unknown;
    }
    let mut diffs: Vec<u32> = Vec::with_capacity(n - 1);
    let mut all_zero = true;
    for w in ipids.windows(2) {
        if w[0] != 0 || w[1] != 0 {
            all_zero = false;
        }
        let d = w[1].wrapping_sub(w[0]);
        // judged before the 16-bit wrap is undone, as nmap does
        if n > 2 && d > 20000 {
            return IpidClass::Random;
        }
        diffs.push(d);
    }
    if all_zero {
        return IpidClass::Zero;
    }
    for d in diffs.iter_mut() {
        *d &= 0xffff;
    }
    if localhost && diffs.iter().all(|&d| d >= 2) {
        // on localhost, our own kernel's RSTs take IP IDs in between
        for d in diffs.iter_mut() {
            *d = if *d % 256 == 0 { *d - 256 } else { *d - 1 };
        }
    }
    if diffs.iter().all(|&d| d == 0) {
        return IpidClass::Constant;
    }
    if diffs.iter().any(|&d| d > 1000 && (d % 256 != 0 || d >= 25600)) {
        return IpidClass::RandomPositive;
    }
    if diffs.iter().all(|&d| d <= 5120 && d % 256 == 0) {
        return IpidClass::BrokenIncremental;
    }
    if diffs.iter().all(|&d| d % 2 == 0) {
        return IpidClass::IncrementalBy2;
    }
    if diffs.iter().all(|&d| d <= 9) {
        return IpidClass::Incremental;
    }
    IpidClass::Unknown
}

/// The option layout string nmap writes for O, O1-O6 (`M5B4ST11NW7`); "" when the options
/// do not parse (nmap's get_tcpopt_string). Options nmap does not know are skipped by their
/// length here (nmap's own walk has no case for them).
pub fn option_string(opts: &[u8]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < opts.len() {
        let left = opts.len() - i;
        match opts[i] {
            0 => {
                s.push('L');
                i += 1;
            }
            1 => {
                s.push('N');
                i += 1;
            }
            2 if left >= 4 => {
                s.push_str(&format!("M{:X}", u16::from_be_bytes([opts[i + 2], opts[i + 3]])));
                i += 4;
            }
            3 if left >= 3 => {
                s.push_str(&format!("W{:X}", opts[i + 2]));
                i += 3;
            }
            4 if left >= 2 => {
                s.push('S');
                i += 2;
            }
            8 if left >= 10 => {
                let nonzero = |at: usize| if opts[at..at + 4] != [0, 0, 0, 0] { '1' } else { '0' };
                s.push('T');
                s.push(nonzero(i + 2));
                s.push(nonzero(i + 6));
                i += 10;
            }
            2 | 3 | 4 | 8 => return String::new(),
            _ => match opts.get(i + 1) {
                Some(&len) if len >= 2 && len as usize <= left => i += len as usize,
                _ => return String::new(),
            },
        }
    }
    s
}

fn yn(b: bool) -> String {
    if b { "Y" } else { "N" }.into()
}

/// Q: quirks of a TCP header (reserved bits set; an urgent pointer without URG).
fn quirks(tcp: &Tcp<'_>) -> String {
    let mut q = String::new();
    if tcp.reserved() != 0 {
        q.push('R');
    }
    if tcp.flags() & URG == 0 && tcp.urgent() != 0 {
        q.push('U');
    }
    q
}

/// The CRC-32 (IEEE 802.3, as nmap's nbase_crc32) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// T1-T7 from a TCP answer: `n` is 0 for T1 (which has no W and O).
pub fn t_test(n: usize, ip: &Ip<'_>, tcp: &Tcp<'_>, seq_base: u32, ack: u32) -> Test {
    let mut a: Vec<(&str, String)> = vec![("R", "Y".into()), ("DF", yn(ip.df())), ("T", ip.ttl().to_string())];
    if n != 0 {
        a.push(("W", format!("{:X}", tcp.window())));
    }
    let s = tcp.seq();
    a.push((
        "S",
        if s == 0 {
            "Z"
        } else if s == ack {
            "A"
        } else if s == ack.wrapping_add(1) {
            "A+"
        } else {
            "O"
        }
        .into(),
    ));
    let k = tcp.ack();
    a.push((
        "A",
        if k == 0 {
            "Z"
        } else if k == seq_base {
            "S"
        } else if k == seq_base.wrapping_add(1) {
            "S+"
        } else {
            "O"
        }
        .into(),
    ));
    let f: String = [(ECE, 'E'), (URG, 'U'), (ACK, 'A'), (PSH, 'P'), (RST, 'R'), (SYN, 'S'), (FIN, 'F')]
        .iter()
        .filter(|(bit, _)| tcp.flags() & bit != 0)
        .map(|(_, c)| *c)
        .collect();
    a.push(("F", f));
    if n != 0 {
        a.push(("O", option_string(tcp.options())));
    }
    // RD: the CRC of data in a RST, bounded by the IP header's length
    let data_len = (ip.total_len() as usize).saturating_sub(ip.header_len() + tcp.header_len());
    let data = tcp.raw().get(tcp.header_len()..).unwrap_or(&[]);
    let data = &data[..data_len.min(data.len())];
    a.push(("RD", if tcp.flags() & RST != 0 && !data.is_empty() { format!("{:08X}", crc32(data)) } else { "0".into() }));
    a.push(("Q", quirks(tcp)));
    let name = ["T1", "T2", "T3", "T4", "T5", "T6", "T7"][n.min(6)];
    Test::new(name, a)
}

/// ECN from the answer to the ECN probe.
pub fn ecn_test(ip: &Ip<'_>, tcp: &Tcp<'_>) -> Test {
    let f = tcp.flags();
    let cc = match (f & ECE != 0, f & CWR != 0) {
        (true, true) => "S",
        (true, false) => "Y",
        (false, false) => "N",
        (false, true) => "O",
    };
    Test::new(
        "ECN",
        vec![
            ("R", "Y".into()),
            ("DF", yn(ip.df())),
            ("T", ip.ttl().to_string()),
            ("W", format!("{:X}", tcp.window())),
            ("O", option_string(tcp.options())),
            ("CC", cc.into()),
            ("Q", quirks(tcp)),
        ],
    )
}

/// U1 from a port unreachable (`ip` the whole answer, `icmp` its ICMP part), or None when it
/// does not quote our probe's ports. Also the TTL our probe had left when it arrived.
pub fn u1_test(ip: &Ip<'_>, icmp: &Icmp<'_>, sent: &U1Sent) -> Option<(Test, u8)> {
    let quoted = Ip::new(icmp.body())?;
    let udp = Udp::new(quoted.payload())?;
    if udp.sport() != sent.sport || udp.dport() != sent.dport {
        return None;
    }
    let ripl = quoted.total_len();
    let rid = quoted.id();
    let ripck = if quoted.checksum() == 0 {
        "Z".to_string()
    } else {
        // the quoted header's checksum, recomputed over its first 20 bytes
        let mut h = quoted.raw()[..20].to_vec();
        h[10] = 0;
        h[11] = 0;
        if finish(add_bytes(0, &h)) == quoted.checksum() { "G" } else { "I" }.into()
    };
    // RUD: the quoted payload, up to the end of the answer as its header states it
    let end = ip.claimed().len();
    let start = ip.header_len() + 8 + quoted.header_len() + 8;
    let data = ip.raw().get(start..end.max(start)).unwrap_or(&[]);
    let rud = if data.iter().all(|&b| b == U1_FILL) { "G" } else { "I" };
    let _ = U1_PAYLOAD;
    let test = Test::new(
        "U1",
        vec![
            ("R", "Y".into()),
            ("DF", yn(ip.df())),
            ("T", ip.ttl().to_string()),
            ("IPL", format!("{:X}", ip.total_len())),
            // nmap prints the 32-bit field through %hX: its low 16 bits
            ("UN", format!("{:X}", icmp.unused() as u16)),
            ("RIPL", if ripl == 328 { "G".into() } else { format!("{ripl:X}") }),
            ("RID", if rid == U1_IP_ID { "G".into() } else { format!("{rid:X}") }),
            ("RIPCK", ripck),
            ("RUCK", if udp.checksum() == sent.udp_checksum { "G".into() } else { format!("{:X}", udp.checksum()) }),
            ("RUD", rud.into()),
        ],
    );
    Some((test, quoted.ttl()))
}

/// IE from the two echo replies: `first` answers IE 1, `second` IE 2.
pub fn ie_test(first: &Ip<'_>, second: &Ip<'_>) -> Option<Test> {
    let c1 = Icmp::new(first.payload())?.code();
    let c2 = Icmp::new(second.payload())?.code();
    let dfi = match (first.df(), second.df()) {
        (true, true) => "Y",
        (true, false) => "S",
        (false, false) => "N",
        (false, true) => "O",
    };
    let cd = if c1 == c2 {
        if c1 == 0 {
            "Z".into()
        } else {
            format!("{c1:X}")
        }
    } else if c1 == 9 && c2 == 0 {
        "S".into()
    } else {
        "O".into()
    };
    Some(Test::new("IE", vec![("R", "Y".into()), ("DFI", dfi.into()), ("T", first.ttl().to_string()), ("CD", cd)]))
}

/// What the SEQ answers gave, slot by slot (nmap's seq_info and the IP ID samples).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqSamples {
    /// ISN of SEQ i's SYN/ACK; 0 = no answer (nmap's convention: an ISN of 0 is lost too).
    pub seqs: [u32; SEQ_PROBES],
    pub timestamps: [u32; SEQ_PROBES],
    /// When SEQ i left, µs since the Unix epoch; 0 = not sent.
    pub sent_us: [i64; SEQ_PROBES],
    /// The timestamp class the answers set on the way (none, or a zero timestamp).
    pub ts_class: Option<TsClass>,
    /// IP IDs of SEQ answers, of T5-T7 answers, of the (first-sent) echo replies.
    pub tcp_ipids: [Option<u32>; SEQ_PROBES],
    pub closed_ipids: [Option<u32>; 3],
    pub icmp_ipids: [Option<u32>; 2],
}

/// The SEQ line and what the report says of it (nmap's seq_info after makeTSeqFP).
#[derive(Debug, Clone, PartialEq)]
pub struct SeqResult {
    pub test: Option<Test>,
    /// The SEQ answers used, in order: ISNs, IP IDs, timestamps (the XML values lists).
    pub seqs: Vec<u32>,
    pub ipids: Vec<u32>,
    pub timestamps: Vec<u32>,
    pub index: u32,
    pub ipid_class: IpidClass,
    pub ts_class: TsClass,
    /// Unix time of the last boot the timestamps imply; None when they imply nothing.
    pub last_boot: Option<i64>,
}

fn gcd_of(vals: &[u32]) -> u32 {
    if vals.is_empty() {
        return 1;
    }
    let mut a = vals[0];
    for &v in &vals[1..] {
        let (mut x, mut y) = if a < v { (v, a) } else { (a, v) };
        while y != 0 {
            (x, y) = (y, x % y);
        }
        a = x;
    }
    a
}

fn mod_diff(a: u32, b: u32) -> u32 {
    a.wrapping_sub(b).min(b.wrapping_sub(a))
}

/// nmap's makeTSeqFP. `scan_delay_ms` is the scan's --scan-delay (nmap skips the ISN tests
/// above one second).
pub fn seq_test(s: &SeqSamples, localhost: bool, scan_delay_ms: u64) -> SeqResult {
    // the answered slots, in order
    let got: Vec<usize> = (0..SEQ_PROBES).filter(|&i| s.seqs[i] != 0).collect();
    let responses = got.len();
    let mut seq_diffs = Vec::new();
    let mut ts_diffs = Vec::new();
    let mut usec_diffs: Vec<u64> = Vec::new();
    let mut rates: Vec<f32> = Vec::new();
    let mut avg_rate = 0.0f64;
    for w in got.windows(2) {
        let (a, b) = (w[0], w[1]);
        let d = mod_diff(s.seqs[b], s.seqs[a]);
        seq_diffs.push(d);
        ts_diffs.push(mod_diff(s.timestamps[b], s.timestamps[a]));
        // an unsigned difference of signed microseconds, at least 1
        let us = (s.sent_us[b] - s.sent_us[a]) as u64;
        let us = if us == 0 { 1 } else { us };
        usec_diffs.push(us);
        let r = (d as f64 * 1_000_000.0 / us as f64) as f32;
        rates.push(r);
        avg_rate += r as f64;
    }
    let mut attrs: Vec<(&str, String)> = Vec::new();
    let mut index = 0u32;
    if responses >= 4 && scan_delay_ms <= 1000 {
        avg_rate /= (responses - 1) as f64;
        let gcd = gcd_of(&seq_diffs);
        let isr: f64;
        if gcd == 0 {
            isr = 0.0;
        } else {
            isr = ((avg_rate.ln() / 2f64.ln()) * 8.0 + 0.5) as u32 as f64;
            let div = if gcd > 9 { gcd } else { 1 };
            let mut var = 0.0f64;
            for r in &rates {
                let t = (r / div as f32) as f64 - avg_rate / div as f64;
                var += t * t;
            }
            var /= (responses - 2) as f64;
            let sd = var.sqrt();
            index = if sd <= 1.0 { 0 } else { ((sd.ln() / 2f64.ln()) * 8.0 + 0.5) as i32 as u32 };
        }
        attrs.push(("SP", format!("{index:X}")));
        attrs.push(("GCD", format!("{gcd:X}")));
        attrs.push(("ISR", format!("{:X}", isr as u32)));
    }
    let good = |v: &[Option<u32>]| v.iter().flatten().copied().collect::<Vec<u32>>();
    let (tcp, closed, icmp) = (good(&s.tcp_ipids), good(&s.closed_ipids), good(&s.icmp_ipids));
    let tcp_class = if tcp.len() >= 3 { ipid_class(&tcp, localhost) } else { IpidClass::Unknown };
    let closed_class = if closed.len() >= 2 { ipid_class(&closed, localhost) } else { IpidClass::Unknown };
    let icmp_class = if icmp.len() >= 2 { ipid_class(&icmp, localhost) } else { IpidClass::Unknown };
    for (name, class, ids) in [("TI", tcp_class, &tcp), ("CI", closed_class, &closed), ("II", icmp_class, &icmp)] {
        if let Some(v) = class.value(ids.first().copied().unwrap_or(0)) {
            attrs.push((name, v));
        }
    }
    if tcp_class.counts() && icmp_class.counts() {
        let (first, last) = (tcp[0], tcp[tcp.len() - 1]);
        let avg = last.wrapping_sub(first) / (tcp.len() as u32 - 1);
        attrs.push(("SS", if icmp[0] < last.wrapping_add(avg.wrapping_mul(3)) { "S" } else { "O" }.into()));
    }
    let mut ts_class = s.ts_class.unwrap_or(TsClass::Unknown);
    let mut hz = 0.0f64;
    let mut last_boot = None;
    if ts_class == TsClass::Unknown && responses >= 2 {
        for (d, us) in ts_diffs.iter().zip(&usec_diffs) {
            hz += (*d as f64 / (*us as f64 / 1_000_000.0)) / (responses - 1) as f64;
        }
        let ts0 = s.timestamps[got[0]] as u64;
        let mut uptime: u64 = 0;
        if hz > 0.0 && hz < 5.66 {
            ts_class = TsClass::Hz2;
            uptime = ts0 / 2;
        } else if hz > 70.0 && hz < 150.0 {
            ts_class = TsClass::Hz100;
            uptime = ts0 / 100;
        } else if hz > 724.0 && hz < 1448.0 {
            ts_class = TsClass::Hz1000;
            uptime = ts0 / 1000;
        } else if hz > 0.0 {
            ts_class = TsClass::Other;
            uptime = ts0 / ((0.5 + hz) as u32).max(1) as u64;
        }
        // up for more than two years? more likely lying
        if uptime > 63_072_000 {
            uptime = 0;
        }
        last_boot = Some(s.sent_us[got[0]].div_euclid(1_000_000) - uptime as i64);
    }
    match ts_class {
        TsClass::Zero => attrs.push(("TS", "0".into())),
        TsClass::Hz2 | TsClass::Hz100 | TsClass::Hz1000 | TsClass::Other => {
            let v: u32 = if hz <= 5.66 {
                1
            } else if hz > 70.0 && hz <= 150.0 {
                7
            } else if hz > 150.0 && hz <= 350.0 {
                8
            } else {
                (0.5 + hz.ln() / 2f64.ln()) as u32
            };
            attrs.push(("TS", format!("{v:X}")));
        }
        TsClass::Unsupported => attrs.push(("TS", "U".into())),
        TsClass::Unknown => {}
    }
    SeqResult {
        test: (!attrs.is_empty()).then(|| Test::new("SEQ", attrs)),
        seqs: got.iter().map(|&i| s.seqs[i]).collect(),
        ipids: tcp.clone(),
        timestamps: got.iter().map(|&i| s.timestamps[i]).collect(),
        index,
        ipid_class: tcp_class,
        ts_class,
        last_boot,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn classifies_ip_ids_as_nmap() {
        assert_eq!(ipid_class(&[0, 0, 0], false), IpidClass::Zero);
        assert_eq!(ipid_class(&[5, 5, 5], false), IpidClass::Constant);
        assert_eq!(ipid_class(&[100, 101, 103, 104], false), IpidClass::Incremental);
        assert_eq!(ipid_class(&[100, 102, 104], false), IpidClass::IncrementalBy2);
        assert_eq!(ipid_class(&[256, 512, 1024], false), IpidClass::BrokenIncremental);
        assert_eq!(ipid_class(&[1, 3000, 6000], false), IpidClass::RandomPositive);
        assert_eq!(ipid_class(&[1, 30000, 100], false), IpidClass::Random);
        // two samples: the random check is skipped; 50000 → 100 wraps to a small step
        assert_eq!(ipid_class(&[65530, 3], false), IpidClass::Incremental);
        // three samples across the wrap: the unwrapped difference counts first
        assert_eq!(ipid_class(&[65530, 65531, 2], false), IpidClass::Random);
        assert_eq!(ipid_class(&[10, 12, 100], false), IpidClass::IncrementalBy2, "all even beats under ten");
        assert_eq!(ipid_class(&[10, 13, 120], false), IpidClass::Unknown);
        // localhost: our RSTs took one IP ID between each of the target's
        assert_eq!(ipid_class(&[10, 12, 14], true), IpidClass::Incremental);
    }

    #[test]
    fn option_strings() {
        let linux = [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1, 3, 3, 7];
        assert_eq!(option_string(&linux), "M5B4ST11NW7");
        let zero_echo = [8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(option_string(&zero_echo), "T10LL");
        assert_eq!(option_string(&[]), "");
        assert_eq!(option_string(&[2, 4, 5]), "", "a truncated MSS");
        assert_eq!(option_string(&[1, 30, 4, 0, 0, 1]), "NN", "an unknown option is skipped by its length");
        assert_eq!(option_string(&[30, 0]), "");
    }

    #[test]
    fn crc_is_ieee() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    fn samples(seqs: [u32; 6], ts: [u32; 6]) -> SeqSamples {
        let base = 1_700_000_000_000_000i64;
        SeqSamples {
            seqs,
            timestamps: ts,
            sent_us: std::array::from_fn(|i| base + i as i64 * 100_000),
            tcp_ipids: [Some(0); 6],
            closed_ipids: [Some(0), Some(0), Some(0)],
            icmp_ipids: [Some(1000), Some(1001)],
            ..Default::default()
        }
    }

    #[test]
    fn seq_of_a_constant_rate_counter() {
        // ISNs +64000 every 100 ms (640,000/s: ISR = 8·log2 = 154), timestamps at 1000 Hz
        let s = samples(std::array::from_fn(|i| 1 + 64000 * i as u32), std::array::from_fn(|i| 5_000_000 + 100 * i as u32));
        let r = seq_test(&s, false, 0);
        let t = r.test.unwrap();
        assert_eq!(t.to_string(), "SEQ(SP=0%GCD=FA00%ISR=9A%TI=Z%CI=Z%II=I%TS=A)");
        assert_eq!(r.ts_class, TsClass::Hz1000);
        assert_eq!(r.last_boot, Some(1_700_000_000 - 5000));
        assert_eq!(r.ipid_class, IpidClass::Zero);
    }

    #[test]
    fn seq_with_gaps_and_no_timestamps() {
        let mut s = samples([0, 100, 0, 300, 400, 500], [0; 6]);
        s.ts_class = Some(TsClass::Unsupported);
        s.tcp_ipids = [None, Some(7), None, Some(8), Some(9), Some(10)];
        s.icmp_ipids = [Some(11), Some(12)];
        let t = seq_test(&s, false, 0).test.unwrap();
        // diffs 200 over 200 ms, then 100 per 100 ms: 1000/s → ISR 8·log2(1000) ≈ 80 (0x50)
        assert_eq!(t.get("GCD"), Some("64"));
        assert_eq!(t.get("ISR"), Some("50"));
        assert_eq!(t.get("SP"), Some("0"));
        assert_eq!(t.get("TI"), Some("I"));
        assert_eq!(t.get("SS"), Some("S"));
        assert_eq!(t.get("TS"), Some("U"));
        // three answers: no SP, GCD or ISR
        let s = samples([0, 0, 0, 300, 400, 500], [0; 6]);
        let t = seq_test(&s, false, 0).test.unwrap();
        assert_eq!(t.get("SP"), None);
        // timestamps that never moved give no class, yet nmap still dates the boot: now
        assert_eq!(seq_test(&s, false, 0).last_boot, Some(1_700_000_000));
    }
}
