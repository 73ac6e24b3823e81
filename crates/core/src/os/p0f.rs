//! Passive OS hints: p0f 3's SYN+ACK signatures (`[tcp:response]` of p0f.fp, read at run
//! time from /etc/p0f/p0f.fp, Debian's p0f package) and p0f's rules for matching an answer
//! against them (facts from p0f's README and fp_tcp.c / process.c), applied to the SYN+ACKs a
//! sweep receives anyway: no extra packet.
//!
//! What p0f reads of a SYN+ACK: the TTL (initial TTL and distance), IP options' length, MSS,
//! window (plain, a multiple of the MSS or MTU, or `%N`), window scale, the option layout,
//! quirks of the IP and TCP headers, and whether there is a payload. A signature matches
//! exactly, generically ('g' labels, used only when nothing exact does), or fuzzily (only
//! `df` or `id+` lost, `id-` or `ecn` gained, or a TTL out of range).

use super::wire::{Ip, Tcp, ACK, CWR, ECE, PSH, RST, SYN, URG};
use crate::error::{Error, Result};
use std::path::Path;

/// Where Debian's p0f package installs its signatures.
pub const DEFAULT_PATH: &str = "/etc/p0f/p0f.fp";
/// p0f's MAX_DIST: farther than this and the TTL match is fuzzy.
const MAX_DIST: u8 = 35;

// Quirks (p0f's names in the comments).
pub const DF: u32 = 1 << 0; // df
pub const NZ_ID: u32 = 1 << 1; // id+
pub const ZERO_ID: u32 = 1 << 2; // id-
pub const ECN: u32 = 1 << 3; // ecn
pub const NZ_MBZ: u32 = 1 << 4; // 0+
pub const FLOW: u32 = 1 << 5; // flow
pub const ZERO_SEQ: u32 = 1 << 6; // seq-
pub const NZ_ACK: u32 = 1 << 7; // ack+
pub const ZERO_ACK: u32 = 1 << 8; // ack-
pub const NZ_URG: u32 = 1 << 9; // uptr+
pub const URG_FLAG: u32 = 1 << 10; // urgf+
pub const PUSH: u32 = 1 << 11; // pushf+
pub const ZERO_TS1: u32 = 1 << 12; // ts1-
pub const NZ_TS2: u32 = 1 << 13; // ts2+
pub const EOL_NZ: u32 = 1 << 14; // opt+
pub const EXWS: u32 = 1 << 15; // exws
pub const OPT_BAD: u32 = 1 << 16; // bad

const QUIRK_NAMES: [(&str, u32); 17] = [
    ("df", DF),
    ("id+", NZ_ID),
    ("id-", ZERO_ID),
    ("ecn", ECN),
    ("0+", NZ_MBZ),
    ("flow", FLOW),
    ("seq-", ZERO_SEQ),
    ("ack+", NZ_ACK),
    ("ack-", ZERO_ACK),
    ("uptr+", NZ_URG),
    ("urgf+", URG_FLAG),
    ("pushf+", PUSH),
    ("ts1-", ZERO_TS1),
    ("ts2+", NZ_TS2),
    ("opt+", EOL_NZ),
    ("exws", EXWS),
    ("bad", OPT_BAD),
];

/// A `label = type:class:name:flavor` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// 'g': a last-resort signature, used only when no specific one matches.
    pub generic: bool,
    /// The OS family class ("unix", "win", ...) or "!" for applications.
    pub class: String,
    pub name: String,
    pub flavor: String,
    /// Its line in p0f.fp.
    pub line: u32,
}

