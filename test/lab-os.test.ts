// Golden tests of -O: ferroscan and nmap 7.93 run live against the same OS lab
// (scripts/lab-os.sh: kernels with different TCP/IP sysctls, one two hops away, one without a
// closed port, one whose timestamps match a print perfectly), and must agree on every test value of the fingerprint that does not depend
// on time or chance, on the ranked guesses, the classes and CPEs, the distance and the
// messages.
//
// Values left out of the comparison, and why (both tools draw them from the same randomness):
// - SEQ.SP, SEQ.GCD, SEQ.ISR: Linux makes each connection's initial sequence number from a
//   keyed hash of its addresses and ports plus a clock, so the ISNs of the six SEQ probes
//   (each from its own port) are random, and their rate divides by the probes' send gaps.
// - SEQ.TS, unless it is U: with net.ipv4.tcp_timestamps=1 Linux offsets every connection's
//   timestamps by a random amount, so the frequency computed across the probes is random.
// - The SCAN line: time, date, version, and the random closed UDP port nmap picks.
// Those values change the accuracy of a print from one try to the next (SP and ISR weigh 50
// of a Linux print's ~2,000 points: 2.5%), and each tool reports its own most accurate try,
// so two runs of nmap itself list guesses a point or two apart. The ranking is therefore
// checked exactly (names in order, accuracy to the percent, classes and CPEs) with one try
// each and nmap's random values put into ferroscan's fingerprint; and, with nmap's five
// tries, within the 2.5% chance explains (TOLERANCE).
import test from 'ava';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchOsFingerprint } from '../ts/os/detect.js';
import { describe } from './helpers/lab.js';
import { fingerprintTests, osBlocks, osXml, useOsLab, type OsLab } from './helpers/lab-os.js';

const lab = useOsLab(test);
const PORTS = '22,80,1';
const RANDOM: Record<string, readonly string[]> = { SEQ: ['SP', 'GCD', 'ISR', 'TS'] };
/** Percent by which two live runs' guesses may differ: the weight of SP and ISR (above). */
const TOLERANCE = 3;

interface Run {
  normal: string;
  xml: string;
}

