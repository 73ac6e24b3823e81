//! nmap's OS fingerprint database (`nmap-os-db`), read at run time: the MatchPoints weights,
//! and every reference print with its name, classes (vendor | family | generation | device
//! type), CPEs and test lines, parsed by the rules of nmap's parse_fingerprint_file.
//!
//! Beside the prints as read, the database keeps a compiled index for matching: every
//! (test, attribute) pair gets a number, every distinct expression of a pair is compiled
//! once, and each print becomes a run of expression numbers. Matching an observed print then
//! evaluates each distinct expression once and sums weights over the runs (matcher.rs).

use super::expr::Expr;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// Where nmap's Debian package installs the database.
pub const DEFAULT_PATH: &str = "/usr/share/nmap/nmap-os-db";

/// One `Class` line and the `CPE` lines after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsClass {
    pub vendor: String,
    pub family: String,
    /// Empty in the file: None (nmap prints no generation then).
    pub generation: Option<String>,
    pub device_type: String,
    pub cpe: Vec<String>,
}

/// A test line: `SEQ(SP=0-5%GCD=1)` is test SEQ with attributes SP and GCD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestLine {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

/// One reference print. Its test lines live in the database's index, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsPrint {
    /// The `Fingerprint` line's text.
    pub name: String,
    /// The line number of its `Fingerprint` line (nmap's XML `line` attribute).
    pub line: u32,
    pub classes: Vec<OsClass>,
}

/// A parsed database.
#[derive(Debug)]
pub struct OsDb {
    pub prints: Vec<OsPrint>,
    /// The MatchPoints weights, sorted like a print's tests.
    pub match_points: Vec<TestLine>,
    /// Lines nmap reports as parse errors and skips (it goes on reading).
    pub warnings: Vec<String>,
    pub(super) index: Index,
}

/// The compiled form of the database (see the module comment). Prints share test lines
/// (`T2(R=N)` is in hundreds), so each distinct line is scored once per match.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// (test, attribute) → pair number.
    pub pairs: HashMap<(String, String), u16>,
    /// The MatchPoints weight of each pair; None when MatchPoints has none (such a pair never
    /// counts: nmap would stop with an error if an observed print had it).
    pub weights: Vec<Option<u16>>,
    /// Distinct expressions: (pair, compiled).
    pub exprs: Vec<(u16, Expr)>,
    /// Distinct test lines: line i's expressions are line_terms[line_starts[i]..line_starts[i + 1]].
    pub line_terms: Vec<u32>,
    pub line_starts: Vec<u32>,
    /// Print i's lines are print_lines[print_starts[i]..print_starts[i + 1]].
    pub print_lines: Vec<u32>,
    pub print_starts: Vec<u32>,
    /// A number per distinct print name (nmap keeps one match per name).
    pub name_ids: Vec<u32>,
}

fn strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii_whitespace())
}

/// A test line as read, borrowing the file's text.
struct RawTest<'a> {
    name: &'a str,
    attrs: Vec<(&'a str, &'a str)>,
}

/// nmap's str2AVal: `A=1%B=2` → [(A, 1), (B, 2)]; an empty string has no attributes.
fn parse_attrs(s: &str) -> std::result::Result<Vec<(&str, &str)>, String> {
    if s.is_empty() {
        return Ok(vec![]);
    }
    s.split('%').map(|av| av.split_once('=').ok_or_else(|| format!("attribute without a value ({s})"))).collect()
}

/// A test line `NAME(ATTRS)...`: None when it has no `(` or no `)` after it.
fn parse_test(line: &str) -> Option<std::result::Result<RawTest<'_>, String>> {
    let open = line.find('(')?;
    let close = line[open + 1..].find(')')? + open + 1;
    Some(parse_attrs(&line[open + 1..close]).map(|attrs| RawTest { name: &line[..open], attrs }))
}