impl Label {
    /// As p0f prints it: "Linux 3.x" (name and flavor).
    pub fn os(&self) -> String {
        if self.flavor.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.name, self.flavor)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    Any,
    Value(u16),
    /// `%N`: a multiple of N.
    Modulo(u16),
    /// `mss*N` / `mtu*N`.
    Mss(u16),
    Mtu(u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Sig {
    label: usize,
    /// 4 or 6, or None for `*`.
    version: Option<u8>,
    ttl: u8,
    /// `ttl-`: the sender draws TTLs at random, up to this.
    bad_ttl: bool,
    ip_opt_len: u8,
    mss: Option<u16>,
    window: Window,
    scale: Option<u8>,
    layout: Vec<u8>,
    eol_pad: u8,
    quirks: u32,
    /// Payload: Some(false) none, Some(true) some, None either.
    payload: Option<bool>,
}

/// The SYN+ACK signatures of a p0f.fp.
#[derive(Debug, Clone)]
pub struct P0fDb {
    pub labels: Vec<Label>,
    sigs: Vec<Sig>,
}

/// What p0f reads of one IPv4 SYN+ACK (its packet_data and tcp_sig).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub ttl: u8,
    pub ip_opt_len: u8,
    pub mss: u16,
    pub window: u16,
    pub scale: u8,
    /// Option kinds in order (EOL, NOP, MSS, WS, SACKOK, SACK, TS, or others).
    pub layout: Vec<u8>,
    pub eol_pad: u8,
    pub quirks: u32,
    pub payload: bool,
    /// IP and TCP header bytes.
    pub header_len: u16,
    pub ts1: u32,
}

/// Everything of an `Observed` that matching depends on (the timestamp only as zero or not):
/// equal keys, equal hints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchKey(u8, u8, u16, u16, u8, Vec<u8>, u8, u32, bool, u16, bool);

impl Observed {
    pub fn match_key(&self) -> MatchKey {
        MatchKey(
            self.ttl,
            self.ip_opt_len,
            self.mss,
            self.window,
            self.scale,
            self.layout.clone(),
            self.eol_pad,
            self.quirks,
            self.payload,
            self.header_len,
            self.ts1 != 0,
        )
    }
}

/// A hint: the label matched (if any) and the distance p0f concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    pub label: Option<usize>,
    pub fuzzy: bool,
    pub generic: bool,
    /// The label's TTL is a maximum: the distance is "at most".
    pub bad_ttl: bool,
    pub distance: u8,
}

fn num<T: std::str::FromStr>(s: &str, line: usize, what: &str) -> Result<T> {
    s.parse().map_err(|_| Error::InvalidOptions(format!("p0f.fp line {line}: bad {what} {s:?}")))
}

