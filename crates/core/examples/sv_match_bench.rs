//! Matching benchmark (benches/sv-match.sh runs it): how many responses that match
//! nothing one core can test against the whole probe database (every match line of every
//! probe, through each probe's prefilter), and the same without the prefilter.
//! `cargo run --release --example sv_match_bench -- [N] [DB]`

use ferroscan_core::service::{Db, DEFAULT_DB};
use std::time::Instant;

/// A small deterministic generator (xorshift), so every run tests the same responses.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Responses of the kinds unknown services send: text banners, HTTP-like lines with an
/// unknown protocol word, binary records, and random bytes; 16 to 512 bytes.
fn responses(n: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let words: [&[u8]; 12] =
        [b"ready", b"service", b"welcome", b"hello", b"status", b"version", b"node", b"cluster", b"ok", b"token", b"session", b"queue"];
    (0..n)
        .map(|i| {
            let len = 16 + (rng.next() % 497) as usize;
            let mut v = Vec::with_capacity(len);
            match i % 4 {
                0 => {
                    v.extend_from_slice(b"ZQX");
                    while v.len() < len {
                        v.push(b' ');
                        v.extend_from_slice(words[(rng.next() % 12) as usize]);
                    }
                    v.extend_from_slice(b"\r\n");
                }
                1 => {
                    v.extend_from_slice(b"QRPC/3.1 ");
                    v.extend_from_slice(format!("{} ", 100 + rng.next() % 500).as_bytes());
                    while v.len() < len {
                        v.extend_from_slice(words[(rng.next() % 12) as usize]);
                        v.extend_from_slice(b": x\r\n");
                    }
                }
                2 => {
                    v.extend_from_slice(&[0xfa, 0xce, (len >> 8) as u8, len as u8]);
                    while v.len() < len {
                        v.push((rng.next() % 7) as u8);
                    }
                }
                _ => {
                    while v.len() < len {
                        v.push(rng.next() as u8);
                    }
                }
            }
            v
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let path = args.next().unwrap_or_else(|| DEFAULT_DB.to_string());
    let t0 = Instant::now();
    let db = match Db::load(std::path::Path::new(&path)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("sv_match_bench: {e}");
            std::process::exit(1);
        }
    };
    let load = t0.elapsed();
    let lines = db.match_count();
    let (mut always, mut prefix, mut inner) = (0, 0, 0);
    for p in &db.probes {
        let (a, b, c) = p.prefilter.shape();
        always += a;
        prefix += b;
        inner += c;
    }
    let mut scratch = Vec::new();
    // keep only responses that match no line at all: the unknown service's case
    let matches_any = |r: &[u8], scratch: &mut Vec<u32>| {
        db.probes.iter().any(|p| {
            p.prefilter.candidates(r, scratch);
            scratch.iter().any(|&c| p.matches[c as usize].pattern.is_match(r))
        })
    };
    let mut resp = Vec::with_capacity(n);
    let mut generated = 0;
    for r in responses(4 * n) {
        generated += 1;
        if !matches_any(&r, &mut scratch) {
            resp.push(r);
            if resp.len() == n {
                break;
            }
        }
    }
    if std::env::var("SV_DEBUG").is_ok() {
        for r in resp.iter().take(8) {
            println!("{:?}", debug_matches(&db, r));
        }
    }
    let n = resp.len();
    // with the prefilter
    let t = Instant::now();
    let mut matched = 0usize;
    let mut regex_runs = 0usize;
    for r in &resp {
        let mut any = false;
        for p in &db.probes {
            p.prefilter.candidates(r, &mut scratch);
            regex_runs += scratch.len();
            if scratch.iter().any(|&c| p.matches[c as usize].pattern.is_match(r)) {
                any = true;
            }
        }
        matched += any as usize;
    }
    let with = t.elapsed();
    // without: every pattern on every response (a sample, it is slow)
    let sample = (n / 20).max(100).min(n);
    let t = Instant::now();
    let mut matched_all = 0usize;
    for r in &resp[..sample] {
        let mut any = false;
        for p in &db.probes {
            if p.matches.iter().any(|m| m.pattern.is_match(r)) {
                any = true;
            }
        }
        matched_all += any as usize;
    }
    let without = t.elapsed();
    println!("database: {path}: {} probes, {lines} match lines, loaded and compiled in {:.2}s", db.probes.len(), load.as_secs_f64());
    println!("responses: {n} that match no line, out of {generated} generated (16-512 bytes: text banners, header-like text, binary records, random)");
    println!("prefilter: {prefix} by literal prefix, {inner} by inner literal, {always} always run");
    println!(
        "with prefilter: {n} responses in {:.3}s = {:.0} responses/s on one core ({:.1} regex runs per response, {matched} matched something)",
        with.as_secs_f64(),
        n as f64 / with.as_secs_f64(),
        regex_runs as f64 / n as f64,
    );
    println!(
        "without prefilter: {sample} responses in {:.3}s = {:.0} responses/s on one core ({matched_all} matched something)",
        without.as_secs_f64(),
        sample as f64 / without.as_secs_f64()
    );
}

fn debug_matches(db: &Db, r: &[u8]) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for p in &db.probes {
        for m in &p.matches {
            if m.pattern.is_match(r) {
                out.push((p.name.clone(), m.line, m.service.clone()));
            }
        }
    }
    out
}
