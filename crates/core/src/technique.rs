//! The TCP probe techniques: which flags a probe carries, which field of a reply echoes the
//! probe's cookie, and the code that tags each record with the technique that produced it.

use crate::error::{Error, Result};

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    Syn,
    Ack,
    Fin,
    Null,
    Xmas,
    Window,
    Maimon,
    /// `--scanflags`: any combination of flags.
    Flags(u8),
    /// UDP datagrams with per-port payloads.
    Udp,
    /// Full TCP connect() through the kernel (`-sT`): no raw sockets needed.
    Connect,
    /// ICMP echo request (discovery, -PE).
    Echo,
    /// ICMP timestamp request (discovery, -PP).
    Timestamp,
    /// ICMP address mask request (discovery, -PM).
    Mask,
    /// ARP who-has (discovery on the local link, -PR).
    Arp,
    /// NDP neighbour solicitation (IPv6 discovery on the local link, -PR with -6).
    Ndp,
}

impl Technique {
    pub fn parse(name: &str, flags: Option<u8>) -> Result<Self> {
        Ok(match name {
            "syn" => Technique::Syn,
            "ack" => Technique::Ack,
            "fin" => Technique::Fin,
            "null" => Technique::Null,
            "xmas" => Technique::Xmas,
            "window" => Technique::Window,
            "maimon" => Technique::Maimon,
            "udp" => Technique::Udp,
            "connect" => Technique::Connect,
            "echo" => Technique::Echo,
            "timestamp" => Technique::Timestamp,
            "mask" => Technique::Mask,
            "arp" => Technique::Arp,
            "ndp" => Technique::Ndp,
            "flags" => Technique::Flags(flags.ok_or_else(|| Error::InvalidOptions("technique \"flags\" needs the flags".into()))?),
            other => return Err(Error::InvalidOptions(format!("unknown technique {other:?}"))),
        })
    }

    pub fn is_tcp(self) -> bool {
        !matches!(self, Technique::Udp | Technique::Echo | Technique::Timestamp | Technique::Mask | Technique::Arp | Technique::Ndp)
    }

    /// Whether probes have no port (ICMP and ARP discovery).
    pub fn is_portless(self) -> bool {
        matches!(self, Technique::Echo | Technique::Timestamp | Technique::Mask | Technique::Arp | Technique::Ndp)
    }

    /// Whether the technique exists in `family`: ICMP timestamp, address mask and ARP have no
    /// IPv6 form, and neighbour solicitation is IPv6's ARP.
    pub fn exists_in(self, family: crate::addr::Family) -> bool {
        match family {
            crate::addr::Family::V4 => self != Technique::Ndp,
            crate::addr::Family::V6 => !matches!(self, Technique::Timestamp | Technique::Mask | Technique::Arp),
        }
    }

    /// Whether probes are crafted and sent raw (everything but the connect scan).
    pub fn is_raw(self) -> bool {
        self != Technique::Connect
    }

    /// The flags of the probe (0 for UDP).
    pub fn flags(self) -> u8 {
        match self {
            Technique::Udp | Technique::Echo | Technique::Timestamp | Technique::Mask | Technique::Arp | Technique::Ndp => 0,
            Technique::Syn | Technique::Connect => SYN,
            Technique::Ack | Technique::Window => ACK,
            Technique::Fin => FIN,
            Technique::Null => 0,
            Technique::Xmas => FIN | PSH | URG,
            Technique::Maimon => FIN | ACK,
            Technique::Flags(f) => f,
        }
    }

    /// The byte that tags records (record.rs, offset 10).
    pub fn code(self) -> u8 {
        match self {
            Technique::Syn => 1,
            Technique::Ack => 2,
            Technique::Fin => 3,
            Technique::Null => 4,
            Technique::Xmas => 5,
            Technique::Window => 6,
            Technique::Maimon => 7,
            Technique::Flags(_) => 8,
            Technique::Udp => 9,
            Technique::Connect => 10,
            Technique::Echo => 11,
            Technique::Timestamp => 12,
            Technique::Arp => 13,
            Technique::Mask => 14,
            Technique::Ndp => 15,
        }
    }

    /// Whether the probe carries the cookie in its acknowledgement number too: a RST
    /// answering a segment with ACK set takes its sequence number from that field (RFC 9293).
    pub fn cookie_in_ack(self) -> bool {
        self.is_tcp() && self.flags() & ACK != 0
    }

    /// The value of a TCP reply that echoes the probe's cookie.
    pub fn echoed(self, reply_seq: u32, reply_ack: u32) -> u32 {
        let f = self.flags();
        if f & ACK != 0 {
            reply_seq
        } else {
            // SYN and FIN each take one sequence number: the reply acknowledges seq + 1 for
            // either and seq + 2 for both
            reply_ack.wrapping_sub(u32::from(f & SYN != 0) + u32::from(f & FIN != 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_rules_follow_the_tcp_rst_rules() {
        // SYN and FIN probes: RST/ACK acknowledges seq + 1; NULL: seq + 0
        assert_eq!(Technique::Syn.echoed(999, 101), 100);
        assert_eq!(Technique::Fin.echoed(999, 101), 100);
        assert_eq!(Technique::Xmas.echoed(999, 101), 100);
        assert_eq!(Technique::Null.echoed(999, 100), 100);
        assert_eq!(Technique::Flags(SYN | FIN).echoed(999, 102), 100, "SYN and FIN: seq + 2");
        // ACK-bearing probes: the RST's sequence number is the probe's ack
        assert_eq!(Technique::Ack.echoed(100, 0), 100);
        assert_eq!(Technique::Window.echoed(100, 0), 100);
        assert_eq!(Technique::Maimon.echoed(100, 0), 100);
        assert!(Technique::Maimon.cookie_in_ack());
        assert!(!Technique::Fin.cookie_in_ack());
    }

    #[test]
    fn names_parse_and_flags_match_nmap() {
        assert_eq!(Technique::parse("xmas", None).unwrap().flags(), FIN | PSH | URG);
        assert_eq!(Technique::parse("maimon", None).unwrap().flags(), FIN | ACK);
        assert_eq!(Technique::parse("flags", Some(SYN | URG)).unwrap().flags(), SYN | URG);
        assert!(Technique::parse("flags", None).is_err());
        assert!(Technique::parse("bogus", None).is_err());
    }
}
