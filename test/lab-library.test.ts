// The library and the CLI's terminal habits against the lab: async iteration over a real
// scan, abort midway (the iterator ends with AbortError and the process exits by itself),
// --packet-trace lines, and status output when stderr is not a terminal. Library scans run
// in a child process inside the scanner namespace (test/helpers/library-child.ts).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, useLab } from './helpers/lab.js';
import { expectedSyn, specPorts } from './helpers/lab-spec.js';

const lab = useLab(test);

// The examples import 'ferroscan', which resolves to the compiled dist/.
test.before(() => {
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'ignore' });
});
const child = fileURLToPath(new URL('./helpers/library-child.ts', import.meta.url));
const tsx = ['--import=tsx', child];

const lines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test.serial('for await over scan() yields the lab verdicts, progress events and a summary', async (t) => {
  const addr = lab().facts.targetAddr;
  const r = await lab().execInScanner(process.execPath, [...tsx, 'iterate', addr, specPorts.join(',')], { timeoutMs: 120_000 });
  t.is(r.code, 0, describe('library child', r));
  const out = lines(r.stdout);
  const results = out.filter((l) => l.type === 'result');
  const final = new Map(results.map((l) => [l.port as number, l]));
  for (const port of specPorts) {
    const want = expectedSyn(addr, port);
    if (want.reason === 'no-response') {
      t.false(final.has(port), `port ${port} never answers, so it is never streamed`);
      continue;
    }
    const got = final.get(port);
    t.truthy(got, `port ${port} streamed`);
    t.like(got, { address: addr, protocol: 'tcp', state: want.state, reason: want.reason, ttl: want.ttl });
  }
  const summary = out.find((l) => l.type === 'summary');
  t.like(summary, { addresses: 1, ports: specPorts.length, hostsUp: 1, completed: true, aborted: false });
  t.is(summary?.found, specPorts.filter((p) => expectedSyn(addr, p).state === 'open').length);
  t.true((summary?.progress as number) >= 1, 'at least the final progress event');
});

test.serial('abort midway: AbortError, summary aborted, nothing left running, the process exits by itself', async (t) => {
  const addr = lab().facts.targetAddr;
  // 65535 ports at 200 packets/s would take over five minutes: only an abort ends it soon.
  const r = await lab().execInScanner(process.execPath, [...tsx, 'abort', addr, '1-65535', '200'], { timeoutMs: 30_000 });
  t.is(r.code, 0, describe('library child', r));
  t.true(r.ms < 25_000, `the child exited by itself (${r.ms} ms)`);
  const out = lines(r.stdout);
  t.is(out.filter((l) => l.type === 'result').length, 1, r.stdout);
  t.like(out.find((l) => l.type === 'error'), { name: 'AbortError', isAbortError: true });
  t.like(out.find((l) => l.type === 'summary'), { aborted: true, completed: false });
  t.true((out.find((l) => l.type === 'summary')?.sent as number) < 65535);
  t.falsy(out.find((l) => l.type === 'completed'));
  const resources = (out.find((l) => l.type === 'handles')?.resources ?? []) as string[];
  t.deepEqual(
    resources.filter((r) => !['TTYWrap', 'PipeWrap', 'FSReqCallback'].includes(r)),
    [],
    `handles left: ${resources.join(', ')}`,
  );
});

test.serial('--packet-trace prints nmap-style SENT and RCVD lines', async (t) => {
  const { targetAddr, scanAddr } = lab().facts;
  const r = await lab().ferroscan(['-sS', '-Pn', '-n', '--packet-trace', '-p', '22,139', targetAddr]);
  t.is(r.code, 0, describe('ferroscan', r));
  const sent = new RegExp(`^SENT \\(\\d+\\.\\d{4}s\\) TCP ${scanAddr.replace(/\./g, '\\.')}:(\\d+) > ${targetAddr.replace(/\./g, '\\.')}:22 S ttl=64$`, 'm');
  const m = sent.exec(r.stdout);
  t.truthy(m, r.stdout);
  const sport = m?.[1];
  t.regex(r.stdout, new RegExp(`^RCVD \\(\\d+\\.\\d{4}s\\) TCP ${targetAddr.replace(/\./g, '\\.')}:22 > ${scanAddr.replace(/\./g, '\\.')}:${sport} SA ttl=64 win=\\d+$`, 'm'));
  t.regex(r.stdout, new RegExp(`^RCVD \\(\\d+\\.\\d{4}s\\) TCP ${targetAddr.replace(/\./g, '\\.')}:139 > .* RA ttl=64`, 'm'));
  t.regex(r.stdout, /^22\/tcp\s+open/m);
});

test.serial('stderr not a terminal: no live progress line; Stats lines only with --stats-every', async (t) => {
  const addr = lab().facts.targetAddr;
  const quiet = await lab().ferroscan(['-sS', '-Pn', '-n', '-p', specPorts.join(','), addr]);
  t.is(quiet.code, 0, describe('ferroscan', quiet));
  // A short scan: below the default period, so stderr stays empty; never a cursor escape or \r.
  t.is(quiet.stderr, '');
  const slow = await lab().ferroscan(['-sS', '-Pn', '-n', '--rate', '300', '--stats-every', '200ms', '-p', '1-600', addr]);
  t.is(slow.code, 0, describe('ferroscan', slow));
  t.false(/\x1b|\r/.test(slow.stderr), 'no escape sequences or carriage returns');
  t.regex(slow.stderr, /^Stats: \d+:\d\d:\d\d elapsed; 1 host \(\d+ up\) undergoing SYN Stealth Scan; \d+ open ports? found$/m);
  t.regex(slow.stderr, /^SYN Stealth Scan Timing: About \d+\.\d\d% done(; ETC: \d\d:\d\d \(\d+:\d\d:\d\d remaining\))?$/m);
  t.regex(slow.stdout, /^22\/tcp\s+open/m);
});

test.serial('the examples run against the lab', async (t) => {
  const addr = lab().facts.targetAddr;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = await lab().execInScanner(process.execPath, ['--import=tsx', `${root}examples/ndjson.ts`, addr], { timeoutMs: 60_000 });
  t.is(r.code, 0, describe('examples/ndjson.ts', r));
  const out = lines(r.stdout);
  t.like(out.find((l) => l.type === 'port' && l.port === 22), { state: 'open', reason: 'syn-ack' });
  t.like(out.at(-1), { type: 'summary', completed: true });
  const a = await lab().execInScanner(process.execPath, ['--import=tsx', `${root}examples/abort.ts`, addr], { timeoutMs: 60_000 });
  t.is(a.code, 0, describe('examples/abort.ts', a));
  t.regex(a.stdout, /stopped: AbortError/);
});
