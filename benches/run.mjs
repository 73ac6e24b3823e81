#!/usr/bin/env node
// Throughput benchmark (issues 9 and 14): the lab's limits, then the same workloads through
// ferroscan, nmap, masscan and zmap, in one run on fresh labs (scripts/lab.sh). ferroscan runs
// with its default flags (nothing about rate or timing: the engine finds the rate); nmap with
// -T4; zmap and masscan at their usual fixed rate. Prints a table, checks issue 14's targets,
// and appends a dated section to benches/RESULTS.md.
//
//   sudo node benches/run.mjs
//   Environment: PEER_RATE (packets/s for masscan and zmap, and for the fixed-rate ferroscan
//     rows; default 150000), WORKLOADS (comma list of ceiling,sweep16,loss10,bottleneck,
//     allports,top1000,dryrun; default all), TOOLS (comma list; default
//     ferroscan,nmap,masscan,zmap), LAB_ID (default bn14), CEILING_SECONDS (default 3), RUNS
//     (runs of every workload, default 3: the table shows each tool's median run, with every
//     run's wall time), BOTTLENECK (packets/s of the bottleneck lab, default 20000),
//     MAX_LOAD (the 1-minute load average a workload waits for, default 1.5) and QUIET_WAIT
//     (seconds it waits at most, default 1800; the load is recorded either way),
//     NO_RESULTS=1 (print only).
//
// SAFETY: every command that sends packets runs as `ip netns exec <scanner ns> ...`, inside
// the lab, which has no default route; every target lies in 198.18.0.0/15. The lab is taken
// down at the end, on error and on SIGINT/SIGTERM (deleting the namespaces also removes any
// iptables rule the ceiling example put there).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchLab } from './lab.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const ceilingBin = join(repo, 'target/release/examples/ceiling');
const rate = Number(process.env.PEER_RATE ?? 150000);
const labId = process.env.LAB_ID ?? 'bn14';
const workloads = (process.env.WORKLOADS ?? 'ceiling,sweep16,loss10,bottleneck,allports,top1000,dryrun').split(',');
const bottleneck = Number(process.env.BOTTLENECK ?? 20000);
const maxLoad = Number(process.env.MAX_LOAD ?? 1.5);
const quietWait = Number(process.env.QUIET_WAIT ?? 1800);
const tools = (process.env.TOOLS ?? 'ferroscan,nmap,masscan,zmap').split(',');
const ceilingSeconds = Number(process.env.CEILING_SECONDS ?? 3);
const masscanWait = 1;
const runs = Math.max(1, Number(process.env.RUNS ?? 3));

// ---------- lab ----------
const benchlab = benchLab(labId, { name: 'run.mjs', cleanup: () => rmSync(work, { recursive: true, force: true }) });
const work = mkdtempSync(join(tmpdir(), 'ferroscan-bench-'));
const log = (m) => console.error(`bench: ${m}`);
let lab = null; // facts of the lab that is up
function labDown() {
  benchlab.down();
  lab = null;
}
function labUp({ loss = 0, neck = 0 } = {}) {
  lab = benchlab.up({ LAB_LOSS: loss ? String(loss) : '', LAB_BOTTLENECK: neck ? String(neck) : '' });
  const rps = (n, dev) =>
    spawnSync('ip', ['netns', 'exec', n, 'cat', `/sys/class/net/${dev}/queues/rx-0/rps_cpus`], { encoding: 'utf8' }).stdout.trim();
  lab.rps = `scanner ${rps(lab.LAB_SCAN_NS, lab.LAB_SCAN_IF)}, target ${rps(lab.LAB_TARGET_NS, lab.LAB_TARGET_IF)}`;
  return lab;
}

// ---------- running a command inside the scanner namespace ----------
const LAB_RANGE = /^198\.1[89]\./;
function assertLabTargets(targets) {
  for (const t of targets) if (!LAB_RANGE.test(t)) throw new Error(`refusing target ${t}: not in 198.18.0.0/15`);
}

/**
 * Runs argv inside the scanner namespace under /usr/bin/time and `timeout`.
 * Returns { wall, rss (KB), code, stdout, stderr, tDone }; `doneMarker` (a regexp on stderr)
 * lets a never-exiting tool (masscan) be stopped `afterDone` seconds after it printed it.
 */