impl P0fDb {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::InvalidOptions(format!("cannot read p0f's signatures {} ({e}); install p0f, or give --p0f-db FILE", path.display()))
        })?;
        Self::parse(&text)
    }

    /// Reads the `[tcp:response]` section's labels and signatures, in file order.
    pub fn parse(text: &str) -> Result<Self> {
        let mut labels = Vec::new();
        let mut sigs = Vec::new();
        let mut in_section = false;
        let mut label: Option<usize> = None;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                in_section = line == "[tcp:response]";
                label = None;
                continue;
            }
            if !in_section {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(Error::InvalidOptions(format!("p0f.fp line {n}: no '=' in {line:?}")));
            };
            let value = value.trim();
            match key.trim() {
                "label" => {
                    let f: Vec<&str> = value.splitn(4, ':').collect();
                    if f.len() != 4 || !(f[0] == "s" || f[0] == "g") {
                        return Err(Error::InvalidOptions(format!("p0f.fp line {n}: bad label {value:?}")));
                    }
                    labels.push(Label { generic: f[0] == "g", class: f[1].into(), name: f[2].into(), flavor: f[3].into(), line: n as u32 });
                    label = Some(labels.len() - 1);
                }
                "sig" => {
                    let l = label.ok_or_else(|| Error::InvalidOptions(format!("p0f.fp line {n}: a signature before any label")))?;
                    sigs.push(parse_sig(value, l, n)?);
                }
                _ => {} // sys = ..., and other sections' keys
            }
        }
        Ok(P0fDb { labels, sigs })
    }

    /// p0f's tcp_find_match for a SYN+ACK; `syn_mss` is the MSS of the SYN it answers.
    pub fn match_response(&self, o: &Observed, syn_mss: u16) -> Hint {
        let (multi, use_mtu) = window_multiple(o, syn_mss);
        let mut fuzzy_match: Option<&Sig> = None;
        let mut generic_match: Option<&Sig> = None;
        for s in self.sigs.iter().filter(|s| s.layout == o.layout) {
            let mut fuzzy = false;
            let mut ref_quirks = s.quirks;
            if s.version.is_none() {
                ref_quirks &= !FLOW; // an IPv6-only quirk, for an IPv4 answer
            }
            if ref_quirks != o.quirks {
                let deleted = (ref_quirks ^ o.quirks) & ref_quirks;
                let added = (ref_quirks ^ o.quirks) & o.quirks;
                if fuzzy_match.is_some() || deleted & !(DF | NZ_ID) != 0 || added & !(ZERO_ID | ECN) != 0 {
                    continue;
                }
                fuzzy = true;
            }
            if s.eol_pad != o.eol_pad || s.ip_opt_len != o.ip_opt_len {
                continue;
            }
            if s.bad_ttl {
                if s.ttl < o.ttl {
                    continue;
                }
            } else if s.ttl < o.ttl || s.ttl - o.ttl > MAX_DIST {
                fuzzy = true;
            }
            if s.mss.is_some_and(|m| m != o.mss) || s.scale.is_some_and(|w| w != o.scale) || s.payload.is_some_and(|p| p != o.payload) {
                continue;
            }
            let window_ok = match s.window {
                Window::Any => true,
                Window::Value(w) => w == o.window,
                Window::Modulo(w) => o.window.is_multiple_of(w),
                Window::Mss(m) => !use_mtu && multi == Some(m),
                Window::Mtu(m) => use_mtu && multi == Some(m),
            };
            if !window_ok {
                continue;
            }
            let label = &self.labels[s.label];
            if !fuzzy {
                if !label.generic {
                    return Hint { label: Some(s.label), fuzzy: false, generic: false, bad_ttl: s.bad_ttl, distance: s.ttl - o.ttl };
                }
                generic_match.get_or_insert(s);
            } else {
                fuzzy_match.get_or_insert(s);
            }
        }
        if let Some(s) = generic_match {
            return Hint { label: Some(s.label), fuzzy: false, generic: true, bad_ttl: s.bad_ttl, distance: s.ttl.saturating_sub(o.ttl) };
        }
        match fuzzy_match {
            // no fuzzy matching for applications (p0f then leaves the distance at 0)
            Some(s) if self.labels[s.label].class == "!" => Hint { label: None, fuzzy: false, generic: false, bad_ttl: false, distance: 0 },
            Some(s) => {
                let far = s.ttl < o.ttl || (!s.bad_ttl && s.ttl - o.ttl > MAX_DIST);
                let distance = if far { guess_distance(o.ttl) } else { s.ttl - o.ttl };
                Hint { label: Some(s.label), fuzzy: true, generic: self.labels[s.label].generic, bad_ttl: s.bad_ttl, distance }
            }
            None => Hint { label: None, fuzzy: false, generic: false, bad_ttl: false, distance: guess_distance(o.ttl) },
        }
    }
}

/// p0f's guess_dist: hops down from the next usual initial TTL.
fn guess_distance(ttl: u8) -> u8 {
    match ttl {
        0..=32 => 32 - ttl,
        33..=64 => 64 - ttl,
        65..=128 => 128 - ttl,
        _ => 255 - ttl,
    }
}

/// p0f's detect_win_multi: the window as a multiple of the MSS (false) or the MTU (true).
fn window_multiple(o: &Observed, syn_mss: u16) -> (Option<u16>, bool) {
    let win = o.window as i32;
    let mss = o.mss as i32;
    if win == 0 || mss < 100 {
        return (None, false);
    }
    let mut candidates: Vec<(i32, bool)> = vec![(mss, false)];
    if o.ts1 != 0 {
        candidates.push((mss - 12, false));
    }
    // MSS for an MTU of 1500 (IPv4), with and without timestamps; then MTUs
    candidates.extend([(1460, false), (1448, false), (mss + 40, true), (mss + o.header_len as i32, true), (1500, true)]);
    if syn_mss != 0 {
        candidates.extend([(syn_mss as i32, false), (syn_mss as i32 - 12, false)]);
    }
    for (d, mtu) in candidates {
        if d != 0 && win % d == 0 {
            return (Some((win / d) as u16), mtu);
        }
    }
    (None, false)
}

