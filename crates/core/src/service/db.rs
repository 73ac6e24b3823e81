//! The parser of nmap's probe database (`nmap-service-probes`, read at run time, never
//! shipped): `Exclude`, `Probe` (TCP/UDP, `q|...|`, `no-payload`), `ports`, `sslports`,
//! `rarity`, `totalwaitms`, `tcpwrappedms`, `fallback`, `match`/`softmatch` with their
//! version templates. Every error names its line. Patterns are compiled here, so a
//! database that loads is a database whose every pattern PCRE2 accepts.

use super::escape::cstring_unescape;
use super::pattern::Pattern;
use super::prefilter::Prefilter;
use std::fmt;

/// nmap's defaults for a probe without the directive.
pub const DEFAULT_TOTALWAITMS: u32 = 5000;
pub const DEFAULT_TCPWRAPPEDMS: u32 = 2000;
pub const DEFAULT_RARITY: u8 = 5;
/// nmap's limit on `fallback` entries.
const MAX_FALLBACKS: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn upper(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
        }
    }
}

/// A database error: the line (1-based, 0 when not tied to one) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "nmap-service-probes line {}: {}", self.line, self.message)
        } else {
            write!(f, "nmap-service-probes: {}", self.message)
        }
    }
}

impl std::error::Error for DbError {}

fn err(line: usize, message: impl Into<String>) -> DbError {
    DbError { line, message: message.into() }
}

/// The version-info templates of one match line, as written (before substitution).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Templates {
    pub product: Option<Vec<u8>>,
    pub version: Option<Vec<u8>>,
    pub info: Option<Vec<u8>>,
    pub hostname: Option<Vec<u8>>,
    pub ostype: Option<Vec<u8>>,
    pub devicetype: Option<Vec<u8>>,
    /// Each with its `cpe:/` prefix, in line order.
    pub cpe: Vec<Vec<u8>>,
}

/// One `match` or `softmatch` line.
pub struct MatchLine {
    pub soft: bool,
    pub service: String,
    pub source: Vec<u8>,
    pub caseless: bool,
    pub dotall: bool,
    pub pattern: Pattern,
    pub templates: Templates,
    pub line: usize,
}

/// One `Probe` with its directives and match lines.
pub struct Probe {
    pub name: String,
    pub proto: Proto,
    pub payload: Vec<u8>,
    pub no_payload: bool,
    pub ports: Vec<u16>,
    pub sslports: Vec<u16>,
    pub rarity: u8,
    pub totalwaitms: u32,
    pub tcpwrappedms: u32,
    /// The probes whose match lines a response to this probe is tested against, in order:
    /// itself, its `fallback` entries, then (TCP) the NULL probe. Indices into `Db::probes`.
    pub fallbacks: Vec<usize>,
    pub matches: Vec<MatchLine>,
    /// The service names its match lines can report (nmap's `detectedServices`).
    pub services: Vec<String>,
    pub line: usize,
    pub prefilter: Prefilter,
    fallback_names: Vec<String>,
}

impl Probe {
    pub fn is_null(&self) -> bool {
        self.proto == Proto::Tcp && self.payload.is_empty()
    }
    pub fn port_is_probable(&self, ssl: bool, port: u16) -> bool {
        if ssl {
            self.sslports.contains(&port)
        } else {
            self.ports.contains(&port)
        }
    }
    pub fn service_is_possible(&self, name: &str) -> bool {
        self.services.iter().any(|s| s == name)
    }
}

/// The whole database. `probes` is in file order; `order` lists the non-NULL probes in
/// file order (nmap's probe vector), `null` the NULL probe.
pub struct Db {
    pub probes: Vec<Probe>,
    pub order: Vec<usize>,
    pub null: Option<usize>,
    pub exclude_tcp: Vec<u16>,
    pub exclude_udp: Vec<u16>,
    pub exclude_seen: bool,
}