function inScan(argv, { limit = 600, doneMarker = null, afterDone = 0, cwd = work, env = {} } = {}) {
  const timeFile = join(work, `time.${Date.now()}`);
  const full = ['netns', 'exec', lab.LAB_SCAN_NS, '/usr/bin/time', '-o', timeFile, '-f', '%e %M',
    'timeout', '-k', '2', String(limit), ...argv];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('ip', full, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let tDone = null;
    let timer = null;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (doneMarker && tDone === null && doneMarker.test(stderr)) {
        tDone = Number(process.hrtime.bigint() - t0) / 1e9;
        // stop the tool through its `timeout` parent (a child of /usr/bin/time = our child)
        timer = setTimeout(() => {
          const kids = readChildren(child.pid);
          for (const k of kids) {
            try { process.kill(k, 'SIGTERM'); } catch {}
          }
        }, (afterDone + 2) * 1000);
      }
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const wallOuter = Number(process.hrtime.bigint() - t0) / 1e9;
      let rss = null;
      let wall = wallOuter;
      if (existsSync(timeFile)) {
        const m = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ');
        rss = Number(m[1]);
      }
      resolve({ wall, rss, code, stdout, stderr, tDone });
    });
  });
}
function readChildren(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// ---------- a quiet machine ----------
/** Load averages seen before each workload run, for the record. */
const loads = [];
/**
 * Waits until the 1-minute load average is below MAX_LOAD (other jobs share the machine),
 * at most QUIET_WAIT seconds; records what it was when the workload started.
 */
async function waitQuiet(what) {
  const t0 = Date.now();
  while (loadavg()[0] >= maxLoad && Date.now() - t0 < quietWait * 1000) {
    if ((Date.now() - t0) % 300_000 < 30_000) log(`${what}: load ${loadavg()[0].toFixed(2)} ≥ ${maxLoad}, waiting`);
    await new Promise((resolve) => setTimeout(resolve, 30_000));
  }
  const l = loadavg()[0];
  loads.push({ what, load: l, waited: (Date.now() - t0) / 1000 });
  if (l >= maxLoad) log(`${what}: still load ${l.toFixed(2)} after ${quietWait} s: running anyway (recorded)`);
  return l;
}

// ---------- result parsers ----------
/** grepable output → Map "ip port" → state, plus ignored-state counts per state. */
function parseGrepable(text) {
  const table = new Map();
  const ignored = {};
  for (const line of text.split('\n')) {
    const m = /^Host: (\S+) .*\tPorts: ([^\t]*)/.exec(line);
    if (!m) continue;
    for (const e of m[2].split(', ')) {
      const [port, state] = e.split('/');
      table.set(`${m[1]} ${port}`, state);
    }
    const ig = /\tIgnored State: (\S+) \((\d+)\)/.exec(line);
    if (ig) ignored[ig[1]] = (ignored[ig[1]] ?? 0) + Number(ig[2]);
  }
  return { table, ignored };
}
const openCount = (g) => [...g.table.values()].filter((s) => s === 'open').length;
const answeredCount = (g) =>
  [...g.table.values()].filter((s) => s === 'open' || s === 'closed').length + (g.ignored.closed ?? 0);
function readOr(file) {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}
/** Open ports in nmap XML (ferroscan's and nmap's -oX). */
const xmlOpen = (text) => (text.match(/<state state="open"/g) ?? []).length;
const listOpen = (text) => new Set(text.split('\n').filter((l) => l.startsWith('open ')).map((l) => l.split(' ').slice(2, 4).join(' '))).size;
const lineSet = (text) => new Set(text.split('\n').map((l) => l.trim()).filter(Boolean)).size;
/** Compares two grepable tables; returns "same" or a short description of differences. */
function compareTables(a, b) {
  const diffs = [];
  for (const [k, s] of a.table) if (b.table.get(k) !== s) diffs.push(`${k}: ${s} vs ${b.table.get(k) ?? '-'}`);
  for (const [k, s] of b.table) if (!a.table.has(k)) diffs.push(`${k}: - vs ${s}`);
  const ia = JSON.stringify(a.ignored), ib = JSON.stringify(b.ignored);
  if (ia !== ib) diffs.push(`ignored ${ia} vs ${ib}`);
  return diffs.length === 0 ? 'same table' : `differs: ${diffs.slice(0, 4).join('; ')}${diffs.length > 4 ? ` (+${diffs.length - 4})` : ''}`;
}

// ---------- tools ----------
const ferroscan = (args) => ['node', join(repo, 'bin/ferroscan.js'), ...args];
/** ferroscan's environment in the benches: the found rate's trace on stderr, for the notes. */
const traceEnv = { FERROSCAN_RATE_TRACE: '1' };
const rows = [];
/** What FERROSCAN_RATE_TRACE=1 lines on stderr say about the found rate: peak, last, cuts. */
function rateNote(stderr) {
  const moves = [...stderr.matchAll(/rate=(\d+)->(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  if (moves.length === 0) return '';
  const peak = Math.max(...moves.map((m) => m[1]));
  const cuts = moves.filter(([a, b]) => b < a).length;
  return `found rate: peak ${fmt(peak)}/s, last ${fmt(moves.at(-1)[1])}/s, ${cuts} cut${cuts === 1 ? '' : 's'}`;
}
function row(workload, tool, cmd, r, found, expected, answered, note = '') {
  const n = note + (r.code !== 0 && r.code !== null && !r.killedOnPurpose ? `${note ? '; ' : ''}exit ${r.code}` : '');
  const shown = cmd
    .join(' ')
    .replaceAll(lab.LAB_TARGET_MAC, 'TARGET_MAC')
    .replaceAll(lab.LAB_SCAN_MAC, 'SCAN_MAC')
    .replaceAll(work + '/', '')
    .replace(/^node \S+bin\/ferroscan\.js/, 'ferroscan')
    .replace(/^node \S+benches\//, 'node benches/');
  rows.push({ workload, tool, cmd: shown, wall: r.wall, found, expected, answeredPerSec: answered != null ? answered / r.wall : null, rss: r.rss, note: n });
  log(`${workload} ${tool}: ${r.wall.toFixed(2)} s, found ${found}/${expected}${n ? ` (${n})` : ''}`);
}

/** Waits (up to 70 s) until the target holds no half-open connection from the scanner. */
async function drainHalfOpen() {
  for (let i = 0; i < 140; i++) {
    const r = spawnSync('ip', ['netns', 'exec', lab.LAB_TARGET_NS, 'ss', '-Htn', 'state', 'syn-recv'], { encoding: 'utf8' });
    if (r.stdout.trim() === '') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  log('half-open connections remain on the target after 70 s');
}

async function sweep(workload, cidr, port, expected) {
  assertLabTargets([cidr]);
  await waitQuiet(workload);
  for (const tool of tools) {
    const f = join(work, `${workload}.${tool}`);
    rmSync(f, { force: true });
    if (tool === 'ferroscan') {
      // the default flags; on the loss-free sweep also the RST policy's other choice and the
      // library; on the bottleneck also a fixed rate at the peers' (what --rate does there)
      // and --open -oL, a writer that costs little, to tell the scan's time from the XML writer's
      const variants = workload === 'sweep16' ? ['default', 'list', 'library', 'suppress'] : workload === 'bottleneck' ? ['default', 'fixed'] : ['default'];
      for (const variant of variants) {
        if (variant === 'library') {
          // The same sweep through the library API, timed inside the process (no CLI start-up, no report).
          const cmd = ['node', join(repo, 'benches/library-sweep.mjs'), cidr, String(port)];
          const r = await inScan(cmd);
          let j = {};
          try { j = JSON.parse(r.stdout.trim().split('\n').pop()); } catch {}
          const processWall = r.wall;
          if (j.seconds) r.wall = j.seconds;
          row(workload, 'ferroscan library', cmd, r, j.found ?? 0, expected, j.found ?? 0,
            `scan() in-process time; the process took ${processWall.toFixed(2)} s; found rate peak ${fmt(j.peakRate)}/s, ${j.backoffs ?? '?'} cuts`);
          continue;
        }
        const extra = variant === 'suppress' ? ['--rst-policy', 'suppress'] : variant === 'fixed' ? ['--rate', String(rate)] : [];
        const output = variant === 'list' ? ['--open', '-oL', f] : ['-oX', f];
        const cmd = ferroscan(['-sS', '-Pn', '-n', '-p', String(port), ...extra, ...output, cidr]);
        rmSync(f, { force: true });
        const r = await inScan(cmd, { env: traceEnv });
        const found = variant === 'list' ? listOpen(readOr(f)) : xmlOpen(readOr(f));
        const label = variant === 'default' ? tool : variant === 'fixed' ? `ferroscan --rate ${rate}` : variant === 'list' ? 'ferroscan --open -oL' : `ferroscan (rst ${variant})`;
        row(workload, label, cmd, r, found, expected, found, rateNote(r.stderr));
        // Without RSTs the target holds a half-open connection per address until its SYN/ACK
        // retries meet this host's kernel (about 1 s later): wait until they are gone, or the
        // next tool's run would share the target with 65,536 retransmitting connections.
        if (variant === 'suppress') await drainHalfOpen();
      }
    } else if (tool === 'nmap') {
      if (workload === 'bottleneck') continue; // the issue compares the fixed-rate scanners there
      const cmd = ['nmap', '-sS', '-T4', '-Pn', '-n', '-p', String(port), '-oX', f, cidr];
      const r = await inScan(cmd);
      const found = xmlOpen(readOr(f));
      row(workload, tool, cmd, r, found, expected, found);
    } else if (tool === 'zmap') {
      const bl = join(work, 'empty-blocklist');
      writeFileSync(bl, '');
      const cmd = ['zmap', '-p', String(port), '-r', String(rate), '-c', '1', '-i', lab.LAB_SCAN_IF, '-S', lab.LAB_SCAN_ADDR,
        '-G', lab.LAB_TARGET_MAC, '-b', bl, '-o', f, cidr];
      const r = await inScan(cmd);
      const found = lineSet(readOr(f));
      row(workload, tool, cmd, r, found, expected, found);
    } else if (tool === 'masscan') {
      const cmd = ['masscan', `-p${port}`, cidr, '--rate', String(rate), '--wait', String(masscanWait), '--adapter', lab.LAB_SCAN_IF,
        '--adapter-ip', lab.LAB_SCAN_ADDR, '--adapter-mac', lab.LAB_SCAN_MAC, '--router-mac', lab.LAB_TARGET_MAC, '-oL', f];
      const limit = Math.ceil(expected / rate) + masscanWait + 30;
      const r = await inScan(cmd, { limit, doneMarker: /100\.00% done/, afterDone: masscanWait });
      let note = '';
      if (r.tDone != null) {
        r.wall = r.tDone + masscanWait;
        r.killedOnPurpose = true;
        note = `never exits here: wall = 100% sent + --wait ${masscanWait}`;
      } else note = `never reached 100% (timeout ${limit} s)`;
      const found = listOpen(readOr(f));
      row(workload, tool, cmd, r, found, expected, found, note);
    }
  }
}

async function allPorts() {
  const host = lab.LAB_TARGET_ADDR;
  assertLabTargets([host]);
  await waitQuiet('allports');
  const ff = join(work, 'allports.ferroscan'), fn = join(work, 'allports.nmap');
  let gf = null, gn = null;
  const results = [];
  if (tools.includes('ferroscan')) {
    const cmd = ferroscan(['-sS', '-Pn', '-n', '-p-', '-oG', ff, host]);
    results.push(['ferroscan', cmd, await inScan(cmd, { env: traceEnv })]);
    gf = parseGrepable(readOr(ff));
  }
  if (tools.includes('nmap')) {
    const cmd = ['nmap', '-sS', '-T4', '-Pn', '-n', '-p-', '-oG', fn, host];
    results.push(['nmap', cmd, await inScan(cmd)]);
    gn = parseGrepable(readOr(fn));
  }
  for (const [tool, cmd, r] of results) {
    const g = tool === 'ferroscan' ? gf : gn;
    const note = gf && gn ? (tool === 'ferroscan' ? compareTables(gf, gn) + ' (vs nmap)' : 'reference table') : '';
    row('allports', tool, cmd, r, `${openCount(g)} open`, '5 open', answeredCount(g), [note, tool === 'ferroscan' ? rateNote(r.stderr) : ''].filter(Boolean).join('; '));
  }
}

async function top1000() {
  const cidr = '198.19.0.0/24';
  assertLabTargets([cidr]);
  await waitQuiet('top1000');
  const results = [];
  for (const tool of ['ferroscan', 'nmap'].filter((t) => tools.includes(t))) {
    const f = join(work, `top1000.${tool}`);
    const cmd = tool === 'ferroscan'
      ? ferroscan(['-sS', '-Pn', '-n', '--top-ports', '1000', '-oG', f, cidr])
      : ['nmap', '-sS', '-T4', '-Pn', '-n', '--top-ports', '1000', '-oG', f, cidr];
    results.push([tool, cmd, await inScan(cmd, { env: tool === 'ferroscan' ? traceEnv : {} }), f]);
  }
  const gs = Object.fromEntries(results.map(([t, , , f]) => [t, parseGrepable(readOr(f))]));
  const openSet = (g) => new Set([...g.table].filter(([, s]) => s === 'open').map(([k]) => k));
  for (const [tool, cmd, r] of results) {
    const g = gs[tool];
    let note = '';
    if (gs.ferroscan && gs.nmap && tool === 'ferroscan') {
      const a = openSet(gs.ferroscan), b = openSet(gs.nmap);
      const same = a.size === b.size && [...a].every((k) => b.has(k));
      note = same ? 'same open set as nmap' : `open set differs from nmap (${a.size} vs ${b.size})`;
      note = [note, rateNote(r.stderr)].filter(Boolean).join('; ');
    }
    row('top1000', tool, cmd, r, openCount(g), 256, answeredCount(g), note);
  }
}

async function dryRun() {
  await waitQuiet('dryrun');
  // A dry run opens no socket and sends nothing; it still runs inside the scanner namespace.
  const cidr = '198.0.0.0/8';
  const cmd = ferroscan(['--dry-run', '--no-default-blocklist', '-n', '-p', '1-10', cidr]);
  const r = await inScan(cmd);
  const m = /(\d+) of (\d+) packets built.*\(([\d.]+) packets\/s\)/.exec(r.stdout + r.stderr);
  const built = m ? Number(m[1]) : null;
  const reported = m ? Number(m[3]) : null;
  row('dryrun', 'ferroscan', cmd, r, built, 2 ** 24 * 10, built,
    `ferroscan's own figure ${reported ? Math.round(reported).toLocaleString('en-US') : '?'} packets/s (build loop only); answered/s column = packets built per wall second`);
}

async function ceilings() {
  if (!existsSync(ceilingBin)) {
    log('ceiling example not built (cargo build --release --example ceiling -p ferroscan-core)');
    return [];
  }
  const cmd = [ceilingBin, '--iface', lab.LAB_SCAN_IF, '--src', lab.LAB_SCAN_ADDR, '--dst-mac', lab.LAB_TARGET_MAC,
    '--target-ns', lab.LAB_TARGET_NS, '--target', lab.LAB_SWEEP_CIDR, '--port', lab.LAB_SWEEP_PORT, '--seconds', String(ceilingSeconds)];
  await waitQuiet('ceiling');
  const r = await inScan(cmd, { limit: 60 });
  const out = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('CEILING ')) continue;
    const kv = Object.fromEntries([...line.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2].replace(/"/g, '')]));
    out.push(kv);
  }
  if (out.length === 0) log(`ceiling failed: ${r.stderr}`);
  return { cmd: cmd.join(' ').replaceAll(lab.LAB_TARGET_MAC, 'TARGET_MAC').replace(repo + '/', ''), out };
}

// ---------- main ----------
const fmt = (n, d = 0) => (n == null || Number.isNaN(n) ? '-' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
let ceil = null;
let labFacts = null;
try {
  labFacts = labUp();
  if (workloads.includes('ceiling')) {
    log('ceilings ...');
    ceil = await ceilings();
  }
  for (let i = 0; i < runs; i++) {
    log(`run ${i + 1} of ${runs}`);
    if (workloads.includes('sweep16')) await sweep('sweep16', lab.LAB_SWEEP_CIDR, lab.LAB_SWEEP_PORT, 65536);
    if (workloads.includes('allports')) await allPorts();
    if (workloads.includes('top1000')) await top1000();
    if (workloads.includes('dryrun')) await dryRun();
  }
  if (workloads.includes('loss10')) {
    labUp({ loss: 0.1 });
    for (let i = 0; i < runs; i++) await sweep('loss10', lab.LAB_SWEEP_CIDR, lab.LAB_SWEEP_PORT, 65536);
  }
  if (workloads.includes('bottleneck')) {
    labUp({ neck: bottleneck });
    for (let i = 0; i < runs; i++) await sweep('bottleneck', lab.LAB_SWEEP_CIDR, lab.LAB_SWEEP_PORT, 65536);
  }
} catch (e) {
  console.error(`bench: error: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  labDown();
}

// Each (workload, tool): its median run by wall time, with every run's wall and found.
const medians = [];
for (const r of rows) {
  if (medians.some((m) => m.workload === r.workload && m.tool === r.tool)) continue;
  const all = rows.filter((x) => x.workload === r.workload && x.tool === r.tool).sort((a, b) => a.wall - b.wall);
  const m = { ...all[Math.floor((all.length - 1) / 2)] };
  if (all.length > 1) {
    const walls = rows.filter((x) => x.workload === r.workload && x.tool === r.tool).map((x) => x.wall.toFixed(2));
    const founds = [...new Set(all.map((x) => String(x.found)))];
    m.note = [`runs ${walls.join(' / ')} s${founds.length > 1 ? `, found ${founds.join(' / ')}` : ''}`, m.note].filter(Boolean).join('; ');
  }
  medians.push(m);
}
rows.length = 0;
rows.push(...medians);

// ratios: ferroscan wall / peer wall per workload
for (const r of rows) {
  const fs = rows.find((x) => x.workload === r.workload && x.tool === 'ferroscan');
  const peer = !r.tool.startsWith('ferroscan');
  r.ratio = fs && peer ? fs.wall / r.wall : null;
  r.apsRatio = fs && peer && r.answeredPerSec ? fs.answeredPerSec / r.answeredPerSec : null;
}

const version = (cmd, args, re) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const m = re.exec((r.stdout ?? '') + (r.stderr ?? ''));
  return m ? m[1] : '?';
};
const versions = `nmap ${version('nmap', ['--version'], /Nmap version (\S+)/)}, masscan ${version('masscan', ['--version'], /version (\S+)/)}, zmap ${version('zmap', ['--version'], /zmap (\S+)/)}, node ${process.version}`;
const ns = labFacts?.LAB_SCAN_NS ?? `fs${labId}-scan`;
let md = `## ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC — benches/run.mjs (issue 14): ceilings and workloads, ferroscan with default flags, median of ${runs} run${runs > 1 ? 's' : ''}\n\n`;
md += `${cpus().length} cores, kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, lab ${ns} → ${labFacts?.LAB_TARGET_ADDR} (veth, rps_cpus ${labFacts?.rps}); ferroscan finds its rate (no rate or timing flag), zmap and masscan at ${rate} pps, nmap -T4; bottleneck lab: the target drops everything above ${fmt(bottleneck)} packets/s\n${versions}\n`;
const loadText = loads.map((l) => `${l.what} ${l.load.toFixed(2)}${l.waited >= 30 ? ` (after ${Math.round(l.waited)} s waiting)` : ''}`).join(', ');
md += `1-minute load average when each workload run started (the bench waits up to ${quietWait} s for < ${maxLoad}; other jobs share this machine): ${loadText || '-'}\n\n`;
if (ceil && ceil.out?.length) {
  md += `### Lab ceilings (\`crates/core/examples/ceiling.rs\`, ${ceilingSeconds} s flat out per mode, 64-frame sendmmsg, PACKET_QDISC_BYPASS)\n\n`;
  md += `\`ip netns exec ${ns} ${ceil.cmd}\`\n\n| mode | sent pkts/s | distinct SYN/ACKs per s (in send window) | answered / sent | setup |\n|---|---|---|---|---|\n`;
  const label = { send: '(a) raw send', loop: '(b) full loop, kernel RSTs', norst: '(c) full loop, kernel kept out' };
  for (const c of ceil.out) {
    md += `| ${label[c.mode] ?? c.mode} | ${fmt(c.sent_pps)} | ${c.mode === 'send' ? '-' : fmt(c.answered_pps)} | ${c.mode === 'send' ? '-' : fmt((100 * c.answered) / c.sent, 1) + ' %'} | ${c.note} |\n`;
  }
  md += '\n';
}
md += 'Reading: "answered/s" = probes that drew a definite reply (open + closed ports) per wall second; for the sweeps that is the ports found. '
  + 'The sweeps write nmap XML (-oX) for ferroscan and nmap, as the issue\'s table does; zmap and masscan their own lists. '
  + 'top1000 scans 198.19.0.0/24, part of the target\'s local route: every address answers SYN/ACK on port 80 (a listener on 0.0.0.0) and RST on the other 999 ports, '
  + 'so it measures 256,000 probes of per-host scheduling against a target that answers everything at once, with no filtered ports and no per-host latency — not a realistic /24. '
  + 'allports compares the whole port table (open, closed, filtered) with nmap\'s. dryrun builds 2^24 × 10 packets and sends none (no socket is opened). '
  + 'masscan and zmap scan one port per run (zmap 2.1) and have no nmap port-state model, so they appear in the sweeps only; masscan 1.3.2 never exits here and is stopped by its `timeout` parent. '
  + `Peer flags: nmap -T4 (the issue\'s reference); zmap -r ${rate} -c 1 (1 s cooldown); masscan --rate ${rate} --wait ${masscanWait}; no retries for zmap/masscan (their defaults). `
  + 'ferroscan\'s notes show what its found rate did (FERROSCAN_RATE_TRACE=1: the highest rate set, the last, and the cuts for loss).\n\n';
md += `### Workloads (every command inside \`ip netns exec ${ns}\`, under \`/usr/bin/time -f "%e %M" timeout\`)\n\n`;
md += '| workload | tool | command | wall s | found / expected | answered/s | peak RSS MiB | ferroscan wall ÷ peer | ferroscan answered/s ÷ peer | note |\n|---|---|---|---|---|---|---|---|---|---|\n';
for (const r of rows) {
  md += `| ${r.workload} | ${r.tool} | \`${r.cmd}\` | ${fmt(r.wall, 2)} | ${typeof r.found === 'number' ? fmt(r.found) : r.found} / ${typeof r.expected === 'number' ? fmt(r.expected) : r.expected} | ${fmt(r.answeredPerSec)} | ${r.rss ? fmt(r.rss / 1024, 1) : '-'} | ${r.ratio ? fmt(r.ratio, 2) : '-'} | ${r.apsRatio ? fmt(r.apsRatio, 2) : '-'} | ${r.note} |\n`;
}
// Issue 14's targets, checked against this run's medians, ferroscan with its default flags.
const get = (w, t) => rows.find((r) => r.workload === w && r.tool === t);
const ceilingOf = (mode) => Number(ceil?.out?.find((c) => c.mode === mode)?.answered_pps ?? NaN);
const targets = [];
const target = (what, value, ok) => targets.push(`| ${what} | ${value} | ${ok === null ? '-' : ok ? 'met' : 'missed'} |`);
const ratio = (a, b) => `${fmt(a.wall, 2)} s ÷ ${fmt(b.wall, 2)} s = ${fmt(a.wall / b.wall, 2)}×`;
const vsCeiling = (what, r) => {
  for (const [mode, label] of [['loop', '(b), kernel RSTs'], ['norst', '(c), kernel kept out']]) {
    const c = ceilingOf(mode);
    if (Number.isFinite(c) && r.answeredPerSec) target(`${what}: answered/s ≥ 0.8× full-loop ceiling ${label}`, `${fmt(r.answeredPerSec)} ÷ ${fmt(c)} = ${fmt(r.answeredPerSec / c, 2)}×`, r.answeredPerSec / c >= 0.8);
  }
};
const sw = get('sweep16', 'ferroscan');
if (sw) {
  target('/16 × 1 port, -oX: 100% found', `${fmt(sw.found)} / ${fmt(sw.expected)}`, sw.found === sw.expected);
  const nm = get('sweep16', 'nmap'), zm = get('sweep16', 'zmap'), lib = get('sweep16', 'ferroscan library'), sup = get('sweep16', 'ferroscan (rst suppress)');
  if (nm) target('/16 × 1 port, -oX: wall ≤ 0.1× nmap -T4', ratio(sw, nm), sw.wall / nm.wall <= 0.1);
  if (zm) target(`/16 × 1 port, -oX: wall ≤ 0.5× zmap -r ${rate}`, ratio(sw, zm), sw.wall / zm.wall <= 0.5);
  if (lib && zm) target('(for reading) the library\'s in-process time ÷ zmap', ratio(lib, zm), null);
  if (sup) target('(for reading) --rst-policy suppress ÷ the default (kernel)', ratio(sup, sw), null);
  const list = get('sweep16', 'ferroscan --open -oL');
  if (list && zm) target('(for reading) the same sweep to --open -oL ÷ zmap', ratio(list, zm), null);
  if (list && nm) target('(for reading) the same sweep to --open -oL ÷ nmap -T4', ratio(list, nm), null);
  vsCeiling('/16 sweep', sw);
  if (lib) vsCeiling('(for reading) the /16 sweep through the library, in-process', lib);
}
const ap = get('allports', 'ferroscan'), apn = get('allports', 'nmap');
if (ap && apn) target('one host × all ports: wall ≤ 0.25× nmap -T4 -p-, same table', `${ratio(ap, apn)}; ${ap.note.includes('same table') ? 'same table' : 'table differs'}`, ap.wall / apn.wall <= 0.25 && ap.note.includes('same table'));
if (ap) vsCeiling('one host × all ports', ap);
const tp = get('top1000', 'ferroscan'), tpn = get('top1000', 'nmap');
if (tp && tpn) target('/24 × top-1000: wall ≤ 0.1× nmap -T4, same open set', `${ratio(tp, tpn)}; ${tp.note.includes('same open set') ? 'same open set' : 'open set differs'}`, tp.wall / tpn.wall <= 0.1 && tp.note.includes('same open set'));
if (tp) vsCeiling('/24 × top-1000', tp);
const bn = get('bottleneck', 'ferroscan');
if (bn) {
  target(`bottleneck ${fmt(bottleneck)}/s: ≥ 99.9% found`, `${fmt(bn.found)} / ${fmt(bn.expected)} = ${fmt((100 * bn.found) / bn.expected, 3)} %`, bn.found / bn.expected >= 0.999);
  const ideal = bn.expected / bottleneck;
  target(`bottleneck ${fmt(bottleneck)}/s: wall ≤ 1.3× the ideal ${fmt(bn.expected)}/N = ${fmt(ideal, 2)} s`, `${fmt(bn.wall, 2)} s = ${fmt(bn.wall / ideal, 2)}× ideal`, bn.wall / ideal <= 1.3);
  for (const peer of ['zmap', 'masscan', `ferroscan --rate ${rate}`]) {
    const p = get('bottleneck', peer);
    if (p) target(`(for reading) bottleneck: ${peer} found`, `${fmt(p.found)} / ${fmt(p.expected)} in ${fmt(p.wall, 2)} s`, null);
  }
}
const lo = get('loss10', 'ferroscan');
if (lo) {
  target('10% loss: ≥ 99.99% found', `${fmt(lo.found)} / ${fmt(lo.expected)} = ${fmt((100 * lo.found) / lo.expected, 3)} %`, lo.found / lo.expected >= 0.9999);
  if (sw) target('10% loss: wall ≤ 1.5× the loss-free default sweep', ratio(lo, sw), lo.wall / sw.wall <= 1.5);
}
const dr = get('dryrun', 'ferroscan');
if (dr) target('dry run: ≥ 5 M packets/s per core', `${fmt(dr.answeredPerSec)} packets/s (one core)`, dr.answeredPerSec >= 5e6);
if (targets.length) md += `\n### Targets (issue 14), from the medians above\n\n| target | this run | |\n|---|---|---|\n${targets.join('\n')}\n`;

console.log(md);
if (!process.env.NO_RESULTS && rows.length) {
  const results = join(repo, 'benches/RESULTS.md');
  appendFileSync(results, `\n${md}`);
  log(`appended to ${results}`);
}
