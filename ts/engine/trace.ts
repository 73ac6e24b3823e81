// --packet-trace: nmap-style SENT/RCVD lines for every probe and reply. The engine reports
// each probe it sends as a ProbeSent record (only when asked: `trace: true`) in the same
// batches as the replies; this module turns a batch's records into lines, in time order.
import { constants } from 'node:os';
import { RecordKind, TCP, type EngineRecord } from './records.js';

/** The engine's technique codes (record byte 10) that probe with UDP. */
const UDP_TECHNIQUE = 9;

/** TCP flags in nmap's order and letters: SYN/ACK is "SA", RST/ACK "RA", Xmas "FPU". */
export function tcpFlagString(flags: number): string {
  const order: [number, string][] = [
    [TCP.SYN, 'S'],
    [TCP.FIN, 'F'],
    [TCP.RST, 'R'],
    [TCP.PSH, 'P'],
    [TCP.ACK, 'A'],
    [TCP.URG, 'U'],
    [TCP.ECE, 'E'],
    [TCP.CWR, 'C'],
  ];
  return order
    .filter(([bit]) => (flags & bit) !== 0)
    .map(([, letter]) => letter)
    .join('');
}

const ICMP_UNREACH: Record<number, string> = {
  0: 'Network unreachable',
  1: 'Host unreachable',
  2: 'Protocol unreachable',
  9: 'Destination network administratively prohibited',
  10: 'Destination host administratively prohibited',
  13: 'Communication administratively prohibited',
};

function icmpText(record: EngineRecord): string {
  if (record.icmpType === 3 && record.icmpCode === 3) return `Port ${record.port} unreachable`;
  if (record.icmpType === 3) return ICMP_UNREACH[record.icmpCode] ?? 'Destination unreachable';
  if (record.icmpType === 11) return 'TTL=0 during transit';
  return 'ICMP error';
}

function errnoName(errno: number): string {
  if (errno === 0) return 'Connected';
  const name = Object.entries(constants.errno).find(([, v]) => v === errno)?.[0];
  return name ?? `errno ${errno}`;
}

/** One line of the trace with the time it refers to (µs since the scan started). */
export interface TraceLine {
  us: number;
  direction: 'sent' | 'received';
  text: string;
}

export interface TracerOptions {
  /** Our source address and port, for replies whose probe was not seen (summary()'s values). */
  sourceAddress: string;
  sourcePort: number;
}

/** Probes remembered for timing replies; past this many the oldest are forgotten. */
const MAX_REMEMBERED = 1 << 20;

/**
 * Formats trace lines. Remembers when each probe left and from which source port, so that a
 * reply's line shows its arrival time (send time + round trip) and the port it came back to.
 */
export class PacketTracer {
  private readonly sent = new Map<string, { us: number; sport: number; src: string }>();

  constructor(private readonly options: TracerOptions) {}

  /**
   * The lines for one batch, sorted by time. `nowUs` (the engine's elapsed time when the
   * batch arrived) times the records that carry no time of their own.
   */
  batch(records: readonly EngineRecord[], nowUs: number): TraceLine[] {
    for (const r of records) {
      if (r.kind !== RecordKind.ProbeSent) continue;
      if (this.sent.size >= MAX_REMEMBERED) this.sent.clear();
      this.sent.set(`${r.address}:${r.port}:${r.attempt}`, { us: r.rttUs, sport: r.window, src: r.responder });
    }
    const lines: TraceLine[] = [];
    for (const r of records) {
      const line = this.line(r, nowUs);
      if (line) lines.push(line);
    }
    // Stable: equal times keep batch order.
    return lines.sort((a, b) => a.us - b.us);
  }

  /** The line for one record, or undefined for a record kind it does not know. */
  line(r: EngineRecord, nowUs: number): TraceLine | undefined {
    if (r.kind === RecordKind.ProbeSent) {
      const proto = r.technique === UDP_TECHNIQUE ? 'UDP' : 'TCP';
      const flags = proto === 'TCP' ? ` ${tcpFlagString(r.flags)}` : '';
      return { us: r.rttUs, direction: 'sent', text: `SENT (${seconds(r.rttUs)}) ${proto} ${r.responder}:${r.window} > ${r.address}:${r.port}${flags} ttl=${r.ttl}` };
    }
    const probe = this.sent.get(`${r.address}:${r.port}:${r.attempt}`);
    const src = probe?.src ?? this.options.sourceAddress;
    const sport = probe?.sport ?? this.options.sourcePort + r.attempt;
    const us = probe && r.rttUs > 0 ? probe.us + r.rttUs : nowUs;
    const at = `(${seconds(us)})`;
    switch (r.kind) {
      case RecordKind.Tcp:
        return { us, direction: 'received', text: `RCVD ${at} TCP ${r.address}:${r.port} > ${src}:${sport} ${tcpFlagString(r.flags)} ttl=${r.ttl} win=${r.window}` };
      case RecordKind.Udp:
        return { us, direction: 'received', text: `RCVD ${at} UDP ${r.address}:${r.port} > ${src}:${sport} ttl=${r.ttl} len=${r.window}` };
      case RecordKind.Icmp:
        return {
          us,
          direction: 'received',
          text: `RCVD ${at} ICMP [${r.responder} > ${src} ${icmpText(r)} (type=${r.icmpType}/code=${r.icmpCode}) ] IP [ttl=${r.ttl} ]`,
        };
      case RecordKind.Connect:
        return { us, direction: 'received', text: `CONN ${at} TCP ${src} > ${r.address}:${r.port} => ${errnoName(r.window)}` };
      default:
        return undefined;
    }
  }
}

/** nmap's trace time: seconds since the scan started, four decimals. */
function seconds(us: number): string {
  return `${(us / 1e6).toFixed(4)}s`;
}
