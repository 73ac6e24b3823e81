#!/usr/bin/env node
// Records-into-JS benchmark (issue 9: "Results into JS: ≥ 2 million records/s through the
// library API"). A dry run with trace on makes the engine hand out one probe-sent record
// (kind 5) per packet it builds, far faster than any network could answer, so what is
// measured is the path from the engine into JavaScript, not the network. Prints a table and
// appends a dated section to benches/RESULTS.md.
//
//   sudo npm run bench:records         (node benches/records.mjs; run `npm run build` first)
//   Environment: PORTS (ports 1..PORTS on 198.18.0.0/15, default 32: 4,194,304 records),
//     RUNS (per path, default 3), LAB_ID (default brec), NO_RESULTS=1 (print only).
//
// Paths, each in a fresh process, timed from starting the engine to the last record:
//   raw        the addon alone: startScan() + nextBatch() until null, Buffers counted and
//              dropped (nothing decoded): the N-API ceiling.
//   decode     decodeBatch() over Buffers already in memory (collected first, not timed):
//              the decode alone, no engine, no N-API.
//   library    the public API a library user has for raw records: prepareScan() (+ dryRun),
//              then runPrepared(prepared, {}, { onRecords }) counting every record handed
//              to onRecords; the library decodes each batch and walks it for the model.
//   packet     the same plus a PacketTracer formatting each record into an nmap-style SENT
//              line, which is what scan()'s 'packet' event does per batch (scan() itself
//              has no dry-run option); 2^20 records (the tracer remembers that many probes).
//
// SAFETY: a dry run opens no socket and sends nothing; it still runs inside a lab's scanner
// namespace (scripts/lab.sh, no default route), as `ip netns exec <ns> node
// benches/records.mjs --child ...`, on addresses of 198.18.0.0/15 only. The lab is taken
// down at the end, on error and on SIGINT/SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { benchLab } from './lab.mjs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = ['198.18.0.0/15'];
const PACKET_PORTS = 8; // 2^17 addresses × 8 = 2^20 records
const ports = Number(process.env.PORTS ?? 32);

