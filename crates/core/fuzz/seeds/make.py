#!/usr/bin/env python3
# Writes the hand-made seed inputs of the fuzz targets (real packet layouts: a Linux
# SYN/ACK and RST, ICMP errors quoting TCP, UDP and ICMP probes, echo and timestamp
# replies, an ARP reply, a TPACKET_V3 block holding two frames, /proc/net tables) into
# corpus/<target>/seed-*. The fuzzer grows the corpus from these; `cargo fuzz cmin` keeps
# it small. Run from crates/core/fuzz.
import os
import struct

ETH = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00])
ME, THEM = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])


def ip(proto, payload, src=THEM, dst=ME, ttl=64):
    return struct.pack('!BBHHHBBH', 0x45, 0, 20 + len(payload), 0, 0x4000, ttl, proto, 0) + src + dst + payload


def tcp(sport, dport, seq, ack, flags, opts=b''):
    off = (20 + len(opts)) // 4
    return struct.pack('!HHIIBBHHH', sport, dport, seq, ack, off << 4, flags, 64240, 0, 0) + opts


SYN_ACK = tcp(22, 40000, 0xaabbccdd, 0x01020305, 0x12, bytes([2, 4, 5, 0xb4]))
RST = tcp(23, 40000, 0, 0x01020305, 0x14)
SYN = tcp(40000, 113, 0x01020304, 0, 0x02)
UDP_PROBE = struct.pack('!HHHH', 0x8123, 53, 8, 0)
DNS_REPLY = struct.pack('!HHHH', 53, 0x8123, 8 + 12, 0) + bytes([0x12, 0x34, 0x81, 0x80] + [0] * 8)
ECHO_PROBE = struct.pack('!BBHHH', 8, 0, 0, 0xdead, 0xbeef)


def icmp_error(t, code, quoted):
    return struct.pack('!BBHI', t, code, 0, 0) + quoted


ICMP_MSGS = {
    'unreach-tcp': icmp_error(3, 3, ip(6, SYN, src=ME, dst=THEM)[:28]),
    'unreach-udp': icmp_error(3, 3, ip(17, UDP_PROBE, src=ME, dst=THEM)),
    'unreach-icmp': icmp_error(3, 13, ip(1, ECHO_PROBE, src=ME, dst=THEM)),
    'time-exceeded': icmp_error(11, 0, ip(6, SYN, src=ME, dst=THEM)),
    'echo-reply': struct.pack('!BBHHH', 0, 0, 0, 0xdead, 0xbeef),
    'timestamp-reply': struct.pack('!BBHHHIII', 14, 0, 0, 0xdead, 0xbeef, 1, 2, 3),
    'mask-reply': struct.pack('!BBHHHI', 18, 0, 0, 0xdead, 0xbeef, 0xffffff00),
}

ARP_REPLY = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x06]) + struct.pack(
    '!HHBBH', 1, 0x0800, 6, 4, 2) + bytes([2, 0, 0, 0, 0, 2]) + THEM + bytes([2, 0, 0, 0, 0, 1]) + ME

FRAMES = {
    'syn-ack': ETH + ip(6, SYN_ACK),
    'rst': ETH + ip(6, RST),
    'udp': ETH + ip(17, DNS_REPLY),
    'arp': ARP_REPLY,
    **{k: ETH + ip(1, v) for k, v in ICMP_MSGS.items()},
}


def block(frames):
    # tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1 (block_status,
    # num_pkts, offset_to_first_pkt, blk_len, seq_num, two timestamps): 48 bytes
    body = b''
    at = 48
    hdrs = []
    for i, f in enumerate(frames):
        mac = 48 + 32  # after tpacket3_hdr (48) and sockaddr_ll (20), aligned
        size = (mac + len(f) + 15) // 16 * 16
        nxt = size if i + 1 < len(frames) else 0
        h = struct.pack('<IIIIIIHH', nxt, 1700000000, 5, len(f), len(f), 1, mac, mac + 14).ljust(48, b'\0')
        sll = struct.pack('<HHiHBB8s', 17, 0x0008, 2, 1, 0, 6, b'\0' * 8)
        hdrs.append((h + sll).ljust(mac, b'\0') + f)
        hdrs[-1] = hdrs[-1].ljust(size, b'\0')
    body = b''.join(hdrs)
    desc = struct.pack('<IIIIIIQIIII', 3, 0, 1, len(frames), at, 48 + len(body), 1, 0, 0, 0, 0)
    return desc.ljust(48, b'\0') + body


