#!/usr/bin/env node
// Benchmark (issue 20): the overhead of a distributed sweep against the single-process run of
// the same sweep on this machine. The lab's /16 × port 80 (every address answers), scanned by
// `ferroscan` alone and by `ferroscan --temporal ... --shards 12` with three `ferroscan worker`s,
// all inside one lab's scanner namespace with the Temporal dev server on its loopback
// (scripts/install-temporal.sh). Prints a table and appends a dated section to benches/RESULTS.md.
//
//   sudo node benches/cluster.mjs
//   Environment: RATES (comma list of --rate values; default 150000,10000: the lab's ceiling,
//     and ferroscan's default, where each worker's own rate counts), RUNS (default 3; the
//     table shows medians and every run), SHARDS (12), WORKERS (3), LAB_ID (default tpb0),
//     NO_RESULTS=1 (print only).
//
// SAFETY: every command that sends packets runs as `ip netns exec <scanner ns> ...`, inside the
// lab, which has no default route; the target range is the lab's 198.19.0.0/16. The Temporal
// server and the workers listen only on the scanner namespace's loopback.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchLab } from './lab.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repo, 'bin/ferroscan.js');
const rates = (process.env.RATES ?? '150000,10000').split(',').map(Number);
const runs = Math.max(1, Number(process.env.RUNS ?? 3));
const shards = Number(process.env.SHARDS ?? 12);
const workerCount = Number(process.env.WORKERS ?? 3);
const seed = 20;
const work = mkdtempSync(join(tmpdir(), 'ferroscan-cluster-bench-'));
const children = [];
const benchlab = benchLab(process.env.LAB_ID ?? 'tpb0', {
  name: 'cluster.mjs',
  cleanup: () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  },
});
const log = (m) => console.error(`cluster bench: ${m}`);
const lab = benchlab.up();
if (!/^198\.1[89]\./.test(lab.LAB_SWEEP_CIDR)) throw new Error(`refusing sweep range ${lab.LAB_SWEEP_CIDR}`);
const ns = lab.LAB_SCAN_NS;

const temporal = spawnSync(join(repo, 'scripts/install-temporal.sh'), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).stdout.trim().split('\n').pop();
if (!temporal) throw new Error('scripts/install-temporal.sh gave no binary');
const address = '127.0.0.1:7233';

/** A long-running process inside the scanner namespace; resolves once `ready` matches its stderr. */
function daemon(argv, ready) {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  const t0 = performance.now();
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (b) => {
      err += b;
      if (ready.test(err)) resolve((performance.now() - t0) / 1000);
    });
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code}: ${err}`)));
  });
}

async function serverUp() {
  spawn('ip', ['netns', 'exec', ns, temporal, 'server', 'start-dev', '--ip', '127.0.0.1', '--headless', '--db-filename', join(work, 'temporal.sqlite'), '--log-level', 'warn'], { stdio: 'ignore' }).unref();
  const t0 = performance.now();
  for (;;) {
    const r = spawnSync('ip', ['netns', 'exec', ns, temporal, 'operator', 'namespace', 'describe', '--namespace', 'default', '--address', address], { stdio: 'ignore' });
    if (r.status === 0) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > 90_000) throw new Error('temporal server not ready after 90 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One timed run of the CLI inside the scanner namespace; counts the open ports of its -oG file. */
function timed(args) {
  const out = join(work, 'out.gnmap');
  const t0 = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, bin, ...args, '-oG', out], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`ferroscan ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const found = (readFileSync(out, 'utf8').match(/\/open\//g) ?? []).length;
  return { wall, found, stderr: r.stderr };
}

const serverSeconds = await serverUp();
log(`temporal server up in ${serverSeconds.toFixed(1)} s`);
const workerSeconds = await Promise.all(Array.from({ length: workerCount }, () => daemon([process.execPath, bin, 'worker', '--temporal', address], /taking shards/)));
log(`${workerCount} workers up in ${Math.max(...workerSeconds).toFixed(1)} s`);

const rows = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
for (const rate of rates) {
  const base = ['-Pn', '-n', '-p', lab.LAB_SWEEP_PORT, '--rate', String(rate), '--seed', String(seed), lab.LAB_SWEEP_CIDR];
  const single = [];
  const spread = [];
  for (let i = 0; i < runs; i++) {
    single.push(timed(base));
    spread.push(timed(['--temporal', address, '--shards', String(shards), ...base]));
    log(`rate ${rate} run ${i + 1}: single ${single.at(-1).wall.toFixed(2)} s, distributed ${spread.at(-1).wall.toFixed(2)} s`);
  }
  const s = median(single.map((r) => r.wall));
  const d = median(spread.map((r) => r.wall));
  const note = spread.map((r) => /sweep \S+: (.*)/.exec(r.stderr)?.[1]).filter(Boolean)[0] ?? '';
  const sweepS = median(spread.map((r) => Number(/([\d.]+) s from submission/.exec(r.stderr)?.[1] ?? NaN)));
  rows.push({ rate, s, d, sweepS, single, spread, note });
}

const when = new Date().toISOString().replace('T', ' ').slice(0, 16);
let md = `## ${when} UTC — benches/cluster.mjs (issue 20): distributed sweep against a single process, median of ${runs}\n\n`;
md += `${cpus().length} cores (shared: load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end), node ${process.version}, lab ${ns}; Temporal dev server (${temporal.split('/').slice(-2).join('/')}, SQLite file) and ${workerCount} workers (\`ferroscan worker --temporal ${address}\`) in the same namespace, on the same 2 cores as the single-process run. Server ready in ${serverSeconds.toFixed(1)} s, workers in ${Math.max(...workerSeconds).toFixed(1)} s (SDK load and workflow bundling; not in the times below).\n\n`;
md += `Single: \`ferroscan -Pn -n -p ${lab.LAB_SWEEP_PORT} --rate RATE --seed ${seed} -oG out.gnmap ${lab.LAB_SWEEP_CIDR}\`; distributed: the same with \`--temporal ${address} --shards ${shards}\` (\`--rate\` is then each shard's). Wall time of the whole command, report included.\n\n`;
md += '| --rate | single s | distributed s | of which submit → merged s | distributed ÷ single | found (single ; distributed) | runs (single; distributed) | sweep |\n|---|---|---|---|---|---|---|---|\n';
for (const r of rows) {
  const found = `${r.single.map((x) => x.found).join('/')} ; ${r.spread.map((x) => x.found).join('/')}`;
  md += `| ${r.rate} | ${r.s.toFixed(2)} | ${r.d.toFixed(2)} | ${r.sweepS.toFixed(2)} | ${(r.d / r.s).toFixed(2)} | ${found} | ${r.single.map((x) => x.wall.toFixed(2)).join(' / ')}; ${r.spread.map((x) => x.wall.toFixed(2)).join(' / ')} | ${r.note} |\n`;
}
console.log(md);
if (!process.env.NO_RESULTS) appendFileSync(join(repo, 'benches/RESULTS.md'), `\n${md}`);
process.exit(0);
