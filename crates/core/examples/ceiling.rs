//! The lab's limits, measured by a minimal sender built from ferroscan-core's own pieces
//! (TcpTemplate, PacketSocket with sendmmsg + PACKET_QDISC_BYPASS, CookieKey):
//!
//!   send   (a) raw send ceiling: SYNs flat out to a port whose SYNs the target drops in its
//!              raw table (rule added in the target namespace for the run, then removed);
//!              counts packets the kernel took.
//!   loop   (b) full-loop ceiling: valid SYNs to the range that answers (198.19.0.0/16:80);
//!              a second thread counts cookie-valid SYN/ACKs on a packet socket; the
//!              scanner's kernel answers each SYN/ACK with a RST as usual.
//!   norst  (c) as (b), with the scanner's kernel kept out: a raw-table PREROUTING DROP of
//!              SYN/ACKs to the sender's source ports in the scanner namespace (added for the
//!              run, always removed; the packet socket still sees them, taps come first).
//!
//! Run it INSIDE the lab's scanner namespace only:
//!   ip netns exec fs<ID>-scan target/release/examples/ceiling --iface veth0 \
//!     --dst-mac <LAB_TARGET_MAC> --target-ns fs<ID>-tgt [--seconds 3] [--modes send,loop,norst]
//! Prints one `CEILING mode=... sent_pps=... answered_pps=...` line per mode.
//!
//! Safety: every destination must lie in 198.18.0.0/15 (checked at start and per probe);
//! the source too. The binary refuses to run where a default route exists.

use ferroscan_core::cookie::CookieKey;
use ferroscan_core::net::route::parse_mac;
use ferroscan_core::net::socket::{Direction, PacketSocket};
use ferroscan_core::packet::template::{Probe, TcpTemplate, FRAME_LEN};
use pnet_base::MacAddr;
use std::net::Ipv4Addr;
use std::process::{exit, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LAB_NET: u32 = 0xC612_0000; // 198.18.0.0
const LAB_MASK: u32 = 0xFFFE_0000; // /15
const SPORT_LO: u16 = 40000;
const SPORT_N: u32 = 20000; // source ports 40000..=59999
const BATCH: usize = 64;
/// Probe indices deduplicated by the reply counter (a 32 MiB bitmap).
const MAX_IDX: u64 = 1 << 28;

#[inline]
fn in_lab(a: Ipv4Addr) -> bool {
    u32::from(a) & LAB_MASK == LAB_NET
}

fn die(msg: &str) -> ! {
    eprintln!("ceiling: {msg}");
    exit(2)
}

struct Opts {
    iface: String,
    src: Ipv4Addr,
    dst_mac: MacAddr,
    target_ns: Option<String>,
    net: u32,
    prefix: u32,
    port: u16,
    drop_port: u16,
    seconds: f64,
    drain: f64,
    modes: Vec<String>,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        iface: "veth0".into(),
        src: Ipv4Addr::new(198, 18, 0, 1),
        dst_mac: MacAddr::zero(),
        target_ns: None,
        net: u32::from(Ipv4Addr::new(198, 19, 0, 0)),
        prefix: 16,
        port: 80,
        drop_port: 9,
        seconds: 3.0,
        drain: 0.5,
        modes: vec!["send".into(), "loop".into(), "norst".into()],
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let mut have_mac = false;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_else(|| die(&format!("{} needs a value", args[i])));
        match args[i].as_str() {
            "--iface" => o.iface = v,
            "--src" => o.src = v.parse().unwrap_or_else(|_| die("bad --src")),
            "--dst-mac" => {
                o.dst_mac = parse_mac(&v).unwrap_or_else(|| die("bad --dst-mac"));
                have_mac = true
            }
            "--target-ns" => o.target_ns = Some(v),
            "--target" => {
                let (a, p) = v.split_once('/').unwrap_or((&v, "32"));
                let a: Ipv4Addr = a.parse().unwrap_or_else(|_| die("bad --target"));
                let p: u32 = p.parse().ok().filter(|p| (15..=32).contains(p)).unwrap_or_else(|| die("bad --target prefix (15..32)"));
                o.net = u32::from(a) & (u32::MAX << (32 - p));
                o.prefix = p;
            }
            "--port" => o.port = v.parse().unwrap_or_else(|_| die("bad --port")),
            "--drop-port" => o.drop_port = v.parse().unwrap_or_else(|_| die("bad --drop-port")),
            "--seconds" => o.seconds = v.parse().unwrap_or_else(|_| die("bad --seconds")),
            "--drain" => o.drain = v.parse().unwrap_or_else(|_| die("bad --drain")),
            "--modes" => o.modes = v.split(',').map(str::to_string).collect(),
            other => die(&format!("unknown option {other}")),
        }
        i += 2;
    }
    if !have_mac {
        die("--dst-mac is required (the target's veth MAC, LAB_TARGET_MAC)");
    }
    // Hard safety checks: the whole target range and the source inside 198.18.0.0/15.
    let last = o.net | (u32::MAX >> o.prefix);
    if !in_lab(Ipv4Addr::from(o.net)) || !in_lab(Ipv4Addr::from(last)) {
        die("refusing: destinations must lie inside 198.18.0.0/15");
    }
    if !in_lab(o.src) {
        die("refusing: the source must lie inside 198.18.0.0/15");
    }
    for m in &o.modes {
        if !["send", "loop", "norst"].contains(&m.as_str()) {
            die(&format!("unknown mode {m} (send, loop, norst)"));
        }
    }
    o
}

