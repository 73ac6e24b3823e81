#!/usr/bin/env node
// Start-up (issue 14): the time from process start to the first probe on the wire, and what
// stands between. Each run spawns the CLI inside the lab's scanner namespace while tcpdump in
// the target namespace waits for the first SYN: the first probe's latency is its capture
// stamp minus the spawn time (both CLOCK_REALTIME, so `ip netns exec` and node's own start are
// included, as a user sees them). Beside it: `node -e 0` (node alone) and `ferroscan
// --version` (node and every module the CLI loads). One more run under `node --cpu-prof`
// shows where the main thread's time goes before the engine starts, by module.
//
//   sudo node benches/startup.mjs        (RUNS, default 10; LAB_ID, default su0; NO_RESULTS=1)
//
// SAFETY: every probe goes from the lab's scanner namespace (no default route) to the lab
// target 198.18.0.2; the lab is removed at exit.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchLab } from './lab.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repo, 'bin/ferroscan.js');
const runs = Math.max(1, Number(process.env.RUNS ?? 10));
const work = mkdtempSync(join(tmpdir(), 'ferroscan-startup-'));
const labHandle = benchLab(process.env.LAB_ID ?? 'su0', { name: 'startup.mjs', cleanup: () => rmSync(work, { recursive: true, force: true }) });
const lab = labHandle.up();
const target = lab.LAB_TARGET_ADDR;
if (!/^198\.1[89]\./.test(target)) throw new Error(`refusing target ${target}`);
const log = (m) => console.error(`bench:startup: ${m}`);
const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;

