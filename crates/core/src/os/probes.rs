//! The probes of nmap's second-generation IPv4 OS detection, byte for byte (facts from
//! nmap's osscan2.cc and its reference guide, "TCP/IP Fingerprinting Methods"):
//!
//! - SEQ 1-6: SYNs to the open port, 100 ms apart, each with its own window and option set;
//!   their answers also give OPS, WIN and T1. OPS 1-6 resend a SEQ probe whose answer was
//!   missing when the SEQ round ended.
//! - ECN: SYN with CWR and ECE, a reserved bit, an urgent pointer without URG.
//! - T2-T4 to the open port (no flags + DF, SYN|FIN|PSH|URG, ACK + DF), T5-T7 to the closed
//!   one (SYN, ACK + DF, FIN|PSH|URG); T1 is resent on its own only when SEQ 1 got no answer.
//! - IE 1-2: echo requests (code 9, DF, 120 zero bytes; then TOS 4, code 0, 150 bytes).
//! - U1: 300 bytes of 'C' to a closed UDP port, IP ID 0x1042.
//!
//! TCP and ICMP probes carry a random IP ID and a random TTL of 37-59 (nmap's default);
//! U1's TTL encodes the time (51-64) so that the TTL quoted back gives the distance.

use crate::packet::checksum::{add_bytes, add_u32, finish};
use std::net::Ipv4Addr;

use super::wire::{ACK, CWR, ECE, FIN, PROTO_ICMP, PROTO_TCP, PROTO_UDP, PSH, SYN, URG};

/// The TCP option sets, numbered as nmap's prbOpts: 0-5 for SEQ/OPS 1-6, 6 for ECN, 7-12
/// for T2-T7 (T1 is SEQ 1's).
pub const OPTIONS: [&[u8]; 13] = [
    // WScale 10, NOP, MSS 1460, Timestamp, SACK permitted
    &[3, 3, 10, 1, 2, 4, 0x05, 0xb4, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2],
    // MSS 1400, WScale 0, SACK permitted, Timestamp, EOL
    &[2, 4, 0x05, 0x78, 3, 3, 0, 4, 2, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0],
    // Timestamp, NOP, NOP, WScale 5, NOP, MSS 640
    &[8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 1, 3, 3, 5, 1, 2, 4, 0x02, 0x80],
    // SACK permitted, Timestamp, WScale 10, EOL
    &[4, 2, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 3, 3, 10, 0],
    // MSS 536, SACK permitted, Timestamp, WScale 10, EOL
    &[2, 4, 0x02, 0x18, 4, 2, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 3, 3, 10, 0],
    // MSS 265, SACK permitted, Timestamp
    &[2, 4, 0x01, 0x09, 4, 2, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
    // WScale 10, NOP, MSS 1460, SACK permitted, NOP, NOP
    &[3, 3, 10, 1, 2, 4, 0x05, 0xb4, 4, 2, 1, 1],
    // T2-T6: WScale 10, NOP, MSS 265, Timestamp, SACK permitted
    &[3, 3, 10, 1, 2, 4, 0x01, 0x09, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2],
    &[3, 3, 10, 1, 2, 4, 0x01, 0x09, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2],
    &[3, 3, 10, 1, 2, 4, 0x01, 0x09, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2],
    &[3, 3, 10, 1, 2, 4, 0x01, 0x09, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2],
    &[3, 3, 10, 1, 2, 4, 0x01, 0x09, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2],
    // T7: WScale 15, NOP, MSS 265, Timestamp, SACK permitted
    &[3, 3, 15, 1, 2, 4, 0x01, 0x09, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2],
];

/// TCP windows, numbered as OPTIONS (nmap's prbWindowSz).
pub const WINDOWS: [u16; 13] = [1, 63, 4, 4, 16, 512, 3, 128, 256, 1024, 31337, 32768, 65535];

/// The SEQ probes.
pub const SEQ_PROBES: usize = 6;
/// Where each probe's source port sits above the try's base (nmap's tcpPortBase offsets).
pub const OPS_PORT: u16 = 6;
pub const ECN_PORT: u16 = 12;
pub const T1_PORT: u16 = 13;
/// Source ports a try uses: base .. base + PORTS_PER_TRY.
pub const PORTS_PER_TRY: u16 = 20;
/// The first echo request's sequence number (the second's is one more).
pub const ECHO_SEQ: u16 = 295;
/// U1's IP ID, and the byte its payload repeats.
pub const U1_IP_ID: u16 = 0x1042;
pub const U1_FILL: u8 = b'C';
pub const U1_PAYLOAD: usize = 300;

/// A probe of one try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Probe {
    /// SEQ 1-6 (0-based).
    Seq(u8),
    /// OPS/WIN 1-6 resent (0-based).
    Ops(u8),
    Ecn,
    /// T1-T7 (0-based: 0 is T1).
    T(u8),
    /// IE 1-2 (0-based).
    Ie(u8),
    U1,
}