fn parse_sig(v: &str, label: usize, n: usize) -> Result<Sig> {
    let bad = |what: &str| Error::InvalidOptions(format!("p0f.fp line {n}: bad {what} in {v:?}"));
    let f: Vec<&str> = v.split(':').collect();
    if f.len() != 8 {
        return Err(bad("signature"));
    }
    let version = match f[0] {
        "4" => Some(4),
        "6" => Some(6),
        "*" => None,
        _ => return Err(bad("IP version")),
    };
    let (ttl, bad_ttl) = if let Some(t) = f[1].strip_suffix('-') {
        (num::<u8>(t, n, "TTL")?, true)
    } else if let Some((t, add)) = f[1].split_once('+') {
        let t = num::<u16>(t, n, "TTL")? + num::<u16>(add, n, "TTL")?;
        (u8::try_from(t).map_err(|_| bad("TTL"))?, false)
    } else {
        (num::<u8>(f[1], n, "TTL")?, false)
    };
    let ip_opt_len = num::<u8>(f[2], n, "IP option length")?;
    let mss = if f[3] == "*" { None } else { Some(num::<u16>(f[3], n, "MSS")?) };
    let (w, scale) = f[4].split_once(',').ok_or_else(|| bad("window"))?;
    let window = if w == "*" {
        Window::Any
    } else if let Some(m) = w.strip_prefix('%') {
        Window::Modulo(num(m, n, "window")?)
    } else if let Some(m) = w.strip_prefix("mss*") {
        Window::Mss(num(m, n, "window")?)
    } else if let Some(m) = w.strip_prefix("mtu*") {
        Window::Mtu(num(m, n, "window")?)
    } else {
        Window::Value(num(w, n, "window")?)
    };
    let scale = if scale == "*" { None } else { Some(num::<u8>(scale, n, "window scale")?) };
    let mut layout = Vec::new();
    let mut eol_pad = 0;
    for o in f[5].split(',').filter(|o| !o.is_empty()) {
        layout.push(match o {
            "nop" => 1,
            "mss" => 2,
            "ws" => 3,
            "sok" => 4,
            "sack" => 5,
            "ts" => 8,
            _ if o.starts_with("eol+") => {
                eol_pad = num(&o[4..], n, "EOL padding")?;
                0
            }
            _ if o.starts_with('?') => num(&o[1..], n, "option")?,
            _ => return Err(bad("option")),
        });
    }
    let mut quirks = 0;
    for q in f[6].split(',').filter(|q| !q.is_empty()) {
        quirks |= QUIRK_NAMES.iter().find(|(name, _)| *name == q).ok_or_else(|| bad("quirk"))?.1;
    }
    let payload = match f[7] {
        "*" => None,
        "0" => Some(false),
        "+" => Some(true),
        _ => return Err(bad("payload class")),
    };
    Ok(Sig { label, version, ttl, bad_ttl, ip_opt_len, mss, window, scale, layout, eol_pad, quirks, payload })
}