impl Db {
    /// Reads and parses the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Db, DbError> {
        let bytes = std::fs::read(path).map_err(|e| err(0, format!("cannot read {}: {e}", path.display())))?;
        Db::parse(&bytes)
    }

    /// Parses the file's contents.
    pub fn parse(text: &[u8]) -> Result<Db, DbError> {
        let mut db =
            Db { probes: Vec::new(), order: Vec::new(), null: None, exclude_tcp: Vec::new(), exclude_udp: Vec::new(), exclude_seen: false };
        let mut current: Option<Probe> = None;
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let lineno = i + 1;
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            if line.is_empty() || line[0] == b'#' || line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            if let Some(rest) = line.strip_prefix(b"Exclude ") {
                if current.is_some() {
                    return Err(err(lineno, "the Exclude directive must precede all Probes"));
                }
                if db.exclude_seen {
                    return Err(err(lineno, "only one Exclude directive is allowed"));
                }
                parse_exclude(rest, lineno, &mut db)?;
                db.exclude_seen = true;
                continue;
            }
            if let Some(rest) = line.strip_prefix(b"Probe ") {
                if let Some(p) = current.take() {
                    db.push(p, lineno)?;
                }
                current = Some(parse_probe(rest, lineno)?);
                continue;
            }
            let probe = current.as_mut().ok_or_else(|| err(lineno, "line was expected to begin with \"Probe \" or \"Exclude \""))?;
            if let Some(rest) = line.strip_prefix(b"ports ") {
                probe.ports.extend(parse_ports(rest, lineno)?);
            } else if let Some(rest) = line.strip_prefix(b"sslports ") {
                probe.sslports.extend(parse_ports(rest, lineno)?);
            } else if let Some(rest) = line.strip_prefix(b"rarity ") {
                let r = atoi(rest);
                if !(1..=9).contains(&r) {
                    return Err(err(lineno, "rarity must be between 1 and 9"));
                }
                probe.rarity = r as u8;
            } else if let Some(rest) = line.strip_prefix(b"fallback ") {
                probe.fallback_names = String::from_utf8_lossy(rest)
                    .split(|c: char| c == ',' || c.is_ascii_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
            } else if let Some(rest) = line.strip_prefix(b"totalwaitms ") {
                probe.totalwaitms = wait_ms(rest, lineno, "totalwaitms")?;
            } else if let Some(rest) = line.strip_prefix(b"tcpwrappedms ") {
                probe.tcpwrappedms = wait_ms(rest, lineno, "tcpwrappedms")?;
            } else if line.starts_with(b"match ") || line.starts_with(b"softmatch ") {
                let m = parse_match(line, lineno)?;
                if !probe.service_is_possible(&m.service) {
                    probe.services.push(m.service.clone());
                }
                probe.matches.push(m);
            } else {
                return Err(err(lineno, format!("unknown directive \"{}\"", String::from_utf8_lossy(first_word(line)))));
            }
        }
        if let Some(p) = current.take() {
            let end = text.split(|&b| b == b'\n').count();
            db.push(p, end)?;
        }
        db.compile_fallbacks()?;
        for p in &mut db.probes {
            p.prefilter = Prefilter::build(&p.matches);
        }
        Ok(db)
    }

    fn push(&mut self, p: Probe, lineno: usize) -> Result<(), DbError> {
        let idx = self.probes.len();
        if p.is_null() {
            if self.null.is_some() {
                return Err(err(p.line, "a second NULL probe"));
            }
            self.null = Some(idx);
        } else {
            self.order.push(idx);
        }
        let _ = lineno;
        self.probes.push(p);
        Ok(())
    }

    /// nmap's getProbeByName: the NULL probe (for TCP), a probe of the same protocol, then any.
    fn probe_by_name(&self, name: &str, proto: Proto) -> Option<usize> {
        if proto == Proto::Tcp {
            if let Some(n) = self.null {
                if self.probes[n].name == name {
                    return Some(n);
                }
            }
        }
        let same = self.order.iter().copied().find(|&i| self.probes[i].proto == proto && self.probes[i].name == name);
        same.or_else(|| self.order.iter().copied().find(|&i| self.probes[i].name == name))
    }

    fn compile_fallbacks(&mut self) -> Result<(), DbError> {
        if let Some(n) = self.null {
            self.probes[n].fallbacks = vec![n];
        }
        for k in 0..self.order.len() {
            let i = self.order[k];
            let proto = self.probes[i].proto;
            let mut fb = vec![i];
            let names = std::mem::take(&mut self.probes[i].fallback_names);
            for name in &names {
                if fb.len() >= MAX_FALLBACKS - 1 {
                    return Err(err(self.probes[i].line, format!("too many fallbacks in probe {}", self.probes[i].name)));
                }
                let f = self
                    .probe_by_name(name, proto)
                    .ok_or_else(|| err(self.probes[i].line, format!("unknown fallback '{name}' in probe {}", self.probes[i].name)))?;
                fb.push(f);
            }
            if proto == Proto::Tcp {
                if let Some(n) = self.null {
                    fb.push(n);
                }
            }
            self.probes[i].fallbacks = fb;
        }
        Ok(())
    }

    /// Whether the `Exclude` directive names this port (ignored with `--allports`).
    pub fn is_excluded(&self, port: u16, proto: Proto) -> bool {
        match proto {
            Proto::Tcp => self.exclude_tcp.contains(&port),
            Proto::Udp => self.exclude_udp.contains(&port),
        }
    }

    /// The number of match lines in all probes.
    pub fn match_count(&self) -> usize {
        self.probes.iter().map(|p| p.matches.len()).sum()
    }

    pub fn probe_named(&self, name: &str, proto: Proto) -> Option<usize> {
        self.probes.iter().position(|p| p.name == name && p.proto == proto)
    }
}

