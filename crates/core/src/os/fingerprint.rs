//! An observed fingerprint, and nmap's text form of it: the "SCAN" line that describes the
//! run, the test lines of every try merged, one after another (`OS:` lines of 75 characters
//! when wrapped for submission). Rules from nmap's osscan.cc (WriteSInfo, mergeFPs):
//!
//! - Tests in nmap's order (SEQ OPS WIN ECN T1-T7 U1 IE), tries in order among equals.
//! - A later test is left out when an earlier one has the same name and the same attribute
//!   names in the same order, whatever their values: a try adds a line only when it measured
//!   something the earlier ones did not (a SEQ line with an SS attribute, say).
//! - Wrapped: everything on one line, then cut into lines of `OS:` and 72 characters.

use super::matcher::Observed;
use std::fmt;

/// The order of tests in a printed fingerprint.
pub const TEST_ORDER: [&str; 13] = ["SEQ", "OPS", "WIN", "ECN", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "U1", "IE"];

/// One test of an observed fingerprint: attributes in the order they were measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

impl Test {
    pub fn new(name: &str, attrs: Vec<(&str, String)>) -> Self {
        Test { name: name.to_string(), attrs: attrs.into_iter().map(|(a, v)| (a.to_string(), v)).collect() }
    }

    pub fn get(&self, attr: &str) -> Option<&str> {
        self.attrs.iter().find(|(a, _)| a == attr).map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, (a, v)) in self.attrs.iter().enumerate() {
            if i > 0 {
                f.write_str("%")?;
            }
            write!(f, "{a}={v}")?;
        }
        f.write_str(")")
    }
}

/// The tests of one try, in nmap's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub tests: Vec<Test>,
}

impl Fingerprint {
    pub fn test(&self, name: &str) -> Option<&Test> {
        self.tests.iter().find(|t| t.name == name)
    }
}

impl Observed for Fingerprint {
    fn for_each(&self, f: &mut dyn FnMut(&str, &str, &str)) {
        for t in &self.tests {
            for (a, v) in &t.attrs {
                f(&t.name, a, v);
            }
        }
    }
}

fn order_of(name: &str) -> usize {
    TEST_ORDER.iter().position(|n| *n == name).unwrap_or(TEST_ORDER.len())
}

/// The tests of several tries as nmap prints them (ordered, repeats left out).
pub fn merge<'a>(tries: impl IntoIterator<Item = &'a Fingerprint>) -> Vec<&'a Test> {
    let mut all: Vec<&Test> = tries.into_iter().flat_map(|fp| fp.tests.iter()).collect();
    all.sort_by_key(|t| order_of(&t.name)); // stable: tries stay in order
    let mut out: Vec<&Test> = Vec::with_capacity(all.len());
    for t in all {
        let same_shape =
            |o: &&Test| o.name == t.name && o.attrs.len() == t.attrs.len() && o.attrs.iter().zip(&t.attrs).all(|(x, y)| x.0 == y.0);
        if !out.iter().any(same_shape) {
            out.push(t);
        }
    }
    out
}

/// How the distance in the SCAN line was found (nmap's DC attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistanceMethod {
    None,
    /// The target is this host.
    Localhost,
    /// On the local link: one hop.
    Direct,
    /// From the TTL left in the ICMP error that quoted the U1 probe.
    Icmp,
}

impl DistanceMethod {
    pub fn letter(self) -> &'static str {
        match self {
            DistanceMethod::None => "",
            DistanceMethod::Localhost => "L",
            DistanceMethod::Direct => "D",
            DistanceMethod::Icmp => "I",
        }
    }
}

/// What the SCAN line says about the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanInfo {
    /// The scanner's version (nmap's V): ferroscan's own.
    pub version: String,
    pub month: u32,
    pub day: u32,
    pub open_tcp: Option<u16>,
    pub closed_tcp: Option<u16>,
    pub closed_udp: Option<u16>,
    /// The target's address is private (RFC 1918 or link-local), as nmap judges it.
    pub private: bool,
    pub distance: Option<i32>,
    pub method: DistanceMethod,
    /// The first three bytes of the target's hardware address, when on the link.
    pub mac_prefix: Option<[u8; 3]>,
    /// Unix time of the report.
    pub time: u32,
    pub platform: String,
}

