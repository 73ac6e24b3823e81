#!/usr/bin/env node
// Soak (issue 16): a sweep of ten minutes at the default rate, with the CLI's memory (resident
// set, sampled from /proc) and its open file descriptors read every few seconds. The sweep
// keeps almost nothing by design (256 open ports in all), so its memory must stay flat: any
// growth that follows the millions of probes sent is a leak. Prints a table and appends a
// dated section to benches/RESULTS.md. Not part of npm test.
//
//   sudo node benches/soak.mjs          (npm run bench:soak)
//   Environment: SOAK_SECONDS (the sweep's length, default 600), PORTS (default 1-1000),
//     SAMPLE_SECONDS (default 5), LAB_ID (default bsoak), NO_RESULTS=1 (print only).
//
// The workload: SYN to ports 1-1000 of 198.19.0.0/16 (65.5 million probes, more than ten
// minutes can send), ended after SOAK_SECONDS by --host-timeout, as a long sweep is stopped. The
// lab's target answers the whole /16 (a local route); here only port 80 of 198.19.0.0/24
// gets through (256 open ports) and every other probe is dropped silently by iptables rules
// in the lab's own target namespace, as on a mostly filtered network: the engine keeps
// retransmission state for probes that are never answered, the case where a leak would
// show. Default rate, retries and congestion control; the rate achieved is read from the
// target's iptables counters at every sample. Output: the normal report to /dev/null and
// NDJSON to a scratch file (a streaming writer for the whole run).
//
// SAFETY: the scan runs as `ip netns exec <scanner ns> node bin/ferroscan.js ...` inside a
// lab (scripts/lab.sh) whose scanner namespace has no default route (checked by benchLab);
// every target is in 198.19.0.0/16. The lab is taken down at the end, on error and on signals.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchLab } from './lab.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'ferroscan.js');
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const PORTS = process.env.PORTS ?? '1-1000';
const SAMPLE_SECONDS = Number(process.env.SAMPLE_SECONDS ?? 5);
const LAB_ID = process.env.LAB_ID ?? 'bsoak';
const TARGETS = '198.19.0.0/16';

const scratch = mkdtempSync(join(tmpdir(), 'ferroscan-soak-'));
const lab = benchLab(LAB_ID, { name: 'soak', cleanup: () => rmSync(scratch, { recursive: true, force: true }) });
const facts = lab.up();
const load = loadavg().map((x) => x.toFixed(2)).join(' ');

// Port 80 of 198.19.0.0/24 answers (the lab's listener on the sweep range); every other probe is dropped.
const inTarget = (args) => spawnSync('ip', ['netns', 'exec', facts.LAB_TARGET_NS, 'iptables', '-w', '-t', 'raw', ...args], { encoding: 'utf8' });
for (const rule of [['-A', 'PREROUTING', '-d', '198.19.0.0/24', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT'], ['-A', 'PREROUTING', '-d', TARGETS, '-p', 'tcp', '-j', 'DROP']]) {
  const r = inTarget(rule);
  if (r.status !== 0) throw new Error(`iptables in the target namespace failed: ${r.stderr}`);
}
/** Probes that reached the target so far: the two rules' packet counters (answered, dropped). */
function arrived() {
  const text = inTarget(['-L', 'PREROUTING', '-v', '-x', '-n']).stdout;
  const count = (target) => Number(new RegExp(`^\\s*(\\d+)\\s+\\d+\\s+${target}\\b`, 'm').exec(text)?.[1] ?? NaN);
  return { answered: count('ACCEPT'), dropped: count('DROP') };
}

// Writable by nobody: the scan gives root up once its sockets are open (ts/engine/privilege.ts).
spawnSync('chmod', ['0777', scratch]);
const ndjson = join(scratch, 'soak.ndjson');
const args = ['-Pn', '-n', '-p', PORTS, '--host-timeout', `${SECONDS}s`, '--ndjson', ndjson, TARGETS];
const devnull = openSync('/dev/null', 'w');
const started = Date.now();
const child = spawn('ip', ['netns', 'exec', facts.LAB_SCAN_NS, process.execPath, bin, ...args], { cwd: scratch, stdio: ['ignore', devnull, 'pipe'] });
let stderr = '';
child.stderr.on('data', (b) => (stderr += b));
const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));

/** One reading of the process: seconds since start, RSS and its peak (KiB), threads, open descriptors, probes arrived. */
function sample(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const { answered, dropped } = arrived();
    return { t: (Date.now() - started) / 1000, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), threads: kb('Threads'), fds, uid, probes: answered + dropped };
  } catch {
    return undefined;
  }
}

