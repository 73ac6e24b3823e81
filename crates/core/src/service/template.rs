//! Version-info templates: filling `p/ v/ i/ h/ o/ d/` and `cpe:` from a match's capture
//! groups with `$1`…`$9`, `$P(n)` (printable bytes only), `$SUBST(n,"find","repl")` and
//! `$I(n,">"|"<")` (an unsigned integer, big- or little-endian), with nmap's rules: a field
//! that does not fit its buffer, or names a group that does not exist, comes out empty;
//! trailing whitespace and commas are trimmed; CPE substitutions are escaped and lower-cased.

use super::db::Templates;
use super::escape::cstring_unescape;
use super::pattern::Groups;

/// nmap's buffer sizes (bytes including the NUL) for each field.
pub const PRODUCT_LEN: usize = 80;
pub const VERSION_LEN: usize = 80;
pub const INFO_LEN: usize = 256;
pub const HOSTNAME_LEN: usize = 80;
pub const OSTYPE_LEN: usize = 32;
pub const DEVICETYPE_LEN: usize = 32;
pub const CPE_LEN: usize = 80;

/// The fields one match produced (raw bytes; empty means absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionInfo {
    pub product: Vec<u8>,
    pub version: Vec<u8>,
    pub info: Vec<u8>,
    pub hostname: Vec<u8>,
    pub ostype: Vec<u8>,
    pub devicetype: Vec<u8>,
    /// The last `cpe:/a`, `cpe:/h` and `cpe:/o` template's result (one slot per part).
    pub cpe_a: Vec<u8>,
    pub cpe_h: Vec<u8>,
    pub cpe_o: Vec<u8>,
}

/// Fills every template of a match line.
pub fn fill(t: &Templates, subject: &[u8], groups: &Groups) -> VersionInfo {
    let f = |tmpl: &Option<Vec<u8>>, len: usize| tmpl.as_ref().and_then(|x| subst(x, subject, groups, len, false)).unwrap_or_default();
    let mut v = VersionInfo {
        product: f(&t.product, PRODUCT_LEN),
        version: f(&t.version, VERSION_LEN),
        info: f(&t.info, INFO_LEN),
        hostname: f(&t.hostname, HOSTNAME_LEN),
        ostype: f(&t.ostype, OSTYPE_LEN),
        devicetype: f(&t.devicetype, DEVICETYPE_LEN),
        ..Default::default()
    };
    for c in &t.cpe {
        let slot = match c.get(5) {
            Some(b'a') => &mut v.cpe_a,
            Some(b'h') => &mut v.cpe_h,
            Some(b'o') => &mut v.cpe_o,
            _ => continue,
        };
        *slot = subst(c, subject, groups, CPE_LEN, true).unwrap_or_default();
    }
    v
}

/// nmap's dotmplsubst: None when the result does not fit `n` (its buffer size) or a
/// variable cannot be filled.
pub fn subst(tmpl: &[u8], subject: &[u8], groups: &Groups, n: usize, cpe: bool) -> Option<Vec<u8>> {
    if n < 3 {
        return None;
    }
    let mut dst: Vec<u8> = Vec::new();
    let mut s = 0;
    while s < tmpl.len() {
        match tmpl[s..].iter().position(|&b| b == b'$') {
            None => {
                for &c in &tmpl[s..] {
                    if dst.len() >= n - 1 {
                        return None;
                    }
                    dst.push(c);
                }
                trim(&mut dst);
                return Some(dst);
            }
            Some(k) => {
                let lit = &tmpl[s..s + k];
                if !lit.is_empty() {
                    // nmap: fails when (end - dst) <= len - 1
                    if (n as isize - dst.len() as isize) < lit.len() as isize {
                        return None;
                    }
                    dst.extend_from_slice(lit);
                }
                s += k;
                let (mut val, used) = substvar(&tmpl[s..], subject, groups)?;
                if cpe {
                    val = transform_cpe(&val);
                }
                if dst.len() + val.len() >= n - 1 {
                    return None;
                }
                dst.extend_from_slice(&val);
                s += used;
            }
        }
    }
    if dst.len() >= n - 1 {
        return None;
    }
    trim(&mut dst);
    Some(dst)
}