impl ScanInfo {
    /// `SCAN(V=..%E=4%D=M/D%OT=..%CT=..%CU=..%PV=Y|N%DS=..%DC=..%G=Y|N%M=..%TM=..%P=..)`;
    /// `good` says whether the print is fit for submission (G).
    pub fn line(&self, good: bool) -> String {
        let port = |p: Option<u16>| p.map(|p| p.to_string()).unwrap_or_default();
        let yn = |b: bool| if b { 'Y' } else { 'N' };
        let mut s = format!(
            "SCAN(V={}%E=4%D={}/{}%OT={}%CT={}%CU={}%PV={}",
            self.version,
            self.month,
            self.day,
            port(self.open_tcp),
            port(self.closed_tcp),
            port(self.closed_udp),
            yn(self.private)
        );
        if let Some(d) = self.distance {
            s.push_str(&format!("%DS={d}"));
        }
        if self.method != DistanceMethod::None {
            s.push_str(&format!("%DC={}", self.method.letter()));
        }
        s.push_str(&format!("%G={}", yn(good)));
        if let Some(m) = self.mac_prefix {
            s.push_str(&format!("%M={:02X}{:02X}{:02X}", m[0], m[1], m[2]));
        }
        s.push_str(&format!("%TM={:X}%P={})", self.time, self.platform));
        s
    }
}

/// Lines of `OS:` and this many characters when wrapped.
const WRAP: usize = 72;

/// The merged fingerprint's text: one test per line, or wrapped in `OS:` lines. Ends with a
/// newline either way, as nmap's does.
pub fn format(scan_line: &str, tests: &[&Test], wrap: bool) -> String {
    if tests.is_empty() {
        return "(None)".into();
    }
    let mut flat = String::from(scan_line);
    if !wrap {
        flat.push('\n');
    }
    for t in tests {
        flat.push_str(&t.to_string());
        if !wrap {
            flat.push('\n');
        }
    }
    if !wrap {
        return flat;
    }
    let mut out = String::with_capacity(flat.len() + flat.len() / WRAP * 4 + 4);
    let chars: Vec<char> = flat.chars().collect();
    for chunk in chars.chunks(WRAP) {
        out.push_str("OS:");
        out.extend(chunk);
        out.push('\n');
    }
    out
}

