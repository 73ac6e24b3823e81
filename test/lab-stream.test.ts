// Streaming outputs and resuming on the lab (issues 14 and 16): sweeps of the lab's routed
// range (every address answers on port 80) writing every format at once. Checked: hosts reach
// the files (NAME.part) while the scan runs, and every file is complete and valid after a
// normal exit and after SIGINT (xmllint with nmap.dtd, every NDJSON line parsed, CSV rows);
// an interrupted run says how far it got; --resume after SIGINT and after kill -9 appends to
// the interrupted run's files, so that the union is a full run's with every host exactly once
// in every format, with and without host discovery; a bad output path or --resume-file fails
// before any probe and leaves existing files as they were. Timings are never asserted: the
// tests wait for what the files say.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, useLab, type ExecResult } from './helpers/lab.js';
import { readText, scratch, startFerroscan, validateXml, waitFor, type Running } from './helpers/output-tools.js';

const lab = useLab(test);

/** Every output format, each in its own file under the run's directory. */
const OUTPUTS = ['-oX', 's.xml', '-oG', 's.gnmap', '--ndjson', 's.ndjson', '--csv', 's.csv', '-oL', 's.list', '-oJ', 's.json', '-oN', 's.nmap'];
const FILES = ['s.xml', 's.gnmap', 's.ndjson', 's.csv', 's.list', 's.json', 's.nmap'];

/** The first `bits` host bits of the lab's sweep range: "198.19.0.0/20". */
function sweepRange(bits: number): { cidr: string; addresses: string[] } {
  const [base] = lab().facts.sweepCidr.split('/');
  const b = base.split('.').map(Number);
  const start = ((b[0] << 24) | (b[1] << 16)) >>> 0;
  const n = 2 ** bits;
  const addresses = Array.from({ length: n }, (_, i) => {
    const v = start + i;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  });
  return { cidr: `${b[0]}.${b[1]}.0.0/${32 - bits}`, addresses };
}

/** The hosts each format lists, in file order, and the port states it gives them. */
interface Listed {
  xml: string[];
  gnmap: string[];
  ndjsonHosts: string[];
  ndjsonPorts: string[];
  csv: string[];
  list: string[];
  json: string[];
  nmap: string[];
  /** address → port 80's state, from the XML. */
  states: Map<string, string>;
}

