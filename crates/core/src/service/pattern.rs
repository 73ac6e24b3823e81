//! One match line's regular expression, compiled by PCRE2 (the library nmap's patterns
//! are written for) in byte mode: no UTF, no UCP, ASCII-only case folding, `i` and `s`
//! as nmap passes them. Matching returns the capture offsets the version templates use.

use pcre2::bytes::{CaptureLocations, Regex, RegexBuilder};

/// A compiled pattern with the capture locations it reuses.
pub struct Pattern {
    regex: Regex,
}

/// The groups of one successful match: (start, end) per group, None for an unset group.
pub type Groups = Vec<Option<(usize, usize)>>;

impl Pattern {
    /// Compiles `source` (the bytes between the delimiters of `m|...|`).
    pub fn compile(source: &[u8], caseless: bool, dotall: bool) -> Result<Pattern, String> {
        let text = pattern_text(source);
        let regex = RegexBuilder::new().caseless(caseless).dotall(dotall).jit_if_available(true).build(&text).map_err(|e| e.to_string())?;
        Ok(Pattern { regex })
    }

    /// Whether the pattern matches anywhere in `subject`. A PCRE error (match limit) counts
    /// as no match, as nmap counts it.
    pub fn is_match(&self, subject: &[u8]) -> bool {
        self.regex.is_match(subject).unwrap_or(false)
    }

    /// The capture groups of the first match in `subject`, or None.
    pub fn captures(&self, subject: &[u8]) -> Option<Groups> {
        let mut locs: CaptureLocations = self.regex.capture_locations();
        match self.regex.captures_read(&mut locs, subject) {
            Ok(Some(_)) => Some((0..locs.len()).map(|i| locs.get(i)).collect()),
            _ => None,
        }
    }
}

/// PCRE2's Rust API takes the pattern as &str; the file's patterns are bytes. Bytes above
/// 0x7f mean themselves in non-UTF mode, so each becomes `\x{hh}` (after an unpaired
/// backslash only `x{hh}`, which keeps "escaped byte" meaning the same byte).
pub(crate) fn pattern_text(source: &[u8]) -> String {
    if source.is_ascii() {
        return String::from_utf8_lossy(source).into_owned();
    }
    let mut out = String::with_capacity(source.len() + 16);
    let mut backslashes = 0usize;
    for &b in source {
        if b < 0x80 {
            out.push(b as char);
            backslashes = if b == b'\\' { backslashes + 1 } else { 0 };
        } else {
            if backslashes % 2 == 1 {
                out.push_str(&format!("x{{{b:02x}}}"));
            } else {
                out.push_str(&format!("\\x{{{b:02x}}}"));
            }
            backslashes = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_pcre_features() {
        // atomic group, possessive quantifier, lookahead, backreference, octal NUL
        let p = Pattern::compile(br"^(?>a+)b(c)++(?=d)\1?d\0\x01", false, false).unwrap();
        assert!(p.is_match(b"aabcd\0\x01"));
        assert!(!p.is_match(b"aabd\0\x01"));
        let p = Pattern::compile(b"^caf\xe9", false, false).unwrap();
        assert!(p.is_match(b"caf\xe9"));
        assert!(!p.is_match("café".as_bytes()));
        let p = Pattern::compile(b"^a\\\xe9", false, false).unwrap();
        assert!(p.is_match(b"a\xe9"));
        // `.` without s does not match \n; with s it does; i folds ASCII only
        assert!(!Pattern::compile(b"^a.b", false, false).unwrap().is_match(b"a\nb"));
        assert!(Pattern::compile(b"^a.b", false, true).unwrap().is_match(b"a\nb"));
        assert!(Pattern::compile(b"^SSH", true, false).unwrap().is_match(b"ssh"));
        let g = Pattern::compile(br"^(\d+)(x)?(y)", false, false).unwrap().captures(b"12y").unwrap();
        assert_eq!(g, vec![Some((0, 3)), Some((0, 2)), None, Some((2, 3))]);
        assert!(Pattern::compile(b"(", false, false).is_err());
    }
}
