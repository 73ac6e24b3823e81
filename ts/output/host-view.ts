// One host as nmap's structured formats see it: the ports listed one by one, and the
// states folded into extraports (count, reasons, and the port ranges of each reason),
// by the same rules as the normal output's "Not shown" line. XML, grepable, JSON and CSV
// all read hosts through here, so they agree with each other and with normal output.
import type { PortState, Verdict } from '../verdicts/classify.js';
import type { HostReport, Protocol } from '../hosts/model.js';
import { foldedTallies, hiddenByOpen, orderedReasons, portSections, tally, type StateTally } from './normal.js';

export interface ExtraReason {
  reason: string;
  /** The protocol of these ports (a -sS -sU host folds tcp and udp ports of one state together). */
  protocol: Protocol;
  count: number;
  /** The ports with this reason, as ranges: "1-20,24". */
  ports: string;
}

export interface ExtraPorts {
  state: PortState;
  count: number;
  reasons: ExtraReason[];
}

export interface HostView {
  /** Folded states, largest first (nmap's order). */
  extraports: ExtraPorts[];
  /** Listed ports, ascending within each protocol (TCP first), with their protocol. */
  shown(): Generator<[number, Verdict, Protocol]>;
  /** True when --open hides the whole host. */
  hiddenByOpen: boolean;
}

/** Appends ascending ports and renders them as nmap's range list. */
class Ranges {
  private parts: string[] = [];
  private start = -1;
  private prev = -1;
  add(p: number): void {
    if (this.start >= 0 && p === this.prev + 1) {
      this.prev = p;
      return;
    }
    this.close();
    this.start = this.prev = p;
  }
  private close(): void {
    if (this.start >= 0) this.parts.push(this.start === this.prev ? `${this.start}` : `${this.start}-${this.prev}`);
  }
  toString(): string {
    this.close();
    this.start = -1;
    return this.parts.join(',');
  }
}

/**
 * Builds the view of `host`. `ports` is every scanned port, ascending; it is walked only
 * when unanswered ports must be listed or ranged (hosts that are up), so silent hosts of
 * a big sweep cost nothing.
 */
export function viewHost(host: HostReport, ports: readonly number[], options: { open?: boolean; verbose?: number }): HostView {
  const tallies: Map<PortState, StateTally> = tally(host, ports);
  const folded = foldedTallies(tallies, options);
  const foldedStates = new Set(folded.map((t) => t.state));
  const sections = portSections(host, ports);
  const answered = (s: (typeof sections)[number]): number[] => [...s.ports.keys()].sort((a, b) => a - b);

  // Keyed "state\tprotocol\treason".
  const ranges = new Map<string, Ranges>();
  if (folded.length > 0) {
    for (const t of folded) for (const key of t.reasons.keys()) ranges.set(`${t.state}\t${key}`, new Ranges());
    for (const s of sections) {
      const silent = s.totalPorts > s.ports.size;
      const walk = silent && foldedStates.has(s.unanswered.state) ? s.scanned : answered(s);
      for (const p of walk) {
        const v = s.ports.get(p) ?? s.unanswered;
        ranges.get(`${v.state}\t${s.protocol}\t${v.reason}`)?.add(p);
      }
    }
  }
  const extraports: ExtraPorts[] = folded.map((t) => ({
    state: t.state,
    count: t.count,
    reasons: orderedReasons(t).map((r) => ({ reason: r.reason, protocol: r.protocol, count: r.count, ports: ranges.get(`${t.state}\t${r.protocol}\t${r.reason}`)?.toString() ?? '' })),
  }));

  return {
    extraports,
    hiddenByOpen: hiddenByOpen(tallies),
    *shown() {
      for (const s of sections) {
        const silent = s.totalPorts > s.ports.size;
        const walk = silent && !foldedStates.has(s.unanswered.state) ? s.scanned : answered(s);
        for (const p of walk) {
          const v = s.ports.get(p) ?? s.unanswered;
          if (!foldedStates.has(v.state)) yield [p, v, s.protocol];
        }
      }
    },
  };
}