/// The fields a try fixes for all its probes (nmap's reInitScanSystem, per try here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryParams {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// TCP source ports are tcp_base + offset; U1 leaves from udp_port.
    pub tcp_base: u16,
    pub udp_port: u16,
    pub seq_base: u32,
    pub ack: u32,
    pub echo_id: u16,
    /// U1's TTL: (unix time % 14) + 51, as nmap sets it.
    pub udp_ttl: u8,
    pub open_tcp: Option<u16>,
    pub closed_tcp: u16,
    pub closed_udp: u16,
}

/// Per-packet randomness: the IP ID and TTL nmap draws for each TCP and ICMP probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub ip_id: u16,
    /// 37-59.
    pub ttl: u8,
}

/// What is needed later to judge U1's answer (nmap's udpprobeinfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct U1Sent {
    pub sport: u16,
    pub dport: u16,
    /// The UDP checksum as sent (RUCK compares the quoted one with it).
    pub udp_checksum: u16,
}

#[allow(clippy::too_many_arguments)]
fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, ttl: u8, id: u16, tos: u8, df: bool, payload_len: usize) -> Vec<u8> {
    let total = 20 + payload_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, tos]);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&(if df { 0x4000u16 } else { 0 }).to_be_bytes());
    p.extend_from_slice(&[ttl, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let sum = finish(add_bytes(0, &p));
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p
}

fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    add_u32(add_u32(0, u32::from(src)), u32::from(dst)) + proto as u32 + len as u32
}

/// A TCP probe as nmap's build_tcp_raw makes it (no payload).
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    draw: Draw,
    df: bool,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    reserved: u8,
    flags: u8,
    window: u16,
    urgent: u16,
    options: &[u8],
) -> Vec<u8> {
    let len = 20 + options.len();
    let mut seg = Vec::with_capacity(len);
    seg.extend_from_slice(&sport.to_be_bytes());
    seg.extend_from_slice(&dport.to_be_bytes());
    seg.extend_from_slice(&seq.to_be_bytes());
    seg.extend_from_slice(&ack.to_be_bytes());
    seg.push(((len / 4) as u8) << 4 | (reserved & 0x0f));
    seg.push(flags);
    seg.extend_from_slice(&window.to_be_bytes());
    seg.extend_from_slice(&[0, 0]);
    seg.extend_from_slice(&urgent.to_be_bytes());
    seg.extend_from_slice(options);
    let sum = finish(add_bytes(pseudo_sum(src, dst, PROTO_TCP, len), &seg));
    seg[16..18].copy_from_slice(&sum.to_be_bytes());
    let mut p = ipv4(src, dst, PROTO_TCP, draw.ttl, draw.ip_id, 0, df, len);
    p.extend_from_slice(&seg);
    p
}

