//! Matches a fingerprint in nmap's text form (read from stdin) against nmap-os-db and prints
//! the ranked guesses as nmap's "Aggressive OS guesses" line would: a development aid.
//!   cargo run -p ferroscan-core --example osmatch < fp.txt

use ferroscan_core::os::db::{OsDb, DEFAULT_PATH};
use ferroscan_core::os::fingerprint::{parse, Fingerprint};
use ferroscan_core::os::matcher::{Matcher, GUESS_THRESHOLD};
use std::io::Read;

fn main() {
    let mut text = String::new();
    if std::io::stdin().read_to_string(&mut text).is_err() {
        eprintln!("osmatch: cannot read stdin");
        std::process::exit(1);
    }
    let path = std::env::var("OSDB").unwrap_or_else(|_| DEFAULT_PATH.to_string());
    let t0 = std::time::Instant::now();
    let db = match OsDb::load(std::path::Path::new(&path)) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("osmatch: {e}");
            std::process::exit(1);
        }
    };
    let tests = match parse(&text) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("osmatch: {e}");
            std::process::exit(1);
        }
    };
    let loaded = t0.elapsed();
    let fp = Fingerprint { tests };
    let mut matcher = Matcher::new(&db);
    let t1 = std::time::Instant::now();
    let n = std::env::var("REPEAT").ok().and_then(|r| r.parse().ok()).unwrap_or(1u32);
    let mut m = matcher.best(&fp, GUESS_THRESHOLD);
    for _ in 1..n {
        m = matcher.best(&fp, GUESS_THRESHOLD);
    }
    eprintln!("loaded in {:.1} ms; {n} matches in {:.1} ms", loaded.as_secs_f64() * 1e3, t1.elapsed().as_secs_f64() * 1e3);
    println!("{:?} perfect={}", m.outcome, m.perfect);
    for e in m.entries.iter().take(12) {
        println!("{} ({:.0}%) {}", db.prints[e.print].name, (e.accuracy * 100.0).floor(), e.accuracy);
    }
}
