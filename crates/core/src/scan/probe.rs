//! One probe on the wire: the frame of the scan's technique and family for a target and
//! attempt (the cookie in its sequence number, ICMP identifier or UDP source port), and the
//! ProbeSent record `--packet-trace` reports for it.

use super::Shared;
use crate::packet::arp;
use crate::packet::icmp::IcmpTemplate;
use crate::packet::icmp6::{self, Echo6Template};
use crate::packet::template::{Probe, TcpTemplate};
use crate::packet::template6::{Probe6, Tcp6Template};
use crate::packet::udp::{self, UdpProbe, UdpTemplate, MAX_FRAME};
use crate::record::{Record, RecordKind};
use pnet_base::MacAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Appends a ProbeSent record when tracing (`--packet-trace`).
#[inline]
pub(super) fn trace_probe(s: &Shared, out: &mut Vec<u8>, addr: u128, port: u16, attempt: u8, now_us: u64) {
    if s.trace.is_none() {
        return;
    }
    let sport = if !s.technique.is_tcp() {
        udp::sport(s.key.cookie(s.route.source, 0, s.ip(addr), port), attempt)
    } else if s.vary_sport {
        s.sport + attempt as u16
    } else {
        s.sport
    };
    Record {
        kind: RecordKind::ProbeSent,
        tcp_flags: s.technique.flags(),
        ttl: 64,
        icmp_type: 0,
        icmp_code: 0,
        port,
        window: sport,
        technique: s.technique.code(),
        attempt,
        rtt_us: now_us as u32,
        target: s.ip(addr),
        responder: s.route.source,
        mac: [0; 6],
    }
    .emit(out);
}

/// The per-probe frame writer of the scan's technique.
pub(super) enum Builder {
    Tcp(TcpTemplate),
    Tcp6(Tcp6Template),
    /// Both families: the template's source says which.
    Udp(UdpTemplate),
    Icmp(IcmpTemplate),
    Echo6(Echo6Template),
    Arp(Ipv4Addr),
    /// Neighbour solicitations from this source.
    Ndp(Ipv6Addr),
}

#[inline]
pub(super) fn write_probe(s: &Shared, t: &Builder, mac: MacAddr, addr: u128, port: u16, attempt: u8, out: &mut [u8; MAX_FRAME]) -> usize {
    match t {
        Builder::Tcp(t) => {
            let dst = Ipv4Addr::from(addr as u32);
            let seq = s.key.seq(s.route.source, s.sport, dst, port, attempt);
            let sport = if s.vary_sport { s.sport + attempt as u16 } else { s.sport };
            t.write(&Probe { dst_mac: mac, dst, dport: port, sport, seq, ip_id: (seq >> 16) as u16 ^ (seq as u16) }, out)
        }
        Builder::Tcp6(t) => {
            let dst = Ipv6Addr::from(addr);
            let seq = s.key.seq(s.route.source, s.sport, dst, port, attempt);
            let sport = if s.vary_sport { s.sport + attempt as u16 } else { s.sport };
            t.write(&Probe6 { dst_mac: mac, dst, dport: port, sport, seq }, out)
        }
        Builder::Icmp(t) => {
            let dst = Ipv4Addr::from(addr as u32);
            let value = s.key.seq(s.route.source, 0, dst, 0, attempt);
            t.write(mac, dst, value, (value >> 16) as u16 ^ value as u16, out)
        }
        Builder::Echo6(t) => {
            let dst = Ipv6Addr::from(addr);
            t.write(mac, dst, s.key.seq(s.route.source, 0, dst, 0, attempt), out)
        }
        Builder::Arp(src) => {
            let f = arp::request(s.route.src_mac, *src, Ipv4Addr::from(addr as u32));
            out[..f.len()].copy_from_slice(&f);
            f.len()
        }
        Builder::Ndp(src) => {
            let f = icmp6::solicitation(s.route.src_mac, *src, Ipv6Addr::from(addr));
            out[..f.len()].copy_from_slice(&f);
            f.len()
        }
        Builder::Udp(t) => {
            let dst: IpAddr = s.ip(addr);
            // the UDP cookie cannot depend on the source port it chooses: key it with port 0
            let cookie = s.key.cookie(s.route.source, 0, dst, port);
            t.write(
                &UdpProbe {
                    dst_mac: mac,
                    dst,
                    dport: port,
                    sport: udp::sport(cookie, attempt),
                    ip_id: (cookie >> 16) as u16 ^ attempt as u16,
                },
                out,
            )
        }
    }
}
