#!/usr/bin/env node
// Output writer benchmark (issue 14: "no writer costs more than 10% of a /16 sweep's wall
// time: ≥ 1 million host lines per second for NDJSON/grepable/list and ≥ 500,000 host blocks
// per second for XML, measured ... on a realistic host mix"). Hosts come from the real model
// (ScanModel fed engine-shaped records, so verdicts are shared as in a scan), their reports
// are made before the clock starts, and each writer is timed from its first host() (or
// result(), for the list) to its file being closed: formatting and writing to a real file
// (FileSink: NAME.part, then the rename). No packet is sent and no lab is needed.
//
//   npm run bench:writers            (node benches/writers.mjs; run `npm run build:ts` first)
//   Environment: HOSTS (per mix, default 65536), RUNS (default 5, the median is reported),
//     NO_RESULTS=1 (print only; leave benches/RESULTS.md alone).
//
// Mixes:
//   sweep   -p 80 over a /16: 90% open (syn-ack, TTL 64), 9% closed (reset), 1% with a PTR
//           name and an on-link MAC; every host has its own RTT.
//   mixed   -p 1-100 over a /16 (a top-ports sweep): 80% one open port (80), the other 99
//           silent (filtered, no-response, folded into extraports with port ranges); 12% ssh
//           and http open with the rest closed (reset: closed extraports); 5% three open
//           ports, a few closed, the rest filtered (two folded states: no "Ignored State");
//           3% everything closed but port 100; a tenth of all hosts with a PTR name and a MAC.
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => import(pathToFileURL(join(repo, 'dist', path)).href);
const [{ ScanModel }, { parseTargets }, { XmlWriter }, { GrepableWriter }, { JsonWriter, NdjsonWriter }, { CsvWriter }, { ListWriter }, { NormalFileWriter }, { FileSink }, { formatIPv4 }] = await Promise.all([
  dist('hosts/model.js'),
  dist('targets/targets.js'),
  dist('output/xml.js'),
  dist('output/grepable.js'),
  dist('output/json.js'),
  dist('output/csv.js'),
  dist('output/list.js'),
  dist('output/normal-file.js'),
  dist('output/sink.js'),
  dist('targets/address.js'),
]);

const HOSTS = Number(process.env.HOSTS ?? 65536);
const RUNS = Number(process.env.RUNS ?? 5);
const SYN_ACK = 0x12;
const RST_ACK = 0x14;

/** A deterministic generator (xorshift32), so every run writes the same hosts. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function record(value, port, flags, rttUs) {
  const address = formatIPv4(value);
  return { kind: 1, flags, ttl: 64, icmpType: 0, icmpCode: 0, address, target: value, port, window: flags === SYN_ACK ? 64240 : 0, attempt: 0, rttUs, responder: address, technique: 1 };
}

/** The hosts of one mix: [reports, results (the port verdicts as they arrived), scanned ports]. */
async function mix(name) {
  const base = 0xc6130000; // 198.19.0.0
  const targets = await parseTargets([`198.19.0.0-198.19.${Math.ceil(HOSTS / 256) - 1}.255`], undefined, { defaultBlocklist: false });
  const ports = name === 'sweep' ? [80] : Array.from({ length: 100 }, (_, i) => i + 1);
  const model = new ScanModel({ targets, ports, technique: 'syn', assumeUp: true, isLocal: () => false });
  const random = rng(name === 'sweep' ? 1 : 2);
  const results = [];
  const add = (r) => {
    const res = model.add(r);
    if (res) results.push(res);
  };
  const named = new Set();
  for (let i = 0; i < HOSTS; i++) {
    const v = base + i;
    const rtt = 100 + Math.floor(random() * 900);
    const u = random();
    if (name === 'sweep') {
      add(record(v, 80, u < 0.9 ? SYN_ACK : RST_ACK, rtt));
      if (random() < 0.01) named.add(v);
    } else {
      if (u < 0.8) add(record(v, 80, SYN_ACK, rtt));
      else if (u < 0.92) for (const p of ports) add(record(v, p, p === 22 || p === 80 ? SYN_ACK : RST_ACK, rtt));
      else if (u < 0.97) {
        for (const p of [22, 25, 80]) add(record(v, p, SYN_ACK, rtt));
        for (const p of [1, 7, 9, 13, 21]) add(record(v, p, RST_ACK, rtt));
      } else for (const p of ports) add(record(v, p, p === 100 ? SYN_ACK : RST_ACK, rtt));
      if (random() < 0.1) named.add(v);
    }
  }
  const reports = [];
  for (const r of model.reports()) {
    const value = Number(r.address.split('.').reduce((a, o) => a * 256 + Number(o), 0));
    if (named.has(value)) reports.push({ ...r, ptr: `host-${value & 0xffff}.lab.example`, mac: '02:00:5E:10:00:01', vendor: 'ICANN, IANA Department' });
    else reports.push(r);
  }
  return { reports, results, ports };
}

