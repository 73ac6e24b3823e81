// The library as a TypeScript app meets it, without sending packets: a consumer project
// outside the repository compiles against dist/index.d.ts with `tsc --noEmit`; errors are
// typed; an aborted or bad scan ends its iterator with the right error; --help is true.
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AbortError, FerroscanError, PortError, scan, TargetError } from '../ts/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules/.bin/tsc');
const bin = join(root, 'bin/ferroscan.js');

test.before(() => {
  // Emits dist/ even while another module of the tree has a type error of its own.
  spawnSync(tsc, ['-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
});

const CONSUMER = `
import { AbortError, scan, parsePorts, parseTargets, classify, NormalWriter, XmlWriter, StdoutSink, formatStats,
  type PortResult, type ScanOptions, type ScanProgress, type ScanSummary, type Scan, type TraceLine } from 'ferroscan';

const options: ScanOptions = { targets: ['127.0.0.1'], ports: '22,80', technique: 'syn', rate: 100, signal: AbortSignal.timeout(1000), trace: true };
const run: Scan = scan(options);
run.on('progress', (p: ScanProgress) => { const eta: number | undefined = p.etaSeconds; void eta; });
run.on('packet', (l: TraceLine) => { const d: 'sent' | 'received' = l.direction; void d; });
async function main(): Promise<void> {
  try {
    for await (const r of run) {
      const x: PortResult = r;
      const s: 'open' | 'closed' | 'filtered' | 'unfiltered' | 'open|filtered' | 'closed|filtered' = x.state;
      void s;
    }
  } catch (e) {
    if (e instanceof AbortError) { const n: string = e.name; void n; }
  }
  const summary: ScanSummary = await run.summary;
  const ok: boolean = summary.aborted && summary.completed;
  void ok;
  void parsePorts('1-10'); void (await parseTargets(['198.18.0.0/30'])); void classify; void NormalWriter; void XmlWriter; void StdoutSink; void formatStats;
}
void main;
// @ts-expect-error: technique names are checked
scan({ targets: ['127.0.0.1'], technique: 'bogus' });
// @ts-expect-error: targets are required
scan({ ports: '80' });
`;

test('a consumer project outside the repository compiles against the types (tsc --noEmit)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-consumer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  // As `npm install ../ferroscan` would link it, without running the package's install script.
  symlinkSync(root.replace(/\/$/, ''), join(dir, 'node_modules/ferroscan'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { ferroscan: 'file:' + root } }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
      include: ['index.ts'],
    }),
  );
  writeFileSync(join(dir, 'index.ts'), CONSUMER);
  const r = spawnSync(tsc, ['-p', dir, '--noEmit'], { cwd: dir, encoding: 'utf8' });
  t.is(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('errors are typed Error subclasses; AbortError is named so', (t) => {
  const e = new AbortError('stop', { cause: 'user' });
  t.true(e instanceof FerroscanError && e instanceof Error);
  t.is(e.name, 'AbortError');
  t.is(e.cause, 'user');
  t.is(new TargetError('x', 'y').name, 'TargetError');
});

test('an already aborted signal ends the iterator with AbortError before any packet', async (t) => {
  const run = scan({ targets: ['127.0.0.1'], ports: '80', signal: AbortSignal.abort('no') });
  const e = await t.throwsAsync(async () => {
    for await (const _ of run) t.fail('no result expected');
  });
  t.true(e instanceof AbortError);
  t.is(e?.cause, 'no');
  await t.throwsAsync(run.summary, { instanceOf: AbortError });
});

test('bad input ends the iterator with a typed error, and the summary rejects with it', async (t) => {
  const run = scan({ targets: ['127.0.0.1'], ports: '70000' });
  await t.throwsAsync(run.next(), { instanceOf: PortError });
  await t.throwsAsync(run.summary, { instanceOf: PortError });
  const bad = scan({ targets: ['198.18.0.300'] });
  await t.throwsAsync(async () => {
    for await (const _ of bad) t.fail();
  }, { instanceOf: TargetError });
});

test("--help is grouped like nmap's, with examples and the new options", (t) => {
  const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  t.is(r.status, 0);
  for (const group of ['TARGET SPECIFICATION:', 'HOST DISCOVERY:', 'SCAN TECHNIQUES:', 'PORT SPECIFICATION AND SCAN ORDER:', 'TIMING AND PERFORMANCE:', 'OUTPUT:', 'MISC:', 'EXAMPLES:']) {
    t.true(r.stdout.includes(`\n${group}\n`), group);
  }
  t.regex(r.stdout, /--packet-trace: Show all packets sent and received/);
  t.regex(r.stdout, /--stats-every <time>/);
  t.regex(r.stdout, /-V, --version/);
});

test('--help lists only options that exist', (t) => {
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' }).stdout;
  const body = help.split('\nEXAMPLES:')[0];
  const longs = new Set([...body.matchAll(/(?:^|[\s,;/])(--[a-z][a-z-]+)/g)].map((m) => m[1]));
  t.true(longs.size >= 8, [...longs].join(' '));
  const cwd = mkdtempSync(join(tmpdir(), 'ferroscan-help-'));
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
  for (const opt of longs) {
    // A bad target stops every run before a file is opened or a packet sent; an option that
    // exists is never reported unknown on the way.
    const r = spawnSync(process.execPath, [bin, '198.18.0.300', opt, '5'], { cwd, encoding: 'utf8', timeout: 20_000 });
    t.is(r.status, ['--help', '--version'].includes(opt) ? 0 : 1, opt);
    t.notRegex(r.stderr, /unknown option/, opt);
  }
});

test('--stats-every with a bad value is one line and exit 1', (t) => {
  const r = spawnSync(process.execPath, [bin, '--stats-every', 'soon', '127.0.0.1'], { encoding: 'utf8' });
  t.is(r.status, 1);
  t.is(r.stderr, 'ferroscan: invalid --stats-every "soon" (a time such as 10s, 500ms or 2m)\n');
});