async function both(l: OsLab, args: string[]): Promise<{ nmap: Run; ferroscan: Run }> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-os-'));
  try {
    const targets = [...l.facts.targets.values()];
    const nx = join(dir, 'nmap.xml');
    const fx = join(dir, 'ferroscan.xml');
    const n = await l.nmap(['-n', '-O', ...args, '-p', PORTS, '-oX', nx, ...targets]);
    if (n.code !== 0) throw new Error(describe('nmap', n));
    const f = await l.ferroscan(['-n', '-O', ...args, '-p', PORTS, '-oX', fx, ...targets]);
    if (f.code !== 0) throw new Error(describe('ferroscan', f));
    return { nmap: { normal: n.stdout, xml: readFileSync(nx, 'utf8') }, ferroscan: { normal: f.stdout, xml: readFileSync(fx, 'utf8') } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The tests of `fp` that do not depend on time or chance. */
function deterministic(fp: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [test, attrs] of fingerprintTests(fp)) {
    for (const [a, v] of attrs) {
      if (RANDOM[test]?.includes(a) && !(a === 'TS' && v === 'U')) continue;
      out[`${test}.${a}`] = v;
    }
  }
  return out;
}

/** `fp` with the SEQ values that chance decides taken from `from`. */
function withRandomOf(fp: string, from: string): string {
  const src = fingerprintTests(from).get('SEQ');
  const tests = [...fingerprintTests(fp)];
  return tests
    .map(([name, attrs]) => {
      const a = new Map(attrs);
      if (name === 'SEQ' && src) {
        for (const k of RANDOM.SEQ) {
          const v = src.get(k);
          if (v === undefined) a.delete(k);
          else a.set(k, v);
        }
      }
      return `${name}(${[...a].map(([k, v]) => `${k}=${v}`).join('%')})`;
    })
    .join('\n');
}

test('one try each: the same test values, and the same ranked guesses once chance is set aside', async (t) => {
  const l = lab();
  const { nmap, ferroscan } = await both(l, ['-vv', '--osscan-guess', '--max-os-tries', '1']);
  const nx = osXml(nmap.xml);
  const fx = osXml(ferroscan.xml);
  for (const [name, addr] of l.facts.targets) {
    const n = nx.get(addr);
    const f = fx.get(addr);
    if (!n?.fingerprint || !f?.fingerprint) {
      t.fail(`${name}: no fingerprint (nmap ${n?.fingerprint !== undefined}, ferroscan ${f?.fingerprint !== undefined})`);
      continue;
    }
    t.deepEqual(deterministic(f.fingerprint), deterministic(n.fingerprint), `${name}: test values`);
    t.true(n.matches.length > 0, `${name}: nmap lists guesses`);
    // ferroscan's print with nmap's random SEQ values must rank exactly as nmap ranked its own
    const m = await matchOsFingerprint(withRandomOf(f.fingerprint, n.fingerprint));
    const best = m.matches[0]?.accuracy ?? 0;
    const listed = m.perfect > 0 ? m.matches.slice(0, m.perfect) : m.matches.filter((x, i) => i < 10 && x.accuracy > best - 0.1);
    t.deepEqual(
      listed.map((x) => ({
        name: x.name,
        accuracy: Math.floor(x.accuracy * 100),
        line: x.line,
        classes: x.classes.map((c) => [c.type, c.vendor, c.family, c.generation ?? '', c.cpe.join(' ')].join('|')),
      })),
      n.matches,
      `${name}: ranked guesses and their classes`,
    );
    t.deepEqual(f.distance, n.distance, `${name}: distance`);
  }
});

/** The normal output's OS lines whose text chance does not decide. */
const messageLine = (l: string): boolean =>
  /^(Warning: OSScan|No exact OS matches|No OS matches|Too many fingerprints|OS fingerprint not ideal|OS details:|Running:|Network Distance:|IP ID Sequence Generation:|Device type:|OS CPE:)/.test(l);

test("nmap's five tries: the same messages, distance, ports used, classes, and guesses within what chance explains", async (t) => {
  const l = lab();
  const { nmap, ferroscan } = await both(l, ['-vv', '--osscan-guess']);
  const nb = osBlocks(nmap.normal);
  const fb = osBlocks(ferroscan.normal);
  const nx = osXml(nmap.xml);
  const fx = osXml(ferroscan.xml);
  for (const [name, addr] of l.facts.targets) {
    const n = nx.get(addr);
    const f = fx.get(addr);
    if (!n || !f) {
      t.fail(`${name}: missing from ${n ? 'ferroscan' : 'nmap'}'s XML`);
      continue;
    }
    // every lab target gets guesses and a fingerprint (-vv prints it whatever the outcome)
    t.true(n.matches.length > 0 && f.matches.length > 0 && n.fingerprint !== undefined && f.fingerprint !== undefined, `${name}: guesses and fingerprints`);
    // a host on the edge of a perfect match gets one in some runs and not in others: chance
    // decides SP and ISR (steady's Linux 5.3 - 5.4 needs both in range). When only one tool
    // matched perfectly, the other's top guess must be that print, within TOLERANCE of 100%,
    // and the lines that follow from perfection are left out of the comparison.
    const perfect = (x: typeof n): boolean => x.matches.length > 0 && x.matches.every((m) => m.accuracy === 100);
    const byPerfection = /^(Device type:|Running:|OS CPE:|OS details:|No exact OS matches|Aggressive OS guesses:)/;
    let messages = messageLine;
    if (perfect(n) !== perfect(f)) {
      const [p, other] = perfect(n) ? [n, f] : [f, n];
      t.is(other.matches[0]?.name, p.matches[0]?.name, `${name}: top guess of the run without a perfect match`);
      t.true((other.matches[0]?.accuracy ?? 0) >= 100 - TOLERANCE, `${name}: ${other.matches[0]?.name} at ${other.matches[0]?.accuracy}%`);
      messages = (l) => messageLine(l) && !byPerfection.test(l);
    }
    t.deepEqual(fb.get(addr)?.lines.filter(messages), nb.get(addr)?.lines.filter(messages), `${name}: messages`);
    for (const line of ['Uptime guess:', 'TCP Sequence Prediction:']) {
      t.is(fb.get(addr)?.lines.some((x) => x.startsWith(line)), nb.get(addr)?.lines.some((x) => x.startsWith(line)), `${name}: "${line}" printed by both or neither`);
    }
    if (n.fingerprint && f.fingerprint) t.deepEqual(deterministic(f.fingerprint), deterministic(n.fingerprint), `${name}: test values`);
    t.is(f.distance, n.distance, `${name}: distance`);
    t.deepEqual(f.portsUsed, n.portsUsed, `${name}: ports used`);
    t.is(f.ipidClass, n.ipidClass, `${name}: IP ID sequence class`);
    if (perfect(n) !== perfect(f)) continue;
    // the top guess is the same; every guess both list is within TOLERANCE and carries the
    // same classes; one that only one lists sits at the other's edge (within TOLERANCE of its last)
    // (two guesses nmap rates within TOLERANCE of each other may trade the top place between
    // runs: its five tries' SEQ values are random, and so are ours)
    const [fTop, nTop] = [f.matches[0], n.matches[0]];
    if (fTop?.name !== nTop?.name) {
      const fTopByNmap = n.matches.find((m) => m.name === fTop?.name);
      t.true(fTopByNmap !== undefined && nTop !== undefined && nTop.accuracy - fTopByNmap.accuracy <= TOLERANCE, `${name}: top guess ${fTop?.name} (${fTop?.accuracy}%), nmap's ${nTop?.name} (${nTop?.accuracy}%)`);
    }
    const nAcc = new Map(n.matches.map((m) => [m.name, m.accuracy]));
    const fAcc = new Map(f.matches.map((m) => [m.name, m.accuracy]));
    const edge = (list: { accuracy: number }[]): number => Math.min(...list.map((m) => m.accuracy));
    for (const m of f.matches) {
      const other = nAcc.get(m.name);
      if (other !== undefined) t.true(Math.abs(other - m.accuracy) <= TOLERANCE, `${name}: ${m.name} ${m.accuracy}% against nmap's ${other}%`);
      else t.true(m.accuracy <= edge(n.matches) + TOLERANCE, `${name}: ${m.name} (${m.accuracy}%) listed by ferroscan only, above nmap's last (${edge(n.matches)}%)`);
    }
    for (const m of n.matches) {
      if (!fAcc.has(m.name)) t.true(m.accuracy <= edge(f.matches) + TOLERANCE, `${name}: ${m.name} (${m.accuracy}%) listed by nmap only, above ferroscan's last (${edge(f.matches)}%)`);
    }
    // order: two guesses both list may swap only when nmap rates them within TOLERANCE
    const common = n.matches.filter((m) => fAcc.has(m.name)).map((m) => m.name);
    const fOrder = f.matches.filter((m) => nAcc.has(m.name)).map((m) => m.name);
    for (let i = 0; i < common.length; i++) {
      for (let j = i + 1; j < common.length; j++) {
        if (fOrder.indexOf(common[i]) > fOrder.indexOf(common[j])) {
          t.true(Math.abs((nAcc.get(common[i]) ?? 0) - (nAcc.get(common[j]) ?? 0)) <= TOLERANCE, `${name}: ${common[i]} and ${common[j]} in another order`);
        }
      }
    }
    const classesOf = (x: typeof n): Map<string, string[]> => new Map(x.matches.map((m) => [m.name, m.classes]));
    for (const c of common) t.deepEqual(classesOf(f).get(c), classesOf(n).get(c), `${name}: classes and CPEs of ${c}`);
  }
});

test('a host without a closed port: nmap\'s warning and "test conditions non-ideal", in both', async (t) => {
  const l = lab();
  const { nmap, ferroscan } = await both(l, ['--osscan-guess']);
  const addr = l.facts.noclosed;
  for (const [who, out] of [['nmap', nmap.normal], ['ferroscan', ferroscan.normal]] as const) {
    const lines = osBlocks(out).get(addr)?.lines ?? [];
    t.true(lines.includes('Warning: OSScan results may be unreliable because we could not find at least 1 open and 1 closed port'), `${who}: ${lines.join('\n')}`);
    t.true(lines.includes('No exact OS matches for host (test conditions non-ideal).'), `${who}: ${lines.join('\n')}`);
    for (const [other, a] of l.facts.targets) {
      if (a !== addr) t.false(osBlocks(out).get(a)?.lines.some((x) => x.startsWith('Warning: OSScan')), `${who}: ${other} warned`);
    }
  }
  // the rest of the report as nmap's (the guesses' accuracies are chance's: the test above)
  const same = (out: string) => osBlocks(out).get(addr)?.lines.filter((l) => !l.startsWith('Aggressive OS guesses:'));
  t.deepEqual(same(ferroscan.normal), same(nmap.normal));
});
