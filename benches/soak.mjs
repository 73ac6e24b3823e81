#!/usr/bin/env node
// Soak (issue 16): one sweep of about ten minutes at the default rate, with the CLI's memory
// (resident set, sampled from /proc) and its open file descriptors read every few seconds.
// A leak shows as growth that follows the probes sent (millions here); what the scan keeps
// by design follows its results (one open port per host, 65,536 in all). Prints a table and
// appends a dated section to benches/RESULTS.md. Not part of npm test.
//
//   sudo node benches/soak.mjs
//   Environment: PORTS (default 80-89), SAMPLE_SECONDS (default 5), LAB_ID (default bsoak),
//     NO_RESULTS=1 (print only).
//
// The workload: SYN to ports 80-89 of 198.19.0.0/16 (655,360 probes). The lab's target
// answers the whole /16 (a local route); here it answers port 80 only (SYN/ACK) and drops
// the other ports silently (an iptables rule in the lab's own target namespace), so nine
// probes in ten are retransmitted up to the default 10 times: about 6.5 million packets, as
// a sweep of a mostly filtered network sends. --min-rate 10000 holds the rate at the
// default (10,000 packets/s) so that the run lasts its ten minutes: otherwise the adaptive
// rate would read the silence as loss and slow down. Output: the normal report to /dev/null
// and NDJSON to a scratch file (a streaming writer for the whole run).
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
const PORTS = process.env.PORTS ?? '80-89';
const SAMPLE_SECONDS = Number(process.env.SAMPLE_SECONDS ?? 5);
const LAB_ID = process.env.LAB_ID ?? 'bsoak';
const TARGETS = '198.19.0.0/16';

const scratch = mkdtempSync(join(tmpdir(), 'ferroscan-soak-'));
const lab = benchLab(LAB_ID, { name: 'soak', cleanup: () => rmSync(scratch, { recursive: true, force: true }) });
const facts = lab.up();
const load = loadavg().map((x) => x.toFixed(2)).join(' ');

// Port 80 answers (the lab's listener on the sweep range); every other TCP port is silent.
const drop = spawnSync('ip', ['netns', 'exec', facts.LAB_TARGET_NS, 'iptables', '-w', '-t', 'raw', '-A', 'PREROUTING', '-d', TARGETS, '-p', 'tcp', '!', '--dport', '80', '-j', 'DROP'], { encoding: 'utf8' });
if (drop.status !== 0) throw new Error(`iptables in the target namespace failed: ${drop.stderr}`);

// Writable by nobody: the scan gives root up once its sockets are open (ts/engine/privilege.ts).
spawnSync('chmod', ['0777', scratch]);
const ndjson = join(scratch, 'soak.ndjson');
const args = ['-Pn', '-n', '-p', PORTS, '--min-rate', '10000', '--ndjson', ndjson, TARGETS];
const devnull = openSync('/dev/null', 'w');
const started = Date.now();
const child = spawn('ip', ['netns', 'exec', facts.LAB_SCAN_NS, process.execPath, bin, ...args], { cwd: scratch, stdio: ['ignore', devnull, 'pipe'] });
let stderr = '';
child.stderr.on('data', (b) => (stderr += b));
const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));

/** One reading of the process: seconds since start, RSS and its peak (KiB), threads, open descriptors. */
function sample(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { t: (Date.now() - started) / 1000, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), threads: kb('Threads'), fds, uid };
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
const counters = spawnSync('ip', ['netns', 'exec', facts.LAB_TARGET_NS, 'iptables', '-w', '-t', 'raw', '-L', 'PREROUTING', '-v', '-x', '-n'], { encoding: 'utf8' }).stdout;
const dropped = Number(/^\s*(\d+)\s+\d+\s+DROP/m.exec(counters)?.[1] ?? NaN);
if (code !== 0) {
  console.error(`soak: ferroscan exited ${code ?? signal}:\n${stderr}`);
  process.exit(1);
}

const mib = (kb) => (kb / 1024).toFixed(1);
const warm = samples.find((s) => s.t >= 60) ?? samples[0];
const last = samples[samples.length - 1];
const peak = samples.reduce((m, s) => Math.max(m, s.rssKb), 0);
const fdValues = samples.map((s) => s.fds);
const minutes = (last.t - warm.t) / 60;
const slope = minutes > 0 ? (last.rssKb - warm.rssKb) / 1024 / minutes : 0;
const every = Math.max(1, Math.round(30 / SAMPLE_SECONDS));
const rows = samples.filter((_, i) => i % every === 0 || i === samples.length - 1);

const lines = [
  `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — benches/soak.mjs (issue 16): a ten-minute sweep, memory and descriptors`,
  '',
  `${cpus().length} cores, kernel ${release()}, node ${process.version}, lab ${facts.LAB_SCAN_NS} → ${TARGETS}, load average at the start ${load}`,
  `Command: \`ip netns exec ${facts.LAB_SCAN_NS} node bin/ferroscan.js ${args.join(' ').replace(ndjson, 'soak.ndjson')}\` (run as root: it ran as uid ${last.uid} once its sockets were open), target answering port 80 only, the other ports dropped (${dropped.toLocaleString('en')} probes dropped at the target). Sampled every ${SAMPLE_SECONDS} s from /proc/<pid>/status (VmRSS) and /proc/<pid>/fd.`,
  '',
  `Elapsed ${elapsed.toFixed(0)} s; ${results.toLocaleString('en')} open ports found (of 65,536 hosts); ${samples.length} samples.`,
  '',
  '| t (s) | RSS MiB | peak RSS MiB | open fds | threads |',
  '|---|---|---|---|---|',
  ...rows.map((s) => `| ${s.t.toFixed(0)} | ${mib(s.rssKb)} | ${mib(s.hwmKb)} | ${s.fds} | ${s.threads} |`),
  '',
  `RSS after the first minute ${mib(warm.rssKb)} MiB, at the end ${mib(last.rssKb)} MiB, peak ${mib(peak)} MiB: ${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MiB per minute over ${minutes.toFixed(1)} minutes. Open descriptors: ${Math.min(...fdValues)} to ${Math.max(...fdValues)}.`,
  '',
];
const text = lines.join('\n');
console.log(text);
if (!process.env.NO_RESULTS) appendFileSync(join(here, 'RESULTS.md'), `\n${text}`);
