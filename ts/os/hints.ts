// Passive OS hints (--os-hints): what p0f's SYN+ACK signatures (/etc/p0f/p0f.fp, Debian's p0f
// package, read at run time) make of the answers a port scan receives anyway, with no probe
// of its own. The engine matches each SYN+ACK (crates/core/src/os/p0f.rs) and packs the hint
// into the answer's record; this file keeps each host's first, names its label, and writes it
// out: a line of the normal report, an <os> element whose <osmatch> says it is passive, a
// JSON object.
import { native } from '../engine/native.js';
import type { EngineRecord } from '../engine/records.js';
import { ScanError } from '../errors.js';
import { xmlAttr } from '../output/format.js';
import { AddressMap } from '../hosts/address-map.js';
import type { AddressValue } from '../targets/address6.js';

/** Where Debian's p0f package keeps its signatures. */
export const DEFAULT_P0F_DB = '/etc/p0f/p0f.fp';

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
  /** What the answer carried: TTL, window, MSS. */
  ttl: number;
  window: number;
  mss: number;
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

/**
 * Every host's first hint. A sweep's hints are mostly alike (one kernel answers for many
 * addresses): each distinct answer (hint, MSS, TTL, window) is kept once, a host keeps its
 * small index, and hosts with the same answer share one frozen OsHint.
 */
export class HintBook {
  private readonly labels: Label[];
  /** Host → index in `answers` (an AddressMap: V8's Map is slow with address keys). */
  private readonly hosts = new AddressMap<number>();
  /** The same for IPv6 hosts (few in practice: a sweep of a big prefix finds few hosts). */
  private readonly hosts6 = new Map<bigint, number>();
  private readonly answers: { hint: number; mss: number; ttl: number; window: number; value?: OsHint }[] = [];
  private readonly byKey = new Map<string, number>();
  private last = -1;

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
      const t = r.target;
      if (r.hint === undefined || t === undefined) continue;
      if (typeof t === 'bigint') {
        if (!this.hosts6.has(t)) this.hosts6.set(t, this.answer(r.hint, r.mss ?? 0, r.ttl, r.window));
      } else if (!this.hosts.has(t)) this.hosts.set(t, this.answer(r.hint, r.mss ?? 0, r.ttl, r.window));
    }
  }

  /** The index of an answer; consecutive records mostly repeat the last one. */
  private answer(hint: number, mss: number, ttl: number, window: number): number {
    const a = this.answers[this.last];
    if (a && a.hint === hint && a.mss === mss && a.ttl === ttl && a.window === window) return this.last;
    const key = `${hint}:${mss}:${ttl}:${window}`;
    let i = this.byKey.get(key);
    if (i === undefined) {
      i = this.answers.push({ hint, mss, ttl, window }) - 1;
      this.byKey.set(key, i);
    }
    return (this.last = i);
  }

  get(value: AddressValue): OsHint | undefined {
    const i = typeof value === 'bigint' ? this.hosts6.get(value) : this.hosts.get(value);
    if (i === undefined) return undefined;
    const a = this.answers[i]!;
    return (a.value ??= this.hintOf(a.hint, a.mss, a.ttl, a.window));
  }

  private hintOf(h: number, mss: number, ttl: number, window: number): OsHint {
    const index = h & 0xffff;
    const flags = (h >>> 16) & 0xff;
    const label = flags & 1 ? this.labels[index] : undefined;
    const match = !label ? 'none' : flags & 2 ? 'fuzzy' : flags & 4 ? 'generic' : 'exact';
    const hint: OsHint = { match, distance: h >>> 24, distanceAtMost: (flags & 8) !== 0, ttl, window, mss };
    if (label) Object.assign(hint, { os: label.os, class: label.class, name: label.name, flavor: label.flavor, line: label.line });
    return Object.freeze(hint);
  }
}

const lines = new WeakMap<OsHint, string>();
const jsons = new WeakMap<OsHint, Record<string, unknown>>();
const jsonTexts = new WeakMap<object, string>();

/** The normal report's line: "Passive OS hint: Linux 3.x (p0f, 0 hops)". */
export function hintLine(h: OsHint): string {
  let line = lines.get(h);
  if (line === undefined) lines.set(h, (line = hintText(h)));
  return line;
}

function hintText(h: OsHint): string {
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
  let j = jsons.get(h);
  if (j === undefined) jsons.set(h, (j = { source: 'p0f', ...h }));
  return j;
}

/** The JSON text of a hintJson() object, made once: a sweep's hosts mostly share a handful. */
export function hintJsonText(j: object): string {
  let text = jsonTexts.get(j);
  if (text === undefined) jsonTexts.set(j, (text = JSON.stringify(j)));
  return text;
}
