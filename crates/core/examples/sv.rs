//! A bare -sV run from Rust, for trying the engine without the CLI:
//! `cargo run --release --example sv -- [--intensity N] [--trace] [--db FILE] ADDR:PORT[/udp] ...`
//! Prints one line per port: name, product, version, extrainfo, host/os/device, CPEs, state.

use ferroscan_core::service::{self, Db, Job, Options, Proto};
use std::sync::{atomic::AtomicBool, Arc};

fn main() {
    let mut opts = Options::default();
    let mut db_path = service::DEFAULT_DB.to_string();
    let mut jobs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--intensity" => opts.intensity = args.next().and_then(|v| v.parse().ok()).unwrap_or(7),
            "--trace" => opts.trace = true,
            "--allports" => opts.all_ports = true,
            "--db" => db_path = args.next().unwrap_or_default(),
            t => {
                let (t, proto) = match t.strip_suffix("/udp") {
                    Some(x) => (x, Proto::Udp),
                    None => (t.strip_suffix("/tcp").unwrap_or(t), Proto::Tcp),
                };
                let Ok(sa) = t.parse::<std::net::SocketAddr>() else {
                    eprintln!("sv: not ADDR:PORT: {t}");
                    std::process::exit(2);
                };
                jobs.push(Job { addr: sa.ip(), port: sa.port(), proto });
            }
        }
    }
    let db = match Db::load(std::path::Path::new(&db_path)) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            eprintln!("sv: {e}");
            std::process::exit(1);
        }
    };
    let start = std::time::Instant::now();
    let r = service::detect(db, &jobs, &opts, Arc::new(AtomicBool::new(false)), &mut |i, r| {
        for l in &r.trace {
            println!("{l}");
        }
        let j = jobs[i];
        println!(
            "{}/{} {}{} | {} | {} | {} | h={} o={} d={} | {} | {:?} {} conf={}",
            j.port,
            if j.proto == Proto::Tcp { "tcp" } else { "udp" },
            if r.ssl { "ssl/" } else { "" },
            r.name.as_deref().unwrap_or("-"),
            r.product.as_deref().unwrap_or(""),
            r.version.as_deref().unwrap_or(""),
            r.extrainfo.as_deref().unwrap_or(""),
            r.hostname.as_deref().unwrap_or(""),
            r.ostype.as_deref().unwrap_or(""),
            r.devicetype.as_deref().unwrap_or(""),
            r.cpe.join(" "),
            r.state,
            r.method,
            r.conf
        );
        if let Some(fp) = &r.fingerprint {
            println!("{fp}");
        }
    });
    if let Err(e) = r {
        eprintln!("sv: {e}");
        std::process::exit(1);
    }
    eprintln!("sv: {} ports in {:.2}s", jobs.len(), start.elapsed().as_secs_f64());
}
