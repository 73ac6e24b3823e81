// The distributed sweep on Temporal, inside the lab: the dev server (scripts/install-temporal.sh)
// on the scanner namespace's loopback, three workers beside it, and the lab's /16 (every
// address answers on port 80) split in 12 shards. Checked: the merged open set equals a
// single-process run of the same seed, and a capture at the target shows every probe sent; a
// worker killed with SIGKILL in the middle of a shard costs only the probes after that shard's
// last cursor, and the sweep still completes whole; so does a sweep whose server is stopped
// and restarted halfway.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, ferroscanBin, useLab } from './helpers/lab.js';
import { readPcap } from './helpers/pcap.js';
import { startTemporal, type TemporalServer } from './helpers/temporal.js';

const lab = useLab(test);
const dir = mkdtempSync(join(tmpdir(), 'ferroscan-cluster-'));
const tsx = (file: string): string[] => ['--import=tsx', fileURLToPath(new URL(file, import.meta.url))];
const clusterChild = tsx('./helpers/cluster-child.ts');
const cursorChild = tsx('./helpers/cursor-child.ts');
const SHARDS = 12;
type Line = { type: string; [k: string]: unknown };

let server: TemporalServer | undefined;
const workers = new Map<number, ChildProcess>();

/** Spawns a command inside the scanner namespace, handing each JSON line of its stdout to `onLine`. */
function inScanner(args: string[], onLine: (l: Line) => void = () => undefined, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<{ code: number | null; lines: Line[]; stderr: string }> } {
  const child = spawn('ip', ['netns', 'exec', lab().facts.scanNs, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: Line[] = [];
  let rest = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => {
    const text = rest + b.toString();
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) {
      if (!p.startsWith('{')) continue;
      const l = JSON.parse(p) as Line;
      lines.push(l);
      onLine(l);
    }
  });
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-20_000)));
  const done = new Promise<{ code: number | null; lines: Line[]; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, lines, stderr })));
  return { child, done };
}

/** `ferroscan worker` inside the scanner namespace; resolves with its pid once it polls. */
async function startWorker(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<number> {
  let ready: (pid: number) => void = () => undefined;
  const up = new Promise<number>((resolve) => (ready = resolve));
  const w = inScanner([ferroscanBin, 'worker', '--temporal', server!.address, ...extra], undefined, env);
  let said = '';
  w.child.stderr?.on('data', (b: Buffer) => {
    said += b.toString();
    const m = /ferroscan worker (\d+)@\S+: taking shards/.exec(said);
    if (m) ready(Number(m[1]));
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('worker not ready after 180 s')), 180_000)));
  try {
    const pid = await Promise.race([up, w.done.then((r) => Promise.reject(new Error(`worker exited (${r.code}): ${r.stderr}`))), late]);
    workers.set(pid, w.child);
    return pid;
  } finally {
    clearTimeout(timer);
  }
}

test.before(async (t) => {
  const t0 = Date.now();
  server = await startTemporal(lab(), dir);
  const t1 = Date.now();
  await Promise.all([startWorker(), startWorker(), startWorker()]);
  t.log(`server up in ${((t1 - t0) / 1000).toFixed(1)} s, three workers in ${((Date.now() - t1) / 1000).toFixed(1)} s more`);
});

test.after.always(async (t) => {
  const t0 = Date.now();
  for (const w of workers.values()) w.kill('SIGKILL');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
  t.log(`stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

/** tcpdump in the target namespace: every SYN (no ACK) to the sweep port that reaches the target. */
async function capture(name: string): Promise<{ stop(): Promise<ReturnType<typeof readPcap>> }> {
  const file = join(dir, `${name}.pcap`);
  const filter = `tcp dst port ${lab().facts.sweepPort} and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn`;
  const child = spawn('ip', ['netns', 'exec', lab().facts.targetNs, 'tcpdump', '-i', lab().facts.targetIf, '-n', '-U', '-s', '96', '-B', '16384', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('listening on')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${err}`)));
  });
  return {
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // tcpdump reads the kernel's capture ring a block at a time, and a block is handed over
      // when full or after its timeout (about a second): frames of the last moment before a
      // SIGTERM may still sit in an unfinished block, lost without a drop counted.
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGTERM');
      await exited;
      if (!/(^|\n)0 packets dropped by kernel/.test(err)) throw new Error(`tcpdump dropped packets: ${err}`);
      return readPcap(file);
    },
  };
}

async function sweep(seed: number, rate: number, heartbeatMs: number, opts: { killPids?: number[]; onLine?: (l: Line) => void } = {}): Promise<Line[]> {
  const { facts } = lab();
  const args = [...clusterChild, 'sweep', server!.address, String(SHARDS), String(seed), facts.sweepCidr, String(facts.sweepPort), String(rate), String(heartbeatMs)];
  if (opts.killPids) args.push(opts.killPids.join(','));
  const r = await inScanner(args, opts.onLine).done;
  if (r.code !== 0 || !r.lines.some((l) => l.type === 'done')) throw new Error(`sweep exited ${r.code}:\n${r.stderr}`);
  return r.lines;
}

