#!/usr/bin/env python3
# Forges replies to a running SYN scan, from inside the lab's target namespace
# (test/lab-forged.test.ts runs it there): SYN/ACKs, RSTs and ICMP unreachables quoting
# fake probes, all with wrong cookies, to the scanner's source ports. It watches the
# scanner's probes on the target's interface, as anyone on the path could, so besides
# random sequence numbers it sends near misses of each probe's real cookie c (see
# crates/core/src/cookie.rs: a reply is valid when it echoes c + attempt, attempt 0-50, on
# source port base + attempt): c-1, c-2, c-3, c+51, c+52, c+2^k (k 0-31) on port base,
# and c + k on source port base + j with j != k (a valid attempt on the wrong port). Half
# of the near misses go to ports probed but not (yet) answered by the target's kernel,
# which it also watches: there, an accepted forgery would be the port's verdict.
# Every frame goes to the scanner's lab address only. Prints one JSON line at the end:
# what was sent, when the first and last frames went out, what was learnt.
import argparse
import ipaddress
import json
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
LAB = ipaddress.ip_network('198.18.0.0/15')
# The TOS byte of forged datagrams (CS1): tells them apart from the target kernel's own
# answers on the wire; the engine never reads it.
MARK = 0x20


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ident, tos=0):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, tos, 20 + len(payload), ident, 0, 64, proto, 0, src, dst)
    return h[:10] + struct.pack('!H', checksum(h)) + h[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, window):
    h = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, window, 0, 0)
    pseudo = src + dst + struct.pack('!BBH', 0, 6, len(h))
    return h[:16] + struct.pack('!H', checksum(pseudo + h)) + h[18:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--iface', required=True)
    ap.add_argument('--src', required=True, help='the target address (forged replies come from it)')
    ap.add_argument('--dst', required=True, help="the scanner's address (the only destination)")
    ap.add_argument('--src-mac', required=True)
    ap.add_argument('--dst-mac', required=True)
    ap.add_argument('--count', type=int, default=120000)
    ap.add_argument('--ports', default='', help='ports to forge for most often (comma-separated)')
    ap.add_argument('--wait', type=float, default=60, help='seconds to wait for the first probe')
    ap.add_argument('--seconds', type=float, default=240, help='give up sending after this long')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    if ipaddress.ip_address(a.dst) not in LAB or ipaddress.ip_address(a.src) not in LAB:
        sys.exit('forge-replies: addresses must lie in 198.18.0.0/15')
    rnd = random.Random(a.seed)
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    eth = bytes.fromhex(a.dst_mac.replace(':', '')) + bytes.fromhex(a.src_mac.replace(':', '')) + b'\x08\x00'
    favourite = [int(p) for p in a.ports.split(',') if p]

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)

    cookies = {}     # port -> the cookie of its probe (seq - attempt)
    answered = set() # ports the target has answered (its RSTs, SYN/ACKs, ICMP errors)
    pending = set()  # ports probed and not answered yet: where a forgery could decide
    base = None      # the scan's first source port (attempt 0)
    probes = 0

    def read_probes(timeout):
        nonlocal base, probes
        r, _, _ = select.select([s], [], [], timeout)
        while r:
            try:
                f, addr = s.recvfrom(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if len(f) < 42 or f[12:14] != b'\x08\x00':
                continue
            t = 14 + (f[14] & 0x0f) * 4
            if addr[2] == PACKET_OUTGOING:
                # the target kernel's own answers (not ours: those carry MARK in the TOS
                # byte, which the engine never reads): the port they answer for is decided
                if f[15] != MARK and f[26:30] == src and f[30:34] == dst:
                    port = None
                    if f[23] == 6 and len(f) >= t + 4:
                        port = struct.unpack('!H', f[t:t + 2])[0]
                    elif f[23] == 1 and len(f) >= t + 8 + 24 and f[t] == 3:
                        q = t + 8 + (f[t + 8] & 0x0f) * 4
                        port = struct.unpack('!H', f[q + 2:q + 4])[0] if len(f) >= q + 4 else None
                    if port is not None:
                        answered.add(port)
                        pending.discard(port)
                continue
            if f[23] == 6 and f[26:30] == dst and f[30:34] == src and len(f) >= t + 20 and f[t + 13] == 0x02:
                sport, dport, seq = struct.unpack('!HHI', f[t:t + 8])
                if base is None:
                    base = sport
                probes += 1
                cookies[dport] = (seq - (sport - base)) & 0xffffffff
                if dport not in answered:
                    pending.add(dport)
            r, _, _ = select.select([s], [], [], 0)

    until = time.time() + a.wait
    while base is None and time.time() < until:
        read_probes(0.05)
    if base is None:
        print(json.dumps({'error': 'no probe seen', 'sent': 0}))
        return

    sent = 0
    on_unanswered = 0  # near misses for a port the target had not answered
    known = []
    kinds = {'synack': 0, 'rst': 0, 'icmp': 0}
    modes = {'random': 0, 'near': 0, 'wrong-attempt-port': 0}
    first = time.time()
    stop = first + a.seconds
    icmp_codes = [1, 3, 9, 10, 13]
    while sent < a.count and time.time() < stop:
        if sent % 64 == 0:
            read_probes(0)
        known = list(cookies) if sent % 4096 == 0 or not known else known
        # unanswered probes first: there a forgery accepted would decide the verdict
        open_now = tuple(pending)
        frames = []
        for _ in range(64):
            if known and rnd.random() < 0.5:
                if open_now and rnd.random() < 0.5:
                    port = rnd.choice(open_now)
                    on_unanswered += 1
                else:
                    port = rnd.choice(known)
                c = cookies[port]
                if rnd.random() < 0.75:
                    echoed = (c + rnd.choice([-1, -2, -3, 51, 52, 1 << 31, 1 << rnd.randrange(32)])) & 0xffffffff
                    if echoed == c:
                        echoed = (c - 1) & 0xffffffff
                    sport, mode = base, 'near'
                else:
                    j, k = rnd.sample(range(11), 2)
                    echoed, sport, mode = (c + k) & 0xffffffff, base + j, 'wrong-attempt-port'
            else:
                port = rnd.choice(favourite) if favourite and rnd.random() < 0.4 else rnd.randrange(1, 65536)
                echoed, sport, mode = rnd.getrandbits(32), base + (rnd.randrange(11) if rnd.random() < 0.3 else 0), 'random'
            kind = ('synack', 'rst', 'icmp')[sent % 3]
            ident = rnd.getrandbits(16)
            if kind == 'icmp':
                quoted = ipv4(dst, src, 6, struct.pack('!HHI', sport, port, echoed), ident)
                body = struct.pack('!BBHI', 3, rnd.choice(icmp_codes), 0, 0) + quoted
                body = body[:2] + struct.pack('!H', checksum(body)) + body[4:]
                frame = eth + ipv4(src, dst, 1, body, ident, MARK)
            else:
                # a reply to a SYN acknowledges seq + 1: the echoed value is ack - 1
                flags, window = (0x12, 64240) if kind == 'synack' else (0x14, 0)
                frame = eth + ipv4(src, dst, 6, tcp(src, dst, port, sport, rnd.getrandbits(32), (echoed + 1) & 0xffffffff, flags, window), ident, MARK)
            frames.append(frame)
            kinds[kind] += 1
            modes[mode] += 1
            sent += 1
        for f in frames:
            while True:
                try:
                    s.send(f)
                    break
                except BlockingIOError:
                    time.sleep(0.001)
        time.sleep(0.004)
    last = time.time()
    read_probes(0)
    print(json.dumps({'sent': sent, 'kinds': kinds, 'modes': modes, 'firstSentAt': first * 1000, 'lastSentAt': last * 1000,
                      'sourcePort': base, 'probesSeen': probes, 'cookiesLearnt': len(cookies), 'answered': len(answered), 'nearMissesOnUnanswered': on_unanswered,
                      'unanswered': sorted(pending)[:20]}))


main()