fn trim(v: &mut Vec<u8>) {
    while let Some(&c) = v.last() {
        if is_c_space(c) || c == b',' {
            v.pop();
        } else {
            break;
        }
    }
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn group(groups: &Groups, n: i64) -> Option<(usize, usize)> {
    // PCRE's match count is one more than the highest group that took part in the match;
    // nmap refuses any group at or past it
    let count = groups.iter().rposition(|g| g.is_some()).map_or(0, |i| i + 1);
    if !(1..=9).contains(&n) || n as usize >= count {
        return None;
    }
    // an unset group below the highest set one reads as empty
    Some(groups[n as usize].unwrap_or((0, 0)))
}

enum Arg {
    Int(i64),
    Str(Vec<u8>),
}

/// One `$…` variable at the start of `t`: (its value, the bytes it used).
fn substvar(t: &[u8], subject: &[u8], groups: &Groups) -> Option<(Vec<u8>, usize)> {
    let c = *t.get(1)?;
    if c.is_ascii_digit() {
        let (a, b) = group(groups, (c - b'0') as i64)?;
        return Some((subject[a..b].to_vec(), 2));
    }
    let open = t.iter().position(|&b| b == b'(')?;
    let cmd = &t[1..open];
    if cmd.is_empty() || cmd.len() >= 16 {
        return None;
    }
    let (args, end) = parse_args(t, open + 1)?;
    if args.is_empty() {
        return None;
    }
    let int = |k: usize| match args.get(k) {
        Some(Arg::Int(v)) => Some(*v),
        _ => None,
    };
    let string = |k: usize| match args.get(k) {
        Some(Arg::Str(v)) => Some(v.clone()),
        _ => None,
    };
    let out = match cmd {
        b"P" => {
            if args.len() != 1 {
                return None;
            }
            let (a, b) = group(groups, int(0)?)?;
            subject[a..b].iter().copied().filter(|c| (0x20..0x7f).contains(c)).collect()
        }
        b"SUBST" => {
            if args.len() != 3 {
                return None;
            }
            let (a, b) = group(groups, int(0)?)?;
            let (find, repl) = (string(1)?, string(2)?);
            if find.is_empty() {
                // nmap would loop for ever on an empty search string; refuse it
                return None;
            }
            let mut out = Vec::new();
            let mut i = a;
            while i < b {
                // nmap compares against the subject past the group's end too
                if subject.len() >= i + find.len() && subject[i..i + find.len()] == find[..] {
                    out.extend_from_slice(&repl);
                    i += find.len();
                } else {
                    out.push(subject[i]);
                    i += 1;
                }
            }
            out
        }
        b"I" => {
            if args.len() != 2 {
                return None;
            }
            let (a, b) = group(groups, int(0)?)?;
            let endian = string(1)?;
            if endian.len() != 1 || b - a > 8 {
                return None;
            }
            let bytes = &subject[a..b];
            let v: u64 = match endian[0] {
                b'>' => bytes.iter().fold(0u64, |v, &x| (v << 8) + x as u64),
                b'<' => bytes.iter().rev().fold(0u64, |v, &x| (v << 8) + x as u64),
                _ => return None,
            };
            v.to_string().into_bytes()
        }
        _ => return None,
    };
    Some((out, end))
}

/// nmap's getsubstcommandargs: integers (strtol base 0) and double-quoted C strings,
/// comma-separated, up to `)`. Returns the args and the index after `)`.
fn parse_args(t: &[u8], mut i: usize) -> Option<(Vec<Arg>, usize)> {
    let mut args = Vec::new();
    while i < t.len() && t[i] != b')' {
        while i < t.len() && is_c_space(t[i]) {
            i += 1;
        }
        if i >= t.len() {
            return None;
        }
        if t[i] == b')' {
            break;
        }
        if args.len() == 5 {
            return None;
        }
        if t[i] == b'"' {
            let mut raw = Vec::new();
            loop {
                i += 1;
                let c = *t.get(i)?;
                if c == b'"' && (t[i - 1] != b'\\' || (i >= 2 && t[i - 2] == b'\\')) {
                    break;
                }
                if raw.len() >= 127 {
                    return None;
                }
                raw.push(c);
            }
            args.push(Arg::Str(cstring_unescape(&raw)?));
            i += 1;
        } else {
            let (v, used) = strtol0(&t[i..])?;
            args.push(Arg::Int(v));
            i += used;
        }
        let k = t[i..].iter().position(|&b| b == b',' || b == b')')?;
        i += k;
        if t[i] == b',' {
            i += 1;
        }
    }
    if i < t.len() && t[i] == b')' {
        i += 1;
    }
    Some((args, i))
}

/// C's strtol with base 0 (decimal, 0x hex, 0 octal); None when no digits were read.
fn strtol0(s: &[u8]) -> Option<(i64, usize)> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let (radix, start) = if s[i..].starts_with(b"0x") || s[i..].starts_with(b"0X") {
        (16, i + 2)
    } else if s.get(i) == Some(&b'0') {
        (8, i)
    } else {
        (10, i)
    };
    let n = s[start..].iter().take_while(|c| (**c as char).is_digit(radix)).count();
    if n == 0 {
        return None;
    }
    let v = i64::from_str_radix(std::str::from_utf8(&s[start..start + n]).ok()?, radix).unwrap_or(i64::MAX);
    Some((if neg { -v } else { v }, start + n))
}