const WRITERS = {
  xml: (sink) => new XmlWriter(sink, null),
  grepable: (sink) => new GrepableWriter(sink),
  ndjson: (sink) => new NdjsonWriter(sink),
  csv: (sink) => new CsvWriter(sink),
  list: (sink) => new ListWriter(sink),
  json: (sink) => new JsonWriter(sink),
  normal: (sink) => new NormalFileWriter(sink),
};

function runOnce(dir, format, data) {
  const path = join(dir, `out.${format}`);
  const sink = new FileSink(path, format);
  const writer = WRITERS[format](sink);
  const startedAt = new Date();
  writer.begin({ startedAt, args: ['ferroscan', 'bench'], technique: 'syn', ports: data.ports, addresses: data.reports.length, verbose: 0, open: false, reason: false });
  const at = new Date();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // The list writes a line per open port verdict as it arrives; the others a block per host.
  if (format === 'list') for (const r of data.results) writer.result(r, at);
  else for (const h of data.reports) writer.host(h);
  writer.end({ finishedAt: new Date(), elapsedSeconds: 1, addresses: data.reports.length, up: data.reports.length });
  sink.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const bytes = statSync(path).size;
  rmSync(path);
  return { seconds, cpu: (cpu.user + cpu.system) / 1e6, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const TARGET = { xml: 500_000, grepable: 1_000_000, ndjson: 1_000_000, list: 1_000_000 };

const load = loadavg().map((x) => x.toFixed(2)).join(' ');
const dir = mkdtempSync(join(tmpdir(), 'ferroscan-writers-'));
const rows = [];
try {
  for (const name of (process.env.MIXES ?? "sweep,mixed").split(",")) {
    const data = await mix(name);
    const open = data.results.filter((r) => r.state === 'open').length;
    for (const format of (process.env.FORMATS ?? Object.keys(WRITERS).join(',')).split(',')) {
      runOnce(dir, format, data); // warm-up: the JIT, the memo
      const runs = Array.from({ length: RUNS }, () => runOnce(dir, format, data));
      const s = median(runs.map((r) => r.seconds));
      const cpu = median(runs.map((r) => r.cpu));
      const units = format === 'list' ? open : data.reports.length;
      const perSecond = units / s;
      const perCpuSecond = units / cpu;
      const target = TARGET[format];
      rows.push({ mix: name, format, units, unit: format === 'list' ? 'open-port lines' : 'hosts', seconds: s, cpu, perSecond, perCpuSecond, mb: runs[0].bytes / 2 ** 20, target, met: target === undefined ? '-' : perSecond >= target ? 'met' : 'missed' });
      console.log(`${name.padEnd(6)} ${format.padEnd(9)} ${fmt(perSecond).padStart(11)} ${format === 'list' ? 'lines' : 'hosts'}/s wall, ${fmt(perCpuSecond).padStart(11)}/s CPU  (${fmt(units)} in ${(s * 1000).toFixed(1)} ms, ${(runs[0].bytes / 2 ** 20).toFixed(1)} MiB)${target ? `  target ${fmt(target)}: ${perSecond >= target ? 'met' : 'MISSED'}` : ''}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (!process.env.NO_RESULTS) {
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  let md = `\n## ${when} UTC — benches/writers.mjs (issue 14): output writers on a realistic host mix\n\n`;
  md += `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${HOSTS.toLocaleString('en-US')} hosts per mix, median of ${RUNS} runs after a warm-up; load average before: ${load}.\n`;
  md += 'Each writer formats the hosts (reports made beforehand from the real model) and writes them through a FileSink (NAME.part, renamed at the end) into the temporary directory; the list writer takes the open-port verdicts. Mixes as described in the header of benches/writers.mjs.\n\n';
  md += 'Rates are units per wall second (the target\'s measure) and per CPU second of the process (user + system: less sensitive to a busy machine).\n\n';
  md += '| mix | format | units | wall ms | per second | CPU ms | per CPU second | MiB written | target | |\n|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of rows) md += `| ${r.mix} | ${r.format} | ${fmt(r.units)} ${r.unit} | ${(r.seconds * 1000).toFixed(1)} | ${fmt(r.perSecond)} | ${(r.cpu * 1000).toFixed(1)} | ${fmt(r.perCpuSecond)} | ${r.mb.toFixed(1)} | ${r.target ? fmt(r.target) : '-'} | ${r.met} |\n`;
  appendFileSync(join(repo, 'benches', 'RESULTS.md'), md);
}