fn parse_class(line: &str) -> Option<OsClass> {
    let mut f = line.strip_prefix("Class ")?.splitn(4, '|');
    let vendor = strip(f.next()?).to_string();
    let family = strip(f.next()?).to_string();
    let generation = strip(f.next()?);
    let device_type = strip(f.next()?).to_string();
    Some(OsClass { vendor, family, generation: (!generation.is_empty()).then(|| generation.to_string()), device_type, cpe: vec![] })
}

fn sort_print(tests: &mut [RawTest<'_>]) {
    // strcmp order; stable, as nmap's std::stable_sort
    for t in tests.iter_mut() {
        t.attrs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }
    tests.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
}

impl OsDb {
    /// Reads the database at `path` (nmap's `/usr/share/nmap/nmap-os-db`, or `--osdb`).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::InvalidOptions(format!(
                "OS detection needs nmap's fingerprint database, and {} does not exist (install nmap, or give --osdb FILE)",
                path.display()
            )),
            _ => Error::InvalidOptions(format!("cannot read the OS fingerprint database {}: {e}", path.display())),
        })?;
        Self::parse(&String::from_utf8_lossy(&bytes), &path.display().to_string())
    }

    /// Parses database text; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let fatal = |lineno: usize, what: &str| Error::InvalidOptions(format!("{origin} line {lineno}: {what}"));
        // fgets' view: each line with its newline, the last one possibly without
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut prints: Vec<OsPrint> = Vec::new();
        let mut match_points: Option<Vec<TestLine>> = None;
        let mut builder = IndexBuilder::default();
        let mut warnings = Vec::new();
        let mut i = 0;
        // a line handed back by a print's body ("FingerPrint ..." with no blank line before)
        let mut pending: Option<usize> = None;
        'top: loop {
            let at = match pending.take() {
                Some(at) => at,
                None => {
                    let Some(&line) = lines.get(i) else { break };
                    i += 1;
                    if line.starts_with('\n') || line.starts_with('#') {
                        continue;
                    }
                    i - 1
                }
            };
            let line = lines[at];
            let lineno = at + 1;
            let head = line.get(..11).unwrap_or("");
            let is_mp = head.eq_ignore_ascii_case("MatchPoints");
            if !head.eq_ignore_ascii_case("FingerPrint") && !is_mp {
                warnings.push(format!("Parse error on line {lineno} of nmap-os-db file: {}", line.trim_end()));
                continue;
            }
            let mut name = String::new();
            if is_mp {
                if match_points.is_some() {
                    return Err(fatal(lineno, "a second MatchPoints directive"));
                }
            } else {
                let rest = line.get(12..).unwrap_or("");
                let Some(end) = rest.find(['\n', '#']) else {
                    return Err(fatal(lineno, "a Fingerprint line without an end"));
                };
                name = strip(&rest[..end]).to_string();
                if name.is_empty() {
                    return Err(fatal(lineno, "a Fingerprint line without a name"));
                }
            }
            let mut classes: Vec<OsClass> = Vec::new();
            let mut tests: Vec<RawTest<'_>> = Vec::new();
            let mut abandoned = false;
            while let Some(&body) = lines.get(i) {
                let body_no = i + 1;
                i += 1;
                if body.starts_with('#') {
                    continue;
                }
                if body.starts_with('\n') {
                    break;
                }
                if body.starts_with("FingerPrint ") {
                    pending = Some(i - 1);
                    break;
                }
                if body.starts_with("Class ") {
                    classes.push(
                        parse_class(body.trim_end_matches('\n')).ok_or_else(|| fatal(body_no, "a Class line without its four fields"))?,
                    );
                } else if let Some(cpe) = body.strip_prefix("CPE ") {
                    let class = classes.last_mut().ok_or_else(|| fatal(body_no, "a CPE line before any Class line"))?;
                    let word = cpe.split_ascii_whitespace().next().ok_or_else(|| fatal(body_no, "an empty CPE line"))?;
                    class.cpe.push(word.to_string());
                } else {
                    match parse_test(body) {
                        Some(Ok(t)) => tests.push(t),
                        Some(Err(e)) => return Err(fatal(body_no, &e)),
                        None => {
                            // nmap reports the line and goes back to looking for a print
                            warnings.push(format!("Parse error on line {body_no} of nmap-os-db file: {}", body.trim_end()));
                            abandoned = true;
                            break;
                        }
                    }
                }
            }
            sort_print(&mut tests);
            if is_mp {
                let owned = tests.iter().map(|t| TestLine {
                    name: t.name.to_string(),
                    attrs: t.attrs.iter().map(|(a, v)| (a.to_string(), v.to_string())).collect(),
                });
                match_points = Some(owned.collect());
            } else {
                builder.add_print(&name, &tests)?;
                prints.push(OsPrint { name, line: lineno as u32, classes });
            }
            if abandoned {
                continue 'top;
            }
        }
        let match_points = match_points.ok_or_else(|| Error::InvalidOptions(format!("{origin}: no MatchPoints directive")))?;
        let index = builder.finish(&match_points, origin)?;
        Ok(OsDb { prints, match_points, warnings, index })
    }

    /// The MatchPoints weight of `test`.`attr`.
    pub fn weight(&self, test: &str, attr: &str) -> Option<u16> {
        self.index.pairs.get(&(test.to_string(), attr.to_string())).and_then(|&p| self.index.weights[p as usize])
    }
}

