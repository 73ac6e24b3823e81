// Passive OS hints (--os-hints): what p0f's SYN+ACK signatures (/etc/p0f/p0f.fp, Debian's p0f
// package, read at run time) make of the answers a port scan receives anyway, with no probe
// of its own. The engine matches each SYN+ACK (crates/core/src/os/p0f.rs) and hands out a
// hint record; this file keeps each host's first, names its label, and writes it out: a line
// of the normal report, an <os> element whose <osmatch> says it is passive, a JSON object.
import { native } from '../engine/native.js';
import { RecordKind, type EngineRecord } from '../engine/records.js';
import { ScanError } from '../errors.js';
import { xmlAttr } from '../output/format.js';

/** Where Debian's p0f package keeps its signatures. */
export const DEFAULT_P0F_DB = '/etc/p0f/p0f.fp';

/** p0f's quirk names, by the engine's bit numbers (os/p0f.rs). */
const QUIRKS = ['df', 'id+', 'id-', 'ecn', '0+', 'flow', 'seq-', 'ack+', 'ack-', 'uptr+', 'urgf+', 'pushf+', 'ts1-', 'ts2+', 'opt+', 'exws', 'bad'];

/** One host's passive hint. */
export interface OsHint {
  /** p0f's label for the answer ("Linux 3.x"); undefined when p0f knows no signature for it ("???"). */
  os?: string;
  /** The label's OS class ("unix", "win", ...), name and flavor. */
  class?: string;
  name?: string;
  flavor?: string;
  /** How the signature matched: exactly, as a last resort ('g' label), or only fuzzily. */
  match: 'exact' | 'generic' | 'fuzzy' | 'none';
  /** Hops from p0f's reading of the TTL; `distanceAtMost` when the label's TTL is a maximum. */
  distance: number;
  distanceAtMost: boolean;
  /** What the answer carried: TTL, window, MSS, window scale, p0f's quirks. */
  ttl: number;
  window: number;
  mss: number;
  scale: number;
  quirks: string[];
  /** The TCP port whose SYN+ACK it is. */
  port: number;
  /** The label's line in p0f.fp (the XML osmatch's line). */
  line?: number;
}

interface Label {
  os: string;
  class: string;
  name: string;
  flavor: string;
  generic: boolean;
  line: number;
}

/** The first hint of every host, from the engine's records. */
export class HintBook {
  private readonly labels: Label[];
  private readonly hints = new Map<number, OsHint>();

  /** Reads the labels of `path` (the same file the engine was given). */
  constructor(readonly path: string = DEFAULT_P0F_DB) {
    try {
      this.labels = native().p0fLabels(path);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new ScanError(msg.replace(/^[A-Z]+: /, ''), 'EINVAL');
    }
  }

  /** Keeps the first hint of each host in `records`. */
  note(records: readonly EngineRecord[]): void {
    for (const r of records) {
      if (r.kind !== RecordKind.PassiveHint || r.target === undefined || this.hints.has(r.target)) continue;
      const label = r.flags & 1 ? this.labels[r.rttUs] : undefined;
      const match = !label ? 'none' : r.flags & 2 ? 'fuzzy' : r.flags & 4 ? 'generic' : 'exact';
      const quirks = QUIRKS.filter((_, bit) => ((r.quirks ?? 0) >>> bit) & 1);
      const hint: OsHint = { match, distance: r.icmpType, distanceAtMost: (r.flags & 8) !== 0, ttl: r.ttl, window: r.window, mss: r.mss ?? 0, scale: r.icmpCode, quirks, port: r.port };
      if (label) Object.assign(hint, { os: label.os, class: label.class, name: label.name, flavor: label.flavor, line: label.line });
      this.hints.set(r.target, hint);
    }
  }

  get(value: number): OsHint | undefined {
    return this.hints.get(value);
  }
}

/** The normal report's line: "Passive OS hint: Linux 3.x (p0f, 0 hops)". */
export function hintLine(h: OsHint): string {
  const hops = `${h.distanceAtMost ? '<= ' : ''}${h.distance} hop${h.distance === 1 && !h.distanceAtMost ? '' : 's'}`;
  if (!h.os) return `Passive OS hint: none (no p0f signature for TTL ${h.ttl}, window ${h.window}, MSS ${h.mss}; ${hops})`;
  const how = h.match === 'exact' ? '' : `, ${h.match}`;
  return `Passive OS hint: ${h.os} (p0f${how}, ${hops})`;
}

/** nmap's XML has no passive OS element: an <os> of its own whose <osmatch> says so in its name
 *  (p0f gives no accuracy: 100 for an exact match, 90 for a generic one, 80 for a fuzzy one). */
export function hintXml(h: OsHint): string {
  if (!h.os) return '';
  const accuracy = h.match === 'exact' ? 100 : h.match === 'generic' ? 90 : 80;
  return `<os><osmatch name="${xmlAttr(`${h.os} (passive, p0f)`)}" accuracy="${accuracy}" line="${h.line ?? 0}"/>\n</os>\n`;
}

/** The host's "osHint" object in JSON and NDJSON output. */
export function hintJson(h: OsHint): Record<string, unknown> {
  return { source: 'p0f', ...h };
}
