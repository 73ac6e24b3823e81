// OS detection without a network: the matcher against nmap 7.93's own guesses for the lab's
// fingerprints (test/fixtures/os/, needs nmap's installed database), the report's lines and
// elements for hand-built results, the choice of ports, and -O's options.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommand } from '../ts/cli/flags.js';
import { planScan, scanKind } from '../ts/cli/plan.js';
import { UsageError } from '../ts/errors.js';
import { matchOsFingerprint, osTargetOf, type OsClass, type OsMatch, type OsReport } from '../ts/os/detect.js';
import { classificationLines, osGrepable, osNormalLines, osXml } from '../ts/os/report.js';
import { repoRoot } from './helpers/lab.js';

const fixtures = join(repoRoot, 'test/fixtures/os');

for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.fp'))) {
  test(`the matcher ranks ${f} as nmap 7.93 did`, async (t) => {
    const fp = readFileSync(join(fixtures, f), 'utf8');
    const expected = readFileSync(join(fixtures, f.replace(/\.fp$/, '.guesses')), 'utf8').trim();
    const m = await matchOsFingerprint(fp);
    t.is(m.outcome, 'success');
    t.is(m.perfect, 0);
    const best = m.matches[0].accuracy;
    const listed = m.matches.filter((x, i) => i < 10 && x.accuracy > best - 0.1);
    t.is(`Aggressive OS guesses: ${listed.map((x) => `${x.name} (${Math.floor(x.accuracy * 100)}%)`).join(', ')}`, expected);
  });
}

test('the matcher: a floor of 0 lets more in, a bad print is one error line', async (t) => {
  const fp = readFileSync(join(fixtures, 'nmap-lab-linux.fp'), 'utf8');
  const loose = await matchOsFingerprint(fp, { threshold: 0 });
  t.is(loose.matches.length, 36, 'the list keeps 36 at most');
  await t.throwsAsync(matchOsFingerprint('SEQ(SP=1'), { message: /not a fingerprint/ });
});

const cls = (vendor: string, family: string, generation: string | undefined, type: string, cpe: string[], accuracy: number): OsClass => ({ vendor, family, ...(generation && { generation }), type, cpe, accuracy });

function report(matches: OsMatch[], perfect: number, extra: Partial<OsReport> = {}): OsReport {
  // classes as nmap derives them: in match order, duplicates out, only perfect ones' when any is perfect
  const classes: OsClass[] = [];
  let classPerfect = 0;
  for (const [i, m] of matches.entries()) {
    for (const c of m.classes) {
      if (classes.some((x) => x.vendor === c.vendor && x.family === c.family && x.type === c.type && x.generation === c.generation)) continue;
      if (classPerfect > 0 && i >= perfect) break;
      classes.push({ ...c, accuracy: m.accuracy });
      if (i < perfect) classPerfect++;
    }
  }
  return {
    address: '198.18.24.2',
    outcome: matches.length ? 'success' : 'no-matches',
    matches,
    perfect,
    classOutcome: classes.length ? 'success' : 'no-matches',
    classes,
    classPerfect,
    unreliable: false,
    tries: 1,
    fingerprint: 'OS:SCAN(V=0.1.0)SEQ(SP=1)\n',
    fingerprintPlain: 'SCAN(V=0.1.0)\nSEQ(SP=1)\n',
    distanceMethod: 'direct',
    distance: 1,
    openTcpPort: 22,
    closedTcpPort: 1,
    closedUdpPort: 30000,
    warnings: [],
    at: new Date(1_800_000_000_000),
    sequence: { responses: 6, index: 260, difficulty: 'Good luck!', values: [1, 2, 3, 4, 5, 6], ipids: [0, 0, 0, 0, 0, 0], ipidClass: 'All zeros', timestamps: [10, 20, 30, 40, 50, 60], tsClass: '1000HZ', tsValues: true, lastBoot: 1_800_000_000 - 86400 },
    ...extra,
  };
}

const linux5 = cls('Linux', 'Linux', '5.X', 'general purpose', ['cpe:/o:linux:linux_kernel:5'], 1);
const linux4 = cls('Linux', 'Linux', '4.X', 'general purpose', ['cpe:/o:linux:linux_kernel:4'], 1);
const axis = cls('AXIS', 'embedded', undefined, 'webcam', ['cpe:/h:axis:210a_network_camera'], 1);

