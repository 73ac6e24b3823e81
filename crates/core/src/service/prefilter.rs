//! A prefilter over one probe's match lines, so that a response that matches nothing stays
//! cheap: from each pattern it takes a literal that every match must contain — the bytes
//! right after a leading `^` (checked at offset 0, bucketed by first byte), or else the
//! longest literal run at the top level (found for all patterns at once by Aho-Corasick).
//! Patterns with neither (top-level alternation, inline flags, no literal) are always run.
//! It only ever removes patterns that cannot match; the regex still decides.

use super::db::MatchLine;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Shortest inner literal worth an Aho-Corasick entry (shorter ones hit almost everything).
const MIN_INNER: usize = 3;

/// What a pattern guarantees about any subject it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    /// The subject starts with these bytes.
    Prefix(Vec<u8>),
    /// The subject contains these bytes somewhere.
    Inner(Vec<u8>),
    /// Nothing usable.
    Nothing,
}

#[derive(Default)]
pub struct Prefilter {
    always: Vec<u32>,
    /// By first byte: (match index, prefix, caseless).
    buckets: Vec<Vec<(u32, Vec<u8>, bool)>>,
    sensitive: Option<(AhoCorasick, Vec<u32>)>,
    caseless: Option<(AhoCorasick, Vec<u32>)>,
    len: usize,
}