/// nmap's transform_cpe: CPE-reserved characters as %XX, spaces as '_', the rest lower-cased.
fn transform_cpe(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        // nmap works on a C string: a NUL ends it
        if c == 0 {
            break;
        }
        if b":/?#[]@!$&'()*+,;=%<>\"".contains(&c) {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        } else if is_c_space(c) {
            out.push(b'_');
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// nmap's cstringSanityCheck for the final fields: at most `len` bytes, non-printable
/// bytes shown as '.'. Also stops at a NUL, since nmap's fields are C strings.
pub fn sanitize(v: &[u8], len: usize) -> String {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len()).min(len);
    v[..end].iter().map(|&c| if (0x20..0x7f).contains(&c) { c as char } else { '.' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::pattern::Pattern;

    fn run(re: &[u8], subject: &[u8], tmpl: &[u8], n: usize) -> Option<Vec<u8>> {
        let g = Pattern::compile(re, false, false).unwrap().captures(subject).unwrap();
        subst(tmpl, subject, &g, n, false)
    }

    #[test]
    fn placeholders() {
        assert_eq!(run(br"^(\w+) (\w+)", b"ab cd", b"$2 and $1", 80).unwrap(), b"cd and ab");
        assert_eq!(run(br"^(\w+)", b"ab", b"v$1, ", 80).unwrap(), b"vab");
        assert_eq!(run(br"^(\w+)", b"ab", b"$2", 80), None);
        // group 2 did not take part: past PCRE's match count, so the field is empty
        assert_eq!(run(br"^(a)|(b)", b"a", b"[$2]", 80), None);
        assert_eq!(run(br"^(x)?(b)", b"b", b"[$1$2]", 80).unwrap(), b"[b]");
        assert_eq!(run(br"^(.*)$", b"W\0O\0R\0K", b"$P(1)", 80).unwrap(), b"WORK");
        assert_eq!(run(br"^(.*)$", b"1_2_3", b"$SUBST(1,\"_\",\".\")", 80).unwrap(), b"1.2.3");
        assert_eq!(run(br"^(..)", b"\x01\x02", b"$I(1,\">\")", 80).unwrap(), b"258");
        assert_eq!(run(br"^(..)", b"\x01\x02", b"$I(1,\"<\")", 80).unwrap(), b"513");
        assert_eq!(run(br"^(.*)", b"123456789", b"$I(1,\">\")", 80), None);
        assert_eq!(run(br"^(.*)", b"x", b"$Q(1)", 80), None);
        assert_eq!(run(br"^(.*)", b"x", b"cost $", 80), None);
    }

    #[test]
    fn buffer_limits_like_nmap() {
        // 31 literal bytes fit a 32-byte buffer; 32 do not
        assert!(run(b"^", b"", &[b'a'; 31], 32).is_some());
        assert!(run(b"^", b"", &[b'a'; 32], 32).is_none());
        // a substitution must leave two bytes: 30 bytes fit, 31 do not
        assert!(run(b"^(.*)", &[b'a'; 30], b"$1", 32).is_some());
        assert!(run(b"^(.*)", &[b'a'; 31], b"$1", 32).is_none());
    }

    #[test]
    fn cpe_escaping() {
        let g = Pattern::compile(br"^(.*)$", false, false).unwrap().captures(b"Foo Bar:1").unwrap();
        assert_eq!(subst(b"cpe:/a:x:y:$1", b"Foo Bar:1", &g, 80, true).unwrap(), b"cpe:/a:x:y:foo_bar%3A1");
        assert_eq!(sanitize(b"Oc\xc3\xa9 x\x01", 80), "Oc.. x.");
    }
}