/// Refuses to run in a namespace with a default route (i.e. anywhere but the lab).
fn check_namespace() {
    let t = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    for line in t.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 7 && f[1] == "00000000" && f[7] == "00000000" {
            die("refusing: this network namespace has a default route; run inside the lab's scanner namespace");
        }
    }
}

/// An iptables rule that exists while this value lives (removed on drop, also on panic).
struct Rule {
    ns: Option<String>,
    spec: Vec<String>,
}

fn iptables(ns: &Option<String>, op: &str, spec: &[String]) -> bool {
    let mut c = match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "iptables"]);
            c
        }
        None => Command::new("iptables"),
    };
    c.arg("-w").args(["-t", "raw", op, "PREROUTING"]).args(spec);
    if op == "-D" {
        c.stderr(std::process::Stdio::null()); // the last -D of the removal loop fails by design
    }
    matches!(c.status(), Ok(s) if s.success())
}

impl Rule {
    fn add(ns: Option<String>, spec: &[&str]) -> Rule {
        let spec: Vec<String> = spec.iter().map(|s| s.to_string()).collect();
        if !iptables(&ns, "-I", &spec) {
            die(&format!("could not add iptables rule {:?} in {:?}", spec, ns));
        }
        Rule { ns, spec }
    }
}

impl Drop for Rule {
    fn drop(&mut self) {
        while iptables(&self.ns, "-D", &self.spec) {}
    }
}

struct Outcome {
    sent: u64,
    send_secs: f64,
    answered_in_window: u64,
    answered_total: u64,
}