test('a perfect match: OS details, and the class lines without percentages', (t) => {
  const r = report([{ name: 'Linux 4.15 - 5.6', accuracy: 1, line: 67238, classes: [linux4, linux5] }], 1);
  t.deepEqual(osNormalLines(r, { verbose: 0, guess: false }), [
    'Device type: general purpose',
    'Running: Linux 4.X|5.X',
    'OS CPE: cpe:/o:linux:linux_kernel:4 cpe:/o:linux:linux_kernel:5',
    'OS details: Linux 4.15 - 5.6',
    'Network Distance: 1 hop',
  ]);
  const v = osNormalLines(r, { verbose: 2, guess: false });
  t.deepEqual(v.slice(4, 7), ['TCP/IP fingerprint:', 'OS:SCAN(V=0.1.0)SEQ(SP=1)', '']);
  t.regex(v[7], /^Uptime guess: 1\.000 days \(since \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\)$/);
  t.true(v.includes('TCP Sequence Prediction: Difficulty=260 (Good luck!)'));
  t.true(v.includes('IP ID Sequence Generation: All zeros'));
  t.is(osGrepable(r), '\tOS: Linux 4.15 - 5.6\tSeq Index: 260\tIP ID Seq: All zeros');
});

test('guesses: printed with --osscan-guess or when the print is unfit, and "JUST GUESSING"', (t) => {
  const matches = [
    { name: 'Linux 5.3 - 5.4', accuracy: 0.969, line: 68140, classes: [{ ...linux5, accuracy: 0.969 }] },
    { name: 'AXIS 210A', accuracy: 0.948, line: 61815, classes: [cls('Linux', 'Linux', '2.6.X', 'webcam', ['cpe:/o:linux:linux_kernel:2.6.17'], 0.948), axis] },
    { name: 'Far off', accuracy: 0.86, line: 9, classes: [cls('Other', 'Other', undefined, 'router', [], 0.86)] },
  ];
  const r = report(matches, 0);
  t.deepEqual(osNormalLines(r, { verbose: 0, guess: false }).slice(0, 2), [
    'No exact OS matches for host (If you know what OS is running on it, see https://nmap.org/submit/ ).',
    'TCP/IP fingerprint:',
  ]);
  const g = osNormalLines(r, { verbose: 0, guess: true });
  t.deepEqual(g.slice(0, 4), [
    'Device type: general purpose|webcam',
    'Running (JUST GUESSING): Linux 5.X|2.6.X (96%), AXIS embedded (94%)',
    'OS CPE: cpe:/o:linux:linux_kernel:5 cpe:/o:linux:linux_kernel:2.6.17 cpe:/h:axis:210a_network_camera',
    'Aggressive OS guesses: Linux 5.3 - 5.4 (96%), AXIS 210A (94%)',
  ]);
  // unfit: guesses anyway, "test conditions non-ideal", no fingerprint without -vv
  const unfit = osNormalLines({ ...r, omitReason: 'Missing a closed TCP port so results incomplete', unreliable: true }, { verbose: 0, guess: false });
  t.is(unfit[0], 'Warning: OSScan results may be unreliable because we could not find at least 1 open and 1 closed port');
  t.true(unfit.includes('No exact OS matches for host (test conditions non-ideal).'));
  t.false(unfit.includes('TCP/IP fingerprint:'));
  t.is(osGrepable(r), '\tSeq Index: 260\tIP ID Seq: All zeros', 'no OS field without a perfect match');
});

test('more than eight families, types or CPEs: no class lines at all, as nmap', (t) => {
  const many = Array.from({ length: 9 }, (_, i) => ({ name: `Linux ${i}`, accuracy: 0.95, line: i, classes: [cls('Linux', 'Linux', `${i}.X`, 'general purpose', [`cpe:/o:linux:linux_kernel:${i}`], 0.95)] }));
  t.deepEqual(classificationLines(report(many, 0), true), []);
  t.is(classificationLines(report(many.slice(0, 8), 0), true).length, 3);
});

test('no matches and too many matches', (t) => {
  t.deepEqual(osNormalLines(report([], 0), { verbose: 0, guess: true }).slice(0, 2), [
    'No OS matches for host (If you know what OS is running on it, see https://nmap.org/submit/ ).',
    'TCP/IP fingerprint:',
  ]);
  const too = report([], 0, { outcome: 'too-many-matches', classOutcome: 'too-many-matches' });
  t.deepEqual(osNormalLines(too, { verbose: 0, guess: true }), ['Too many fingerprints match this host to give specific OS details', 'Network Distance: 1 hop']);
});

