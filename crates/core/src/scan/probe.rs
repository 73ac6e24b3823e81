//! One probe on the wire: the frame of the scan's technique for a target and attempt (the
//! cookie in its sequence number, ICMP identifier or UDP source port), and the ProbeSent
//! record `--packet-trace` reports for it.

use super::Shared;
use crate::packet::arp;
use crate::packet::icmp::IcmpTemplate;
use crate::packet::template::{Probe, TcpTemplate};
use crate::packet::udp::{self, UdpProbe, UdpTemplate, MAX_FRAME};
use crate::record::{Record, RecordKind};
use pnet_base::MacAddr;
use std::net::Ipv4Addr;

/// Appends a ProbeSent record when tracing (`--packet-trace`).
#[inline]
pub(super) fn trace_probe(s: &Shared, out: &mut Vec<u8>, addr: u32, port: u16, attempt: u8, now_us: u64) {
    if s.trace.is_none() {
        return;
    }
    let sport = if !s.technique.is_tcp() {
        udp::sport(s.key.cookie(s.route.source, 0, Ipv4Addr::from(addr), port), attempt)
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
        target: Ipv4Addr::from(addr),
        responder: s.route.source,
        mac: [0; 6],
    }
    .emit(out);
}

/// The per-probe frame writer of the scan's technique.
pub(super) enum Builder {
    Tcp(TcpTemplate),
    Udp(UdpTemplate),
    Icmp(IcmpTemplate),
    Arp,
}

#[inline]
pub(super) fn write_probe(s: &Shared, t: &Builder, mac: MacAddr, addr: u32, port: u16, attempt: u8, out: &mut [u8; MAX_FRAME]) -> usize {
    let dst = Ipv4Addr::from(addr);
    match t {
        Builder::Tcp(t) => {
            let seq = s.key.seq(s.route.source, s.sport, dst, port, attempt);
            let sport = if s.vary_sport { s.sport + attempt as u16 } else { s.sport };
            t.write(&Probe { dst_mac: mac, dst, dport: port, sport, seq, ip_id: (seq >> 16) as u16 ^ (seq as u16) }, out)
        }
        Builder::Icmp(t) => {
            let value = s.key.seq(s.route.source, 0, dst, 0, attempt);
            t.write(mac, dst, value, (value >> 16) as u16 ^ value as u16, out)
        }
        Builder::Arp => {
            let f = arp::request(s.route.src_mac, s.route.source, dst);
            out[..f.len()].copy_from_slice(&f);
            f.len()
        }
        Builder::Udp(t) => {
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
