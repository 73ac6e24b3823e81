//! The value expressions of nmap-os-db's test lines (`SP=0-5`, `W=8000|FFFF`, `O=|M5B4`,
//! `GCD=<7`), compiled once and evaluated against an observed value as nmap 7.93 does.
//!
//! An expression is alternatives separated by `|`; each is `<N`, `>N`, `N-M` (hexadecimal,
//! inclusive) or a literal. Facts of nmap 7.93's evaluation (osscan.cc, expr_match) that
//! decide results and are kept here on purpose:
//! - A value is numeric when it is entirely a base-16 number as C's strtol reads it (which
//!   includes the empty value, read as 0). Only a numeric value is compared with `<`, `>`
//!   and ranges; a non-numeric one is compared literally with every alternative.
//! - For a numeric value, an alternative is a range when a `-` appears anywhere from that
//!   alternative to the end of the expression (so in `0|5-A` the `0` is not compared
//!   literally, and 0 does not match); it matches only when it is a well-formed range.
//! - A literal alternative other than the last matches every value that starts with it: an
//!   empty alternative (`O=|M5B4`, `Q=|U`) matches any value. The last one must be equal.
//!   Later nmap releases changed these rules; the golden tests run against 7.93.

/// One alternative, as it is judged for a numeric and for a non-numeric value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Alt {
    /// `<N` / `>N` (numeric values only); None when N is malformed: never matches.
    Less(Option<u32>),
    Greater(Option<u32>),
    /// `N-M` (numeric values only); None when malformed: never matches.
    Range(Option<(u32, u32)>),
    /// Compared as text with any value: a prefix unless it is the last alternative.
    Literal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Alternative {
    numeric: Alt,
    text: Box<str>,
    /// The text packed as in `pack`, when it is short enough: compared without memcmp.
    packed: Option<u128>,
    last: bool,
}

/// Up to 16 bytes as one number (zero-padded), for quick equality and prefix tests.
fn pack(s: &[u8]) -> Option<u128> {
    (s.len() <= 16).then(|| {
        let mut b = [0u8; 16];
        b[..s.len()].copy_from_slice(s);
        u128::from_le_bytes(b)
    })
}

/// The low `n` bytes of a packed text.
fn prefix_mask(n: usize) -> u128 {
    if n >= 16 {
        u128::MAX
    } else {
        (1u128 << (8 * n)) - 1
    }
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    alts: Vec<Alternative>,
}

/// An observed value, read once for every expression it is compared with.
#[derive(Debug, Clone, Copy)]
pub struct Value<'a> {
    text: &'a str,
    packed: Option<u128>,
    /// Some(n) when the whole value reads as a base-16 number (n truncated to 32 bits).
    number: Option<u32>,
}

impl<'a> Value<'a> {
    pub fn new(text: &'a str) -> Self {
        let (n, used) = strtol16(text.as_bytes());
        // strtol leaves its end pointer at the start when it read no digits: the empty
        // value is therefore "numeric" (nmap reads it as 0), "x" is not
        Value { text, packed: pack(text.as_bytes()), number: (used == text.len()).then_some(n as u32) }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }
}

