//! Matching an observed fingerprint against the database, by nmap's rules (osscan.cc,
//! compare_fingerprints and match_fingerprint; FingerPrintResults.cc, populateClassification):
//!
//! - Accuracy: over every (test, attribute) present in both the reference print and the
//!   observed one, the sum of MatchPoints weights of those whose expression matches, divided
//!   by the sum of all their weights (0 when nothing is shared). Tests or attributes on one
//!   side only count for nothing.
//! - Ranking: prints in file order; one at least as accurate as the floor (0.85 in nmap) or
//!   perfect enters a list of at most 36, before the first entry strictly less accurate (so
//!   among equals, file order stands). One name appears once: a more accurate print of the
//!   same name replaces it, an equal or lesser one is skipped. Once the list is full, the
//!   floor rises to just above its last entry. A 37th perfect match ends the search: too many.
//! - Classes: the matches' classes in order, duplicates (same vendor, family, generation and
//!   device type) removed, at most 36; when any match is perfect, only perfect matches' classes.

use super::db::OsDb;
use super::expr::Value;

/// nmap's MAX_FP_RESULTS: the most matches (and classes) kept.
pub const MAX_RESULTS: usize = 36;
/// nmap's OSSCAN_GUESS_THRESHOLD: below this accuracy a print is not considered.
pub const GUESS_THRESHOLD: f64 = 0.85;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    NoMatches,
    TooManyMatches,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// Index into `OsDb::prints`.
    pub print: usize,
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Matches {
    pub outcome: Outcome,
    /// Most accurate first.
    pub entries: Vec<Entry>,
    /// How many entries (the first ones) are perfect.
    pub perfect: usize,
}

/// One class of a matching print.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassEntry {
    pub print: usize,
    /// Index into that print's `classes`.
    pub class: usize,
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub outcome: Outcome,
    pub classes: Vec<ClassEntry>,
    pub perfect: usize,
}

/// What an observed print says: (test, attribute, value) triples.
pub trait Observed {
    fn for_each(&self, f: &mut dyn FnMut(&str, &str, &str));
}

impl Observed for [(&str, &str, &str)] {
    fn for_each(&self, f: &mut dyn FnMut(&str, &str, &str)) {
        for (t, a, v) in self {
            f(t, a, v)
        }
    }
}

/// Matches observed prints against one database; keeps its scratch space between calls.
pub struct Matcher<'a> {
    db: &'a OsDb,
    /// Per expression: its pair's weight (high 16 bits) and the weight again if it matched
    /// (low 16 bits), or 0 when the observed print lacks the pair.
    scores: Vec<u32>,
    /// Per distinct test line: the sum of its expressions' scores.
    lines: Vec<u32>,
    /// Per pair: the observed value's position in `values`, or u32::MAX.
    observed: Vec<u32>,
}

impl<'a> Matcher<'a> {
    pub fn new(db: &'a OsDb) -> Self {
        let ix = &db.index;
        Matcher {
            db,
            scores: vec![0; ix.exprs.len()],
            lines: vec![0; ix.line_starts.len().saturating_sub(1)],
            observed: vec![u32::MAX; ix.weights.len()],
        }
    }

    /// Evaluates every distinct expression against `fp` once.
    fn prepare<O: Observed + ?Sized>(&mut self, fp: &O) {
        let ix = &self.db.index;
        self.observed.iter_mut().for_each(|o| *o = u32::MAX);
        let mut values: Vec<String> = Vec::new();
        let observed = &mut self.observed;
        fp.for_each(&mut |t, a, v| {
            if let Some(&p) = ix.pairs.get(&(t.to_string(), a.to_string())) {
                // the first of duplicates counts, as in nmap's sorted walk
                if observed[p as usize] == u32::MAX {
                    observed[p as usize] = values.len() as u32;
                    values.push(v.to_string());
                }
            }
        });
        let parsed: Vec<Value<'_>> = values.iter().map(|v| Value::new(v)).collect();
        for (score, (pair, expr)) in self.scores.iter_mut().zip(&ix.exprs) {
            let at = self.observed[*pair as usize];
            *score = match (ix.weights[*pair as usize], parsed.get(at as usize)) {
                (Some(w), Some(v)) => {
                    let w = w as u32;
                    (w << 16) | if expr.matches(v) { w } else { 0 }
                }
                _ => 0,
            };
        }
        for (l, score) in self.lines.iter_mut().enumerate() {
            let terms = &ix.line_terms[ix.line_starts[l] as usize..ix.line_starts[l + 1] as usize];
            *score = terms.iter().map(|&e| self.scores[e as usize]).sum();
        }
    }