/** Reads and checks every file of a run: valid and complete documents, each line whole. */
function readAll(t: ExecutionContext, dir: string): Listed {
  const f = (n: string): string => join(dir, n);
  const v = validateXml(f('s.xml'));
  t.true(v.ok, v.out);
  const xml = readText(f('s.xml'));
  t.is((xml.match(/<nmaprun /g) ?? []).length, 1, 'one XML document');
  const states = new Map<string, string>();
  const xmlHosts: string[] = [];
  for (const m of xml.matchAll(/<host [^>]*>[\s\S]*?<\/host>/g)) {
    const addr = /<address addr="([\d.]+)" addrtype="ipv4"\/>/.exec(m[0])?.[1] ?? '?';
    xmlHosts.push(addr);
    states.set(addr, /portid="80"><state state="([^"]+)"/.exec(m[0])?.[1] ?? 'none');
  }
  const ndjson = readText(f('s.ndjson'));
  t.true(ndjson.endsWith('\n'));
  const objs = ndjson.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; address?: string });
  t.is(objs[0].type, 'begin');
  t.is(objs.filter((o) => o.type === 'begin').length, 1);
  t.is(objs.at(-1)?.type, 'end');
  const csv = readText(f('s.csv'));
  t.true(csv.startsWith('address,hostname,protocol,port,state,reason,reason_ttl,reason_ip,service\r\n'));
  t.is((csv.match(/^address,/gm) ?? []).length, 1, 'one CSV header');
  const csvRows = csv.split('\r\n').slice(1, -1);
  for (const row of csvRows) t.regex(row, /^[\d.]+,,tcp,80,\w+,[\w-]+,\d+,,http$/);
  t.is(csv.split('\r\n').at(-1), '', 'CSV ends with a whole row');
  const list = readText(f('s.list'));
  t.regex(list, /^#masscan\n(open tcp 80 [\d.]+ \d+\n)*# end\n$/);
  const doc = JSON.parse(readText(f('s.json'))) as { hosts: { address: string }[] };
  const nmap = readText(f('s.nmap'));
  t.regex(nmap, /^# ferroscan \S+ scan initiated .*\n/);
  t.regex(nmap, /\n# ferroscan done at .*\n$/);
  t.is((nmap.match(/scan initiated/g) ?? []).length, 1);
  const gnmap = readText(f('s.gnmap'));
  t.regex(gnmap, /\n# ferroscan done at .*\n$/);
  return {
    xml: xmlHosts,
    gnmap: [...gnmap.matchAll(/^Host: ([\d.]+) \(\)\tPorts: /gm)].map((m) => m[1]),
    ndjsonHosts: objs.filter((o) => o.type === 'host').map((o) => o.address ?? '?'),
    ndjsonPorts: objs.filter((o) => o.type === 'port').map((o) => o.address ?? '?'),
    csv: csvRows.map((r) => r.split(',')[0]),
    list: [...list.matchAll(/^open tcp 80 ([\d.]+) /gm)].map((m) => m[1]),
    json: doc.hosts.map((h) => h.address),
    nmap: [...nmap.matchAll(/^ferroscan scan report for ([\d.]+)$/gm)].map((m) => m[1]),
    states,
  };
}

/** Every format lists exactly `addresses`, each once (the normal file in target order). */
function assertEachOnce(t: ExecutionContext, got: Listed, addresses: readonly string[]): void {
  const want = [...addresses].sort();
  for (const key of ['xml', 'gnmap', 'ndjsonHosts', 'ndjsonPorts', 'csv', 'list', 'json', 'nmap'] as const) {
    const list = got[key];
    t.is(list.length, addresses.length, `${key}: ${list.length} lines for ${addresses.length} hosts`);
    t.deepEqual([...list].sort(), want, `${key}: every host exactly once`);
  }
  t.deepEqual(got.nmap, [...addresses], 'the normal file is in target order');
}

/** No NAME.part, resume file or journal is left behind. */
function assertTidy(t: ExecutionContext, dir: string): void {
  const left = readdirSync(dir).filter((n) => n.endsWith('.part') || n.includes('ferroscan.resume'));
  t.deepEqual(left, []);
}

async function finish(t: ExecutionContext, run: Running, code: number): Promise<ExecResult> {
  const r = await run.done;
  t.is(r.code, code, describe('ferroscan', r));
  return r;
}

test.serial('a sweep streams every format while it runs; all files complete and valid at the end, every host once', async (t) => {
  const dir = scratch(t);
  const { cidr, addresses } = sweepRange(12);
  const run = startFerroscan(lab(), ['-Pn', '-n', '-p', '80', '--rate', '1500', cidr, ...OUTPUTS], dir);
  // Each file is flushed on its own (64 KiB or 200 ms): wait until every streaming one has hosts.
  const streamed = (): boolean =>
    (readText(join(dir, 's.xml.part')).match(/<\/host>/g) ?? []).length >= 100 &&
    readText(join(dir, 's.ndjson.part')).includes('"type":"host"') &&
    readText(join(dir, 's.gnmap.part')).includes('\tPorts: 80/open/tcp//http///') &&
    readText(join(dir, 's.csv.part')).includes(',tcp,80,open,') &&
    readText(join(dir, 's.json.part')).includes('"address"') &&
    readText(join(dir, 's.list.part')).includes('open tcp 80 ');
  await waitFor('hosts in every streaming format while the scan runs', streamed, 60_000);
  t.is(run.child.exitCode, null, 'still scanning');
  t.regex(readText(join(dir, 's.xml.part')), /^<\?xml [\s\S]*<nmaprun [\s\S]*<\/host>\n/);
  t.is(readText(join(dir, 's.nmap.part')).split('\n').filter(Boolean).length, 1, 'the normal file waits for the end (sorted)');
  for (const f of FILES) t.false(existsSync(join(dir, f)), `${f} appears only at the end`);
  const r = await finish(t, run, 0);
  t.regex(r.stdout, new RegExp(`ferroscan done: ${addresses.length} IP addresses \\(${addresses.length} hosts up\\) scanned in`));
  const got = readAll(t, dir);
  assertEachOnce(t, got, addresses);
  t.true([...got.states.values()].every((s) => s === 'open'));
  t.notDeepEqual(got.xml, addresses, 'XML hosts follow completion (the probe order), not target order');
  assertTidy(t, dir);
});

test.serial('SIGINT mid-sweep: every file valid, the report says how far it got; --resume appends and each host is written once', async (t) => {
  const dir = scratch(t);
  const { cidr, addresses } = sweepRange(12);
  const run = startFerroscan(lab(), ['-Pn', '-n', '-p', '80', '--rate', '1000', cidr, ...OUTPUTS], dir);
  await waitFor('300 hosts written', () => (readText(join(dir, 's.ndjson.part')).match(/"type":"host"/g) ?? []).length >= 300, 60_000);
  run.child.kill('SIGINT');
  const first = await finish(t, run, 130);
  t.is(first.stderr, 'ferroscan: interrupted; to continue: ferroscan --resume ferroscan.resume\n');
  const m = /ferroscan done: 4096 IP addresses, ([\d.]+)% probed \((\d+) of 4096 probes sent\), (\d+) hosts up so far, in [\d.]+ seconds\n$/.exec(first.stdout);
  t.truthy(m, first.stdout.slice(-300));
  const part = readAll(t, dir);
  const up = Number(m?.[3]);
  t.true(up >= 300 && up < addresses.length, `${up} hosts up so far`);
  // Only hosts that answered are listed, and the summary does not call the rest up or down.
  t.is(part.xml.length, up);
  t.regex(readText(join(dir, 's.xml')), new RegExp(`exit="error" errormsg="caught SIGINT signal, cleaning up"/><hosts up="${up}" down="0" total="4096"/>`));
  t.true(existsSync(join(dir, 'ferroscan.resume')));

  const second = await startFerroscan(lab(), ['--resume', 'ferroscan.resume'], dir).done;
  t.is(second.code, 0, describe('ferroscan --resume', second));
  assertEachOnce(t, readAll(t, dir), addresses);
  t.regex(readText(join(dir, 's.xml')), /<finished [^>]*exit="success"\/><hosts up="4096" down="0" total="4096"\/>/);
  assertTidy(t, dir);
});

test.serial('kill -9 mid-sweep: the files are left alone, --resume continues from the last checkpoint, each host exactly once', async (t) => {
  const dir = scratch(t);
  const { cidr, addresses } = sweepRange(12);
  writeFileSync(join(dir, 's.xml'), '<previous run/>\n');
  const run = startFerroscan(lab(), ['-Pn', '-n', '-p', '80', '--rate', '600', cidr, ...OUTPUTS], dir);
  // Wait for a checkpoint of the port scan with hosts in it, then kill outright.
  await waitFor('a checkpoint past position 500', () => {
    const text = readText(join(dir, 'ferroscan.resume'));
    const pos = Number(/"startPosition": (\d+)/.exec(text)?.[1] ?? 0);
    return pos > 500;
  }, 90_000);
  t.is(run.child.exitCode, null, 'still scanning when killed');
  run.child.kill('SIGKILL');
  await run.done;
  t.is(readText(join(dir, 's.xml')), '<previous run/>\n', 'a killed run leaves the old file as it was');
  for (const f of FILES) t.true(existsSync(join(dir, `${f}.part`)), `${f}.part holds what was written`);
  const saved = JSON.parse(readText(join(dir, 'ferroscan.resume'))) as { startPosition: number; outputs: { offset: number; writing: string }[] };
  for (const o of saved.outputs) t.true(statSync(o.writing).size >= o.offset);

  const r = await startFerroscan(lab(), ['--resume', 'ferroscan.resume'], dir).done;
  t.is(r.code, 0, describe('ferroscan --resume', r));
  const got = readAll(t, dir);
  assertEachOnce(t, got, addresses);
  t.true([...got.states.values()].every((s) => s === 'open'));
  assertTidy(t, dir);
});

test.serial('with host discovery: Ctrl-C in discovery, then in the port scan, resumed each time: the union is the full run, each host once', async (t) => {
  const dir = scratch(t);
  const { cidr, addresses } = sweepRange(11);
  const args = ['-n', '-p', '80', '--rate', '400', cidr, ...OUTPUTS];
  const run = startFerroscan(lab(), args, dir);
  await waitFor('the scan to start', () => existsSync(join(dir, 's.xml.part')), 60_000);
  await new Promise((r) => setTimeout(r, 1500));
  run.child.kill('SIGINT');
  const first = await finish(t, run, 130);
  t.regex(first.stdout, /ferroscan done: 2048 IP addresses, host discovery not finished \(\d+ hosts? found up so far, no port scanned\), in [\d.]+ seconds\n$/);
  t.false(/scan report for/.test(first.stdout), 'no host is reported before its ports were scanned');
  t.is(readAll(t, dir).xml.length, 0);
  t.is(JSON.parse(readText(join(dir, 'ferroscan.resume'))).phase, 'discovery');

  const again = startFerroscan(lab(), ['--resume', 'ferroscan.resume'], dir);
  await waitFor('200 hosts of the port scan', () => (readText(join(dir, 's.ndjson.part')).match(/"type":"host"/g) ?? []).length >= 200, 90_000);
  again.child.kill('SIGINT');
  const second = await finish(t, again, 130);
  t.regex(second.stdout, /ferroscan done: 2048 IP addresses, [\d.]+% probed \(\d+ of 2048 probes sent\), \d+ hosts up so far/);
  const part = readAll(t, dir);
  t.true(part.xml.length >= 200 && part.xml.length < 2048);
  t.regex(readText(join(dir, 's.xml')), /<hosts up="\d+" down="0" total="2048"\/>/);
  t.is(JSON.parse(readText(join(dir, 'ferroscan.resume'))).phase, 'ports');

  const last = await startFerroscan(lab(), ['--resume', 'ferroscan.resume'], dir).done;
  t.is(last.code, 0, describe('ferroscan --resume', last));
  const got = readAll(t, dir);
  assertEachOnce(t, got, addresses);
  t.regex(readText(join(dir, 's.xml')), /status state="up" reason="echo-reply"/);
  assertTidy(t, dir);
});

test.serial('a path that cannot be written fails before any probe and leaves existing files as they were', async (t) => {
  const dir = scratch(t);
  const prev = join(dir, 'prev.xml');
  writeFileSync(prev, '<previous/>\n');
  const before = statSync(prev).mtimeMs;
  const addr = lab().facts.targetAddr;
  const bad = await startFerroscan(lab(), ['-Pn', '-n', '-p', '80', addr, '-oX', prev, '-oN', '/proc/x'], dir).done;
  t.is(bad.code, 1);
  t.is(bad.stderr, 'ferroscan: cannot open normal output file "/proc/x" for writing: cannot create a file there\n');
  t.is(bad.stdout, '', 'no scan started');
  t.is(readText(prev), '<previous/>\n');
  t.is(statSync(prev).mtimeMs, before);
  const resume = await startFerroscan(lab(), ['-Pn', '-n', '-p', '80', addr, '-oX', prev, '--resume-file', join(dir, 'no', 'such', 'r.resume')], dir).done;
  t.is(resume.code, 1);
  t.regex(resume.stderr, /^ferroscan: cannot open resume file ".*r\.resume" for writing: no such directory\n$/);
  t.is(readText(prev), '<previous/>\n');
  t.deepEqual(readdirSync(dir).sort(), ['prev.xml']);
  const dirAsFile = await startFerroscan(lab(), ['-Pn', '-n', '-p', '80', addr, '-oG', dir], dir).done;
  t.is(dirAsFile.code, 1);
  t.regex(dirAsFile.stderr, /is a directory\n$/);
});
