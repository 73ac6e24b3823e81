//! Packets on the wire: the probe template, the checksum arithmetic it needs, the parser
//! of replies, and ARP. Built and parsed with pnet's packet views.

pub mod arp;
pub mod checksum;
pub mod icmp;
pub mod reply;
pub mod template;
pub mod udp;
