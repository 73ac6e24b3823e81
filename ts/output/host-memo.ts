// The writers' fast path. What a writer makes of a host's ports (XML's <ports>, grepable's
// Ports field, JSON's ports and extraports, CSV's row tails) depends only on the host's port
// verdicts, how many ports were scanned and the protocol, and hosts of a scan share them by
// the thousand: a sweep's hosts carry one answered port with one of a few verdicts, and a
// multi-port scan's hosts fall into a few patterns (the same ports open, the rest closed or
// silent). That text is made once per pattern and reused. A pattern is found by a hash of
// its (port, verdict) pairs and then compared pair by pair, so a reuse is always exact.
import type { HostReport } from '../hosts/model.js';
import type { Verdict } from '../verdicts/classify.js';

/** Patterns of several ports remembered at most (one-port hosts are not counted). */
const MAX_PATTERNS = 4096;
/** Distinct verdicts told apart by content (those not shared by the classifier) at most. */
const MAX_VERDICTS = 4096;

interface Pattern<T> {
  ports: ReadonlyMap<number, Verdict>;
  totalPorts: number;
  protocol: string;
  unanswered: Verdict;
  text: T;
}

export class PortsMemo<T> {
  /** One-port hosts' text by verdict id, then port and ports scanned. */
  private readonly single = new Map<number, Map<number, T>>();
  private readonly patterns = new Map<number, Pattern<T>[]>();
  private patternCount = 0;
  /** Verdict ids: by identity for the classifier's shared (frozen) verdicts, else by content. */
  private readonly ids = new WeakMap<Verdict, number>();
  private readonly byContent = new Map<string, number>();
  private nextId = 1;
  private lastVerdict: Verdict | undefined;
  private idVerdict: Verdict | undefined;
  private idLast = 0;
  private lastKey = -1;
  private lastText: T | undefined;

  /** The text for `host`'s ports: `make(host)` once per pattern, reused after. */
  get(host: HostReport, make: (host: HostReport) => T): T {
    // Several protocols, or -sV's services: the text is the host's own.
    if (host.sections || (host.services !== undefined && host.services.size > 0)) return make(host);
    const n = host.ports.size;
    if (n > 1) return this.several(host, make);
    let verdict = host.unanswered;
    let port = -1;
    // forEach, not destructuring: no iterator or entry array per host.
    if (n === 1)
      host.ports.forEach((v, p) => {
        verdict = v;
        port = p;
      });
    // totalPorts ≤ 65536, port + 1 ≤ 65536: the key is exact in a double.
    const key = port + 1 + 65537 * (host.totalPorts * 2 + (host.protocol === 'udp' ? 1 : 0));
    // Consecutive hosts of a sweep mostly share their verdict: check the last one first.
    if (verdict === this.lastVerdict && key === this.lastKey) return this.lastText as T;
    const id = this.id(verdict);
    if (id === 0) return make(host);
    let byKey = this.single.get(id);
    if (!byKey) this.single.set(id, (byKey = new Map()));
    let text = byKey.get(key);
    if (text === undefined && !byKey.has(key)) {
      text = make(host);
      byKey.set(key, text);
    }
    this.lastVerdict = verdict;
    this.lastKey = key;
    this.lastText = text;
    return text as T;
  }

  /**
   * A number per distinct verdict; 0 once too many distinct ones were seen (the host is then
   * made afresh: memory stays bounded whatever the scan).
   */
  private id(v: Verdict | undefined): number {
    if (v === undefined) return 0;
    // Most ports of a host share one verdict (closed, reset): the last one is checked first.
    if (v === this.idVerdict) return this.idLast;
    let id = this.ids.get(v);
    if (id !== undefined) {
      this.idVerdict = v;
      this.idLast = id;
      return id;
    }
    if (Object.isFrozen(v)) {
      this.ids.set(v, (id = this.nextId++));
      return id;
    }
    // Verdicts made per reply (UDP, ICMP, connect): equal ones share an id.
    const key = `${v.state}\t${v.reason}\t${v.ttl}\t${v.reasonIp ?? ''}`;
    id = this.byContent.get(key);
    if (id === undefined) {
      if (this.byContent.size >= MAX_VERDICTS) return 0;
      this.byContent.set(key, (id = this.nextId++));
    }
    return id;
  }

  /** Hosts with several answered ports: a pattern of (port, verdict) pairs, compared exactly. */
  private several(host: HostReport, make: (host: HostReport) => T): T {
    // An order-free hash (ports arrive in any order): a sum of mixed pairs.
    const unanswered = this.id(host.unanswered);
    if (unanswered === 0) return make(host);
    let h = Math.imul(host.totalPorts, 0x9e3779b1) ^ (host.protocol === 'udp' ? 1 : 0) ^ Math.imul(unanswered, 0x85ebca6b);
    let sum = 0;
    for (const [port, v] of host.ports) {
      const id = this.id(v);
      if (id === 0) return make(host);
      let x = Math.imul(port + 1, 0xcc9e2d51) ^ Math.imul(id, 0x1b873593);
      x ^= x >>> 15;
      sum = (sum + Math.imul(x, 0x2c1b3c6d)) | 0;
    }
    h = (h ^ sum ^ host.ports.size) | 0;
    const list = this.patterns.get(h);
    if (list) {
      for (const p of list) if (this.same(p, host)) return p.text;
    }
    const text = make(host);
    if (this.patternCount < MAX_PATTERNS) {
      const pattern = { ports: host.ports, totalPorts: host.totalPorts, protocol: host.protocol, unanswered: host.unanswered, text };
      if (list) list.push(pattern);
      else this.patterns.set(h, [pattern]);
      this.patternCount++;
    }
    return text;
  }

  /** Whether a remembered pattern is this host's: every (port, verdict) pair compared. */
  private same(p: Pattern<T>, host: HostReport): boolean {
    if (p.ports.size !== host.ports.size || p.totalPorts !== host.totalPorts || p.protocol !== host.protocol || this.id(p.unanswered) !== this.id(host.unanswered)) return false;
    for (const [port, v] of host.ports) {
      const q = p.ports.get(port);
      if (q !== v && (q === undefined || this.id(q) !== this.id(v))) return false;
    }
    return true;
  }
}

/** Whole seconds since the epoch, as text, remembered per second (sweeps write many hosts per second). */
export class UnixClock {
  private ms = -1;
  private text = '';
  seconds(date: Date | number): string {
    const t = typeof date === 'number' ? date : date.getTime();
    if (t - this.ms >= 1000 || t < this.ms) {
      this.ms = t - (t % 1000);
      this.text = String(Math.floor(t / 1000));
    }
    return this.text;
  }
}