ROUTE = (b'\x01\x02\x00\xc6'
         b'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n'
         b'veth0\t000012C6\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n'
         b'veth0\t00000000\t010012C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n')
ARP_TABLE = (b'\x02\x00\x12\xc6'
             b'IP address       HW type     Flags       HW address            Mask     Device\n'
             b'198.18.0.2       0x1         0x2         02:00:00:00:00:02     *        veth0\n')

# IPv6 frames as Linux sent them in the IPv6 lab (scripts/lab6.sh), captured with tcpdump
FRAMES6 = {
    'unreach6-addr-tcp': bytes.fromhex('0eb8b7a2e2a44240f936ea5586dd6007247e00483a4020010002000000000000000000000002200100020000000000000000000000010103583700000000600000000018064020010002000000000000000000000001200100020000000000000000000000029519001565030ca200000000600204004d5e0000020405a0'),
    'unreach6-admin-tcp': bytes.fromhex('0eb8b7a2e2a44240f936ea5586dd6000ed0400483a402001000200000000000000000000000220010002000000000000000000000001010158390000000060000000001806402001000200000000000000000000000120010002000000000000000000000002951901bd3fd7ca9d0000000060020400b2e60000020405a0'),
    'syn-ack6': bytes.fromhex('0eb8b7a2e2a44240f936ea5586dd6006111000180640200100020000000000000000000000022001000200000000000000000000000100169519f69073fe49359e0d6012fd2040270000020405a0'),
    'unreach6-port-udp': bytes.fromhex('0eb8b7a2e2a44240f936ea5586dd60057bbf00603a40200100020000000000000000000000022001000200000000000000000000000101044d290000000060000000003011402001000200000000000000000000000120010002000000000000000000000002b32e006f00305db572fe1d130000000000000002000186a00001977c0000000000000000000000000000000000000000'),
    'neighbor-advert': bytes.fromhex('0eb8b7a2e2a44240f936ea5586dd6000000000203aff200100020000000000000000000000022001000200000000000000000000000188008fc8600000002001000200000000000000000000000202014240f936ea55'),
    'echo-reply6': bytes.fromhex('0eb8b7a2e2a44240f936ea5586dd6005cb8700083a40200100020000000000000000000000022001000200000000000000000000000181009a247c7a2815'),
}

# the ICMPv6 message of each (after 14 + 40 bytes), behind the hop limit byte icmp6_quote reads first
ICMP6_MSGS = {k: bytes([f[21]]) + f[54:] for k, f in FRAMES6.items() if f[20] == 58}

ROUTE6 = (bytes.fromhex('20010002000000010000000000000007') +
          b'20010002000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    veth0\n'
          b'20010002000000010000000000000000 40 00000000000000000000000000000000 00 fe8000000000000000000000000000aa 00000400 00000001 00000000 00000003    veth0\n'
          b'00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n')


def neigh(index, state, dst, mac):
    # one RTM_NEWNEIGH message: nlmsghdr, ndmsg, NDA_DST and NDA_LLADDR attributes (native order: little-endian here)
    attrs = struct.pack('<HH', 4 + len(dst), 1) + dst + struct.pack('<HH', 4 + len(mac), 2) + mac + b'\0\0'
    nd = struct.pack('<BBHiHBB', 10, 0, 0, index, state, 0, 1)
    body = nd + attrs
    return struct.pack('<IHHII', 16 + len(body), 28, 2, 1, 0) + body


NEIGH = struct.pack('<i', 5) + bytes(12) + neigh(5, 2, bytes.fromhex('20010002000000000000000000000002'), bytes([2, 0, 0, 0, 0, 2])) + struct.pack('<IHHII', 16, 3, 2, 1, 0)

SEEDS = {
    'frame': {**FRAMES, **FRAMES6},
    'icmp6_quote': ICMP6_MSGS,
    'proc_tables6': {'route6': ROUTE6, 'neigh': NEIGH},
    'arp': {'reply': ARP_REPLY},
    'icmp_quote': ICMP_MSGS,
    'udp': {'dns-reply': DNS_REPLY, 'probe': UDP_PROBE},
    'ring_block': {'two-frames': block([FRAMES['syn-ack'], FRAMES['unreach-tcp']])},
    'proc_tables': {'route': ROUTE, 'arp': ARP_TABLE},
}

for target, seeds in SEEDS.items():
    os.makedirs(f'corpus/{target}', exist_ok=True)
    for name, data in seeds.items():
        with open(f'corpus/{target}/seed-{name}', 'wb') as f:
            f.write(data)
