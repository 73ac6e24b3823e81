//! Packets on the wire: the probe templates (IPv4 and IPv6), the checksum arithmetic they
//! need, the parser of replies, ICMP and ICMPv6, ARP and neighbour discovery. Built and
//! parsed with pnet's packet views or by hand where a template needs it.

pub mod arp;
pub mod checksum;
pub mod icmp;
pub mod icmp6;
pub mod ipv6;
pub mod reply;
pub mod template;
pub mod template6;
pub mod udp;
