//! The response corpus: for each entry of test/fixtures/sv-corpus.json (made by
//! scripts/sv-corpus.mjs, which serves the bytes on loopback and records what real nmap
//! -sV reported), the session replays what each probe would have received from that
//! server and must give nmap's service, product, version, extrainfo, hostname, ostype,
//! devicetype, tunnel, method, conf, CPEs and SF fingerprint.

use ferroscan_core::service::fingerprint::Stamp;
use ferroscan_core::service::session::{test_response, End, Need, Session, Transcript};
use ferroscan_core::service::{Db, Proto};
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// What a probe got from the corpus server (see serve() in scripts/sv-corpus.mjs).
fn transcript(db: &Db, probe: usize, e: &Value) -> Transcript {
    let kind = e["kind"].as_str().unwrap();
    let send = hex(e["send"].as_str().unwrap());
    let trigger = hex(e["trigger"].as_str().unwrap());
    let close = e["closeAfter"].as_bool().unwrap();
    let p = &db.probes[probe];
    let (data, end) = match kind {
        "close" => (Vec::new(), End::Eof { ms: 0 }),
        "banner" => (send, if close { End::Eof { ms: 0 } } else { End::Timeout }),
        "reply" if !p.payload.is_empty() && p.payload.starts_with(&trigger) => {
            (send, if close { End::Eof { ms: 1 } } else { End::Timeout })
        }
        _ => (Vec::new(), End::Timeout),
    };
    let mut t = Transcript { data: data.clone(), reads: Vec::new(), end };
    if !data.is_empty() {
        let hit = test_response(db, probe, &data, &mut Vec::new());
        t.reads.push((data.len(), hit));
        if hit.is_some_and(|h| !h.soft) {
            t.end = End::HardMatch;
        }
    }
    t
}

fn table_name(port: u16) -> String {
    let text = std::fs::read_to_string("/usr/share/nmap/nmap-services").unwrap_or_default();
    let key = format!("{port}/tcp");
    text.lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?;
            (f.next()? == key).then(|| name.to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[test]
fn corpus_matches_nmap() {
    let dbp = std::path::Path::new("/usr/share/nmap/nmap-service-probes");
    if !dbp.exists() {
        eprintln!("skipping: nmap-service-probes not installed");
        return;
    }
    let db = Db::load(dbp).unwrap();
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../test/fixtures/sv-corpus.json")).unwrap())
            .unwrap();
    let intensity = fixture["intensity"].as_u64().unwrap() as u8;
    let mut failures = Vec::new();
    for e in fixture["entries"].as_array().unwrap() {
        let id = e["id"].as_str().unwrap();
        let port = e["port"].as_u64().unwrap() as u16;
        let want = &e["nmap"];
        let fp = want["servicefp"].as_str().unwrap_or("");
        // the fingerprint's date and time are nmap's: take them from its header
        let field = |k: &str| fp.split('%').find_map(|f| f.strip_prefix(k)).unwrap_or("0").to_string();
        let d = field("D=");
        let (month, day) = d.split_once('/').map(|(m, d)| (m.parse().unwrap_or(0), d.parse().unwrap_or(0))).unwrap_or((0, 0));
        let stamp = Stamp { month, day, unix: u32::from_str_radix(&field("Time="), 16).unwrap_or(0) };
        let mut s = Session::new(&db, Proto::Tcp, port, intensity, "127.0.0.1".into(), false, stamp);
        let mut steps = 0;
        while let Need::Probe { probe, .. } = s.need() {
            let t = transcript(&db, probe, e);
            s.feed(&t);
            steps += 1;
            assert!(steps < 1000);
        }
        let r = s.result().unwrap().clone();
        let got_name = r.name.clone().unwrap_or_else(|| table_name(port));
        let opt = |k: &str| want[k].as_str().map(String::from);
        let checks: Vec<(&str, Option<String>, Option<String>)> = vec![
            ("name", opt("name"), Some(got_name)),
            ("product", opt("product"), r.product.clone()),
            ("version", opt("version"), r.version.clone()),
            ("extrainfo", opt("extrainfo"), r.extrainfo.clone()),
            ("hostname", opt("hostname"), r.hostname.clone()),
            ("ostype", opt("ostype"), r.ostype.clone()),
            ("devicetype", opt("devicetype"), r.devicetype.clone()),
            ("tunnel", opt("tunnel"), r.ssl.then(|| "ssl".to_string())),
            ("method", opt("method"), Some(r.method.to_string())),
            ("conf", opt("conf"), Some(r.conf.to_string())),
            (
                "cpe",
                Some(want["cpe"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect::<Vec<_>>().join(" ")),
                Some(r.cpe.join(" ")),
            ),
            ("servicefp", opt("servicefp"), r.fingerprint.as_ref().map(|f| f.replace("\nSF:", ""))),
        ];
        for (k, w, g) in checks {
            if w != g {
                failures.push(format!("{id}: {k}: nmap {w:?}, ours {g:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The prefilter only ever drops lines that cannot match: for real responses (the corpus's,
/// every probe's own bytes, banners and replies of common services), the first matching line
/// of every probe is the same with the prefilter as with every pattern run.
#[test]
fn prefilter_keeps_every_match() {
    let dbp = std::path::Path::new("/usr/share/nmap/nmap-service-probes");
    if !dbp.exists() {
        eprintln!("skipping: nmap-service-probes not installed");
        return;
    }
    let db = Db::load(dbp).unwrap();
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../test/fixtures/sv-corpus.json")).unwrap()).unwrap();
    let mut subjects: Vec<Vec<u8>> = fixture["entries"].as_array().unwrap().iter().map(|e| hex(e["send"].as_str().unwrap())).filter(|s| !s.is_empty()).collect();
    subjects.extend(db.probes.iter().map(|p| p.payload.clone()).filter(|p| !p.is_empty()).take(40));
    for s in [
        &b"HTTP/1.1 400 Bad Request\r\nServer: Apache/2.4.57 (Debian)\r\nContent-Length: 0\r\n\r\n"[..],
        b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n\r\n",
        b"220 ProFTPD Server (Debian) [::ffff:198.18.16.2]\r\n",
        b"+OK Dovecot (Debian) ready.\r\n",
        b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n",
        b"J\0\0\0\n8.0.35-0ubuntu0.22.04.1\0\x08\0\0\0",
        b"-ERR unknown command 'GET', with args beginning with: '/' \r\n",
        b"SSH-2.0-dropbear_2022.83\r\n",
        b"\x16\x03\x03\x00\x31\x02\x00\x00\x2d\x03\x03",
        b"RFB 003.008\n",
    ] {
        subjects.push(s.to_vec());
    }
    let mut scratch = Vec::new();
    let mut compared = 0;
    for s in &subjects {
        for p in &db.probes {
            p.prefilter.candidates(s, &mut scratch);
            let fast = scratch.iter().map(|&c| c as usize).find(|&c| p.matches[c].pattern.is_match(s));
            let slow = p.matches.iter().position(|m| m.pattern.is_match(s));
            assert_eq!(fast, slow, "probe {} on {:?}", p.name, String::from_utf8_lossy(s));
            compared += slow.is_some() as usize;
        }
    }
    // the subjects do match something: the test compares matches, not only misses
    assert!(compared >= 15, "only {compared} matches compared");
}
