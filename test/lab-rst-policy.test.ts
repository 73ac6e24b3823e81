// --rst-policy (issue 9): what this host does about the RSTs its kernel sends to the SYN/ACKs a
// SYN scan draws. Checked where it shows: on the target, whose half-open connections (SYN-RECV)
// live on only when no RST came; and in the scanner namespace's raw table, which must hold no
// ferroscan rule once a scan is over, however it ended.
import test from 'ava';
import { spawn } from 'node:child_process';
import { ferroscanBin, run, useLab, type Lab } from './helpers/lab.js';
import { labSpec } from './helpers/lab-spec.js';

const lab = useLab(test);

/** Ports the lab target listens on for its own address. */
const openPorts = (): number[] => labSpec.ports.filter((p) => p.rule === 'listen').map((p) => p.port);

/** Half-open connections on the target from the scanner (SYN-RECV), as `ss` lists them. */
async function halfOpen(l: Lab): Promise<number> {
  const r = await run('ip', ['netns', 'exec', l.facts.targetNs, 'ss', '-Htn', 'state', 'syn-recv', 'dst', l.facts.scanAddr]);
  return r.stdout.split('\n').filter((line) => line.trim() !== '').length;
}

async function ferroscanRules(l: Lab): Promise<string[]> {
  const r = await l.execInScanner('iptables', ['-w', '-t', 'raw', '-S', 'PREROUTING']);
  return r.stdout.split('\n').filter((line) => line.includes('ferroscan-rst:'));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until `done` holds for its value or `ms` pass; returns the last value. */
async function pollUntil<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await probe();
  while (!done(v) && Date.now() < deadline) {
    await sleep(50);
    v = await probe();
  }
  return v;
}

/**
 * A scan of the open ports and one dropped port, kept running for seconds after the open
 * ports answer (the dropped port's retransmissions wait out a 1 s minimum timeout). Waits,
 * however slow the machine, until the scan's packet trace shows a SYN/ACK from every open
 * port; then reads the target's half-open count while the scan still runs: `expected`
 * connections appear within a generous deadline, or none is seen (`expected` 0: read after
 * the RSTs, which follow each SYN/ACK at once, have had time to arrive).
 */
async function halfOpenDuringScan(l: Lab, policy: string, expected: number): Promise<{ during: number; running: boolean; code: number | null; stdout: string; rulesDuring: string[] }> {
  const ports = [...openPorts(), 25].join(',');
  const args = ['-sS', '-Pn', '-n', '-p', ports, '--packet-trace', '--max-retries', '2', '--min-rtt-timeout', '1s', '--initial-rtt-timeout', '1s', '--rst-policy', policy, l.facts.targetAddr];
  const child = spawn('ip', ['netns', 'exec', l.facts.scanNs, process.execPath, ferroscanBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  let exitedYet = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => ((exitedYet = true), resolve(code))));
  const synAcks = (): number => new Set(openPorts().filter((p) => new RegExp(`^RCVD .* TCP ${l.facts.targetAddr.replaceAll('.', '\\.')}:${p} > \\S+ SA `, 'm').test(stdout))).size;
  await pollUntil(async () => synAcks(), (n) => n === openPorts().length || exitedYet, 60_000);
  if (expected === 0) await sleep(300);
  const during = await pollUntil(() => halfOpen(l), (n) => n === expected || exitedYet, expected === 0 ? 0 : 30_000);
  const running = !exitedYet;
  const rulesDuring = await ferroscanRules(l);
  const code = await exited;
  return { during, running, code, stdout, rulesDuring };
}

test.serial('kernel (default): every SYN/ACK is answered by a RST, the target holds no half-open connection', async (t) => {
  const l = lab();
  const r = await halfOpenDuringScan(l, 'kernel', 0);
  t.is(r.code, 0, r.stdout);
  t.true(r.running, 'read while the scan ran');
  t.is(r.during, 0);
  t.deepEqual(r.rulesDuring, []);
  for (const p of openPorts()) t.regex(r.stdout, new RegExp(`^${p}/tcp\\s+open\\s`, 'm'));
});

test.serial('suppress: no RST while the scan runs (one half-open connection per open port), same ports found, rule gone after', async (t) => {
  const l = lab();
  const r = await halfOpenDuringScan(l, 'suppress', openPorts().length);
  t.is(r.code, 0, r.stdout);
  t.true(r.running, 'read while the scan ran');
  t.is(r.during, openPorts().length);
  t.is(r.rulesDuring.length, 1, 'one raw-table rule while the scan runs');
  t.regex(r.rulesDuring[0], /--tcp-flags SYN,RST,ACK SYN,ACK .*-j DROP/);
  for (const p of openPorts()) t.regex(r.stdout, new RegExp(`^${p}/tcp\\s+open\\s`, 'm'));
  t.regex(r.stdout, /^25\/tcp\s+filtered\s/m);
  t.deepEqual(await ferroscanRules(l), []);
});

test.serial('suppress: a rule left by a killed scan is removed by the next suppress run', async (t) => {
  const l = lab();
  const args = ['-sS', '-Pn', '-n', '-p', '25', '--max-retries', '10', '--min-rtt-timeout', '2s', '--initial-rtt-timeout', '2s', '--rst-policy', 'suppress', l.facts.targetAddr];
  // `ip netns exec` execs node in its place: the child's pid is the scan's.
  const child = spawn('ip', ['netns', 'exec', l.facts.scanNs, process.execPath, ferroscanBin, ...args], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let rules: string[] = [];
  for (let i = 0; i < 50 && rules.length === 0; i++) {
    await sleep(100);
    rules = await ferroscanRules(l);
  }
  t.is(rules.length, 1, 'the running scan holds its rule');
  child.kill('SIGKILL');
  await exited;
  t.is((await ferroscanRules(l)).length, 1, 'SIGKILL skips every cleanup: the rule stays');
  const next = await l.ferroscan(['-sS', '-Pn', '-n', '-p', '80', '--rst-policy', 'suppress', l.facts.targetAddr]);
  t.is(next.code, 0, next.stderr);
  t.deepEqual(await ferroscanRules(l), []);
});

test.serial('a bad policy is a one-line error', async (t) => {
  const l = lab();
  const r = await l.ferroscan(['-sS', '-Pn', '-n', '-p', '80', '--rst-policy', 'quiet', l.facts.targetAddr]);
  t.not(r.code, 0);
  t.is(r.stderr.trim(), 'ferroscan: invalid --rst-policy "quiet" (one of kernel, suppress)');
});