/// A database being read on a thread of its own: OS detection starts probing at once and
/// waits for it only when a first try needs matching (reading it takes a few hundred ms).
#[derive(Debug)]
pub struct SharedDb {
    slot: Mutex<Option<std::result::Result<Arc<OsDb>, String>>>,
    ready: Condvar,
}

impl SharedDb {
    /// Starts reading `path` on a new thread.
    pub fn load(path: PathBuf) -> Result<Arc<SharedDb>> {
        let shared = Arc::new(SharedDb { slot: Mutex::new(None), ready: Condvar::new() });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("ferroscan-osdb".into())
            .spawn(move || {
                let r = std::panic::catch_unwind(|| OsDb::load(&path))
                    .unwrap_or_else(|_| Err(Error::Internal("reading the OS database failed".into())))
                    .map(Arc::new)
                    .map_err(|e| format!("{}: {e}", e.code()));
                if let Ok(mut slot) = s.slot.lock() {
                    *slot = Some(r);
                }
                s.ready.notify_all();
            })
            .map_err(|e| Error::io("starting a thread", e))?;
        Ok(shared)
    }

    /// A database already parsed.
    pub fn ready(db: OsDb) -> Arc<SharedDb> {
        Arc::new(SharedDb { slot: Mutex::new(Some(Ok(Arc::new(db)))), ready: Condvar::new() })
    }

    /// Waits for the database; the error is reading's, as "CODE: message".
    pub fn wait(&self) -> std::result::Result<Arc<OsDb>, String> {
        let mut slot = self.slot.lock().map_err(|_| "EINTERNAL: OS database state poisoned".to_string())?;
        while slot.is_none() {
            slot = self.ready.wait(slot).map_err(|_| "EINTERNAL: OS database state poisoned".to_string())?;
        }
        slot.clone().unwrap_or_else(|| Err("EINTERNAL: OS database missing".into()))
    }
}

/// Builds the index print by print as the file is read, borrowing its text (no string is
/// kept per test line, so reading and dropping the database stay cheap).
#[derive(Default)]
struct IndexBuilder<'t> {
    ix: Index,
    pairs: HashMap<(&'t str, &'t str), u16>,
    distinct: HashMap<(u16, &'t str), u32>,
    lines: HashMap<Vec<u32>, u32>,
    names: HashMap<String, u32>,
    terms: Vec<u32>,
}

impl<'t> IndexBuilder<'t> {
    fn pair(&mut self, test: &'t str, attr: &'t str) -> Result<u16> {
        if let Some(&p) = self.pairs.get(&(test, attr)) {
            return Ok(p);
        }
        let p = u16::try_from(self.pairs.len())
            .map_err(|_| Error::InvalidOptions("too many distinct test attributes in the OS database".into()))?;
        self.pairs.insert((test, attr), p);
        Ok(p)
    }