/// What p0f reads of an IPv4 SYN+ACK datagram (process.c's parse_packet); None for anything
/// else or anything p0f would not read (fragments, silly flags, truncated headers).
pub fn observe(datagram: &[u8]) -> Option<Observed> {
    let ip = Ip::new(datagram)?;
    let total = ip.total_len() as usize;
    if total > datagram.len() || total < 40 || ip.header_len() + 20 > total || ip.protocol() != super::wire::PROTO_TCP {
        return None;
    }
    let flags_off = u16::from_be_bytes([ip.raw()[6], ip.raw()[7]]);
    if flags_off & !0xc000 != 0 {
        return None; // a fragment
    }
    let mut quirks = 0;
    if ip.tos() & 0x03 != 0 {
        quirks |= ECN;
    }
    if flags_off & 0x8000 != 0 {
        quirks |= NZ_MBZ;
    }
    if ip.df() {
        quirks |= DF;
        if ip.id() != 0 {
            quirks |= NZ_ID;
        }
    } else if ip.id() == 0 {
        quirks |= ZERO_ID;
    }
    let seg = &datagram[ip.header_len()..total];
    let tcp = Tcp::new(seg)?;
    let f = tcp.flags();
    if f & (SYN | ACK | RST | 0x01) != SYN | ACK {
        return None;
    }
    if f & (ECE | CWR) != 0 || seg[12] & 0x01 != 0 {
        quirks |= ECN;
    }
    if tcp.seq() == 0 {
        quirks |= ZERO_SEQ;
    }
    if tcp.ack() == 0 {
        quirks |= ZERO_ACK;
    }
    if f & URG != 0 {
        quirks |= URG_FLAG;
    } else if tcp.urgent() != 0 {
        quirks |= NZ_URG;
    }
    if f & PSH != 0 {
        quirks |= PUSH;
    }
    let opts = tcp.options();
    let mut o = Observed {
        ttl: ip.ttl(),
        ip_opt_len: (ip.header_len() - 20) as u8,
        mss: 0,
        window: tcp.window(),
        scale: 0,
        layout: Vec::new(),
        eol_pad: 0,
        quirks,
        payload: seg.len() > tcp.header_len(),
        header_len: (ip.header_len() + tcp.header_len()) as u16,
        ts1: 0,
    };
    let mut i = 0;
    let mut ok = true;
    const MAX_TCP_OPT: usize = 24;
    while i < opts.len() && o.layout.len() < MAX_TCP_OPT {
        let kind = opts[i];
        o.layout.push(kind);
        i += 1;
        let len = opts.get(i).copied();
        match kind {
            0 => {
                o.eol_pad = (opts.len() - i) as u8;
                if opts[i..].iter().any(|&b| b != 0) {
                    o.quirks |= EOL_NZ;
                }
                i = opts.len();
            }
            1 => {}
            2 | 3 | 4 | 8 => {
                let (want, need) = match kind {
                    2 => (4, 3),
                    3 => (3, 2),
                    4 => (2, 1),
                    _ => (10, 9),
                };
                if len != Some(want) {
                    o.quirks |= OPT_BAD;
                }
                if i + need > opts.len() {
                    ok = false;
                    break;
                }
                match kind {
                    2 => o.mss = u16::from_be_bytes([opts[i + 1], opts[i + 2]]),
                    3 => {
                        o.scale = opts[i + 1];
                        if o.scale > 14 {
                            o.quirks |= EXWS;
                        }
                    }
                    8 => {
                        o.ts1 = u32::from_be_bytes([opts[i + 1], opts[i + 2], opts[i + 3], opts[i + 4]]);
                        if o.ts1 == 0 {
                            o.quirks |= ZERO_TS1;
                        }
                    }
                    _ => {}
                }
                i += need;
            }
            _ => {
                // SACK (10-34 bytes) and unknown options (2-40) by their length
                let (lo, hi) = if kind == 5 { (10, 34) } else { (2, 40) };
                match len {
                    Some(l) if (lo..=hi).contains(&l) && i - 1 + l as usize <= opts.len() => i += l as usize - 1,
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
        }
    }
    if !ok || i != opts.len() {
        o.quirks |= OPT_BAD;
    }
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "; p0f.fp excerpt
[tcp:request]
label = s:unix:Linux:3.11 and newer
sig   = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0

[tcp:response]
label = s:unix:Linux:3.x
sig   = *:64:0:*:mss*10,0:mss:df:0
sig   = *:64:0:*:mss*10,*:mss,sok,ts,nop,ws:df:0

label = g:unix:Linux:2.4-2.6
sig   = *:64:0:*:mss*44,0:mss:df:0

label = s:win:Windows:XP
sig   = *:128:0:*:%8192,0:mss:df,id+:0
";

    /// A SYN+ACK from 198.18.24.2: TTL, DF, IP ID, window, TCP options.
    fn synack(ttl: u8, df: bool, id: u16, window: u16, opts: &[u8]) -> Vec<u8> {
        let tcp_len = 20 + opts.len();
        let mut p = vec![
            0x45,
            0,
            0,
            (20 + tcp_len) as u8,
            (id >> 8) as u8,
            id as u8,
            if df { 0x40 } else { 0 },
            0,
            ttl,
            6,
            0,
            0,
            198,
            18,
            24,
            2,
            198,
            18,
            24,
            1,
        ];
        p.extend_from_slice(&[0, 22, 0x9c, 0x40, 0, 0, 0, 1, 0, 0, 0, 2, ((tcp_len / 4) as u8) << 4, 0x12]);
        p.extend_from_slice(&window.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0]);
        p.extend_from_slice(opts);
        p
    }

    #[test]
    fn reads_only_the_response_section() {
        let db = P0fDb::parse(FP).unwrap();
        assert_eq!(db.labels.len(), 3);
        assert_eq!(db.labels[0].os(), "Linux 3.x");
        assert!(db.labels[1].generic);
        assert_eq!(db.sigs.len(), 4);
        assert!(P0fDb::parse("[tcp:response]\nsig = *:64:0:*:1,0:mss:df:0\n").is_err(), "a signature without a label");
        assert!(P0fDb::parse("[tcp:response]\nlabel = s:unix:X:1\nsig = *:64:0:*:1,0:mss:what:0\n").is_err());
    }

    #[test]
    fn matches_exactly_generically_and_fuzzily() {
        let db = P0fDb::parse(FP).unwrap();
        let mss1460 = [2, 4, 0x05, 0xb4];
        // window 14600 = 10 × 1460: Linux 3.x, three hops
        let o = observe(&synack(61, true, 0, 14600, &mss1460)).unwrap();
        assert_eq!((o.mss, o.layout.clone(), o.quirks), (1460, vec![2], DF));
        assert_eq!(db.match_response(&o, 1460), Hint { label: Some(0), fuzzy: false, generic: false, bad_ttl: false, distance: 3 });
        // 44 × MSS: only the generic label
        let o = observe(&synack(64, true, 0, 64240, &mss1460)).unwrap();
        assert_eq!(db.match_response(&o, 1460), Hint { label: Some(1), fuzzy: false, generic: true, bad_ttl: false, distance: 0 });
        // DF lost: fuzzy
        let o = observe(&synack(64, false, 7, 14600, &mss1460)).unwrap();
        assert_eq!(db.match_response(&o, 1460), Hint { label: Some(0), fuzzy: true, generic: false, bad_ttl: false, distance: 0 });
        // Windows: a multiple of 8192, id+ kept
        let o = observe(&synack(120, true, 99, 8192 * 7, &mss1460)).unwrap();
        assert_eq!(db.match_response(&o, 1460).label, Some(2));
        // nothing: the distance is guessed
        let o = observe(&synack(250, true, 0, 1000, &mss1460)).unwrap();
        assert_eq!(db.match_response(&o, 1460), Hint { label: None, fuzzy: false, generic: false, bad_ttl: false, distance: 5 });
    }

    #[test]
    fn reads_options_and_quirks_as_p0f() {
        let linux = [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];
        let o = observe(&synack(64, true, 0, 65160, &linux)).unwrap();
        assert_eq!((o.layout.clone(), o.scale, o.ts1, o.quirks), (vec![2, 4, 8, 1, 3], 7, 1, DF));
        // EOL with padding that is not all zero; a zero IP ID without DF
        let o = observe(&synack(64, false, 0, 1, &[2, 4, 5, 0xb4, 0, 0, 1, 0])).unwrap();
        assert_eq!((o.layout.clone(), o.eol_pad), (vec![2, 0], 3));
        assert_eq!(o.quirks, ZERO_ID | EOL_NZ);
        // a truncated MSS option
        let o = observe(&synack(64, true, 0, 1, &[1, 1, 1, 2])).unwrap();
        assert!(o.quirks & OPT_BAD != 0);
        // not a SYN+ACK
        let mut rst = synack(64, true, 0, 0, &[]);
        rst[33] = 0x14;
        assert!(observe(&rst).is_none());
    }

    #[test]
    fn agrees_with_p0f_on_the_os_labs_answers() {
        // p0f 3.09b's verdicts (p0f -r) on the OS lab's SYN+ACKs to a ferroscan SYN (MSS 1460)
        let path = Path::new(DEFAULT_PATH);
        if !path.exists() {
            eprintln!("skipped: {DEFAULT_PATH} is not installed");
            return;
        }
        let db = P0fDb::load(path).unwrap();
        let mss1460 = [2, 4, 0x05, 0xb4];
        let verdict = |ttl: u8, window: u16| {
            let h = db.match_response(&observe(&synack(ttl, true, 0, window, &mss1460)).unwrap(), 1460);
            (h.label.map(|l| db.labels[l].os()), h.fuzzy, h.distance)
        };
        assert_eq!(verdict(64, 64240), (None, false, 0), "raw_sig=4:64+0:0:1460:mss*44,0:mss:df:0");
        assert_eq!(verdict(128, 64240), (None, false, 0));
        assert_eq!(verdict(63, 64240), (None, false, 1));
        assert_eq!(verdict(64, 2920), (None, false, 0), "mss*2");
        assert_eq!(verdict(255, 65535), (Some("Windows XP".into()), true, 0));
    }
}
