//! What nmap's version-category NSE scripts change in a -sV answer after the probes. Of
//! those scripts only snmp-info changes a field here: on a UDP port 161 (or a service named
//! snmp) it decodes the SNMPv3 reply's authoritative engine ID and writes
//! "<product>; <enterprise> SNMPv3 server" as the product. Facts from nmap's
//! scripts/snmp-info.nse; the enterprise names are read at run time from nmap's
//! nselib/data/enterprise_numbers.txt.

use std::collections::HashMap;
use std::path::Path;

/// IANA enterprise numbers → names, as nmap's datafile holds them.
#[derive(Default)]
pub struct Enterprises {
    names: HashMap<u32, String>,
    /// nmap's table when the file could not be read answers "unknown" for everything.
    missing: bool,
}

impl Enterprises {
    /// Reads `enterprise_numbers.txt` (lines "NUMBER<TAB>NAME").
    pub fn load(path: &Path) -> Enterprises {
        match std::fs::read(path) {
            Ok(b) => Enterprises::parse(&String::from_utf8_lossy(&b)),
            Err(_) => Enterprises { names: HashMap::new(), missing: true },
        }
    }

    pub fn parse(text: &str) -> Enterprises {
        let mut names = HashMap::new();
        for line in text.lines() {
            let digits: String = line.chars().take_while(|c| c.is_ascii_digit()).collect();
            let (Ok(n), Some(tab)) = (digits.parse::<u32>(), line.find('\t')) else { continue };
            names.entry(n).or_insert_with(|| line[tab + 1..].to_string());
        }
        Enterprises { names, missing: false }
    }

    fn name(&self, n: u32) -> Option<String> {
        if self.missing {
            return Some("unknown".into());
        }
        self.names.get(&n).cloned()
    }
}

/// One BER element: (tag, contents, bytes used).
fn ber(b: &[u8]) -> Option<(u8, &[u8], usize)> {
    let tag = *b.first()?;
    let l0 = *b.get(1)? as usize;
    let (len, hdr) = if l0 < 0x80 {
        (l0, 2)
    } else {
        let n = l0 & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let body = b.get(hdr..hdr + len)?;
    Some((tag, body, hdr + len))
}

fn children(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (t, body, used) = ber(b)?;
        out.push((t, body));
        b = &b[used..];
    }
    Some(out)
}

fn int(body: &[u8]) -> Option<i64> {
    if body.is_empty() || body.len() > 8 {
        return None;
    }
    let mut v: i64 = if body[0] & 0x80 != 0 { -1 } else { 0 };
    for &x in body {
        v = (v << 8) | x as i64;
    }
    Some(v)
}

/// snmp-info's enterprise string for an SNMPv3 reply to nmap's SNMPv3GetRequest probe
/// (message ID 0x4a69, user-based security model), or None when the script gives up.
pub fn snmp_enterprise(resp: &[u8], ents: &Enterprises) -> Option<String> {
    let (tag, msg, _) = ber(resp)?;
    if tag != 0x30 {
        return None;
    }
    let parts = children(msg)?;
    let version = parts.first().filter(|p| p.0 == 0x02).and_then(|p| int(p.1))?;
    let global = parts.get(1).filter(|p| p.0 == 0x30).and_then(|p| children(p.1))?;
    if version != 3 || global.first().and_then(|g| int(g.1)) != Some(0x4a69) {
        return None;
    }
    if global.get(3).and_then(|g| int(g.1)) != Some(3) {
        return None;
    }
    let params = parts.get(2).filter(|p| p.0 == 0x04)?.1;
    let (_, usm, _) = ber(params)?;
    let usm = children(usm)?;
    let engine = usm.first()?.1;
    if engine.len() < 4 {
        return None;
    }
    let e = u32::from_be_bytes([engine[0], engine[1], engine[2], engine[3]]);
    Some(if e > 0x8000_0000 {
        // Lua formats a missing name as "nil"
        ents.name(e - 0x8000_0000).unwrap_or_else(|| "nil".into())
    } else {
        ents.name(e).unwrap_or_else(|| e.to_string())
    })
}

/// snmp-info's new product: "<old>; <enterprise> SNMPv3 server", or without the old part.
pub fn snmp_product(old: Option<&str>, enterprise: &str) -> String {
    match old {
        Some(p) if p != "SNMPv3 server" => format!("{p}; {enterprise} SNMPv3 server"),
        _ => format!("{enterprise} SNMPv3 server"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lab's net-snmp agent (snmpd 5.9, Debian 12) answering nmap's SNMPv3GetRequest:
    /// a report PDU, engine ID 80001f88 80 ... (enterprise 8072, net-snmp's own format).
    const REPLY: &[u8] = b"\x30\x6e\x02\x01\x03\x30\x0f\x02\x02\x4a\x69\x02\x03\x00\xff\xe3\x04\x01\x00\x02\x01\x03\x04\x22\x30\x20\x04\x11\x80\x00\x1f\x88\x80\x27\x0d\xd7\x4b\x52\x31\x0f\x6b\x00\x00\x00\x00\x02\x01\x01\x02\x02\x04\x78\x04\x00\x04\x00\x04\x00\x30\x34\x04\x11\x80\x00\x1f\x88\x80\x27\x0d\xd7\x4b\x52\x31\x0f\x6b\x00\x00\x00\x00\x04\x00\xa8\x1d\x02\x02\x37\xf0\x02\x01\x00\x02\x01\x00\x30\x11\x30\x0f\x06\x0a\x2b\x06\x01\x06\x03\x0f\x01\x01\x04\x00\x41\x01\x02";

    #[test]
    fn net_snmp_engine_id() {
        let ents = Enterprises::parse("8072\tnet-snmp\n9\tciscoSystems\n");
        assert_eq!(snmp_enterprise(REPLY, &ents).as_deref(), Some("net-snmp"));
        assert_eq!(snmp_product(Some("net-snmp"), "net-snmp"), "net-snmp; net-snmp SNMPv3 server");
        assert_eq!(snmp_product(None, "net-snmp"), "net-snmp SNMPv3 server");
        assert_eq!(snmp_enterprise(b"\x30\x03\x02\x01\x01", &ents), None);
        assert_eq!(snmp_enterprise(&REPLY[..20], &ents), None);
        assert_eq!(snmp_enterprise(REPLY, &Enterprises::default()).as_deref(), Some("nil"));
    }
}
