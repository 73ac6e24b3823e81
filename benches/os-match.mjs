#!/usr/bin/env node
// OS matcher benchmark (issue 18: "matching a fingerprint against the whole database ≥ 1,000
// times per second per core"). Matches each fingerprint of test/fixtures/os/ (nmap 7.93's
// prints of the OS lab's targets) against nmap's installed database, TIMES times in a row
// inside the engine (no JS in the loop), on one thread, and reports matches per second of
// wall time and per second of this process's CPU time (the machine is shared: CPU time is
// what one core does). Appends a dated section to benches/RESULTS.md.
//
//   node benches/os-match.mjs          (no root, no network)
//   Environment: TIMES (default 2000), OSDB (default /usr/share/nmap/nmap-os-db),
//     NO_RESULTS=1 (print only).
import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)(join(repo, 'native/index.cjs'));
const times = Number(process.env.TIMES ?? 2000);
const dbPath = process.env.OSDB ?? '/usr/share/nmap/nmap-os-db';

const loadStart = process.cpuUsage();
const t0 = performance.now();
const db = native.loadOsDb(dbPath);
await db.ready();
const loadMs = performance.now() - t0;
const loadCpu = process.cpuUsage(loadStart);
const fixtures = join(repo, 'test/fixtures/os');
const rows = [];
for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.fp')).sort()) {
  const fp = readFileSync(join(fixtures, f), 'utf8');
  native.benchMatch(db, fp, 50); // warm up
  const cpu0 = process.cpuUsage();
  const wall = native.benchMatch(db, fp, times);
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  rows.push({ print: f.replace(/\.fp$/, ''), wallPerSec: times / wall, cpuPerSec: times / cpuSeconds, usPerMatch: (cpuSeconds / times) * 1e6 });
}
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).stdout.trim();
const dirty = spawnSync('git', ['status', '--porcelain', '--', 'crates', 'ts'], { cwd: repo, encoding: 'utf8' }).stdout.trim() !== '';
const lines = [
  `code: commit ${commit}${dirty ? ' with uncommitted changes' : ''}`,
  `database: ${dbPath}, ${db.prints} prints, loaded in ${loadMs.toFixed(0)} ms (${((loadCpu.user + loadCpu.system) / 1000).toFixed(0)} ms CPU, on another thread)`,
  `${times} matches per print; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`,
  '',
  '| print | matches/s (wall) | matches/s (CPU of one core) | µs CPU per match |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.print} | ${r.wallPerSec.toFixed(0)} | ${r.cpuPerSec.toFixed(0)} | ${r.usPerMatch.toFixed(0)} |`),
];
const worst = Math.min(...rows.map((r) => r.cpuPerSec));
lines.push('', `target ≥ 1,000 matches/s per core: ${worst >= 1000 ? 'met' : 'MISSED'} (slowest print ${worst.toFixed(0)}/s)`);
console.log(lines.join('\n'));
if (!process.env.NO_RESULTS) {
  appendFileSync(join(repo, 'benches/RESULTS.md'), `\n## OS matcher (benches/os-match.mjs), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n${lines.join('\n')}\n`);
}
