//! Runs OS detection from the command line, without the CLI: a development aid.
//!   osdetect ADDR[:OPEN[:CLOSED[:CLOSED_UDP]]]...   (root; lab addresses only)
//! Prints each host's merged fingerprint, its guesses and the time taken.

use ferroscan_core::os::db::{SharedDb, DEFAULT_PATH};
use ferroscan_core::os::fingerprint::{format, merge, ScanInfo};
use ferroscan_core::os::prober::{detect, OsConfig, OsTarget};
use std::sync::atomic::AtomicBool;

fn main() {
    let mut targets = Vec::new();
    for a in std::env::args().skip(1) {
        let f: Vec<&str> = a.split(':').collect();
        let port = |i: usize| f.get(i).and_then(|p| p.parse::<u16>().ok());
        let Ok(addr) = f[0].parse() else {
            eprintln!("osdetect: bad address {a}");
            std::process::exit(1);
        };
        targets.push(OsTarget {
            addr,
            open_tcp: port(1),
            closed_tcp: port(2),
            unfiltered_tcp: None,
            closed_udp: port(3),
            unfiltered_udp: None,
        });
    }
    // read while the first try runs, as the CLI does
    let shared = SharedDb::load(std::env::var("OSDB").unwrap_or_else(|_| DEFAULT_PATH.into()).into()).unwrap_or_else(|e| {
        eprintln!("osdetect: {e}");
        std::process::exit(1)
    });
    let mut cfg = OsConfig::new(targets);
    if let Ok(g) = std::env::var("GAP_MS") {
        cfg.gap = std::time::Duration::from_millis(g.parse().unwrap_or(5));
    }
    if let Ok(t) = std::env::var("MAX_TRIES") {
        cfg.max_tries = t.parse().unwrap_or(5);
    }
    if std::env::var("SERIAL").is_ok() {
        cfg.overlap_tries = false;
    }
    let t0 = std::time::Instant::now();
    let run = detect(&cfg, &shared, &AtomicBool::new(false)).unwrap_or_else(|e| {
        eprintln!("osdetect: {e}");
        std::process::exit(1)
    });
    let db = shared.wait().unwrap_or_else(|e| {
        eprintln!("osdetect: {e}");
        std::process::exit(1)
    });
    eprintln!("{} hosts in {:.3} s, {} sent, {} received", run.hosts.len(), t0.elapsed().as_secs_f64(), run.sent, run.received);
    for h in &run.hosts {
        println!(
            "== {} tries={} distance={:?} reason={:?} ratio={:.3} err={:?}",
            h.addr,
            h.tries.len(),
            h.distance,
            h.omit_reason,
            h.max_timing_ratio,
            h.error
        );
        let scan = ScanInfo {
            version: cfg.version.clone(),
            month: h.month,
            day: h.day,
            open_tcp: h.open_tcp,
            closed_tcp: h.closed_tcp,
            closed_udp: h.closed_udp,
            private: h.private,
            distance: h.distance,
            method: h.method,
            mac_prefix: h.mac.map(|m| [m[0], m[1], m[2]]),
            time: h.time,
            platform: cfg.platform.clone(),
        };
        print!("{}", format(&scan.line(true), &merge(h.tries.iter()), true));
        for e in h.matches.entries.iter().take(10) {
            println!("  {} ({:.0}%)", db.prints[e.print].name, (e.accuracy * 100.0).floor());
        }
        for w in &h.warnings {
            println!("  ! {w}");
        }
    }
}