fn run(o: &Opts, dport: u16, count_replies: bool) -> Outcome {
    let src_mac = std::fs::read_to_string(format!("/sys/class/net/{}/address", o.iface))
        .ok()
        .and_then(|s| parse_mac(s.trim()))
        .unwrap_or_else(|| die("cannot read the interface's MAC"));
    let tx = PacketSocket::open(&o.iface, 0).unwrap_or_else(|e| die(&format!("{e}")));
    tx.bypass_qdisc();
    let key = CookieKey::random();
    let tpl = TcpTemplate::syn(src_mac, o.src, 64, 1024);

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let rx_thread = count_replies.then(|| {
        let rx = PacketSocket::open(&o.iface, libc::ETH_P_IP as u16).unwrap_or_else(|e| die(&format!("{e}")));
        rx.grow_receive_buffer(64 << 20);
        rx.set_receive_timeout(Duration::from_millis(50)).unwrap_or_else(|e| die(&format!("{e}")));
        let (stop, answered, src, net) = (stop.clone(), answered.clone(), o.src, o.net);
        let span = 1u64 << (32 - o.prefix);
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut n_ok = 0u64;
            // distinct answers only: the target retransmits SYN/ACKs nobody RSTs (mode norst)
            let mut seen = vec![0u64; (MAX_IDX / 64) as usize];
            while !stop.load(Ordering::Relaxed) {
                let Ok(Some((n, dir))) = rx.recv(&mut buf) else { continue };
                if dir != Direction::Incoming || n < 14 + 20 + 20 {
                    continue;
                }
                let f = &buf[..n];
                if f[12..14] != [0x08, 0x00] || f[14 + 9] != 6 {
                    continue;
                }
                let ihl = ((f[14] & 0x0f) as usize) * 4;
                let t = 14 + ihl;
                if n < t + 20 || f[t + 13] & 0x12 != 0x12 {
                    continue; // not a SYN/ACK
                }
                let rs = Ipv4Addr::new(f[26], f[27], f[28], f[29]);
                let rd = Ipv4Addr::new(f[30], f[31], f[32], f[33]);
                let rsport = u16::from_be_bytes([f[t], f[t + 1]]);
                let rdport = u16::from_be_bytes([f[t + 2], f[t + 3]]);
                let ack = u32::from_be_bytes([f[t + 8], f[t + 9], f[t + 10], f[t + 11]]);
                if rd == src && key.check(src, rdport, rs, rsport, ack.wrapping_sub(1), 0).is_some() {
                    let off = (u32::from(rs).wrapping_sub(net) as u64) & (span - 1);
                    let i = (rdport.wrapping_sub(SPORT_LO) as u64) * span + off;
                    if i < MAX_IDX {
                        let (w, b) = ((i / 64) as usize, 1u64 << (i % 64));
                        if seen[w] & b != 0 {
                            continue;
                        }
                        seen[w] |= b;
                    }
                    n_ok += 1;
                    answered.store(n_ok, Ordering::Relaxed);
                }
            }
        })
    });

    let mut frames = vec![[0u8; FRAME_LEN]; BATCH];
    let span = 1u64 << (32 - o.prefix);
    let mut idx = 0u64;
    let mut sent = 0u64;
    let t0 = Instant::now();
    let deadline = Duration::from_secs_f64(o.seconds);
    let answered_in_window = loop {
        for fr in frames.iter_mut() {
            let dst = Ipv4Addr::from(o.net + (idx % span) as u32);
            // per-probe hard check, never relaxed
            if !in_lab(dst) {
                die("refusing: a destination outside 198.18.0.0/15");
            }
            let sport = SPORT_LO + ((idx / span) % SPORT_N as u64) as u16;
            let seq = key.seq(o.src, sport, dst, dport, 0);
            tpl.write(&Probe { dst_mac: o.dst_mac, dst, dport, sport, seq, ip_id: idx as u16 }, fr);
            idx += 1;
        }
        let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
        sent += tx.send_batch(&refs).unwrap_or_else(|e| die(&format!("{e}"))) as u64;
        if t0.elapsed() >= deadline {
            break answered.load(Ordering::Relaxed);
        }
    };
    let send_secs = t0.elapsed().as_secs_f64();
    if let Some(h) = rx_thread {
        std::thread::sleep(Duration::from_secs_f64(o.drain));
        stop.store(true, Ordering::Relaxed);
        let _ = h.join();
    }
    Outcome { sent, send_secs, answered_in_window, answered_total: answered.load(Ordering::Relaxed) }
}

fn main() {
    let o = parse_args();
    check_namespace();
    for m in o.modes.clone() {
        let (out, note) = match m.as_str() {
            "send" => {
                // The target drops these SYNs in its raw table; without --target-ns it answers
                // them with RSTs (closed port), which only costs the sender's core less.
                let _rule = o.target_ns.clone().map(|ns| {
                    let dp = o.drop_port.to_string();
                    Rule::add(Some(ns), &["-p", "tcp", "--dport", &dp, "--tcp-flags", "SYN,ACK,RST,FIN", "SYN", "-j", "DROP"])
                });
                let note = if o.target_ns.is_some() { "target drops in raw PREROUTING" } else { "target answers RST (no --target-ns)" };
                (run(&o, o.drop_port, false), note)
            }
            "loop" => (run(&o, o.port, true), "scanner kernel answers SYN/ACK with RST"),
            "norst" => {
                let ports = format!("{}:{}", SPORT_LO, SPORT_LO as u32 + SPORT_N - 1);
                let sp = o.port.to_string();
                let _rule = Rule::add(
                    None,
                    &["-p", "tcp", "--sport", &sp, "--dport", &ports, "--tcp-flags", "SYN,ACK,RST,FIN", "SYN,ACK", "-j", "DROP"],
                );
                (run(&o, o.port, true), "SYN/ACKs dropped in scanner raw PREROUTING")
            }
            _ => unreachable!(),
        };
        let sent_pps = out.sent as f64 / out.send_secs;
        let ans_pps = out.answered_in_window as f64 / out.send_secs;
        println!(
            "CEILING mode={m} sent={} secs={:.3} sent_pps={:.0} answered={} answered_in_window={} answered_pps={:.0} note=\"{note}\"",
            out.sent, out.send_secs, sent_pps, out.answered_total, out.answered_in_window, ans_pps
        );
    }
}