test('XML: ports used, osmatch with osclass and cpe, the sequences', (t) => {
  const r = report([{ name: 'A & B', accuracy: 0.969, line: 7, classes: [{ ...linux5, accuracy: 0.969 }, { ...axis, cpe: [] }] }], 0);
  const x = osXml(r, { verbose: 0, guess: false });
  t.true(x.startsWith('<os><portused state="open" proto="tcp" portid="22"/>\n<portused state="closed" proto="tcp" portid="1"/>\n<portused state="closed" proto="udp" portid="30000"/>\n'));
  t.true(x.includes('<osmatch name="A &amp; B" accuracy="96" line="7">\n<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="5.X" accuracy="96"><cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass>\n<osclass type="webcam" vendor="AXIS" osfamily="embedded" accuracy="96"/>\n</osmatch>\n'));
  t.true(x.includes('<osfingerprint fingerprint="OS:SCAN(V=0.1.0)SEQ(SP=1)&#10;"/>\n</os>\n'));
  t.true(x.includes('<uptime seconds="86400" lastboot="'));
  t.true(x.includes('<distance value="1"/>\n<tcpsequence index="260" difficulty="Good luck!" values="1,2,3,4,5,6"/>\n<ipidsequence class="All zeros" values="0,0,0,0,0,0"/>\n<tcptssequence class="1000HZ" values="A,14,1E,28,32,3C"/>\n'));
  const ts = osXml({ ...r, sequence: { ...r.sequence!, tsClass: 'none returned (unsupported)', tsValues: false } }, { verbose: 0, guess: false });
  t.true(ts.includes('<tcptssequence class="none returned (unsupported)"/>'));
});

test("ports: nmap's choice of an open, a closed and a closed UDP port", (t) => {
  const v = (state: string) => ({ state });
  const host = {
    address: '198.18.24.2',
    protocol: 'tcp' as const,
    ports: new Map([[0, v('open')], [80, v('open')], [22, v('open')], [443, v('closed')]]),
    unanswered: v('filtered'),
  };
  t.deepEqual(osTargetOf(host, [0, 22, 80, 443, 8080]), { address: '198.18.24.2', openTcpPort: 22, closedTcpPort: 443 });
  // silent ports that are closed (a FIN scan's are open|filtered; an ACK scan's "unfiltered" stands in)
  const ack = { ...host, ports: new Map([[22, v('unfiltered')]]), unanswered: v('filtered') };
  t.deepEqual(osTargetOf(ack, [22, 80]), { address: '198.18.24.2', unfilteredTcpPort: 22 });
  const both = {
    ...host,
    sections: [
      { protocol: 'tcp' as const, ports: new Map([[22, v('open')]]), unanswered: v('closed'), scanned: [1, 22, 80] },
      { protocol: 'udp' as const, ports: new Map([[53, v('open')]]), unanswered: v('closed'), scanned: [53, 161] },
    ],
  };
  t.deepEqual(osTargetOf(both), { address: '198.18.24.2', openTcpPort: 22, closedTcpPort: 1, closedUdpPort: 161 });
});

test('options: -O with -sn, a bad --max-os-tries, a missing --osdb and -O with -6 are one-line errors', (t) => {
  const plan = (argv: string[]) => {
    const c = parseCommand(argv);
    if (c.kind !== 'scan') throw new Error('not a scan');
    return planScan(argv, c.args, c.outputs, scanKind(c.args), { specs: c.args._.map(String), targetOptions: { resolveAll: false, exclude: [], defaultBlocklist: true } });
  };
  t.throws(() => plan(['-O', '-sn', '198.18.24.2']), { instanceOf: UsageError, message: /without a port scan/ });
  t.throws(() => plan(['-O', '--max-os-tries', '51', '198.18.24.2']), { instanceOf: UsageError, message: 'invalid --max-os-tries "51" (1 to 50)' });
  t.throws(() => plan(['-O', '--osdb', '/nonexistent/os-db', '198.18.24.2']), { instanceOf: UsageError, message: /does not exist/ });
  for (const flag of ['-O', '-A']) t.throws(() => plan(['-6', flag, '2001:2::2']), { instanceOf: UsageError, message: /^OS detection \(-O, also part of -A\) is IPv4 only for now/ });
  const p = plan(['-A', '--fuzzy', '--max-os-tries', '2', '198.18.24.2']);
  t.deepEqual(p.os, { limit: false, guess: true, maxTries: 2, database: '/usr/share/nmap/nmap-os-db' });
  t.is(plan(['198.18.24.2']).os, undefined);
});
