#!/usr/bin/env node
// The cost of --os-hints on a /16 sweep (issue 18: "≤ 5%, measured"). In the project's lab
// (scripts/lab.sh: a target namespace answering for 198.19.0.0/16), the same SYN sweep of
// the lab's sweep port runs RUNS times with and RUNS times without --os-hints, alternating,
// and compared: the median of each alternating pair's wall-time ratio (the verdict: pairs run
// seconds apart, so a shared machine's load mostly cancels out), the medians of wall and of
// CPU time (user + system, the whole process; /usr/bin/time). Each run also reports the
// engine's own elapsed time (-oJ's runstats) and how many hosts got a hint.
//
//   sudo node benches/os-hints.mjs     Environment: RUNS (default 7), RATE (default 100000),
//                                      NO_RESULTS=1 (print only)
//
// SAFETY: every scan runs as `ip netns exec <lab scanner ns> ...` in a lab this script brings
// up (and takes down at exit) whose scanner namespace has no default route; the targets are
// the lab's sweep range in 198.19.0.0/16.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchLab } from './lab.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.RUNS ?? 7);
const RATE = Number(process.env.RATE ?? 100000);
const work = mkdtempSync(join(tmpdir(), 'fs-os-hints-'));
const lab = benchLab(process.env.LAB_ID ?? `osh${process.pid % 10000}`, { name: 'os-hints.mjs', cleanup: () => rmSync(work, { recursive: true, force: true }) });
const facts = lab.up();
const cidr = facts.LAB_SWEEP_CIDR;
if (!/^198\.1[89]\.\d+\.\d+\/\d+$/.test(cidr)) throw new Error(`sweep range ${cidr} is not in 198.18.0.0/15`);

function run(hints) {
  const json = join(work, 'run.json');
  const cpu = join(work, 'cpu');
  const args = ['/usr/bin/time', '-f', '%U %S', '-o', cpu, process.execPath, join(repo, 'bin/ferroscan.js'), '-sS', '-Pn', '-n', '-p', facts.LAB_SWEEP_PORT, '--rate', String(RATE), '--open', '-oJ', json, ...(hints ? ['--os-hints'] : []), cidr];
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', facts.LAB_SCAN_NS, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`ferroscan failed (${r.status}): ${r.stderr}`);
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  const [user, sys] = readFileSync(cpu, 'utf8').trim().split(/\s+/).map(Number);
  return { wall, cpu: user + sys, engine: doc.runstats.elapsed, hosts: doc.hosts.length, hinted: doc.hosts.filter((h) => h.osHint).length };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = loadavg();
const results = { without: [], with: [] };
const ratios = [];
run(false); // warm-up: page cache, ARP
for (let i = 0; i < RUNS; i++) {
  const pair = {};
  for (const hints of i % 2 ? [true, false] : [false, true]) {
    const x = (pair[hints ? 'with' : 'without'] = run(hints));
    results[hints ? 'with' : 'without'].push(x);
    process.stderr.write(`${hints ? 'with   ' : 'without'} run ${i + 1}: ${x.wall.toFixed(3)} s wall, ${x.cpu.toFixed(2)} s CPU, ${x.engine.toFixed(3)} s scan, ${x.hosts} hosts, ${x.hinted} hinted\n`);
  }
  ratios.push(pair.with.wall / pair.without.wall);
}
const m = (k, f) => median(results[k].map(f));
const cost = median(ratios) - 1;
const cpuCost = m('with', (x) => x.cpu) / m('without', (x) => x.cpu) - 1;
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).stdout.trim();
const dirty = spawnSync('git', ['status', '--porcelain', '--', 'crates', 'ts'], { cwd: repo, encoding: 'utf8' }).stdout.trim() !== '';
const lines = [
  `code: commit ${commit}${dirty ? ' with uncommitted changes' : ''}`,
  `lab: scripts/lab.sh, \`ferroscan -sS -Pn -n -p ${facts.LAB_SWEEP_PORT} --rate ${RATE} --open -oJ FILE [--os-hints] ${cidr}\`, ${RUNS} runs each, alternating; ${cpus().length} cores, load average ${load.map((l) => l.toFixed(2)).join(' ')} before`,
  '',
  '| | wall (median, s) | CPU (median, s) | scan, runstats (median, s) | hosts | hinted | runs (wall, s) |',
  '|---|---|---|---|---|---|---|',
  ...['without', 'with'].map((k) => `| ${k} --os-hints | ${m(k, (x) => x.wall).toFixed(3)} | ${m(k, (x) => x.cpu).toFixed(2)} | ${m(k, (x) => x.engine).toFixed(3)} | ${results[k][0].hosts} | ${results[k][0].hinted} | ${results[k].map((x) => x.wall.toFixed(2)).join(' ')} |`),
  '',
  `- pairs' wall-time ratios (with / without): ${ratios.map((r) => r.toFixed(3)).join(' ')}`,
  `- cost of --os-hints ≤ 5%: ${cost <= 0.05 ? 'met' : 'MISSED'} (${(cost * 100).toFixed(1)}%: the median pair's wall-time ratio; CPU time ${cpuCost >= 0 ? '+' : ''}${(cpuCost * 100).toFixed(1)}%)`,
];
console.log(lines.join('\n'));
if (!process.env.NO_RESULTS) appendFileSync(join(repo, 'benches/RESULTS.md'), `\n## --os-hints on a /16 sweep (benches/os-hints.mjs), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n${lines.join('\n')}\n`);
