//! nmap's C-style string unescaping, used for probe strings (`q|...|`) and the string
//! arguments of `$SUBST()`: `\0 \a \b \f \n \r \t \v \xHH`, and any other non-alphanumeric
//! character after a backslash stands for itself. Octal (`\015`) and other letters are
//! refused, as nmap refuses them.

/// Unescapes `s`; None if an escape is malformed.
pub fn cstring_unescape(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *s.get(i + 1)?;
        i += 2;
        let b = match e {
            b'0' => 0,
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 11,
            b'x' => {
                let h = hex(*s.get(i)?)?;
                let l = hex(*s.get(i + 1)?)?;
                i += 2;
                h * 16 + l
            }
            e if e.is_ascii_alphanumeric() => return None,
            e => e,
        };
        out.push(b);
    }
    Some(out)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(cstring_unescape(br"GET / HTTP/1.0\r\n\r\n").unwrap(), b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(cstring_unescape(br"\0\x01\xfF\|\\").unwrap(), b"\0\x01\xff|\\");
        // nmap reads `\0` as NUL whatever follows: `\015` is NUL, '1', '5'
        assert_eq!(cstring_unescape(br"\015").unwrap(), b"\x0015");
        assert!(cstring_unescape(br"\q").is_none());
        assert!(cstring_unescape(br"\x4").is_none());
        assert!(cstring_unescape(b"abc\\").is_none());
    }
}
