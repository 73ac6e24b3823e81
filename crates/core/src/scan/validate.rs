//! Stateless validation of replies: a reply counts only if it carries (or quotes) the cookie
//! of a probe this scan could have sent. Takes a parsed reply; gives its record and the send
//! position of the probe it answers, or nothing for a forged or stray packet.

use super::{Shared, MAX_RETRIES_LIMIT};
use crate::addr::{self, Family};
use crate::packet::reply::{ProbeTuple, Reply};
use crate::packet::udp;
use crate::packet::{icmp, icmp6};
use crate::record::{Record, RecordKind};
use crate::technique::Technique;

/// Validates a parsed reply against the cookie and the probe space; returns the record
/// and the position of the probe it answers.
pub(super) fn validate(s: &Shared, reply: &Reply) -> Option<(Record, u64)> {
    let base = |kind, probe: &ProbeTuple, ttl: u8| Record {
        kind,
        tcp_flags: 0,
        ttl,
        icmp_type: 0,
        icmp_code: 0,
        port: probe.dport,
        window: 0,
        technique: s.technique.code(),
        attempt: 0,
        rtt_us: 0,
        target: probe.dst,
        responder: probe.dst,
        mac: [0; 6],
    };
    let tcp = s.technique.is_tcp();
    let is_icmp = matches!(s.technique, Technique::Echo | Technique::Timestamp | Technique::Mask);
    let v6 = s.family == Family::V6;
    let (probe, rec) = match *reply {
        Reply::Tcp { ref probe, seq, ack, flags, window, ttl } if tcp => {
            let attempt = check_tcp(s, probe, s.technique.echoed(seq, ack))?;
            (probe, Record { tcp_flags: flags, window, attempt, ..base(RecordKind::Tcp, probe, ttl) })
        }
        Reply::IcmpReply { ref probe, icmp_type, echoed, ttl } if is_icmp => {
            let want = match s.technique {
                Technique::Echo if v6 => icmp6::ECHO_REPLY,
                Technique::Echo => icmp::ECHO_REPLY,
                Technique::Timestamp => icmp::TIMESTAMP_REPLY,
                _ => icmp::MASK_REPLY,
            };
            if icmp_type != want {
                return None;
            }
            let attempt = check_icmp(s, probe, echoed)?;
            (probe, Record { icmp_type, attempt, ..base(RecordKind::Icmp, probe, ttl) })
        }
        Reply::Arp(a) if s.technique == Technique::Arp => {
            // ARP echoes nothing of ours: the reply must be addressed to us, from a target
            // whose request went out (checked against the window by the caller)
            if std::net::IpAddr::V4(a.target) != s.route.source || a.target_mac != s.route.src_mac {
                return None;
            }
            let probe = ProbeTuple { src: a.target.into(), sport: 0, dst: a.sender.into(), dport: 0 };
            let index = s.space.index_of(u32::from(a.sender) as u128, 0)?;
            let rec = Record { mac: a.sender_mac.octets(), ..base(RecordKind::Arp, &probe, 0) };
            return Some((rec, s.perm.position_of(index)));
        }
        Reply::Ndp(a) if s.technique == Technique::Ndp => {
            // like ARP, an advertisement echoes nothing of ours: it must be addressed to us
            // and advertise a target whose solicitation went out (checked by the caller)
            if std::net::IpAddr::V6(a.to) != s.route.source {
                return None;
            }
            let probe = ProbeTuple { src: a.to.into(), sport: 0, dst: a.target.into(), dport: 0 };
            let index = s.space.index_of(u128::from(a.target), 0)?;
            let rec = Record { mac: a.mac.map_or([0; 6], |m| m.octets()), ..base(RecordKind::Ndp, &probe, 255) };
            return Some((rec, s.perm.position_of(index)));
        }
        Reply::Udp { ref probe, len, ttl } if s.technique == Technique::Udp => {
            let attempt = check_udp(s, probe)?;
            // the window field carries the reply's payload length for UDP
            (probe, Record { window: len, attempt, ..base(RecordKind::Udp, probe, ttl) })
        }
        Reply::Icmp { ref probe, quoted_proto, quoted_seq, icmp_type, icmp_code, ttl, responder } => {
            let attempt = match quoted_proto {
                6 if tcp => check_tcp(s, probe, quoted_seq)?,
                17 if s.technique == Technique::Udp => check_udp(s, probe)?,
                1 | 58 if is_icmp => check_icmp(s, probe, quoted_seq)?,
                _ => return None,
            };
            (probe, Record { icmp_type, icmp_code, attempt, responder, ..base(RecordKind::Icmp, probe, ttl) })
        }
        _ => return None,
    };
    if Family::of(probe.dst) != s.family {
        return None;
    }
    let index = s.space.index_of(addr::value(probe.dst), probe.dport)?;
    Some((rec, s.perm.position_of(index)))
}

/// The attempt a TCP reply or quote answers, if its cookie is ours.
fn check_tcp(s: &Shared, probe: &ProbeTuple, echoed: u32) -> Option<u8> {
    if probe.src != s.route.source {
        return None;
    }
    let by_port = probe.sport.checked_sub(s.sport)?;
    if by_port > if s.vary_sport { MAX_RETRIES_LIMIT as u16 } else { 0 } {
        return None;
    }
    let attempt = s.key.check(probe.src, s.sport, probe.dst, probe.dport, echoed, MAX_RETRIES_LIMIT)?;
    (!s.vary_sport || attempt as u16 == by_port).then_some(attempt)
}

/// The attempt an ICMP reply or quote answers, from its identifier and sequence number.
fn check_icmp(s: &Shared, probe: &ProbeTuple, echoed: u32) -> Option<u8> {
    if probe.src != s.route.source {
        return None;
    }
    s.key.check(probe.src, 0, probe.dst, 0, echoed, MAX_RETRIES_LIMIT)
}

/// The attempt a UDP reply or quote answers, from the cookie in its source port.
fn check_udp(s: &Shared, probe: &ProbeTuple) -> Option<u8> {
    if probe.src != s.route.source {
        return None;
    }
    udp::check_sport(s.key.cookie(probe.src, 0, probe.dst, probe.dport), probe.sport, MAX_RETRIES_LIMIT)
}
