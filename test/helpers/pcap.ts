// Reads the pcap files ferroscan writes (--pcap) and tcpdump's captures: every probe's
// destination address and port (IPv4 or IPv6, whose address is written in canonical text)
// and when it was seen, so tests can check which probes a run built, or which reached the
// target.
import { readFileSync } from 'node:fs';
import { formatIPv6Bytes } from '../../ts/targets/address6.js';

export interface PcapProbe {
  dst: string;
  dport: number;
  sport: number;
  /** The capture's time stamp, in seconds since the epoch. */
  at: number;
}

export function readPcap(path: string): PcapProbe[] {
  const b = readFileSync(path);
  if (b.length < 24 || b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${path} is not a little-endian pcap file`);
  if (b.readUInt32LE(20) !== 1) throw new Error(`${path}: link type is not Ethernet`);
  const out: PcapProbe[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const len = b.readUInt32LE(off + 8);
    const f = off + 16;
    if (f + len > b.length) throw new Error(`${path}: truncated record at ${off}`);
    if (b.readUInt16BE(f + 12) === 0x86dd) {
      // Ethernet (14) + the fixed IPv6 header (40; probes carry no extension header) + ports
      out.push({ dst: formatIPv6Bytes(b, f + 38), sport: b.readUInt16BE(f + 54), dport: b.readUInt16BE(f + 56) });
      off = f + len;
      continue;
    }
    // Ethernet (14) + IPv4 header (IHL words) + transport ports
    const ihl = (b[f + 14] & 0x0f) * 4;
    const t = f + 14 + ihl;
    const at = b.readUInt32LE(off) + b.readUInt32LE(off + 4) / 1e6;
    out.push({ dst: `${b[f + 30]}.${b[f + 31]}.${b[f + 32]}.${b[f + 33]}`, sport: b.readUInt16BE(t), dport: b.readUInt16BE(t + 2), at });
    off = f + len;
  }
  return out;
}

/** "addr:port" keys of the probes ("[addr]:port" would be IPv6's usual form; tests compare keys only). */
export function probeKeys(probes: readonly PcapProbe[]): string[] {
  return probes.map((p) => `${p.dst}:${p.dport}`);
}