/// An ICMP echo request of `data_len` zero bytes.
#[allow(clippy::too_many_arguments)]
pub fn echo(src: Ipv4Addr, dst: Ipv4Addr, draw: Draw, tos: u8, df: bool, code: u8, id: u16, seq: u16, data_len: usize) -> Vec<u8> {
    let mut m = vec![8, code, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.resize(8 + data_len, 0);
    let sum = finish(add_bytes(0, &m));
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut p = ipv4(src, dst, PROTO_ICMP, draw.ttl, draw.ip_id, tos, df, m.len());
    p.extend_from_slice(&m);
    p
}

/// U1: 300 bytes of 'C' to a closed UDP port.
pub fn u1(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, sport: u16, dport: u16) -> (Vec<u8>, U1Sent) {
    let len = 8 + U1_PAYLOAD;
    let mut d = Vec::with_capacity(len);
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&(len as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.resize(len, U1_FILL);
    let udp_checksum = finish(add_bytes(pseudo_sum(src, dst, PROTO_UDP, len), &d));
    d[6..8].copy_from_slice(&udp_checksum.to_be_bytes());
    let mut p = ipv4(src, dst, PROTO_UDP, ttl, U1_IP_ID, 0, false, len);
    p.extend_from_slice(&d);
    (p, U1Sent { sport, dport, udp_checksum })
}

impl TryParams {
    /// The IPv4 datagram of `probe`; None when the probe needs an open port there is not.
    pub fn build(&self, probe: Probe, draw: Draw) -> Option<Vec<u8>> {
        let (s, d) = (self.src, self.dst);
        let port = |off: u16| self.tcp_base.wrapping_add(off);
        let p = match probe {
            Probe::Seq(i) => {
                let i = i as usize % SEQ_PROBES;
                let seq = self.seq_base.wrapping_add(i as u32);
                tcp(s, d, draw, false, port(i as u16), self.open_tcp?, seq, self.ack, 0, SYN, WINDOWS[i], 0, OPTIONS[i])
            }
            Probe::Ops(i) => {
                let i = i as usize % SEQ_PROBES;
                tcp(
                    s,
                    d,
                    draw,
                    false,
                    port(OPS_PORT + i as u16),
                    self.open_tcp?,
                    self.seq_base,
                    self.ack,
                    0,
                    SYN,
                    WINDOWS[i],
                    0,
                    OPTIONS[i],
                )
            }
            Probe::Ecn => {
                tcp(s, d, draw, false, port(ECN_PORT), self.open_tcp?, self.seq_base, 0, 8, CWR | ECE | SYN, WINDOWS[6], 63477, OPTIONS[6])
            }
            Probe::T(i) => {
                let i = i % 7;
                let sport = port(T1_PORT + i as u16);
                let (dport, df, flags, opt) = match i {
                    0 => (self.open_tcp?, false, SYN, 0),
                    1 => (self.open_tcp?, true, 0, 7),
                    2 => (self.open_tcp?, false, SYN | FIN | URG | PSH, 8),
                    3 => (self.open_tcp?, true, ACK, 9),
                    4 => (self.closed_tcp, false, SYN, 10),
                    5 => (self.closed_tcp, true, ACK, 11),
                    _ => (self.closed_tcp, false, FIN | PSH | URG, 12),
                };
                tcp(s, d, draw, df, sport, dport, self.seq_base, self.ack, 0, flags, WINDOWS[opt], 0, OPTIONS[opt])
            }
            Probe::Ie(0) => echo(s, d, draw, 0, true, 9, self.echo_id, ECHO_SEQ, 120),
            Probe::Ie(_) => echo(s, d, draw, 0x04, false, 0, self.echo_id.wrapping_add(1), ECHO_SEQ + 1, 150),
            Probe::U1 => u1(s, d, self.udp_ttl, self.udp_port, self.closed_udp).0,
        };
        Some(p)
    }

    /// What U1 looks like when sent (for judging its answer).
    pub fn u1_sent(&self) -> U1Sent {
        u1(self.src, self.dst, self.udp_ttl, self.udp_port, self.closed_udp).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::wire::{Icmp, Ip, Tcp, Udp};

    fn params() -> TryParams {
        TryParams {
            src: Ipv4Addr::new(198, 18, 24, 1),
            dst: Ipv4Addr::new(198, 18, 24, 2),
            tcp_base: 40000,
            udp_port: 41000,
            seq_base: 0x1000_0000,
            ack: 0x2000_0000,
            echo_id: 777,
            udp_ttl: 55,
            open_tcp: Some(22),
            closed_tcp: 1,
            closed_udp: 30000,
        }
    }

    const DRAW: Draw = Draw { ip_id: 0xbeef, ttl: 42 };

    fn checksum_ok(ip: &Ip<'_>) -> bool {
        finish(add_bytes(0, &ip.raw()[..20])) == 0
    }

    #[test]
    fn seq_probes_carry_nmaps_fields() {
        let p = params();
        for i in 0..6u8 {
            let raw = p.build(Probe::Seq(i), DRAW).unwrap();
            let ip = Ip::new(&raw).unwrap();
            assert!(checksum_ok(&ip));
            assert_eq!((ip.ttl(), ip.id(), ip.df(), ip.protocol()), (42, 0xbeef, false, PROTO_TCP));
            let tcp = Tcp::new(ip.payload()).unwrap();
            assert_eq!((tcp.sport(), tcp.dport()), (40000 + i as u16, 22));
            assert_eq!((tcp.seq(), tcp.ack(), tcp.flags()), (0x1000_0000 + i as u32, 0x2000_0000, SYN));
            assert_eq!(tcp.window(), WINDOWS[i as usize]);
            assert_eq!(tcp.options(), OPTIONS[i as usize]);
            let sum = finish(add_bytes(pseudo_sum(p.src, p.dst, PROTO_TCP, ip.payload().len()), ip.payload()));
            assert_eq!(sum, 0, "TCP checksum of SEQ {i}");
        }
        assert_eq!(WINDOWS.len(), OPTIONS.len());
        assert!(OPTIONS.iter().all(|o| o.len() % 4 == 0));
    }

    #[test]
    fn ecn_and_t_probes() {
        let p = params();
        let raw = p.build(Probe::Ecn, DRAW).unwrap();
        let ip = Ip::new(&raw).unwrap();
        let tcp = Tcp::new(ip.payload()).unwrap();
        assert_eq!((tcp.flags(), tcp.reserved(), tcp.urgent(), tcp.ack(), tcp.window()), (CWR | ECE | SYN, 8, 63477, 0, 3));
        assert_eq!(tcp.sport(), 40012);
        let expect = [
            (22, false, SYN),
            (22, true, 0),
            (22, false, SYN | FIN | URG | PSH),
            (22, true, ACK),
            (1, false, SYN),
            (1, true, ACK),
            (1, false, FIN | PSH | URG),
        ];
        for (i, (dport, df, flags)) in expect.into_iter().enumerate() {
            let raw = p.build(Probe::T(i as u8), DRAW).unwrap();
            let ip = Ip::new(&raw).unwrap();
            let tcp = Tcp::new(ip.payload()).unwrap();
            assert_eq!((tcp.dport(), ip.df(), tcp.flags(), tcp.sport()), (dport, df, flags, 40013 + i as u16), "T{}", i + 1);
            assert_eq!(tcp.seq(), 0x1000_0000);
        }
        let none = TryParams { open_tcp: None, ..p };
        assert!(none.build(Probe::T(1), DRAW).is_none());
        assert!(none.build(Probe::T(4), DRAW).is_some(), "T5 goes to the closed port");
    }

    #[test]
    fn echo_and_udp_probes() {
        let p = params();
        let raw = p.build(Probe::Ie(0), DRAW).unwrap();
        let ip = Ip::new(&raw).unwrap();
        let icmp = Icmp::new(ip.payload()).unwrap();
        assert_eq!((ip.tos(), ip.df(), icmp.kind(), icmp.code(), icmp.id(), ip.payload().len()), (0, true, 8, 9, 777, 128));
        assert_eq!(finish(add_bytes(0, ip.payload())), 0);
        let raw = p.build(Probe::Ie(1), DRAW).unwrap();
        let ip = Ip::new(&raw).unwrap();
        let icmp = Icmp::new(ip.payload()).unwrap();
        assert_eq!((ip.tos(), ip.df(), icmp.code(), icmp.id(), ip.payload().len()), (4, false, 0, 778, 158));
        let raw = p.build(Probe::U1, DRAW).unwrap();
        let ip = Ip::new(&raw).unwrap();
        assert_eq!((ip.total_len(), ip.id(), ip.ttl(), ip.df()), (328, U1_IP_ID, 55, false));
        assert!(checksum_ok(&ip));
        let udp = Udp::new(ip.payload()).unwrap();
        assert_eq!((udp.sport(), udp.dport(), udp.checksum()), (41000, 30000, p.u1_sent().udp_checksum));
        assert!(udp.payload().iter().all(|&b| b == b'C') && udp.payload().len() == 300);
        assert_eq!(finish(add_bytes(pseudo_sum(p.src, p.dst, PROTO_UDP, 308), ip.payload())), 0);
    }
}