    fn accuracy_of(&self, print: usize) -> f64 {
        let ix = &self.db.index;
        let lines = &ix.print_lines[ix.print_starts[print] as usize..ix.print_starts[print + 1] as usize];
        // no carry from the low half: a print's weights sum below 65536 (checked at load)
        let sum: u32 = lines.iter().map(|&l| self.lines[l as usize]).sum();
        let (total, matched) = (sum >> 16, sum & 0xffff);
        if total == 0 {
            0.0
        } else {
            matched as f64 / total as f64
        }
    }

    /// The accuracy of one reference print for `fp` (nmap's compare_fingerprints).
    pub fn accuracy<O: Observed + ?Sized>(&mut self, fp: &O, print: usize) -> f64 {
        self.prepare(fp);
        self.accuracy_of(print)
    }

    /// The ranked matches of `fp` at least as accurate as `threshold` (nmap's match_fingerprint).
    pub fn best<O: Observed + ?Sized>(&mut self, fp: &O, threshold: f64) -> Matches {
        self.prepare(fp);
        let names = &self.db.index.name_ids;
        let mut entries: Vec<Entry> = Vec::with_capacity(MAX_RESULTS + 1);
        let mut floor = threshold;
        let mut perfect = 0;
        for print in 0..self.db.prints.len() {
            let acc = self.accuracy_of(print);
            if !(acc >= floor || acc == 1.0) {
                continue;
            }
            if let Some(at) = entries.iter().position(|e| names[e.print] == names[print]) {
                if entries[at].accuracy >= acc {
                    continue;
                }
                entries.remove(at);
            }
            if acc == 1.0 {
                if perfect == MAX_RESULTS {
                    return Matches { outcome: Outcome::TooManyMatches, entries, perfect };
                }
                perfect += 1;
            }
            let at = entries.iter().position(|e| e.accuracy < acc).unwrap_or(entries.len());
            entries.insert(at, Entry { print, accuracy: acc });
            entries.truncate(MAX_RESULTS);
            if entries.len() == MAX_RESULTS {
                floor = entries[MAX_RESULTS - 1].accuracy + 0.00001;
            }
        }
        let outcome = if entries.is_empty() { Outcome::NoMatches } else { Outcome::Success };
        Matches { outcome, entries, perfect }
    }
}

