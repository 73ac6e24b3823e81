//! ARP requests and replies (RFC 826) for learning the next hop's hardware address.

use pnet_base::MacAddr;
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::Packet;
use std::net::Ipv4Addr;

pub const ARP_FRAME_LEN: usize = 14 + 28;

/// A broadcast who-has `target` from `src_mac`/`src`.
pub fn request(src_mac: MacAddr, src: Ipv4Addr, target: Ipv4Addr) -> [u8; ARP_FRAME_LEN] {
    let mut f = [0u8; ARP_FRAME_LEN];
    {
        let mut eth = MutableEthernetPacket::new(&mut f[..]).expect("frame holds Ethernet");
        eth.set_destination(MacAddr::broadcast());
        eth.set_source(src_mac);
        eth.set_ethertype(EtherTypes::Arp);
    }
    {
        let mut arp = MutableArpPacket::new(&mut f[14..]).expect("frame holds ARP");
        arp.set_hardware_type(ArpHardwareTypes::Ethernet);
        arp.set_protocol_type(EtherTypes::Ipv4);
        arp.set_hw_addr_len(6);
        arp.set_proto_addr_len(4);
        arp.set_operation(ArpOperations::Request);
        arp.set_sender_hw_addr(src_mac);
        arp.set_sender_proto_addr(src);
        arp.set_target_hw_addr(MacAddr::zero());
        arp.set_target_proto_addr(target);
    }
    f
}

/// An ARP reply: who answered, with which hardware address, to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpReply {
    pub sender: Ipv4Addr,
    pub sender_mac: MacAddr,
    pub target: Ipv4Addr,
    pub target_mac: MacAddr,
}

/// The full reply, if `frame` is an ARP reply.
pub fn parse_reply_full(frame: &[u8]) -> Option<ArpReply> {
    let eth = EthernetPacket::new(frame)?;
    if eth.get_ethertype() != EtherTypes::Arp {
        return None;
    }
    let arp = ArpPacket::new(eth.payload())?;
    if arp.get_operation() != ArpOperations::Reply || arp.get_hw_addr_len() != 6 || arp.get_proto_addr_len() != 4 {
        return None;
    }
    Some(ArpReply {
        sender: arp.get_sender_proto_addr(),
        sender_mac: arp.get_sender_hw_addr(),
        target: arp.get_target_proto_addr(),
        target_mac: arp.get_target_hw_addr(),
    })
}

/// The (address, hardware address) an ARP reply announces, if `frame` is one.
pub fn parse_reply(frame: &[u8]) -> Option<(Ipv4Addr, MacAddr)> {
    parse_reply_full(frame).map(|r| (r.sender, r.sender_mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_request_and_reads_a_reply() {
        let me = MacAddr::new(2, 0, 0, 0, 0, 1);
        let f = request(me, Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        // htype 1, ptype 0800, hlen 6, plen 4, op 1
        assert_eq!(&f[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&f[28..32], &[198, 18, 0, 1]);
        assert_eq!(&f[38..42], &[198, 18, 0, 2]);
        assert_eq!(parse_reply(&f), None, "a request is not a reply");
        // turn it into the reply 198.18.0.2 is-at 02:00:00:00:00:02
        let mut r = f;
        r[21] = 2;
        r[22..28].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        r[28..32].copy_from_slice(&[198, 18, 0, 2]);
        assert_eq!(parse_reply(&r), Some((Ipv4Addr::new(198, 18, 0, 2), MacAddr::new(2, 0, 0, 0, 0, 2))));
        assert_eq!(parse_reply(&r[..30]), None);
    }
}