/** Wall seconds of a command inside the scanner namespace. */
function wall(argv) {
  const t0 = nowUs();
  const r = spawnSync('ip', ['netns', 'exec', lab.LAB_SCAN_NS, ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return (nowUs() - t0) / 1e6;
}

/** Seconds from spawning the CLI to the first SYN at the target, and to the CLI's exit. */
async function firstProbe(args) {
  const filter = `tcp[tcpflags] & tcp-syn != 0 and dst host ${target}`;
  const cap = spawn('ip', ['netns', 'exec', lab.LAB_TARGET_NS, 'tcpdump', '-i', lab.LAB_TARGET_IF, '-n', '-tt', '-l', '-c', '1', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let capOut = '';
  cap.stdout.on('data', (d) => (capOut += d));
  await new Promise((resolve, reject) => {
    let err = '';
    cap.stderr.on('data', (d) => {
      err += d;
      if (/listening on/.test(err)) resolve();
    });
    cap.on('exit', () => reject(new Error(`tcpdump exited: ${err}`)));
  });
  const captured = new Promise((resolve) => cap.on('exit', resolve));
  const t0 = nowUs();
  const scan = spawn('ip', ['netns', 'exec', lab.LAB_SCAN_NS, process.execPath, bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  scan.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => scan.on('exit', resolve));
  const done = (nowUs() - t0) / 1e6;
  const timer = setTimeout(() => cap.kill(), 2000);
  await captured;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`ferroscan ${args.join(' ')} exited ${code}: ${stderr}`);
  const m = /^(\d+\.\d+) IP /m.exec(capOut);
  if (!m) throw new Error(`no probe captured: ${capOut}`);
  return { first: (Number(m[1]) * 1e6 - t0) / 1e6, done };
}

/** The main thread's self time by module (and the top functions) before startScan first runs. */
/** (run as root: root is kept, so the profile is written into this root-only scratch directory at exit) */
function profileToEngine(args) {
  const dir = join(work, 'prof');
  rmSync(dir, { recursive: true, force: true });
  spawnSync('ip', ['netns', 'exec', lab.LAB_SCAN_NS, process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '200', bin, '--no-drop-privileges', ...args], { stdio: 'ignore' });
  const p = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))), 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byModule = new Map();
  const byFunction = new Map();
  let t = p.startTime;
  let engineAt = null;
  p.samples.forEach((s, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (engineAt !== null) return;
    for (let x = s; x; x = parent.get(x)) {
      if (byId.get(x).callFrame.functionName === 'startEngine') {
        engineAt = t;
        return;
      }
    }
    const f = byId.get(s).callFrame;
    const url = f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:.*/, 'node:internal') || `(${f.functionName || 'program'})`;
    const mod = url.startsWith('node_modules/') ? url.split('/').slice(0, 2).join('/') : url;
    byModule.set(mod, (byModule.get(mod) ?? 0) + (p.timeDeltas[i] ?? 0));
    const key = `${f.functionName || '(anonymous)'} ${url}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(v / 1000).toFixed(1).padStart(6)} ms  ${k}`);
  return { engineMs: engineAt === null ? null : (engineAt - p.startTime) / 1000, modules: top(byModule, 12), functions: top(byFunction, 12) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const cases = [
  ['`-sS -Pn -n -p 80 TARGET`', ['-sS', '-Pn', '-n', '-p', '80', target]],
  ['`-sS -Pn -n TARGET` (top 1000 ports)', ['-sS', '-Pn', '-n', target]],
  ['`-sS -Pn -n -p 80 -oX FILE TARGET`', ['-sS', '-Pn', '-n', '-p', '80', '-oX', join(work, 'out.xml'), target]],
];
const rows = { node: [], version: [] };
for (const [label] of cases) rows[label] = [];
wall([process.execPath, bin, '--version']); // warm the page cache
for (let i = 0; i < runs; i++) {
  rows.node.push(wall([process.execPath, '-e', '0']));
  rows.version.push(wall([process.execPath, bin, '--version']));
  for (const [label, args] of cases) rows[label].push(await firstProbe(args));
  log(`run ${i + 1}/${runs}: node ${rows.node.at(-1).toFixed(3)} s, --version ${rows.version.at(-1).toFixed(3)} s, first probe ${rows[cases[0][0]].at(-1).first.toFixed(3)} s`);
}
const prof = profileToEngine(cases[0][1]);
const loadAfter = load();
labHandle.down();

const ms = (s) => `${(s * 1000).toFixed(0)} ms`;
let md = `## ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC — benches/startup.mjs (issue 14): process start to first probe\n\n`;
md += `${cpus().length} cores, kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, node ${process.version}, lab ${lab.LAB_SCAN_NS} → ${target}; load average before ${loadBefore}, after ${loadAfter}; median of ${runs} runs (min – max).\n`;
md += 'Command: `sudo node benches/startup.mjs`. "first probe" = the first SYN\'s capture stamp at the target (tcpdump in the target namespace) minus the moment the bench spawned `ip netns exec … node bin/ferroscan.js …`; "exit" = that process\'s exit.\n\n';
md += '| what | first probe | exit |\n|---|---|---|\n';
const range = (xs) => `${ms(median(xs))} (${ms(Math.min(...xs))} – ${ms(Math.max(...xs))})`;
md += `| \`node -e 0\` (node alone) | - | ${range(rows.node)} |\n`;
md += `| \`ferroscan --version\` (every module the CLI loads) | - | ${range(rows.version)} |\n`;
for (const [label] of cases) md += `| ferroscan ${label.replace('TARGET', target)} | ${range(rows[label].map((r) => r.first))} | ${range(rows[label].map((r) => r.done))} |\n`;
md += `\nMain thread before the engine starts (\`node --cpu-prof --cpu-prof-interval 200\`, ${cases[0][0]}: startEngine first sampled at ${prof.engineMs?.toFixed(0) ?? '?'} ms of the profile), self time by module and by function:\n\n\`\`\`\n${prof.modules.join('\n')}\n\n${prof.functions.join('\n')}\n\`\`\`\n`;
console.log(md);
if (!process.env.NO_RESULTS) {
  appendFileSync(join(repo, 'benches/RESULTS.md'), `\n${md}`);
  log('appended to benches/RESULTS.md');
}