impl Prefilter {
    pub fn build(matches: &[MatchLine]) -> Prefilter {
        let mut f = Prefilter { buckets: vec![Vec::new(); 256], len: matches.len(), ..Default::default() };
        let (mut sens, mut sens_ids, mut fold, mut fold_ids) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, m) in matches.iter().enumerate() {
            let i = i as u32;
            match required(&m.source) {
                Required::Prefix(p) => {
                    let first = p[0];
                    if m.caseless && first.is_ascii_alphabetic() {
                        f.buckets[first.to_ascii_lowercase() as usize].push((i, p.clone(), true));
                        f.buckets[first.to_ascii_uppercase() as usize].push((i, p, true));
                    } else {
                        f.buckets[first as usize].push((i, p, m.caseless));
                    }
                }
                Required::Inner(lit) if lit.len() >= MIN_INNER => {
                    if m.caseless {
                        fold.push(lit);
                        fold_ids.push(i);
                    } else {
                        sens.push(lit);
                        sens_ids.push(i);
                    }
                }
                _ => f.always.push(i),
            }
        }
        let build = |pats: Vec<Vec<u8>>, ids: Vec<u32>, ci: bool| {
            if pats.is_empty() {
                return None;
            }
            match AhoCorasickBuilder::new().ascii_case_insensitive(ci).match_kind(MatchKind::Standard).build(&pats) {
                Ok(ac) => Some((ac, ids)),
                Err(_) => None,
            }
        };
        // if an automaton cannot be built its patterns simply run always
        f.sensitive = build(sens.clone(), sens_ids.clone(), false);
        if f.sensitive.is_none() {
            f.always.extend(sens_ids);
        }
        f.caseless = build(fold.clone(), fold_ids.clone(), true);
        if f.caseless.is_none() {
            f.always.extend(fold_ids);
        }
        f
    }

    /// The indices of the match lines that may match `subject`, ascending (file order).
    pub fn candidates(&self, subject: &[u8], out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.always);
        if let Some(&b0) = subject.first() {
            for (i, p, ci) in &self.buckets[b0 as usize] {
                let ok = subject.len() >= p.len() && if *ci { subject[..p.len()].eq_ignore_ascii_case(p) } else { subject.starts_with(p) };
                if ok {
                    out.push(*i);
                }
            }
        }
        for (ac, ids) in [&self.sensitive, &self.caseless].into_iter().flatten() {
            for m in ac.find_overlapping_iter(subject) {
                out.push(ids[m.pattern().as_usize()]);
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// How many match lines this prefilter covers.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// (always run, by prefix, by inner literal): for the benchmark's report.
    pub fn shape(&self) -> (usize, usize, usize) {
        let prefix: usize = self.buckets.iter().map(|b| b.len()).sum();
        let inner = self.sensitive.as_ref().map_or(0, |s| s.1.len()) + self.caseless.as_ref().map_or(0, |s| s.1.len());
        (self.always.len(), prefix, inner)
    }
}

/// One element of a pattern at the top level.
enum Item {
    Byte(u8),
    Other,
}

/// Reads what every match of `src` must contain. Conservative: whatever it cannot read
/// with certainty makes it answer Nothing.
pub fn required(src: &[u8]) -> Required {
    let mut i = 0;
    let mut anchored = false;
    if src.starts_with(b"^") {
        anchored = true;
        i = 1;
    } else if src.starts_with(b"\\A") {
        anchored = true;
        i = 2;
    }
    let start = i;
    let mut runs: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    let mut run_start = start;
    let mut first_run_at_start = None;
    while i < src.len() {
        let item_pos = i;
        let item = match src[i] {
            b'|' => return Required::Nothing,
            b'(' => {
                if src[i..].starts_with(b"(?") && inline_flags(&src[i..]) {
                    return Required::Nothing;
                }
                match skip_group(src, i) {
                    Some(j) => i = j,
                    None => return Required::Nothing,
                }
                Item::Other
            }
            b'[' => {
                match skip_class(src, i) {
                    Some(j) => i = j,
                    None => return Required::Nothing,
                }
                Item::Other
            }
            b')' => return Required::Nothing,
            b'.' | b'^' | b'$' => {
                i += 1;
                Item::Other
            }
            b'\\' => match escape(src, i) {
                Some((item, j)) => {
                    i = j;
                    item
                }
                None => return Required::Nothing,
            },
            b'*' | b'+' | b'?' => return Required::Nothing,
            b'{' if quantifier_len(&src[i..]).is_some() => return Required::Nothing,
            c => {
                i += 1;
                Item::Byte(c)
            }
        };
        // the quantifier, if any, decides whether the item is required and whether the run goes on
        let (min_zero, repeats, qlen) = quantifier(&src[i..]);
        i += qlen;
        match item {
            Item::Byte(b) if !min_zero => {
                if run.is_empty() {
                    run_start = item_pos;
                }
                run.push(b);
                if repeats {
                    flush(&mut runs, &mut run, run_start, start, &mut first_run_at_start);
                }
            }
            _ => flush(&mut runs, &mut run, run_start, start, &mut first_run_at_start),
        }
    }
    flush(&mut runs, &mut run, run_start, start, &mut first_run_at_start);
    if anchored {
        if let Some(p) = first_run_at_start {
            return Required::Prefix(p);
        }
    }
    match runs.into_iter().max_by_key(|(_, r)| r.len()) {
        Some((_, r)) if !r.is_empty() => Required::Inner(r),
        _ => Required::Nothing,
    }
}

fn flush(runs: &mut Vec<(usize, Vec<u8>)>, run: &mut Vec<u8>, run_start: usize, start: usize, first: &mut Option<Vec<u8>>) {
    if run.is_empty() {
        return;
    }
    if run_start == start && first.is_none() && runs.is_empty() {
        *first = Some(run.clone());
    }
    runs.push((run_start, std::mem::take(run)));
}

/// `(?i)`-style option settings change how what follows matches.
fn inline_flags(s: &[u8]) -> bool {
    let body = &s[2..];
    let n = body.iter().take_while(|c| c.is_ascii_alphabetic() || **c == b'-' || **c == b'^').count();
    n > 0 && body.get(n) == Some(&b')')
}

/// The length of a `{n}`, `{n,}` or `{n,m}` quantifier at the start of `s`, if it is one.
fn quantifier_len(s: &[u8]) -> Option<(usize, bool)> {
    if s.first() != Some(&b'{') {
        return None;
    }
    let mut j = 1;
    let d1 = s[j..].iter().take_while(|c| c.is_ascii_digit()).count();
    if d1 == 0 {
        return None;
    }
    let min_zero = s[j..j + d1].iter().all(|&c| c == b'0');
    j += d1;
    let mut exact_one = &s[1..1 + d1] == b"1";
    if s.get(j) == Some(&b',') {
        j += 1;
        let d2 = s[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        exact_one = exact_one && d2 > 0 && s[j..j + d2].iter().all(|&c| c == b'0' || c == b'1') && &s[j..j + d2] == b"1";
        j += d2;
    }
    if s.get(j) != Some(&b'}') {
        return None;
    }
    let _ = exact_one;
    Some((j + 1, min_zero))
}

/// (may be absent, may repeat, length) of the quantifier at the start of `s`.
fn quantifier(s: &[u8]) -> (bool, bool, usize) {
    let (min_zero, repeats, mut n) = match s.first() {
        Some(b'?') => (true, false, 1),
        Some(b'*') => (true, true, 1),
        Some(b'+') => (false, true, 1),
        Some(b'{') => match quantifier_len(s) {
            Some((len, min_zero)) => (min_zero, true, len),
            None => return (false, false, 0),
        },
        _ => return (false, false, 0),
    };
    if matches!(s.get(n), Some(b'?') | Some(b'+')) {
        n += 1;
    }
    (min_zero, repeats, n)
}

/// Skips a parenthesised group starting at `i`; returns the index after its `)`.
fn skip_group(src: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < src.len() {
        match src[i] {
            b'\\' => {
                if src.get(i + 1) == Some(&b'Q') {
                    return None;
                }
                i += 2;
                continue;
            }
            b'[' => {
                i = skip_class(src, i)?;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Skips a character class starting at `i` (`[`); returns the index after its `]`.
fn skip_class(src: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    if src.get(i) == Some(&b'^') {
        i += 1;
    }
    if src.get(i) == Some(&b']') {
        i += 1;
    }
    while i < src.len() {
        match src[i] {
            b'\\' => {
                if src.get(i + 1) == Some(&b'Q') {
                    return None;
                }
                i += 2;
            }
            b'[' if src.get(i + 1) == Some(&b':') => {
                // a POSIX class such as [:alpha:]
                let rest = &src[i + 2..];
                let end = rest.windows(2).position(|w| w == b":]")?;
                i += 2 + end + 2;
            }
            b']' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Reads the escape at `i` (a backslash). None where the meaning is not certain.
fn escape(src: &[u8], i: usize) -> Option<(Item, usize)> {
    let c = *src.get(i + 1)?;
    let j = i + 2;
    Some(match c {
        b'r' => (Item::Byte(b'\r'), j),
        b'n' => (Item::Byte(b'\n'), j),
        b't' => (Item::Byte(b'\t'), j),
        b'f' => (Item::Byte(0x0c), j),
        b'e' => (Item::Byte(0x1b), j),
        b'a' => (Item::Byte(0x07), j),
        b'x' => {
            if src.get(j) == Some(&b'{') {
                let end = src[j..].iter().position(|&b| b == b'}')? + j;
                let v = u32::from_str_radix(std::str::from_utf8(&src[j + 1..end]).ok()?, 16).ok()?;
                if v > 0xff {
                    return None;
                }
                (Item::Byte(v as u8), end + 1)
            } else {
                let n = src[j..].iter().take(2).take_while(|c| c.is_ascii_hexdigit()).count();
                let v = if n == 0 { 0 } else { u8::from_str_radix(std::str::from_utf8(&src[j..j + n]).ok()?, 16).ok()? };
                (Item::Byte(v), j + n)
            }
        }
        b'0' => {
            // \0 and up to two more octal digits
            let n = src[j..].iter().take(2).take_while(|c| (b'0'..=b'7').contains(c)).count();
            let v = if n == 0 { 0 } else { u32::from_str_radix(std::str::from_utf8(&src[j..j + n]).ok()?, 8).ok()? };
            (Item::Byte(v as u8), j + n)
        }
        b'1'..=b'9' => {
            // a back reference (or octal): not a literal we can know
            let n = src[j..].iter().take_while(|c| c.is_ascii_digit()).count();
            (Item::Other, j + n)
        }
        b'd' | b'D' | b'w' | b'W' | b's' | b'S' | b'h' | b'H' | b'v' | b'V' | b'R' | b'N' | b'X' | b'C' => (Item::Other, j),
        // zero-width assertions: they consume nothing, but end a run to stay simple
        b'b' | b'B' | b'z' | b'Z' | b'A' | b'G' | b'K' => (Item::Other, j),
        c if c.is_ascii_alphanumeric() => return None,
        c => (Item::Byte(c), j),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[u8]) -> Required {
        required(s)
    }

    #[test]
    fn literals() {
        assert_eq!(p(br"^SSH-([\d.]+)-OpenSSH"), Required::Prefix(b"SSH-".to_vec()));
        assert_eq!(p(br"^HTTP/1\.[01] \d\d\d"), Required::Prefix(b"HTTP/1.".to_vec()));
        assert_eq!(p(br"^\0\x01\x02ab?c"), Required::Prefix(b"\0\x01\x02a".to_vec()));
        assert_eq!(p(br"^a+bc"), Required::Prefix(b"a".to_vec()));
        assert_eq!(p(br"^a{0,2}bcd"), Required::Inner(b"bcd".to_vec()));
        assert_eq!(p(br"^a{2}bcd"), Required::Prefix(b"a".to_vec()));
        assert_eq!(p(br"^(?:x)abc"), Required::Inner(b"abc".to_vec()));
        assert_eq!(p(br"Server: Apache"), Required::Inner(b"Server: Apache".to_vec()));
        assert_eq!(p(br"^foo|bar"), Required::Nothing);
        assert_eq!(p(br"(?i)^foo"), Required::Nothing);
        assert_eq!(p(br"^\d+foo"), Required::Inner(b"foo".to_vec()));
        assert_eq!(p(br"^[a|b]xyz"), Required::Inner(b"xyz".to_vec()));
        assert_eq!(p(br"^\Qa|b\E"), Required::Nothing);
        assert_eq!(p(br"^x{"), Required::Prefix(b"x{".to_vec()));
        assert_eq!(p(br"^\x{41}\101"), Required::Prefix(b"A".to_vec()));
        assert_eq!(p(br"^\015\012"), Required::Prefix(b"\r\n".to_vec()));
    }
}
