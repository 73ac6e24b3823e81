// Decodes the fixed-size records that the engine packs into each batch Buffer.
// The layout is defined in crates/core/src/record.rs; the two must change together.

import { formatIPv4 } from '../targets/address.js';

/** Bytes per record. */
export const RECORD_SIZE = 48;

export const enum RecordKind {
  /** A TCP segment from the target answering a probe (flags, window, TTL). */
  Tcp = 1,
  /** An ICMP error quoting one of our probes (type, code, responder address). */
  Icmp = 2,
  /** A UDP datagram from the probed port (window holds its payload length). */
  Udp = 3,
  /** The outcome of a connect() (window holds the errno, 0 = connected). */
  Connect = 4,
  /** --packet-trace: a probe left (window = its source port, rttUs = µs since the scan
   *  started, responder = our source address, flags = the probe's TCP flags, ttl = its TTL). */
  ProbeSent = 5,
  /** An ARP reply (discovery on the local link): address = who answered, mac = its hardware address. */
  Arp = 6,
}

/** TCP flag bits as they appear in the `flags` field. */
export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface EngineRecord {
  kind: RecordKind;
  /** TCP flags of the reply (kind Tcp), else 0. */
  flags: number;
  /** TTL of the reply's IP header. */
  ttl: number;
  /** ICMP type and code (kind Icmp), else 0. */
  icmpType: number;
  icmpCode: number;
  /** Target address probed, dotted quad. */
  address: string;
  /** The same address as a 32-bit number (host order); absent in hand-made records. */
  target?: number;
  /** Target port probed. */
  port: number;
  /** TCP window of the reply (kind Tcp). */
  window: number;
  /** Which send of the probe was answered: 0 for the first, 1.. for retransmissions. */
  attempt: number;
  /** Round-trip time in microseconds from that send to the reply; 0 when unknown. */
  rttUs: number;
  /** Source address of the reply: the target itself, or a router for some ICMP errors. */
  responder: string;
  /** The engine's technique code (1 SYN ... 9 UDP, 10 connect, 11 echo, 12 timestamp,
   *  13 ARP); absent in hand-made records. */
  technique?: number;
  /** The reply frame's Ethernet source address ("02:ab:..", lower case), when known. */
  mac?: string;
  /** --os-hints, a SYN+ACK's record: what p0f made of it, packed (label index in the low 16
   *  bits, flags in the next 8, distance in the top 8: crates/core/src/record.rs), and its MSS. */
  hint?: number;
  mss?: number;
}

/** Formatted MAC addresses by their 48-bit value: a scan sees few distinct ones. */
const macNames = new Map<number, string>();

function macName(value: number, buf: Buffer, off: number): string {
  let name = macNames.get(value);
  if (name === undefined) {
    name = Array.from(buf.subarray(off, off + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
    if (macNames.size < 4096) macNames.set(value, name);
  }
  return name;
}

/**
 * Decodes every record of one batch. Hot: a /16 sweep decodes 65,536 records in a few
 * batches, so the address string is built once per record and shared by the responder
 * when the target itself answered, and MAC strings come from a cache.
 */
export function decodeBatch(buf: Buffer): EngineRecord[] {
  if (buf.length % RECORD_SIZE !== 0) throw new Error(`engine batch of ${buf.length} bytes is not a whole number of records`);
  const out = new Array<EngineRecord>(buf.length / RECORD_SIZE);
  for (let off = 0, i = 0; off < buf.length; off += RECORD_SIZE, i++) {
    const target = buf.readUInt32BE(off + 16);
    const from = buf.readUInt32BE(off + 32);
    const address = formatIPv4(target);
    const record: EngineRecord = {
      kind: buf[off] as RecordKind,
      flags: buf[off + 1],
      ttl: buf[off + 2],
      icmpType: buf[off + 3],
      icmpCode: buf[off + 4],
      port: buf.readUInt16LE(off + 6),
      window: buf.readUInt16LE(off + 8),
      technique: buf[off + 10],
      attempt: buf[off + 11],
      rttUs: buf.readUInt32LE(off + 12),
      address,
      target,
      responder: from === target ? address : formatIPv4(from),
    };
    // --os-hints: bit 7 of byte 38 says a hint is there
    if (buf[off + 38] & 0x80) {
      record.hint = buf.readUInt32LE(off + 36);
      record.mss = buf.readUInt16LE(off + 46);
    }
    // all zero: unknown (loopback, connect scan)
    const mac = buf.readUIntBE(off + 40, 6);
    if (mac !== 0) record.mac = macName(mac, buf, off + 40);
    out[i] = record;
  }
  return out;
}