fn first_word(line: &[u8]) -> &[u8] {
    line.split(|b| b.is_ascii_whitespace()).next().unwrap_or(line)
}

/// C's atoi: leading spaces, optional sign, digits; 0 when none.
fn atoi(s: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(s);
    let t = s.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).take(12).collect();
    let v = digits.parse::<i64>().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

fn wait_ms(s: &[u8], lineno: usize, what: &str) -> Result<u32, DbError> {
    let v = atoi(s);
    if !(100..=300_000).contains(&v) {
        return Err(err(lineno, format!("bad {what} value; it must be between 100 and 300000 milliseconds")));
    }
    Ok(v as u32)
}

/// `Probe TCP|UDP <name> q<d>string<d> [no-payload]`.
fn parse_probe(rest: &[u8], lineno: usize) -> Result<Probe, DbError> {
    let (proto, rest) = if let Some(r) = rest.strip_prefix(b"TCP ") {
        (Proto::Tcp, r)
    } else if let Some(r) = rest.strip_prefix(b"UDP ") {
        (Proto::Udp, r)
    } else {
        return Err(err(lineno, "invalid protocol (TCP or UDP)"));
    };
    if !rest.first().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Err(err(lineno, "bad probe name"));
    }
    let sp = rest.iter().position(|&b| b == b' ').ok_or_else(|| err(lineno, "nothing after the probe name"))?;
    let name = String::from_utf8_lossy(&rest[..sp]).into_owned();
    let rest = &rest[sp + 1..];
    if rest.first() != Some(&b'q') || rest.len() < 2 {
        return Err(err(lineno, "the probe string must begin with 'q'"));
    }
    let delim = rest[1];
    let body = &rest[2..];
    let end = body.iter().position(|&b| b == delim).ok_or_else(|| err(lineno, "no ending delimiter for the probe string"))?;
    let payload = cstring_unescape(&body[..end]).ok_or_else(|| err(lineno, "bad escaping in the probe string"))?;
    let tail = &body[end + 1..];
    let no_payload = tail.split(|b| b.is_ascii_whitespace()).any(|w| w == b"no-payload");
    Ok(Probe {
        name,
        proto,
        payload,
        no_payload,
        ports: Vec::new(),
        sslports: Vec::new(),
        rarity: DEFAULT_RARITY,
        totalwaitms: DEFAULT_TOTALWAITMS,
        tcpwrappedms: DEFAULT_TCPWRAPPEDMS,
        fallbacks: Vec::new(),
        matches: Vec::new(),
        services: Vec::new(),
        line: lineno,
        prefilter: Prefilter::default(),
        fallback_names: Vec::new(),
    })
}

/// A port list: `21-25,53,80`.
fn parse_ports(s: &[u8], lineno: usize) -> Result<Vec<u16>, DbError> {
    let bad = || err(lineno, "bad port list (an example of proper form is \"21-25,53,80\")");
    let text = String::from_utf8_lossy(s);
    let mut out = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            // nmap stops at a trailing comma; an empty entry elsewhere is an error
            continue;
        }
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let a: u32 = a.parse().map_err(|_| bad())?;
        let b: u32 = b.parse().map_err(|_| bad())?;
        if a > 65535 || b > 65535 || b < a {
            return Err(err(lineno, "ports must be between 0 and 65535 inclusive"));
        }
        out.extend((a..=b).map(|p| p as u16));
    }
    Ok(out)
}