// ---------- child: one path, inside the scanner namespace ----------
if (process.argv[2] === '--child') {
  const mode = process.argv[3];
  const routes = spawnSync('ip', ['route', 'show', 'default'], { encoding: 'utf8' });
  if (routes.status !== 0 || routes.stdout.trim() !== '') {
    console.error('records.mjs --child: refusing to run where a default route exists (not a lab scanner namespace)');
    process.exit(2);
  }
  // internals by path: the public entry (dist/index.js) exports only the documented API
  const dist = (path) => import(pathToFileURL(join(repo, 'dist', path)).href);
  const [{ prepareScan }, { runPrepared }, { RECORD_SIZE, decodeBatch }, { PacketTracer }] = await Promise.all([dist('engine/prepare.js'), dist('engine/scan.js'), dist('engine/records.js'), dist('engine/trace.js')]);
  const lib = { prepareScan, runPrepared, RECORD_SIZE, decodeBatch, PacketTracer };
  const native = createRequire(import.meta.url)('../native/index.cjs');
  const n = mode === 'packet' ? PACKET_PORTS : ports;
  const prepared = await lib.prepareScan({ targets: TARGETS, ports: `1-${n}`, maxRetries: 0, trace: true, defaultBlocklist: false });
  // what the CLI's --dry-run does: build every packet, send none, as fast as the engine goes
  prepared.native.dryRun = true;
  prepared.native.rate = Infinity;
  for (let i = 0; i + 1 < prepared.native.ranges.length; i += 2) {
    const [s, e] = [prepared.native.ranges[i], prepared.native.ranges[i + 1]];
    if (s >>> 17 !== (198 << 7 | 9) || e >>> 17 !== (198 << 7 | 9)) {
      console.error('records.mjs --child: targets outside 198.18.0.0/15');
      process.exit(2);
    }
  }
  let records = 0;
  let batches = 0;
  let engineRate = null;
  let seconds;
  if (mode === 'raw' || mode === 'decode') {
    const kept = [];
    const t0 = performance.now();
    const scan = native.startScan(prepared.native);
    const total = 2 ** 17 * n;
    let builtMs = null;
    for (let b = await scan.nextBatch(); b !== null; b = await scan.nextBatch()) {
      records += b.length / lib.RECORD_SIZE;
      batches++;
      if (mode === 'decode') kept.push(b);
      if (builtMs === null) {
        const s = scan.summary();
        if (s.sent >= total) builtMs = s.elapsedMs;
      }
    }
    seconds = (performance.now() - t0) / 1000;
    // the engine's own pace: every packet built by the first batch that saw the count complete
    if (mode === 'raw' && builtMs) engineRate = total / (builtMs / 1000);
    if (mode === 'decode') {
      let kinds = 0;
      const t1 = performance.now();
      for (const b of kept) {
        const decoded = lib.decodeBatch(b);
        for (const r of decoded) if (r.kind === 5) kinds++;
      }
      seconds = (performance.now() - t1) / 1000;
      if (kinds !== records) throw new Error(`decoded ${kinds} probe-sent records of ${records}`);
    }
  } else if (mode === 'library' || mode === 'packet') {
    const tracer = mode === 'packet' ? new lib.PacketTracer({ sourceAddress: '198.18.0.1', sourcePort: 40000 }) : null;
    let lines = 0;
    const onRecords = (rs) => {
      records += rs.length;
      batches++;
      if (tracer) lines += tracer.batch(rs, 0).length;
    };
    const t0 = performance.now();
    const report = await lib.runPrepared(prepared, {}, { onRecords });
    seconds = (performance.now() - t0) / 1000;
    if (tracer && lines !== records) throw new Error(`${lines} trace lines for ${records} records`);
  } else {
    console.error(`records.mjs --child: unknown path ${mode}`);
    process.exit(2);
  }
  console.log(JSON.stringify({ mode, records, batches, seconds, rate: records / seconds, engineRate, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

// ---------- parent ----------
const labId = process.env.LAB_ID ?? 'brec';
const runs = Number(process.env.RUNS ?? 3);
const modes = ['raw', 'decode', 'library', 'packet'];
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const benchlab = benchLab(labId, { name: 'records.mjs' });
const log = (m) => console.error(`bench:records: ${m}`);
let lab = null;

function runChild(mode) {
  const argv = ['netns', 'exec', lab.LAB_SCAN_NS, process.execPath, fileURLToPath(import.meta.url), '--child', mode];
  return new Promise((resolve, reject) => {
    const child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORTS: String(ports) } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${mode} exited ${code}: ${err}`))));
  });
}

const results = Object.fromEntries(modes.map((m) => [m, []]));
try {
  lab = benchlab.up();
  // interleaved, so a burst of load elsewhere on the machine hits every path alike
  for (let run = 1; run <= runs; run++) {
    for (const mode of modes) {
      const x = await runChild(mode);
      results[mode].push(x);
      log(`${mode} run ${run}: ${x.records} records in ${x.seconds.toFixed(3)} s = ${Math.round(x.rate).toLocaleString('en-US')}/s (${x.batches} batches, max RSS ${Math.round(x.maxRssMiB)} MiB)`);
    }
  }
} catch (e) {
  console.error(`bench:records: error: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  benchlab.down();
}

const fmt = (n, d = 0) => (n == null || Number.isNaN(n) ? '-' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const recordsJs = join(repo, 'dist/engine/records.js');
const recordsId = `${createHash('sha256').update(readFileSync(recordsJs)).digest('hex').slice(0, 12)}, built ${statSync(recordsJs).mtime.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const ns = lab?.LAB_SCAN_NS ?? `fs${labId}-scan`;
const what = {
  raw: '`startScan({ ...prepared.native, dryRun, rate: Infinity })` + `nextBatch()` until null; Buffers counted, not decoded',
  decode: '`decodeBatch(buf)` + a walk over the records, over the raw path\'s Buffers held in memory',
  library: '`runPrepared(prepared, {}, { onRecords })`, prepared = `prepareScan({ targets, ports, maxRetries: 0, trace: true })` + dryRun',
  packet: 'as library, onRecords = `tracer.batch(records)` (`PacketTracer`: what `scan().on(\'packet\')` runs per batch)',
};
let md = `## ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC — benches/records.mjs (issue 9): records into JS\n\n`;
md += `${cpus().length} cores, kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, node ${process.version}, inside ${ns} (dry run: no socket, nothing sent), load average at the start ${loadBefore}; dist/engine/records.js ${recordsId}\n`;
md += `Command: \`npm run bench:records\` (\`node benches/records.mjs\`${process.env.PORTS ? `, PORTS=${ports}` : ''}${process.env.RUNS ? `, RUNS=${runs}` : ''}${process.env.LAB_ID ? `, LAB_ID=${labId}` : ''}); each run \`ip netns exec ${ns} node benches/records.mjs --child <path>\`, `;
md += `a dry run with trace over ${TARGETS.join(', ')} × ports 1-${ports} (${fmt(2 ** 17 * ports)} probe-sent records; packet: 1-${PACKET_PORTS}, ${fmt(2 ** 17 * PACKET_PORTS)}), ${runs} runs per path, interleaved.\n\n`;
md += '| path | what runs | records | batches | records/s (median) | min – max | engine: built/s (raw run, its clock) | max RSS MiB |\n|---|---|---|---|---|---|---|---|\n';
for (const m of modes) {
  const xs = results[m];
  if (!xs.length) continue;
  const rates = xs.map((x) => x.rate);
  md += `| ${m} | ${what[m]} | ${fmt(xs[0].records)} | ${fmt(median(xs.map((x) => x.batches)))} | ${fmt(median(rates))} | ${fmt(Math.min(...rates))} – ${fmt(Math.max(...rates))} | ${m === 'raw' ? fmt(median(xs.map((x) => x.engineRate))) : '-'} | ${fmt(Math.max(...xs.map((x) => x.maxRssMiB)))} |\n`;
}
const libRate = median(results.library.map((x) => x.rate));
md += `\nLibrary path (onRecords): ${fmt(libRate)} records/s median, target ≥ 2,000,000: ${libRate >= 2e6 ? 'met' : 'NOT met'}.\n`;
console.log(md);
if (!process.env.NO_RESULTS && results.library.length) {
  appendFileSync(join(repo, 'benches/RESULTS.md'), `\n${md}`);
  log('appended to benches/RESULTS.md');
}