    /// One print's test lines, sorted: among equal names (and equal attributes within a
    /// line) only the first counts, as in nmap's sorted walk.
    fn add_print(&mut self, name: &str, tests: &[RawTest<'t>]) -> Result<()> {
        self.ix.print_starts.push(self.ix.print_lines.len() as u32);
        let next = self.names.len() as u32;
        let id = *self.names.entry(name.to_string()).or_insert(next);
        self.ix.name_ids.push(id);
        let mut last_test: Option<&str> = None;
        for t in tests {
            if last_test == Some(t.name) {
                continue;
            }
            last_test = Some(t.name);
            let mut last_attr: Option<&str> = None;
            let mut terms = std::mem::take(&mut self.terms);
            terms.clear();
            for &(a, v) in &t.attrs {
                if last_attr == Some(a) {
                    continue;
                }
                last_attr = Some(a);
                let p = self.pair(t.name, a)?;
                let id = match self.distinct.get(&(p, v)) {
                    Some(&id) => id,
                    None => {
                        let id = self.ix.exprs.len() as u32;
                        self.ix.exprs.push((p, Expr::compile(v)));
                        self.distinct.insert((p, v), id);
                        id
                    }
                };
                terms.push(id);
            }
            let line = match self.lines.get(&terms) {
                Some(&l) => l,
                None => {
                    let l = self.ix.line_starts.len() as u32;
                    self.ix.line_starts.push(self.ix.line_terms.len() as u32);
                    self.ix.line_terms.extend_from_slice(&terms);
                    self.lines.insert(terms.clone(), l);
                    l
                }
            };
            self.ix.print_lines.push(line);
            self.terms = terms;
        }
        Ok(())
    }

    /// The index, with MatchPoints' weights (wherever MatchPoints stood in the file).
    fn finish(mut self, match_points: &'t [TestLine], origin: &str) -> Result<Index> {
        let mut weights: Vec<(u16, u16)> = Vec::new();
        for t in match_points {
            for (a, v) in &t.attrs {
                // nmap reads weights with strtol(.., 10) and rejects anything else
                let w: u16 =
                    v.parse().map_err(|_| Error::InvalidOptions(format!("{origin}: MatchPoints gives {}.{a} the weight {v:?}", t.name)))?;
                let p = self.pair(&t.name, a)?;
                if !weights.iter().any(|&(q, _)| q == p) {
                    weights.push((p, w));
                }
            }
        }
        // scores are summed as two 16-bit halves: no print may weigh 65536 or more
        let total: u64 = weights.iter().map(|&(_, w)| w as u64).sum();
        if total >= 1 << 16 {
            return Err(Error::InvalidOptions(format!(
                "{origin}: the MatchPoints weights sum to {total}, more than OS matching supports (65535)"
            )));
        }
        let mut ix = self.ix;
        ix.weights = vec![None; self.pairs.len()];
        for (p, w) in weights {
            ix.weights[p as usize] = Some(w);
        }
        ix.pairs = self.pairs.into_iter().map(|((t, a), p)| ((t.to_string(), a.to_string()), p)).collect();
        ix.print_starts.push(ix.print_lines.len() as u32);
        ix.line_starts.push(ix.line_terms.len() as u32);
        Ok(ix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "# a comment
MatchPoints
SEQ(SP=25%GCD=75)
T1(R=100%DF=20)

Fingerprint Example OS 1.0 # trailing comment
Class Example | Example OS | 1.X | general purpose
CPE cpe:/o:example:os:1 auto
Class Example |Other|| router
T1(R=Y%DF=N|Y)
SEQ(SP=0-5%GCD=1)

Fingerprint Second
Class V | F | | WAP
SEQ(GCD=2)
";

    #[test]
    fn parses_prints_classes_and_sorted_tests() {
        let db = OsDb::parse(SMALL, "small").unwrap();
        assert!(db.warnings.is_empty(), "{:?}", db.warnings);
        assert_eq!(db.prints.len(), 2);
        let p = &db.prints[0];
        assert_eq!(p.name, "Example OS 1.0");
        assert_eq!(p.line, 6);
        assert_eq!(p.classes.len(), 2);
        assert_eq!(p.classes[0].generation.as_deref(), Some("1.X"));
        assert_eq!(p.classes[0].cpe, vec!["cpe:/o:example:os:1".to_string()]);
        assert_eq!(
            p.classes[1],
            OsClass { vendor: "Example".into(), family: "Other".into(), generation: None, device_type: "router".into(), cpe: vec![] }
        );
        // two lines each, the second print's SEQ(GCD=2) its own; T1's attributes in name order
        assert_eq!(db.index.print_starts, vec![0, 2, 3]);
        let t1 = db.index.print_lines[1] as usize;
        let t1_terms = &db.index.line_terms[db.index.line_starts[t1] as usize..db.index.line_starts[t1 + 1] as usize];
        let pairs: Vec<u16> = t1_terms.iter().map(|&e| db.index.exprs[e as usize].0).collect();
        let df = db.index.pairs[&("T1".to_string(), "DF".to_string())];
        let r = db.index.pairs[&("T1".to_string(), "R".to_string())];
        assert_eq!(pairs, vec![df, r]);
        assert_eq!(db.weight("SEQ", "GCD"), Some(75));
        assert_eq!(db.weight("T1", "W"), None);
        assert_eq!(db.index.line_starts, vec![0, 2, 4, 5]);
    }

    #[test]
    fn reports_what_nmap_reports_and_stops_where_it_stops() {
        let db = OsDb::parse("MatchPoints\nSEQ(SP=1)\n\nbogus line\nFingerprint A\nSEQ(SP=1)\nno parenthesis\nSEQ(SP=2)\n", "x").unwrap();
        assert_eq!(db.warnings.len(), 3, "{:?}", db.warnings);
        assert!(db.warnings[0].contains("line 4"));
        assert_eq!(db.prints.len(), 1);
        for (text, what) in [
            ("MatchPoints\nSEQ(SP=1)\n\nMatchPoints\n", "second MatchPoints"),
            ("MatchPoints\nSEQ(SP=x)\n", "weight"),
            ("MatchPoints\nSEQ(SP=1)\n\nFingerprint A\nCPE cpe:/o:a\n", "before any Class"),
            ("MatchPoints\nSEQ(SP=1)\n\nFingerprint A\nClass a | b\n", "four fields"),
            ("MatchPoints\nSEQ(SP=1)\n\nFingerprint A\nSEQ(SP)\n", "without a value"),
            ("Fingerprint A\nSEQ(SP=1)\n", "no MatchPoints"),
        ] {
            let e = OsDb::parse(text, "x").unwrap_err().to_string();
            assert!(e.contains(what), "{text:?}: {e}");
        }
    }

    #[test]
    fn parses_the_installed_database_completely() {
        let path = Path::new(DEFAULT_PATH);
        if !path.exists() {
            eprintln!("skipped: {DEFAULT_PATH} is not installed");
            return;
        }
        let db = OsDb::load(path).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let expected = text.lines().filter(|l| l.starts_with("Fingerprint ")).count();
        assert_eq!(db.prints.len(), expected);
        assert!(db.warnings.is_empty(), "{:?}", &db.warnings[..db.warnings.len().min(5)]);
        assert_eq!(db.match_points.len(), 13);
        // every print has a class, every test line of the file is somewhere
        assert!(db.prints.iter().all(|p| !p.classes.is_empty()));
        let test_lines = text.lines().filter(|l| l.contains('(') && !l.starts_with('#') && !l.starts_with("Fingerprint")).count();
        let parsed: usize = db.index.print_lines.len() + db.match_points.len();
        assert_eq!(parsed, test_lines);
        let cpes = text.lines().filter(|l| l.starts_with("CPE ")).count();
        assert_eq!(db.prints.iter().flat_map(|p| &p.classes).map(|c| c.cpe.len()).sum::<usize>(), cpes);
    }
}