/// Reads a fingerprint in nmap's text form (wrapped `OS:` lines or one test per line, with
/// or without the SCAN line) back into tests, SCAN excluded.
pub fn parse(text: &str) -> Result<Vec<Test>, String> {
    let flat: String = text.lines().map(|l| l.trim().strip_prefix("OS:").unwrap_or(l.trim())).collect();
    let mut tests = Vec::new();
    let mut rest = flat.as_str();
    while !rest.is_empty() {
        let open = rest.find('(').ok_or_else(|| format!("no test at {rest:?}"))?;
        let close = rest[open..].find(')').ok_or_else(|| format!("unterminated test at {rest:?}"))? + open;
        let name = &rest[..open];
        let body = &rest[open + 1..close];
        let mut attrs = Vec::new();
        if !body.is_empty() {
            for av in body.split('%') {
                let (a, v) = av.split_once('=').ok_or_else(|| format!("attribute without a value in {name}"))?;
                attrs.push((a.to_string(), v.to_string()));
            }
        }
        if name != "SCAN" {
            tests.push(Test { name: name.to_string(), attrs });
        }
        rest = &rest[close + 1..];
    }
    Ok(tests)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nmap 7.93's output for the lab's Linux target (198.18.24.2).
    const NMAP: &str = "OS:SCAN(V=7.93%E=4%D=12/1%OT=22%CT=1%CU=36880%PV=N%DS=1%DC=D%G=Y%M=82C266%T
OS:M=6B0F2913%P=x86_64-pc-linux-gnu)SEQ(SP=106%GCD=1%ISR=10E%TI=Z%CI=Z%II=I
OS:%TS=21)OPS(O1=M5B4ST11NWA%O2=M5B4ST11NWA%O3=M5B4NNT11NWA%O4=M5B4ST11NWA%
OS:O5=M5B4ST11NWA%O6=M5B4ST11)WIN(W1=FE88%W2=FE88%W3=FE88%W4=FE88%W5=FE88%W
OS:6=FE88)ECN(R=Y%DF=Y%T=40%W=FAF0%O=M5B4NNSNWA%CC=Y%Q=)T1(R=Y%DF=Y%T=40%S=
OS:O%A=S+%F=AS%RD=0%Q=)T2(R=N)T3(R=N)T4(R=Y%DF=Y%T=40%W=0%S=A%A=Z%F=R%O=%RD
OS:=0%Q=)T5(R=Y%DF=Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)T6(R=Y%DF=Y%T=40%W=0
OS:%S=A%A=Z%F=R%O=%RD=0%Q=)T7(R=Y%DF=Y%T=40%W=0%S=Z%A=S+%F=AR%O=%RD=0%Q=)U1
OS:(R=Y%DF=N%T=40%IPL=164%UN=0%RIPL=G%RID=G%RIPCK=G%RUCK=G%RUD=G)IE(R=Y%DFI
OS:=N%T=40%CD=S)
";

    fn scan() -> ScanInfo {
        ScanInfo {
            version: "7.93".into(),
            month: 12,
            day: 1,
            open_tcp: Some(22),
            closed_tcp: Some(1),
            closed_udp: Some(36880),
            private: false,
            distance: Some(1),
            method: DistanceMethod::Direct,
            mac_prefix: Some([0x82, 0xc2, 0x66]),
            time: 0x6B0F2913,
            platform: "x86_64-pc-linux-gnu".into(),
        }
    }

    #[test]
    fn reads_and_writes_nmaps_wrapped_form_byte_for_byte() {
        let tests = parse(NMAP).unwrap();
        assert_eq!(tests.len(), 13);
        assert_eq!(tests[0].to_string(), "SEQ(SP=106%GCD=1%ISR=10E%TI=Z%CI=Z%II=I%TS=21)");
        assert_eq!(tests[3].get("Q"), Some(""));
        let fp = Fingerprint { tests };
        let merged = merge([&fp]);
        assert_eq!(format(&scan().line(true), &merged, true), NMAP);
        let plain = format(&scan().line(false), &merged, false);
        assert!(plain.starts_with(
            "SCAN(V=7.93%E=4%D=12/1%OT=22%CT=1%CU=36880%PV=N%DS=1%DC=D%G=N%M=82C266%TM=6B0F2913%P=x86_64-pc-linux-gnu)\nSEQ("
        ));
        assert!(plain.ends_with("IE(R=Y%DFI=N%T=40%CD=S)\n"));
    }

    #[test]
    fn merging_tries_keeps_one_line_per_shape() {
        let a = Fingerprint {
            tests: vec![Test::new("T1", vec![("R", "Y".into())]), Test::new("SEQ", vec![("SP", "1".into()), ("TI", "Z".into())])],
        };
        let b = Fingerprint {
            tests: vec![
                Test::new("SEQ", vec![("SP", "2".into()), ("TI", "Z".into())]),
                Test::new("SEQ", vec![("SP", "3".into()), ("TI", "I".into()), ("SS", "S".into())]),
                Test::new("T1", vec![("R", "N".into())]),
            ],
        };
        let m: Vec<String> = merge([&a, &b]).iter().map(|t| t.to_string()).collect();
        assert_eq!(m, ["SEQ(SP=1%TI=Z)", "SEQ(SP=3%TI=I%SS=S)", "T1(R=Y)"]);
        assert_eq!(format("SCAN()", &[], true), "(None)");
    }

    #[test]
    fn scan_line_leaves_out_what_is_unknown() {
        let s = ScanInfo {
            open_tcp: None,
            closed_tcp: None,
            closed_udp: None,
            distance: None,
            method: DistanceMethod::None,
            mac_prefix: None,
            ..scan()
        };
        assert_eq!(s.line(true), "SCAN(V=7.93%E=4%D=12/1%OT=%CT=%CU=%PV=N%G=Y%TM=6B0F2913%P=x86_64-pc-linux-gnu)");
    }
}