/// C's strtol(s, &end, 16): the value (saturated) and how many bytes were read, 0 when no
/// digits were (end = s).
fn strtol16(s: &[u8]) -> (i64, usize) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    // a "0x" prefix counts only when a hex digit follows it
    if s.get(i) == Some(&b'0') && matches!(s.get(i + 1), Some(b'x' | b'X')) && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit) {
        i += 2;
    }
    let digits_from = i;
    let mut v: i64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|c| (*c as char).to_digit(16)) {
        match v.checked_mul(16).and_then(|x| x.checked_add(d as i64)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_from {
        return (0, 0);
    }
    let v = match (overflow, negative) {
        (true, false) => i64::MAX,
        (true, true) => i64::MIN,
        (false, true) => -v,
        (false, false) => v,
    };
    (v, i)
}

impl Expr {
    /// Compiles `text` (never fails: a malformed alternative simply never matches).
    pub fn compile(text: &str) -> Self {
        let b = text.as_bytes();
        let mut alts = Vec::new();
        let mut p = 0;
        loop {
            let rest = &b[p..];
            let q = rest.iter().position(|&c| c == b'|');
            let end = q.unwrap_or(rest.len());
            let at_end = |e: usize| Some(e) == q || e == rest.len();
            let numeric = match rest.first() {
                Some(&c @ (b'<' | b'>')) => {
                    let (n, used) = strtol16(&rest[1..]);
                    let n = at_end(1 + used).then_some(n as u32);
                    if c == b'<' {
                        Alt::Less(n)
                    } else {
                        Alt::Greater(n)
                    }
                }
                _ => match rest.iter().position(|&c| c == b'-') {
                    Some(dash) => {
                        let (lo, used_lo) = strtol16(rest);
                        let (hi, used_hi) = strtol16(&rest[dash + 1..]);
                        // strtol's end pointer: past the digits, or the start when it read none
                        let ok = used_lo == dash && at_end(dash + 1 + used_hi);
                        Alt::Range(ok.then_some((lo as u32, hi as u32)))
                    }
                    None => Alt::Literal,
                },
            };
            alts.push(Alternative {
                numeric,
                text: String::from_utf8_lossy(&rest[..end]).into(),
                packed: pack(&rest[..end]),
                last: q.is_none(),
            });
            match q {
                Some(q) => p += q + 1,
                None => break,
            }
        }
        Expr { alts }
    }

    pub fn matches(&self, v: &Value<'_>) -> bool {
        self.alts.iter().any(|a| {
            let kind = if v.number.is_some() { &a.numeric } else { &Alt::Literal };
            match (kind, v.number) {
                (Alt::Less(Some(n)), Some(x)) => x < *n,
                (Alt::Greater(Some(n)), Some(x)) => x > *n,
                (Alt::Range(Some((lo, hi))), Some(x)) => x >= *lo && x <= *hi,
                (Alt::Less(None) | Alt::Greater(None) | Alt::Range(None), _) => false,
                _ => {
                    let n = a.text.len();
                    match (a.packed, v.packed) {
                        (Some(x), Some(y)) if a.last => n == v.text.len() && x == y,
                        (Some(x), Some(y)) => n <= v.text.len() && y & prefix_mask(n) == x,
                        _ if a.last => v.text == &*a.text,
                        _ => v.text.starts_with(&*a.text),
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(val: &str, expr: &str) -> bool {
        Expr::compile(expr).matches(&Value::new(val))
    }

    #[test]
    fn literals_and_alternatives() {
        assert!(m("Y", "Y"));
        assert!(!m("N", "Y"));
        assert!(m("AR", "AS|AR"));
        assert!(!m("A", "AS|AR"), "the last alternative must be equal, not a prefix");
        assert!(m("M5B4ST11NW7", "M5B4ST11NW7"));
        assert!(!m("M5B4ST11NW", "M5B4ST11NW7"));
    }

    #[test]
    fn numbers_ranges_and_comparisons_are_hexadecimal() {
        assert!(m("FA", "FA-104"));
        assert!(m("104", "FA-104"));
        assert!(!m("F9", "FA-104"));
        assert!(!m("105", "FA-104"));
        assert!(m("6", "<7"));
        assert!(!m("7", "<7"));
        assert!(m("10", ">F"));
        assert!(m("8000", "FFFF|8000-8400"));
        assert!(m("3", "1-6|A"));
        assert!(m("A", "1-6|A"));
    }

    #[test]
    fn non_numeric_values_only_compare_literally() {
        // "Z" is not hexadecimal: ranges and comparisons never apply to it
        assert!(m("Z", "Z|1-6"));
        assert!(!m("S+", ">0"));
        // "A" is hexadecimal (10): it falls in a range
        assert!(m("A", "1-B"));
    }

    #[test]
    fn nmap_793_quirks() {
        // an empty alternative before the last matches anything
        assert!(m("M5B4NW7", "|M5B4"));
        assert!(m("", "|M5B4"));
        assert!(m("R", "|U"));
        // a non-last alternative matches any value it begins
        assert!(m("M5B4ST11", "M5B4|M200"));
        // a dash later in the expression makes a numeric value skip earlier literals
        assert!(!m("0", "0|5-A"));
        assert!(m("5", "0|5-A"));
        // ...but a non-numeric value is still compared literally
        assert!(m("Z", "Z|5-A"));
        // the empty value reads as the number 0
        assert!(m("", "<1"));
        assert!(m("", ""));
        assert!(!m("", "0"));
    }

    #[test]
    fn long_texts_compare_as_short_ones() {
        let long = "M5B4NNSNW7NNT11NNSW7XYZ";
        assert!(m(long, long));
        assert!(m(long, "M5B4NNSNW7NNT11NNS|x"), "a prefix longer than 16 bytes");
        assert!(!m("M5B4NNSNW7NNT11N", long));
        assert!(m("M5B4NNSNW7NNT11N", "M5B4NNSNW7NNT11N"));
        assert!(!m("M5B4NNSNW7NNT11", "M5B4NNSNW7NNT11N"));
        assert!(m("AB\0", "AB\0"));
    }

    #[test]
    fn malformed_alternatives_never_match() {
        assert!(!m("5", "3-"));
        assert!(!m("5", "<G"));
        assert!(!m("5", "-5"));
        assert!(m("5", "-5|5"));
        assert!(!m("5", "1-2-9"));
    }

    #[test]
    fn reads_numbers_as_strtol_does() {
        assert_eq!(strtol16(b"1F"), (31, 2));
        assert_eq!(strtol16(b""), (0, 0));
        assert_eq!(strtol16(b"0x1f"), (31, 4));
        assert_eq!(strtol16(b"0x"), (0, 1));
        assert_eq!(strtol16(b" -a"), (-10, 3));
        assert_eq!(strtol16(b"G"), (0, 0));
        assert_eq!(strtol16(b"FFFFFFFFFFFFFFFFFF").0, i64::MAX);
        assert!(Value::new("").number == Some(0));
        assert!(Value::new("S+").number.is_none());
        assert!(Value::new("E8A9B6D7").number == Some(0xE8A9B6D7));
    }
}