/// The distinct classes of `m`'s matches (nmap's populateClassification).
pub fn classify(db: &OsDb, m: &Matches) -> Classification {
    let mut out = Classification { outcome: Outcome::Success, classes: vec![], perfect: 0 };
    if m.outcome == Outcome::TooManyMatches {
        out.outcome = Outcome::TooManyMatches;
        return out;
    }
    'prints: for (i, e) in m.entries.iter().enumerate() {
        for (ci, c) in db.prints[e.print].classes.iter().enumerate() {
            let dup = out.classes.iter().any(|x| {
                let o = &db.prints[x.print].classes[x.class];
                o.vendor == c.vendor && o.family == c.family && o.device_type == c.device_type && o.generation == c.generation
            });
            if dup {
                continue;
            }
            if out.classes.len() == MAX_RESULTS {
                if i < m.perfect {
                    out.outcome = Outcome::TooManyMatches;
                }
                break 'prints;
            }
            if out.perfect > 0 && i >= m.perfect {
                break 'prints;
            }
            out.classes.push(ClassEntry { print: e.print, class: ci, accuracy: e.accuracy });
            if i < m.perfect {
                out.perfect += 1;
            }
        }
    }
    if out.classes.is_empty() && out.outcome == Outcome::Success {
        out.outcome = Outcome::NoMatches;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "MatchPoints
SEQ(SP=25%GCD=75%TS=100)
T1(R=100%DF=20%W=25)
IE(R=50%DFI=40)

Fingerprint Alpha
Class A | Alpha | 1.X | general purpose
CPE cpe:/o:a:alpha:1
SEQ(SP=0-5%GCD=1%TS=U)
T1(R=Y%DF=Y%W=FFFF)

Fingerprint Beta
Class B | Beta || router
SEQ(SP=0-5%GCD=1|2%TS=A)
T1(R=Y%DF=N%W=FFFF)

Fingerprint Alpha
Class A | Alpha | 2.X | general purpose
SEQ(SP=0-5%GCD=1%TS=U)
T1(R=Y%DF=Y%W=1000)

Fingerprint Gamma
Class A | Alpha | 1.X | general purpose
SEQ(SP=6-10%GCD=1%TS=U)
IE(R=Y%DFI=N)
";

    fn db() -> OsDb {
        OsDb::parse(DB, "test").unwrap()
    }

    fn obs(t: &[(&'static str, &'static str, &'static str)]) -> Vec<(&'static str, &'static str, &'static str)> {
        t.to_vec()
    }

    #[test]
    fn accuracy_weighs_only_shared_attributes() {
        let db = db();
        let mut m = Matcher::new(&db);
        // SEQ all match (200), T1: R, DF match, W not (120 of 145)
        let fp =
            obs(&[("SEQ", "SP", "3"), ("SEQ", "GCD", "1"), ("SEQ", "TS", "U"), ("T1", "R", "Y"), ("T1", "DF", "Y"), ("T1", "W", "8000")]);
        assert_eq!(m.accuracy(&fp[..], 0), 320.0 / 345.0);
        // no IE in the observed print: Gamma's IE line counts for nothing
        assert_eq!(m.accuracy(&fp[..], 3), 175.0 / 200.0);
        // a missing attribute counts for nothing; an attribute MatchPoints lacks too
        let fp = obs(&[("SEQ", "GCD", "1"), ("SEQ", "XX", "1")]);
        assert_eq!(m.accuracy(&fp[..], 0), 1.0);
        // nothing shared
        let fp = obs(&[("U1", "R", "N")]);
        assert_eq!(m.accuracy(&fp[..], 0), 0.0);
    }

    #[test]
    fn ranks_dedupes_names_and_keeps_file_order_among_equals() {
        let db = db();
        let mut m = Matcher::new(&db);
        let fp =
            obs(&[("SEQ", "SP", "3"), ("SEQ", "GCD", "1"), ("SEQ", "TS", "U"), ("T1", "R", "Y"), ("T1", "DF", "Y"), ("T1", "W", "1000")]);
        let r = m.best(&fp[..], GUESS_THRESHOLD);
        assert_eq!(r.outcome, Outcome::Success);
        // the second "Alpha" (perfect) replaces the first (W differs); Gamma 175/200
        let got: Vec<(usize, f64)> = r.entries.iter().map(|e| (e.print, e.accuracy)).collect();
        assert_eq!(got, vec![(2, 1.0), (3, 0.875)]);
        assert_eq!(r.perfect, 1);
        // Beta: 100 of 345 lost (TS, DF) → below the floor
        let c = classify(&db, &r);
        assert_eq!(c.perfect, 1);
        assert_eq!(c.classes.len(), 1, "only the perfect match's classes when there is one");
        assert_eq!(db.prints[c.classes[0].print].classes[c.classes[0].class].generation.as_deref(), Some("2.X"));
    }

    #[test]
    fn the_floor_and_guesses() {
        let db = db();
        let mut m = Matcher::new(&db);
        let fp = obs(&[("SEQ", "SP", "7"), ("SEQ", "GCD", "2"), ("SEQ", "TS", "A"), ("T1", "R", "Y"), ("T1", "DF", "N"), ("T1", "W", "0")]);
        // Beta: SP misses (25), W misses (25): 295/345 = 0.855
        let r = m.best(&fp[..], GUESS_THRESHOLD);
        assert_eq!(r.entries.iter().map(|e| e.print).collect::<Vec<_>>(), vec![1]);
        assert_eq!(r.perfect, 0);
        let c = classify(&db, &r);
        assert_eq!(c.perfect, 0);
        assert_eq!(c.classes.len(), 1);
        let r = m.best(&fp[..], 0.9);
        assert_eq!(r.outcome, Outcome::NoMatches);
        assert_eq!(classify(&db, &r).outcome, Outcome::NoMatches);
        // at a floor of 0, everything sharing something enters, equal names deduplicated
        let r = m.best(&fp[..], 0.0);
        assert_eq!(r.entries.len(), 3);
    }

    #[test]
    fn too_many_perfect_matches() {
        let mut text = String::from("MatchPoints\nSEQ(GCD=1)\n\n");
        for i in 0..40 {
            text.push_str(&format!("Fingerprint P{i}\nClass V | F{} | | general purpose\nSEQ(GCD=1)\n\n", i % 3));
        }
        let db = OsDb::parse(&text, "t").unwrap();
        let mut m = Matcher::new(&db);
        let fp = obs(&[("SEQ", "GCD", "1")]);
        let r = m.best(&fp[..], GUESS_THRESHOLD);
        assert_eq!(r.outcome, Outcome::TooManyMatches);
        assert_eq!(classify(&db, &r).outcome, Outcome::TooManyMatches);
        // 36 fit: success, and three distinct classes
        let short: String = text.split("Fingerprint P36").next().unwrap().to_string();
        let db = OsDb::parse(&short, "t").unwrap();
        let r = Matcher::new(&db).best(&fp[..], GUESS_THRESHOLD);
        assert_eq!((r.outcome, r.perfect, r.entries.len()), (Outcome::Success, 36, 36));
        assert_eq!(classify(&db, &r).classes.len(), 3);
    }

    #[test]
    fn a_full_list_raises_the_floor() {
        let mut text = String::from("MatchPoints\nSEQ(GCD=1%SP=1%TS=1%TI=1%CI=1%II=1%SS=1%ISR=1%A=1%B=1)\n\n");
        // print i matches 9 of 10 points unless i is a multiple of 7 (8 of 10)
        for i in 0..50 {
            let sp = if i % 7 == 0 { "9" } else { "1" };
            text.push_str(&format!("Fingerprint P{i}\nClass V | F | | x\nSEQ(GCD=1%SP=1%TS=1%TI=1%CI=1%II=1%SS=1%ISR={sp}%A=1%B=2)\n\n"));
        }
        let db = OsDb::parse(&text, "t").unwrap();
        let fp = obs(&[
            ("SEQ", "GCD", "1"),
            ("SEQ", "SP", "1"),
            ("SEQ", "TS", "1"),
            ("SEQ", "TI", "1"),
            ("SEQ", "CI", "1"),
            ("SEQ", "II", "1"),
            ("SEQ", "SS", "1"),
            ("SEQ", "ISR", "1"),
            ("SEQ", "A", "1"),
            ("SEQ", "B", "1"),
        ]);
        let r = Matcher::new(&db).best(&fp[..], 0.5);
        assert_eq!(r.entries.len(), MAX_RESULTS);
        assert!(r.entries.iter().all(|e| e.accuracy == 0.9), "the 0.8 prints were pushed out");
        let prints: Vec<usize> = r.entries.iter().map(|e| e.print).collect();
        let expected: Vec<usize> = (0..50).filter(|i| i % 7 != 0).take(MAX_RESULTS).collect();
        assert_eq!(prints, expected, "file order among equals; later equals do not enter a full list");
    }
}
