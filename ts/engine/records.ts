// Decodes the fixed-size records that the engine packs into each batch Buffer.
// The layout (version 2: 64 bytes, 16-byte target and responder fields read by the family
// byte) is defined in crates/core/src/record.rs; the two must change together.

import { formatIPv4, parseIPv4 } from '../targets/address.js';
import { formatIPv6Bytes, parseIPv6, readIPv6 } from '../targets/address6.js';

/** Bytes per record. */
export const RECORD_SIZE = 64;
/** The layout version this decoder reads (the addon's recordLayoutVersion()). */
export const RECORD_LAYOUT_VERSION = 2;

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
  /** A neighbour advertisement (IPv6 discovery on the link): address = what it advertises, mac = its link-layer address. */
  Ndp = 7,
}

/** TCP flag bits as they appear in the `flags` field. */
export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface EngineRecord {
  kind: RecordKind;
  /** TCP flags of the reply (kind Tcp), else 0. */
  flags: number;
  /** TTL (IPv4) or hop limit (IPv6) of the reply's IP header. */
  ttl: number;
  /** ICMP or ICMPv6 type and code (kind Icmp), else 0. */
  icmpType: number;
  icmpCode: number;
  /** Target address probed: a dotted quad, or IPv6 text in canonical form (RFC 5952). */
  address: string;
  /** The same address's value: a 32-bit number (IPv4, host order) or a bigint (IPv6);
   *  absent in hand-made records. */
  target?: number | bigint;
  /** 6 for an IPv6 record; absent for IPv4. */
  family?: 6;
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
    if (buf[off + 5] === 6) {
      out[i] = decode6(buf, off);
      continue;
    }
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
    // --os-hints: bit 7 of byte 56 says a hint is there
    if (buf[off + 56] & 0x80) {
      record.hint = buf.readUInt32LE(off + 54);
      record.mss = buf.readUInt16LE(off + 58);
    }
    // all zero: unknown (loopback, connect scan)
    const mac = buf.readUIntBE(off + 48, 6);
    if (mac !== 0) record.mac = macName(mac, buf, off + 48);
    out[i] = record;
  }
  return out;
}

/** One IPv6 record: addresses as canonical text and bigint values. */
function decode6(buf: Buffer, off: number): EngineRecord {
  const address = formatIPv6Bytes(buf, off + 16);
  const same = buf.compare(buf, off + 16, off + 32, off + 32, off + 48) === 0;
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
    target: readIPv6(buf, off + 16),
    family: 6,
    responder: same ? address : formatIPv6Bytes(buf, off + 32),
  };
  const mac = buf.readUIntBE(off + 48, 6);
  if (mac !== 0) record.mac = macName(mac, buf, off + 48);
  return record;
}

/**
 * Packs one record at `off` of `buf` in the engine's layout (crates/core/src/record.rs), as
 * decodeBatch() reads it back: the inverse of decoding, for records kept outside the engine
 * (the resume journal, a shard's records in transit). Hints (--os-hints) are not kept.
 */
export function encodeRecord(buf: Buffer, off: number, r: EngineRecord): void {
  buf[off] = r.kind;
  buf[off + 1] = r.flags;
  buf[off + 2] = r.ttl;
  buf[off + 3] = r.icmpType;
  buf[off + 4] = r.icmpCode;
  buf.writeUInt16LE(r.port, off + 6);
  buf.writeUInt16LE(r.window, off + 8);
  buf[off + 10] = r.technique ?? 0;
  buf[off + 11] = r.attempt;
  buf.writeUInt32LE(r.rttUs >>> 0, off + 12);
  const target = r.target ?? (r.family === 6 ? parseIPv6(r.address) : parseIPv4(r.address)) ?? 0;
  if (typeof target === 'bigint' || r.family === 6) {
    buf[off + 5] = 6;
    writeIPv6(buf, off + 16, BigInt(target));
    writeIPv6(buf, off + 32, parseIPv6(r.responder) ?? 0n);
  } else {
    buf[off + 5] = 4;
    buf.writeUInt32BE(target, off + 16);
    buf.writeUInt32BE(parseIPv4(r.responder) ?? 0, off + 32);
  }
  if (r.mac) buf.writeUIntBE(Number.parseInt(r.mac.replace(/:/g, ''), 16), off + 48, 6);
}

function writeIPv6(buf: Buffer, off: number, value: bigint): void {
  buf.writeBigUInt64BE(value >> 64n, off);
  buf.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, off + 8);
}