/// `Exclude T:9100-9107,U:...`; entries without a protocol prefix cover TCP and UDP,
/// and a prefix holds for the entries after it, as in nmap's port specifications.
fn parse_exclude(s: &[u8], lineno: usize, db: &mut Db) -> Result<(), DbError> {
    let text = String::from_utf8_lossy(s);
    let (mut tcp, mut udp) = (true, true);
    for part in text.split(',') {
        let mut part = part.trim();
        if part.is_empty() {
            continue;
        }
        if let Some((proto, rest)) = part.split_once(':') {
            match proto.trim() {
                "T" => (tcp, udp) = (true, false),
                "U" => (tcp, udp) = (false, true),
                "S" => (tcp, udp) = (false, false),
                _ => return Err(err(lineno, "bad protocol in Exclude (T:, U: or S:)")),
            }
            part = rest.trim();
        }
        let ports = parse_ports(part.as_bytes(), lineno)?;
        if tcp {
            db.exclude_tcp.extend(&ports);
        }
        if udp {
            db.exclude_udp.extend(&ports);
        }
    }
    Ok(())
}

/// Reads one `<mode><d>text<d><flags>` field the way nmap's next_template does: the mode
/// is letters and ':', the text runs to the next delimiter (no escaping), flags are letters.
/// Returns (mode, text, flags, rest).
type Field<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);

fn next_template(s: &[u8], lineno: usize) -> Result<Option<Field<'_>>, DbError> {
    let mut p = 0;
    while p < s.len() && s[p].is_ascii_whitespace() {
        p += 1;
    }
    if p == s.len() {
        return Ok(None);
    }
    let mut q = p;
    while q < s.len() && (s[q].is_ascii_alphabetic() || s[q] == b':') {
        q += 1;
    }
    if q == s.len() || s[q].is_ascii_whitespace() {
        return Err(err(lineno, "parse error in a match line's fields"));
    }
    let mode = &s[p..q];
    let delim = s[q];
    let body = &s[q + 1..];
    let end = body.iter().position(|&b| b == delim).ok_or_else(|| err(lineno, "a field has no closing delimiter"))?;
    let text = &body[..end];
    let after = &body[end + 1..];
    let f = after.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    Ok(Some((mode, text, &after[..f], &after[f..])))
}