const all = (): Set<string> => {
  const out = new Set<string>();
  for (let a = 0; a < 65536; a++) out.add(`198.19.${a >> 8}.${a & 255}`);
  return out;
};

/** Open "address:port" pairs of a grepable (-oG) file. */
function grepableOpen(path: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^Host: (\S+) .*Ports: (.*)$/.exec(line);
    if (!m) continue;
    for (const p of m[2].split(', ')) if (/^\d+\/open\//.test(p)) out.push(`${m[1]}:${p.split('/')[0]}`);
  }
  return out.sort();
}

test.serial('three workers share a /16 in 12 shards: the merged open set equals a single-process run, every probe sent', async (t) => {
  const { facts } = lab();
  const out = (ext: string): string => join(dir, `whole.${ext}`);
  const cap = await capture('whole');
  const args = ['-Pn', '-n', '-p', String(facts.sweepPort), '--rate', '20000', '--seed', '31', facts.sweepCidr];
  const r = await inScanner([ferroscanBin, '--temporal', server!.address, '--shards', String(SHARDS), '-oX', out('xml'), '-oG', out('gnmap'), '-oJ', out('json'), '--ndjson', out('ndjson'), ...args]).done;
  const probes = await cap.stop();
  t.is(r.code, 0, r.stderr);
  const single = await lab().ferroscan(['-oG', out('single.gnmap'), ...args]);
  t.is(single.code, 0, describe('single-process ferroscan', single));
  const alone = grepableOpen(out('single.gnmap'));
  t.is(alone.length, 65536, 'the single-process run finds the whole /16');
  t.deepEqual(grepableOpen(out('gnmap')), alone, 'the merged open set equals the single-process one');
  // one document per format, whole
  const xml = await lab().execInScanner('xmllint', ['--noout', out('xml')]);
  t.is(xml.code, 0, `-oX is one valid XML document: ${xml.stderr.slice(0, 500)}`);
  t.is(readFileSync(out('xml'), 'utf8').match(/<host /g)?.length, 65536);
  const json = JSON.parse(readFileSync(out('json'), 'utf8')) as { hosts: unknown[] };
  t.is(json.hosts.length, 65536, '-oJ: one document, every host');
  const ports = readFileSync(out('ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string }).filter((l) => l.type === 'port');
  t.is(ports.length, 65536, '--ndjson: one port line per address, none twice');
  const m = /sweep (\S+): 12 shards on (\d+) workers?, 0 retries, (\d+) probes sent; [\d.]+ s from submission to merged results\n/.exec(r.stderr);
  t.truthy(m, r.stderr);
  t.true(Number(m?.[2]) >= 2, `the shards spread over the workers (${m?.[2]})`);
  t.true(Number(m?.[3]) >= 65536, `every probe sent, retransmissions counted (${m?.[3]})`);
  const seen = new Set(probes.map((p) => p.dst));
  const missing = [...all()].filter((a) => !seen.has(a));
  t.is(missing.length, 0, `every address was probed at least once (missing: ${missing.slice(0, 5).join(', ')})`);
});

test.serial('kill -9 of a worker mid-shard: the sweep completes whole, and only probes after the last cursor are sent again', async (t) => {
  const { facts } = lab();
  const victims = [...workers.keys()];
  const cap = await capture('kill');
  // 2000 probes/s: a shard lasts about 2.7 s, so heartbeats land in its middle
  const lines = await sweep(47, 2000, 3000, { killPids: victims });
  const probes = await cap.stop();
  const killed = lines.find((l) => l.type === 'killed');
  const seen = lines.filter((l) => l.type === 'seen').map((l) => `${l.shard}@${(100 * (l.done as number)).toFixed(0)}%`);
  t.truthy(killed, `a worker was killed in the middle of a shard (heartbeats seen: ${seen.join(' ')})`);
  if (!killed) return;
  workers.get(killed.pid as number)?.kill('SIGKILL');
  workers.delete(killed.pid as number);
  const done = lines.find((l) => l.type === 'done') as Line;
  t.is((done.open as string[]).length, 65536, 'the union is complete: every address found open once');
  t.true((done.records as number) >= 65536, 'the merge saw every record (re-sent probes may answer twice)');
  const shards = done.shards as { shard: number; startedAt: number[]; firstPosition: number; endPosition: number; worker: string }[];
  const hit = shards.find((s) => s.shard === killed.shard);
  t.truthy(hit);
  if (!hit) return;
  t.is(hit.startedAt.length, 2, `shard ${hit.shard} ran twice`);
  const [first, resumedAt] = hit.startedAt;
  t.is(first, hit.firstPosition);
  t.true(resumedAt >= (killed.cursor as number) && resumedAt < hit.endPosition, `the retry started at the last cursor (${resumedAt}; seen before the kill: ${killed.cursor})`);
  t.not(Number.parseInt(hit.worker, 10), killed.pid, 'another worker finished the shard');
  // positions of the shard's addresses, from a dry run of the same seed and shard
  const order = await inScanner([...cursorChild, 'order', '47', `${hit.shard}/${SHARDS}`, facts.sweepCidr, String(facts.sweepPort)]).done;
  const o = order.lines.find((l) => l.type === 'order') as Line;
  const at = new Map((o.order as string[]).map((a, i) => [a, (o.first as number) + i]));
  t.is(o.first, hit.firstPosition);
  const cut = (killed.at as number) + 0.5;
  const before = new Set<number>();
  const after = new Set<number>();
  for (const p of probes) {
    const pos = at.get(p.dst);
    if (pos === undefined) continue;
    (p.at < cut ? before : after).add(pos);
  }
  const resent = [...after].filter((p) => before.has(p));
  t.true(resent.length > 0, 'the killed worker had probes in flight beyond its cursor');
  t.deepEqual([...after].filter((p) => p < resumedAt), [], 'nothing below the cursor was sent again');
  t.is(after.size, hit.endPosition - resumedAt, 'the retry sent every position from the cursor on');
  let holes = 0;
  for (let p = first; p < resumedAt; p++) if (!before.has(p)) holes++;
  t.is(holes, 0, 'below the cursor, the killed worker had sent everything');
  t.log(`shard ${hit.shard}: positions ${first}..${hit.endPosition}, killed at cursor ${killed.cursor}, resumed at ${resumedAt}; ${resent.length} probes sent twice`);
  await startWorker();
});

test.serial('the Temporal server stopped and restarted mid-sweep: the sweep completes', async (t) => {
  let restarted: Promise<void> | undefined;
  let stoppedAt = 0;
  let upAgainAt = 0;
  let doneAt = 0;
  let percentAtStop = 0;
  const lines = await sweep(53, 2000, 5000, {
    onLine: (l) => {
      if (l.type === 'done') doneAt = Date.now();
      if (restarted || l.type !== 'progress' || (l.percent as number) < 20) return;
      percentAtStop = l.percent as number;
      restarted = (async () => {
        await server!.stop();
        stoppedAt = Date.now();
        await new Promise((r) => setTimeout(r, 2000));
        await server!.start();
        upAgainAt = Date.now();
      })();
    },
  });
  t.truthy(restarted, 'the server was restarted during the sweep');
  await restarted;
  t.true(percentAtStop < 100 && stoppedAt > 0 && doneAt > upAgainAt, `stopped at ${percentAtStop.toFixed(1)}%, down for ${((upAgainAt - stoppedAt) / 1000).toFixed(1)} s, done ${((doneAt - upAgainAt) / 1000).toFixed(1)} s after it came back`);
  const done = lines.find((l) => l.type === 'done') as Line;
  const before = lines.filter((l) => l.type === 'progress');
  t.true(before.some((l) => (l.percent as number) >= 20 && (l.percent as number) < 100), 'progress seen mid-sweep');
  t.is((done.open as string[]).length, 65536, 'the whole /16, once');
  t.is((done.shards as unknown[]).length, SHARDS);
});

test.serial('a shard whose findings outgrow a Temporal payload fails the sweep at once, in one line', async (t) => {
  const { facts } = lab();
  // a worker of its own task queue, told that payloads carry 100 kB: a /16 in one shard is 65,536 answers
  const pid = await startWorker(['--task-queue', 'small'], { FERROSCAN_TEMPORAL_PAYLOAD_LIMIT: '100000' });
  try {
    const r = await lab().ferroscan(['--temporal', server!.address, '--task-queue', 'small', '--shards', '1', '-Pn', '-n', '-p', String(facts.sweepPort), '--rate', '20000', facts.sweepCidr], { timeoutMs: 120_000 });
    t.is(r.code, 1, describe('ferroscan --temporal', r));
    t.regex(r.stderr, /^ferroscan: the sweep \S+ failed: shard 1 found \d+ answers \([\d.]+ MB packed\), more than one Temporal payload carries \(0\.1 MB\): split the scan in more shards\n$/);
  } finally {
    workers.get(pid)?.kill('SIGTERM');
    workers.delete(pid);
  }
});

test.serial('a server that cannot be reached, and options that do not go with --temporal, are one line each', async (t) => {
  const { facts } = lab();
  const cases: [string[], RegExp][] = [
    [['--temporal', '127.0.0.1:1', '--shards', '2', '-Pn', '-p', '80', facts.sweepCidr], /^ferroscan: cannot reach the Temporal server at 127\.0\.0\.1:1: [^\n]+\n$/],
    [['--temporal', server!.address, '--shards', '2', '-p', '80', facts.sweepCidr], /^ferroscan: --temporal scans ports only: add -Pn/],
    [['--temporal', server!.address, '--shards', '2', '-Pn', '--shard', '1/2', facts.sweepCidr], /^ferroscan: --temporal cannot be combined with --shard\n$/],
    [['--temporal', server!.address, '-Pn', facts.sweepCidr], /^ferroscan: --temporal needs --shards/],
    [['worker', '--temporal', '127.0.0.1:1'], /^ferroscan: cannot reach the Temporal server at 127\.0\.0\.1:1: Connection refused\n$/],
  ];
  for (const [args, want] of cases) {
    const r = await lab().ferroscan(args, { timeoutMs: 60_000 });
    t.is(r.code, 1, describe(args.join(' '), r));
    t.regex(r.stderr, want);
  }
});
