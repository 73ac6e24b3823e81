//! The `SF-Port…` service fingerprint nmap prints for a service it could not name, built
//! byte for byte as nmap 7.93 builds it (service_scan.cc's addToServiceFingerprint), so
//! that nmap's submission form takes it: a header with the port, protocol, tunnel,
//! intensity, date and time, then `%r(Probe,LEN,"escaped bytes")` per probe that got data,
//! wrapped every 74 characters with "\nSF:", and a closing ';'.

use super::db::Proto;

/// The nmap version and platform the header names: the fingerprint's format is nmap
/// 7.93's, and its submission form reads these fields.
pub const FP_NMAP_VERSION: &str = "7.93";
pub const FP_PLATFORM: &str = "x86_64-pc-linux-gnu";

const WRAP: usize = 74;
/// nmap stops adding responses once the fingerprint is this long (without -d).
const MAX_LEN: usize = 2200;
/// and takes at most this many bytes of each response.
const MAX_RESP: usize = 900;

/// When the fingerprint is made: local month and day, and Unix seconds.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    pub month: u32,
    pub day: u32,
    pub unix: u32,
}

impl Stamp {
    /// The current time, with the local date as nmap's localtime() gives it.
    pub fn now() -> Stamp {
        let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let t = unix as libc::time_t;
        // SAFETY: localtime_r writes only into the tm we pass
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
        let (month, day) = if ok { (tm.tm_mon as u32 + 1, tm.tm_mday as u32) } else { (0, 0) };
        Stamp { month, day, unix: unix as u32 }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Fingerprint {
    text: String,
}

impl Fingerprint {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn clear(&mut self) {
        self.text.clear();
    }

    fn push(&mut self, c: char) {
        if self.text.len() % (WRAP + 1) == WRAP {
            self.text.push_str("\nSF:");
        }
        self.text.push(c);
    }

    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            self.push(c);
        }
    }

    /// Adds one probe's response (`resp` not empty).
    #[allow(clippy::too_many_arguments)]
    pub fn add(&mut self, probe: &str, resp: &[u8], port: u16, proto: Proto, ssl: bool, intensity: u8, stamp: Stamp) {
        if resp.is_empty() || self.text.len() > MAX_LEN {
            return;
        }
        if self.text.is_empty() {
            let header = format!(
                "SF-Port{port}-{}:V={FP_NMAP_VERSION}{}%I={intensity}%D={}/{}%Time={:X}%P={FP_PLATFORM}",
                proto.upper(),
                if ssl { "%T=SSL" } else { "" },
                stamp.month,
                stamp.day,
                stamp.unix
            );
            self.push_str(&header);
        }
        self.push_str(&format!("%r({probe},{:X},\"", resp.len()));
        let used = &resp[..resp.len().min(MAX_RESP)];
        for (i, &b) in used.iter().enumerate() {
            if b.is_ascii_alphanumeric() {
                self.push(b as char);
            } else if b == 0 {
                // "\0" followed by a digit would read as an octal escape
                if i + 1 >= used.len() || !used[i + 1].is_ascii_digit() {
                    self.push_str("\\0");
                } else {
                    self.push_str("\\x00");
                }
            } else if b"\\?\"[]().*+$^|".contains(&b) {
                self.push('\\');
                self.push(b as char);
            } else if b.is_ascii_punctuation() {
                self.push(b as char);
            } else if b == b'\r' {
                self.push_str("\\r");
            } else if b == b'\n' {
                self.push_str("\\n");
            } else if b == b'\t' {
                self.push_str("\\t");
            } else {
                self.push_str(&format!("\\x{b:02x}"));
            }
        }
        self.push('"');
        self.push(')');
    }

    /// The finished fingerprint (with nmap's closing ';'), or None if no probe got data.
    pub fn finish(&self) -> Option<String> {
        if self.text.is_empty() {
            None
        } else {
            Some(format!("{};", self.text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_wrap() {
        let mut f = Fingerprint::default();
        let st = Stamp { month: 12, day: 1, unix: 0x692D_0000 };
        f.add("NULL", b"hello\0 1\0\r\n[x]", 4444, Proto::Tcp, false, 7, st);
        let s = f.finish().unwrap();
        assert_eq!(
            s,
            "SF-Port4444-TCP:V=7.93%I=7%D=12/1%Time=692D0000%P=x86_64-pc-linux-gnu%r(NU\nSF:LL,E,\"hello\\0\\x201\\0\\r\\n\\[x\\]\");"
        );
        // every line but the last holds 74 characters after its "SF:" continuation mark
        let mut g = Fingerprint::default();
        g.add("GetRequest", &[b'a'; 300], 1, Proto::Udp, true, 9, st);
        let out = g.finish().unwrap();
        let lines: Vec<&str> = out.split('\n').collect();
        assert!(lines[0].starts_with("SF-Port1-UDP:V=7.93%T=SSL%I=9%"));
        assert_eq!(lines[0].len(), 74);
        assert!(lines[1..lines.len() - 1].iter().all(|l| l.len() == 74 && l.starts_with("SF:")));
    }
}