fn parse_match(line: &[u8], lineno: usize) -> Result<MatchLine, DbError> {
    let (soft, rest) = match line.strip_prefix(b"softmatch ") {
        Some(r) => (true, r),
        None => (false, line.strip_prefix(b"match ").unwrap_or(line)),
    };
    let sp = rest.iter().position(|&b| b == b' ').ok_or_else(|| err(lineno, "could not find the service name"))?;
    let service = String::from_utf8_lossy(&rest[..sp]).into_owned();
    let (mode, source, flags, mut rest) =
        next_template(&rest[sp..], lineno)?.ok_or_else(|| err(lineno, "no pattern after the service name"))?;
    if mode != b"m" {
        return Err(err(lineno, "the pattern must begin with 'm'"));
    }
    let (mut caseless, mut dotall) = (false, false);
    for &f in flags {
        match f {
            b'i' => caseless = true,
            b's' => dotall = true,
            _ => return Err(err(lineno, format!("illegal regexp option '{}'", f as char))),
        }
    }
    let pattern = Pattern::compile(source, caseless, dotall).map_err(|e| err(lineno, format!("illegal regexp: {e}")))?;
    let mut t = Templates::default();
    while let Some((mode, text, _flags, r)) = next_template(rest, lineno)? {
        rest = r;
        let v = text.to_vec();
        // a repeated field replaces the earlier one, as in nmap
        match mode {
            b"p" => t.product = Some(v),
            b"v" => t.version = Some(v),
            b"i" => t.info = Some(v),
            b"h" => t.hostname = Some(v),
            b"o" => t.ostype = Some(v),
            b"d" => t.devicetype = Some(v),
            b"cpe:" => {
                let mut c = b"cpe:/".to_vec();
                c.extend_from_slice(&v);
                t.cpe.push(c);
            }
            m => return Err(err(lineno, format!("unknown template specifier '{}'", String::from_utf8_lossy(m)))),
        }
    }
    Ok(MatchLine { soft, service, source: source.to_vec(), caseless, dotall, pattern, templates: t, line: lineno })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &[u8] = b"# comment\n\
Exclude T:9100-9107,U:30000\n\
\n\
Probe TCP NULL q||\n\
totalwaitms 6000\n\
tcpwrappedms 3000\n\
match ssh m|^SSH-([\\d.]+)-OpenSSH_([\\w._-]+) Debian-(\\S*)\\r?\\n| p/OpenSSH/ v/$2 Debian $3/ i/protocol $1/ o/Linux/ cpe:/a:openbsd:openssh:$2/ cpe:/o:linux:linux_kernel/a\n\
softmatch ftp m|^220 |\n\
Probe TCP GetRequest q|GET / HTTP/1.0\\r\\n\\r\\n|\n\
rarity 1\n\
ports 80,8000-8002\n\
sslports 443\n\
match http m|^HTTP/1\\.[01] \\d\\d\\d|i p/x/\n\
Probe UDP DNSStatusRequest q|\\0\\0\\x10\\0\\0\\0\\0\\0\\0\\0\\0\\0| no-payload\n\
rarity 1\n\
ports 53\n\
fallback GetRequest\n";

    #[test]
    fn parses_every_directive() {
        let db = Db::parse(SMALL).unwrap();
        assert_eq!(db.exclude_tcp, (9100..=9107).collect::<Vec<u16>>());
        assert_eq!(db.exclude_udp, vec![30000]);
        let null = &db.probes[db.null.unwrap()];
        assert_eq!((null.totalwaitms, null.tcpwrappedms, null.rarity), (6000, 3000, 5));
        assert_eq!(null.matches.len(), 2);
        let m = &null.matches[0];
        assert_eq!(m.service, "ssh");
        assert_eq!(m.templates.version.as_deref(), Some(&b"$2 Debian $3"[..]));
        assert_eq!(m.templates.cpe, vec![b"cpe:/a:openbsd:openssh:$2".to_vec(), b"cpe:/o:linux:linux_kernel".to_vec()]);
        assert!(null.matches[1].soft);
        let get = &db.probes[1];
        assert_eq!(get.payload, b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(get.ports, vec![80, 8000, 8001, 8002]);
        assert_eq!(get.sslports, vec![443]);
        assert!(get.matches[0].caseless);
        assert_eq!(get.fallbacks, vec![1, 0]);
        let dns = &db.probes[2];
        assert_eq!(dns.proto, Proto::Udp);
        assert!(dns.no_payload);
        assert_eq!(dns.payload.len(), 12);
        // UDP: itself and its fallback, no NULL probe
        assert_eq!(dns.fallbacks, vec![2, 1]);
        assert_eq!(db.order, vec![1, 2]);
    }

    #[test]
    fn errors_name_their_line() {
        let bad: &[(&[u8], usize)] = &[
            (b"Probe TCP NULL q||\nmatch x m|(| p/a/\n", 2),
            (b"Probe TCP NULL q||\nrarity 0\n", 2),
            (b"Probe TCP NULL q||\nbogus 1\n", 2),
            (b"Probe XYZ NULL q||\n", 1),
            (b"match x m|a|\n", 1),
            (b"Probe TCP A q|a|\nports 5-3\n", 2),
            (b"Probe TCP A q|a|\ntotalwaitms 5\n", 2),
            (b"Probe TCP A q|a|\nmatch x m|a| z/b/\n", 2),
            (b"Probe TCP A q|a|\nmatch x m|a|q\n", 2),
            (b"Probe TCP A q|\\q|\n", 1),
            (b"Probe TCP A q|a|\nExclude 1\n", 2),
        ];
        for (text, line) in bad {
            let e = Db::parse(text).err().expect("should fail");
            assert_eq!(e.line, *line, "{e}");
        }
        let e = Db::parse(b"Probe TCP A q|a|\nfallback Nope\n").err().unwrap();
        assert!(e.to_string().contains("Nope"));
    }

    /// The installed Debian database (nmap-common) parses whole and every pattern compiles.
    #[test]
    fn debian_file_parses() {
        let path = std::path::Path::new("/usr/share/nmap/nmap-service-probes");
        if !path.exists() {
            eprintln!("skipping: {} not installed", path.display());
            return;
        }
        let text = std::fs::read(path).unwrap();
        let db = Db::parse(&text).unwrap();
        let lines = text.split(|&b| b == b'\n').filter(|l| l.starts_with(b"match ") || l.starts_with(b"softmatch ")).count();
        assert_eq!(db.match_count(), lines);
        let probes = text.split(|&b| b == b'\n').filter(|l| l.starts_with(b"Probe ")).count();
        assert_eq!(db.probes.len(), probes);
        assert!(db.null.is_some());
        assert!(db.match_count() > 10_000);
        assert!(db.is_excluded(9100, Proto::Tcp));
    }
}