const samples = [];
let done = false;
exited.then(() => (done = true));
while (!done) {
  // Only the scanner itself (ip netns exec replaces itself with node).
  let argv0 = '';
  try {
    argv0 = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    // gone
  }
  if (argv0 === process.execPath) {
    const s = sample(child.pid);
    if (s) {
      samples.push(s);
      if (samples.length % Math.max(1, Math.round(60 / SAMPLE_SECONDS)) === 0) console.error(`soak: ${s.t.toFixed(0)} s, RSS ${(s.rssKb / 1024).toFixed(1)} MiB, ${s.fds} fds, ${s.threads} threads`);
    }
  }
  await new Promise((r) => setTimeout(r, samples.length ? SAMPLE_SECONDS * 1000 : 100));
}
const { code, signal } = await exited;
const elapsed = (Date.now() - started) / 1000;
const results = readFileSync(ndjson, 'utf8').split('\n').filter((l) => l.includes('"type":"port"')).length;
const total = arrived();
if (code !== 0) {
  console.error(`soak: ferroscan exited ${code ?? signal}:\n${stderr}`);
  process.exit(1);
}

const mib = (kb) => (kb / 1024).toFixed(1);
// The sweep is the samples before --host-timeout ended it; the rest is the report.
const sweep = samples.filter((s) => s.t < SECONDS);
const warm = sweep.find((s) => s.t >= 60) ?? sweep[0];
const last = sweep[sweep.length - 1];
const peakSweep = sweep.reduce((m, s) => Math.max(m, s.rssKb), 0);
const peakAll = samples.reduce((m, s) => Math.max(m, s.hwmKb), 0);
const fdValues = sweep.filter((s) => s.t >= 5).map((s) => s.fds);
const minutes = (last.t - warm.t) / 60;
const slope = minutes > 0 ? (last.rssKb - warm.rssKb) / 1024 / minutes : 0;
const sentMillions = (last.probes - warm.probes) / 1e6;
const perMillion = sentMillions > 0 ? (last.rssKb - warm.rssKb) / 1024 / sentMillions : 0;
const every = Math.max(1, Math.round(30 / SAMPLE_SECONDS));
const rows = samples.filter((_, i) => i % every === 0 || i === samples.length - 1);
const rate = (a, b) => (b.t > a.t ? Math.round((b.probes - a.probes) / (b.t - a.t)).toLocaleString('en') : '-');

const lines = [
  `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — benches/soak.mjs (issue 16): a ten-minute sweep, memory and descriptors`,
  '',
  `${cpus().length} cores, kernel ${release()}, node ${process.version}, lab ${facts.LAB_SCAN_NS} → ${TARGETS}, load average at the start ${load} (the machine is shared with other jobs)`,
  `Command: \`ip netns exec ${facts.LAB_SCAN_NS} node bin/ferroscan.js ${args.join(' ').replace(ndjson, 'soak.ndjson')}\` (run as root: uid ${last.uid} once its sockets were open); only port 80 of 198.19.0.0/24 answers, every other probe is dropped at the target. Sampled every ${SAMPLE_SECONDS} s: /proc/<pid>/status (VmRSS, VmHWM, Threads), /proc/<pid>/fd, and the target's iptables counters (probes arrived).`,
  '',
  `Elapsed ${elapsed.toFixed(0)} s (sweep ${SECONDS} s, then the report); ${(total.answered + total.dropped).toLocaleString('en')} probes arrived at the target (${total.answered.toLocaleString('en')} answered); ${results} open ports reported in NDJSON; ${samples.length} samples.`,
  '',
  '| t (s) | RSS MiB | peak RSS MiB | open fds | threads | probes arrived | pps since last row |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((s, i) => `| ${s.t.toFixed(0)} | ${mib(s.rssKb)} | ${mib(s.hwmKb)} | ${s.fds} | ${s.threads} | ${s.probes.toLocaleString('en')} | ${i ? rate(rows[i - 1], s) : '-'} |`),
  '',
  `During the sweep: RSS ${mib(warm.rssKb)} MiB after the first minute, ${mib(last.rssKb)} MiB at its end, at most ${mib(peakSweep)} MiB: ${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MiB per minute over ${minutes.toFixed(1)} minutes, ${perMillion >= 0 ? '+' : ''}${perMillion.toFixed(2)} MiB per million probes (${sentMillions.toFixed(2)} million in that time, ${rate(warm, last)} per second). Open descriptors ${Math.min(...fdValues)} to ${Math.max(...fdValues)}. Peak RSS of the whole run, the report of 65,536 timed-out hosts included: ${mib(peakAll)} MiB.`,
  '',
];
const text = lines.join('\n');
console.log(text);
if (!process.env.NO_RESULTS) appendFileSync(join(here, 'RESULTS.md'), `\n${text}`);
