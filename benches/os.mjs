#!/usr/bin/env node
// OS detection benchmark (issue 18: "one host: wall ≤ 0.2× nmap -O; ten hosts: ≤ 1.3× one
// host"). In the OS lab (scripts/lab-os.sh with LAB_EXTRA=10: ten more hosts with the kernel's
// defaults), each command runs RUNS times, alternating tools, and the median wall time of the
// whole process (start-up, ARP, port scan, OS detection, report) is compared:
//   ferroscan -n -O -p 22,80,1 HOST       nmap -n -O -p 22,80,1 HOST
//   ... the same against ten hosts (198.18.24.32-41)
// Both tools get the same ports: 22 open, 1 closed. Appends a dated section to
// benches/RESULTS.md with every run, the load average and the targets checked.
//
//   sudo node benches/os.mjs        Environment: RUNS (default 5), NO_RESULTS=1 (print only)
//
// SAFETY: every command runs as `ip netns exec <lab scanner ns> ...`, in a lab this script
// brings up (and takes down at exit) whose scanner namespace has no default route; the
// targets are lab addresses in 198.18.24.0/24.
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const labSh = join(repo, 'scripts/lab-os.sh');
const RUNS = Number(process.env.RUNS ?? 5);
const id = `osb${process.pid % 100000}`;

if (process.getuid?.() !== 0) {
  console.error('os.mjs: needs root (it creates network namespaces)');
  process.exit(1);
}
const down = () => void spawnSync(labSh, ['down', id], { stdio: 'ignore' });
process.on('exit', down);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

const up = spawnSync(labSh, ['up', id], { env: { ...process.env, LAB_EXTRA: '10', LAB_OWNER_PID: String(process.pid) }, encoding: 'utf8' });
if (up.status !== 0) throw new Error(`lab-os.sh up failed: ${up.stderr}`);
const facts = Object.fromEntries(up.stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const ns = facts.LAB_SCAN_NS;
if (spawnSync('ip', ['-n', ns, 'route', 'show', 'default'], { encoding: 'utf8' }).stdout.trim() !== '') throw new Error(`${ns} has a default route`);
const targets = Object.fromEntries(facts.LAB_TARGETS.split(',').map((p) => p.split('=')));
const ten = Array.from({ length: 10 }, (_, i) => targets[`x${i}`]);
if (![...ten].every((a) => /^198\.18\.24\.\d+$/.test(a))) throw new Error('lab targets outside 198.18.24.0/24');

const ferroscan = [process.execPath, join(repo, 'bin/ferroscan.js')];
const workloads = [
  { name: 'one host', hosts: [ten[0]] },
  { name: 'ten hosts', hosts: ten },
];
const tools = {
  ferroscan: (hosts) => [...ferroscan, '-n', '-O', '-p', '22,80,1', ...hosts],
  nmap: (hosts) => ['nmap', '-n', '-O', '-p', '22,80,1', ...hosts],
};

function timed(cmd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr}`);
  // one verdict line per host: OS details, or one of nmap's "no match" sentences
  const reported = (r.stdout.match(/^(OS details|No exact OS matches|No OS matches|Too many fingerprints)/gm) ?? []).length;
  return { s, reported };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loadBefore = loadavg();
const results = {};
for (const w of workloads) {
  for (let r = 0; r < RUNS; r++) {
    for (const [tool, cmd] of Object.entries(tools)) {
      const x = timed(cmd(w.hosts));
      if (x.reported !== w.hosts.length) throw new Error(`${tool} on ${w.name}: ${x.reported} of ${w.hosts.length} hosts got an OS report`);
      ((results[w.name] ??= {})[tool] ??= []).push(x.s);
      process.stderr.write(`${w.name} ${tool} run ${r + 1}: ${x.s.toFixed(2)} s\n`);
    }
  }
}
const loadAfter = loadavg();
const med = (w, t) => median(results[w][t]);
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).stdout.trim();
const dirty = spawnSync('git', ['status', '--porcelain', '--', 'crates', 'ts'], { cwd: repo, encoding: 'utf8' }).stdout.trim() !== '';
const lines = [
  `code: commit ${commit}${dirty ? ' with uncommitted changes' : ''}`,
  `lab: scripts/lab-os.sh (LAB_EXTRA=10), ${RUNS} runs per command, tools alternating; ${cpus().length} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after`,
  '',
  '| workload | ferroscan -O (median, s) | nmap -O (median, s) | ferroscan ÷ nmap | runs (ferroscan; nmap) |',
  '|---|---|---|---|---|',
  ...workloads.map((w) => {
    const f = med(w.name, 'ferroscan');
    const n = med(w.name, 'nmap');
    return `| ${w.name} | ${f.toFixed(2)} | ${n.toFixed(2)} | ${(f / n).toFixed(3)} | ${results[w.name].ferroscan.map((x) => x.toFixed(2)).join(' ')}; ${results[w.name].nmap.map((x) => x.toFixed(2)).join(' ')} |`;
  }),
];
const oneRatio = med('one host', 'ferroscan') / med('one host', 'nmap');
const tenRatio = med('ten hosts', 'ferroscan') / med('one host', 'ferroscan');
lines.push(
  '',
  `- one host ≤ 0.2× nmap -O: ${oneRatio <= 0.2 ? 'met' : 'MISSED'} (${oneRatio.toFixed(3)})`,
  `- ten hosts ≤ 1.3× one host: ${tenRatio <= 1.3 ? 'met' : 'MISSED'} (${tenRatio.toFixed(3)})`,
);
console.log(lines.join('\n'));
if (!process.env.NO_RESULTS) appendFileSync(join(repo, 'benches/RESULTS.md'), `\n## OS detection (benches/os.mjs), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n${lines.join('\n')}\n`);
