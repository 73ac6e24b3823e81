// Streaming outputs without a scan: the writers' memoised fast path writes exactly what a
// fresh writer writes for every host; hosts stream when complete (one port: first verdict;
// several: all answered; names first); files are written as NAME.part and renamed, removed
// on failure, continued at an offset; the resume journal and resume file read back what was
// written; the list scan writes every format; the interrupted summary says how far it got.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { continuedOutputs } from '../ts/cli/checkpoint.js';
import { main } from '../ts/cli/main.js';
import { encodeRecords, readJournal, ResumeJournal } from '../ts/engine/resume-journal.js';
import { decodeBatch, type EngineRecord } from '../ts/engine/records.js';
import { fileFingerprint, readResumeFile, RESUME_VERSION, writeResumeFile } from '../ts/engine/resume.js';
import { ScanModel, type HostReport, type PortResult } from '../ts/hosts/model.js';
import { CsvWriter } from '../ts/output/csv.js';
import { GrepableWriter } from '../ts/output/grepable.js';
import { HostSet } from '../ts/output/host-set.js';
import { JsonWriter, jsonHost, NdjsonWriter } from '../ts/output/json.js';
import { Outputs } from '../ts/output/outputs.js';
import { FileSink, type Sink } from '../ts/output/sink.js';
import { HostStream } from '../ts/output/stream.js';
import { doneSentence, type OutputWriter, type RunInfo } from '../ts/output/writer.js';
import { XmlWriter } from '../ts/output/xml.js';
import { formatIPv4 } from '../ts/targets/address.js';
import { parseNmapServices, setServiceTable } from '../ts/targets/services.js';
import { parseTargets, type TargetSet } from '../ts/targets/targets.js';

test.before(() => {
  const names: [string, number][] = [['ssh', 22], ['smtp', 25], ['http', 80], ['https', 443]];
  setServiceTable(parseNmapServices(names.map(([n, p]) => `${n}\t${p}/tcp\t0.1`).join('\n'), 'test'));
});
test.after(() => setServiceTable(undefined));

const NMAP_DTD = '/usr/share/nmap/nmap.dtd';
const BASE = 0xc6130000; // 198.19.0.0
const SYN_ACK = 0x12;
const RST_ACK = 0x14;

function tcp(value: number, port: number, flags: number, ttl = 64, rttUs = 250): EngineRecord {
  const address = formatIPv4(value);
  return { kind: 1, flags, ttl, icmpType: 0, icmpCode: 0, address, target: value, port, window: 0, attempt: 0, rttUs, responder: address, technique: 1 };
}

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-stream-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function info(ports: readonly number[], over: Partial<RunInfo> = {}): RunInfo {
  return { startedAt: new Date(2026, 11, 1, 12, 0, 0), args: ['ferroscan', '-Pn', '-n'], technique: 'syn', ports, addresses: 256, verbose: 0, open: false, reason: false, ...over };
}

/** A sink that keeps what each call wrote. */
function capture(): Sink & { text: string; calls: string[] } {
  const s = { text: '', calls: [] as string[], write(t: string) { s.text += t; s.calls.push(t); }, flush() {}, close() {} };
  return s;
}

/** Hosts of a model fed `records`, with names and MACs on some, in target order. */
async function hosts(targets: TargetSet, ports: number[], records: EngineRecord[], assumeUp = true): Promise<HostReport[]> {
  const model = new ScanModel({ targets, ports, technique: 'syn', assumeUp, isLocal: () => false });
  for (const r of records) model.add(r);
  return [...model.reports()].map((h, i) => (i % 7 === 3 ? { ...h, ptr: `h${i}.lab.example`, mac: '02:00:5E:10:00:01', vendor: 'ICANN, IANA Department' } : i % 11 === 5 ? { ...h, hostname: 'named "x" & <y>' } : h));
}

const WRITERS: Record<string, (sink: Sink) => OutputWriter> = {
  xml: (sink) => new XmlWriter(sink, null),
  grepable: (sink) => new GrepableWriter(sink),
  ndjson: (sink) => new NdjsonWriter(sink),
  json: (sink) => new JsonWriter(sink),
  csv: (sink) => new CsvWriter(sink),
};

/** Each host through one warm writer, and alone through a fresh writer: the texts must agree. */
function assertMemoExact(t: import('ava').ExecutionContext, list: HostReport[], runInfo: RunInfo): void {
  for (const [name, make] of Object.entries(WRITERS)) {
    const warm = capture();
    const w = make(warm);
    w.begin(runInfo);
    const base = warm.calls.length;
    const per: string[] = [];
    for (const h of list) {
      const before = warm.calls.length;
      w.host?.(h);
      per.push(warm.calls.slice(before).join(''));
    }
    t.true(warm.calls.length >= base);
    list.forEach((h, i) => {
      const cold = capture();
      const fresh = make(cold);
      fresh.begin(runInfo);
      const before = cold.calls.length;
      // JSON's separator depends on how many hosts came before: give the fresh writer as many.
      if (name === 'json' && i > 0) fresh.begin(runInfo, { hosts: 1 });
      fresh.host?.(h);
      const text = cold.calls.slice(before).join('');
      // XML's endtime is the writing second; compare without it.
      const strip = (s: string): string => s.replace(/endtime="\d+"/, '');
      if (name === 'json') t.is(strip(per[i]).replace(/^,/, ''), strip(text).replace(/^,/, ''), `${name} host ${h.address}`);
      else t.is(strip(per[i]), strip(text), `${name} host ${h.address}`);
    });
  }
  // NDJSON host lines are JSON.stringify's text of jsonHost(), byte for byte.
  const nd = capture();
  const w = new NdjsonWriter(nd);
  w.begin(runInfo);
  for (const h of list) {
    const before = nd.calls.length;
    w.host(h);
    const line = nd.calls.slice(before).join('');
    const expected = jsonHost(h, runInfo);
    t.is(line, expected ? `${JSON.stringify({ type: 'host', ...expected })}\n` : '', h.address);
  }
}

test('fast path: a sweep\'s one-port hosts are written exactly as a fresh writer writes them', async (t) => {
  const targets = await parseTargets(['198.19.0.0/24'], undefined, { defaultBlocklist: false });
  const records: EngineRecord[] = [];
  for (let i = 0; i < 256; i++) {
    if (i % 5 === 4) continue; // silent: -Pn, filtered
    records.push(tcp(BASE + i, 80, i % 3 === 0 ? RST_ACK : SYN_ACK, i % 2 ? 64 : 63, 100 + i));
  }
  const list = await hosts(targets, [80], records);
  assertMemoExact(t, list, info([80]));
  assertMemoExact(t, list, info([80], { open: true }));
  assertMemoExact(t, list, info([80], { verbose: 1, reason: true }));
});

test('fast path: multi-port patterns, in any arrival order, are reused only when every port agrees', async (t) => {
  const targets = await parseTargets(['198.19.0.0/26'], undefined, { defaultBlocklist: false });
  const ports = Array.from({ length: 40 }, (_, i) => i + 1).concat([80, 443]);
  const records: EngineRecord[] = [];
  for (let i = 0; i < 64; i++) {
    const v = BASE + i;
    const mine = [...ports];
    // arrival order differs from host to host
    if (i % 2) mine.reverse();
    for (const p of mine) {
      if (i % 4 === 0 && p > 30) continue; // some silent ports: filtered extraports
      const open = p === 22 || p === 80 || (i % 8 === 1 && p === 443);
      const ttl = i % 16 === 9 && p === 7 ? 63 : 64; // one port differs in TTL only
      records.push(tcp(v, p, open ? SYN_ACK : RST_ACK, ttl));
    }
  }
  const list = await hosts(targets, ports, records);
  assertMemoExact(t, list, info(ports));
  assertMemoExact(t, list, info(ports, { open: true }));
  assertMemoExact(t, list, info(ports, { verbose: 2 }));
  // The XML of every host is valid.
  const sink = capture();
  const xml = new XmlWriter(sink, null);
  xml.begin(info(ports));
  for (const h of list) xml.host(h);
  xml.end({ finishedAt: new Date(), elapsedSeconds: 1, addresses: 64, up: 64 });
  const r = spawnSync('xmllint', ['--noout', '--dtdvalid', NMAP_DTD, '-'], { input: sink.text, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
});

test('fast path: verdicts made per reply (ICMP, UDP) are told apart by content, router address included', (t) => {
  const ports = [53, 161, 443];
  const mk = (i: number, reasonIp: string | undefined, ttl: number): HostReport => {
    const icmp = { state: 'filtered' as const, reason: 'host-unreach', ttl, ...(reasonIp !== undefined && { reasonIp }) };
    const one: HostReport = { address: formatIPv4(BASE + i), protocol: 'udp', status: { state: 'up', reason: 'user-set', ttl: 0 }, ports: new Map([[53, icmp]]), totalPorts: 1, unanswered: { state: 'open|filtered', reason: 'no-response', ttl: 0 } };
    return i % 2 ? one : { ...one, ports: new Map([[53, { ...icmp }], [161, { state: 'open', reason: 'udp-response', ttl }], [443, { ...icmp, ttl: ttl + 1 }]]), totalPorts: 3 };
  };
  const list = [mk(0, '198.18.0.254', 63), mk(1, '198.18.0.254', 63), mk(2, '198.18.0.253', 63), mk(3, undefined, 63), mk(4, '198.18.0.254', 63), mk(5, '198.18.0.253', 62), mk(6, '198.18.0.254', 62), mk(7, '198.18.0.254', 63)];
  assertMemoExact(t, list, info(ports, { technique: 'udp' }));
  assertMemoExact(t, list.filter((h) => h.totalPorts === 1), info([53], { technique: 'udp' }));
});

test('HostStream: one port — at the first verdict; several — once all have answered; names first; each host once', async (t) => {
  const targets = await parseTargets(['198.19.0.0/28'], undefined, { defaultBlocklist: false });
  const one = new ScanModel({ targets, ports: [80], technique: 'syn', assumeUp: true, isLocal: () => false });
  const written: string[] = [];
  const journal: number[] = [];
  const stream = new HostStream({ write: (h) => void written.push(`${h.address} ${[...h.ports.values()].map((v) => v.state).join()}`), onWritten: (v) => void journal.push(v), facts: {}, targets, namesReady: true });
  stream.attach(one);
  const feed = (model: ScanModel, r: EngineRecord): void => {
    const res: PortResult | undefined = model.add(r);
    if (res) stream.result(res);
  };
  feed(one, tcp(BASE + 1, 80, SYN_ACK));
  feed(one, tcp(BASE + 2, 80, RST_ACK));
  feed(one, tcp(BASE + 1, 80, SYN_ACK)); // a duplicate changes nothing
  t.deepEqual(written, ['198.19.0.1 open', '198.19.0.2 closed']);
  t.deepEqual(journal, [BASE + 1, BASE + 2]);
  t.true(stream.has(BASE + 1) && !stream.has(BASE + 3));

  const three = new ScanModel({ targets, ports: [22, 80, 443], technique: 'syn', assumeUp: true, isLocal: () => false });
  written.length = 0;
  const waiting = new HostStream({ write: (h) => void written.push(`${h.address} ${h.ptr ?? '-'}`), facts: { names: new Map([['198.19.0.5', 'five.lab.example']]) }, targets, namesReady: false, written: new HostSet() });
  waiting.attach(three);
  const feed3 = (r: EngineRecord): void => {
    const res = three.add(r);
    if (res) waiting.result(res);
  };
  feed3(tcp(BASE + 5, 22, SYN_ACK));
  feed3(tcp(BASE + 5, 80, RST_ACK));
  feed3(tcp(BASE + 6, 80, RST_ACK));
  t.deepEqual(written, [], 'not all ports answered yet');
  feed3(tcp(BASE + 5, 443, RST_ACK));
  t.deepEqual(written, [], 'complete, but reverse DNS is still running');
  waiting.namesArrived();
  t.deepEqual(written, ['198.19.0.5 five.lab.example']);
  feed3(tcp(BASE + 6, 22, RST_ACK));
  feed3(tcp(BASE + 6, 443, SYN_ACK));
  t.deepEqual(written, ['198.19.0.5 five.lab.example', '198.19.0.6 -'], 'after the names, hosts stream at once');

  // A resumed run's written hosts are not written again.
  const resumed = new HostSet();
  resumed.add(BASE + 9);
  written.length = 0;
  const again = new HostStream({ write: (h) => void written.push(h.address), facts: {}, targets, namesReady: true, written: resumed });
  const m = new ScanModel({ targets, ports: [80], technique: 'syn', assumeUp: true, isLocal: () => false });
  again.attach(m);
  for (const v of [9, 10]) {
    const res = m.add(tcp(BASE + v, 80, SYN_ACK));
    if (res) again.result(res);
  }
  t.deepEqual(written, ['198.19.0.10']);
});

test('HostSet: membership across /16 blocks', (t) => {
  const s = new HostSet();
  t.true(s.add(0));
  t.false(s.add(0));
  t.true(s.add(0xffffffff));
  t.true(s.add(BASE + 65535));
  t.true(s.has(0xffffffff) && s.has(BASE + 65535) && !s.has(BASE));
  t.is(s.size, 3);
});

test('FileSink: NAME.part while writing, renamed at close; discard leaves NAME as it was; continue cuts at an offset', (t) => {
  const dir = scratch(t);
  const path = join(dir, 'a.txt');
  writeFileSync(path, 'old\n');
  const sink = new FileSink(path, 'test output');
  sink.write('new text\n');
  sink.flush();
  t.is(readFileSync(`${path}.part`, 'utf8'), 'new text\n');
  t.is(readFileSync(path, 'utf8'), 'old\n', 'NAME untouched while the run goes on');
  t.is(sink.bytes, 9);
  sink.close();
  t.is(readFileSync(path, 'utf8'), 'new text\n');
  t.false(existsSync(`${path}.part`));

  const failed = new FileSink(path, 'test output');
  failed.write('half a document');
  failed.discard();
  t.is(readFileSync(path, 'utf8'), 'new text\n');
  t.false(existsSync(`${path}.part`));

  // Continue from NAME (a run that was interrupted and closed its files): a copy, cut.
  const cont = new FileSink(path, 'test output', { continueFrom: { source: path, offset: 4 } });
  cont.write('more\n');
  cont.close();
  t.is(readFileSync(path, 'utf8'), 'new more\n');
  // Continue NAME.part in place (a run killed outright), named by another spelling of the path.
  writeFileSync(`${path}.part`, 'kept|dropped');
  const inPlace = new FileSink(path, 'test output', { continueFrom: { source: join(dir, '.', 'a.txt.part'), offset: 5 } });
  inPlace.write('appended');
  inPlace.flush();
  inPlace.discard();
  t.is(readFileSync(`${path}.part`, 'utf8'), 'kept|appended', 'a failed resumed run keeps the part file it continued');
  t.is(readFileSync(path, 'utf8'), 'new more\n');

  // UTF-8 as written, across buffer flushes, and a text larger than the buffer.
  const wide = new FileSink(join(dir, 'u.txt'), 'test output');
  const parts = ['vendor é', '漢字', '😀\n', 'x'.repeat(300_000), 'end ü\n'];
  for (let i = 0; i < 2000; i++) wide.write(parts[i % 3]);
  wide.write(parts[3]);
  wide.write(parts[4]);
  wide.flush();
  const expected = Array.from({ length: 2000 }, (_, i) => parts[i % 3]).join('') + parts[3] + parts[4];
  t.is(wide.bytes, Buffer.byteLength(expected));
  wide.close();
  t.is(readFileSync(join(dir, 'u.txt'), 'utf8'), expected);

  const dev = new FileSink('/dev/null', 'test output');
  dev.write('x');
  dev.close();
  t.true(existsSync('/dev/null'));
});

test('Outputs: a bad path anywhere fails before any file is touched; abandon removes every NAME.part', (t) => {
  const dir = scratch(t);
  const prev = join(dir, 'prev.xml');
  writeFileSync(prev, '<previous/>\n');
  t.throws(() => Outputs.open([{ format: 'xml', path: prev }, { format: 'normal', path: '/proc/ferroscan-test/x' }], () => {}), { message: /cannot open normal output file "\/proc\/ferroscan-test\/x" for writing: no such directory/ });
  t.throws(() => Outputs.open([{ format: 'xml', path: prev }, { format: 'normal', path: '/proc/x' }], () => {}), { message: /cannot open normal output file "\/proc\/x" for writing/ });
  t.throws(() => Outputs.open([{ format: 'xml', path: prev }, { format: 'grepable', path: dir }], () => {}), { message: /is a directory/ });
  t.is(readFileSync(prev, 'utf8'), '<previous/>\n');
  t.false(existsSync(`${prev}.part`));
  const o = Outputs.open([{ format: 'xml', path: prev }, { format: 'ndjson', path: join(dir, 'n.ndjson') }], () => {});
  o.begin(info([80]));
  o.abandon();
  t.is(readFileSync(prev, 'utf8'), '<previous/>\n');
  t.false(existsSync(`${prev}.part`) || existsSync(join(dir, 'n.ndjson.part')) || existsSync(join(dir, 'n.ndjson')));
});

test('Outputs: marks say where each file stands; a continued XML stays one valid document', async (t) => {
  const dir = scratch(t);
  const path = join(dir, 'r.xml');
  const targets = await parseTargets(['198.19.0.0/30'], undefined, { defaultBlocklist: false });
  const list = await hosts(targets, [80], [tcp(BASE, 80, SYN_ACK), tcp(BASE + 1, 80, SYN_ACK), tcp(BASE + 2, 80, RST_ACK), tcp(BASE + 3, 80, SYN_ACK)]);
  const first = Outputs.open([{ format: 'xml', path }, { format: 'json', path: join(dir, 'r.json') }], () => {});
  first.begin(info([80], { addresses: 4 }));
  first.streamHost(list[0]);
  first.streamHost(list[1]);
  const marks = first.marks();
  t.is(marks[0].offset, readFileSync(`${path}.part`).length);
  t.deepEqual(marks[1].state, { hosts: 2 });
  first.streamHost(list[2]); // after the mark: cut by the resumed run
  first.end({ finishedAt: new Date(), elapsedSeconds: 1, addresses: 4, up: 3, error: 'caught SIGINT signal, cleaning up' });
  const second = Outputs.open([{ format: 'xml', path }, { format: 'json', path: join(dir, 'r.json') }], () => {}, marks.map((m) => ({ source: m.format === 'xml' ? path : join(dir, 'r.json'), offset: m.offset, state: m.state })));
  second.begin(info([80], { addresses: 4 }));
  second.streamHost(list[2]);
  second.host(list[3]);
  second.host(list[0], true); // written by the first run: not again
  second.end({ finishedAt: new Date(), elapsedSeconds: 2, addresses: 4, up: 4 });
  const xml = readFileSync(path, 'utf8');
  t.is((xml.match(/<nmaprun /g) ?? []).length, 1);
  t.deepEqual([...xml.matchAll(/<address addr="([\d.]+)"/g)].map((m) => m[1]), ['198.19.0.0', '198.19.0.1', '198.19.0.2', '198.19.0.3']);
  const r = spawnSync('xmllint', ['--noout', '--dtdvalid', NMAP_DTD, path], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const doc = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { hosts: { address: string }[]; runstats: { exit: string } };
  t.deepEqual(doc.hosts.map((h) => h.address), ['198.19.0.0', '198.19.0.1', '198.19.0.2', '198.19.0.3']);
  t.is(doc.runstats.exit, 'success');
});

test('journal: records, written hosts and discovered hosts read back up to the recorded length', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'j');
  const recs = [tcp(BASE + 1, 80, SYN_ACK, 63, 1234), { ...tcp(BASE + 2, 443, RST_ACK), mac: '02:ab:cd:ef:01:23' }];
  t.deepEqual(decodeBatch(encodeRecords(recs)), recs.map((r) => ({ ...r })));
  const j = new ResumeJournal(file);
  j.records(recs);
  t.false(existsSync(file), 'nothing on disk before the first checkpoint');
  j.hostWritten(BASE + 1);
  j.discovered(new Map([[BASE + 1, { status: { state: 'up' as const, reason: 'echo-reply', ttl: 64 }, rttUs: 99 }], [BASE + 2, { status: { state: 'up' as const, reason: 'arp-response', ttl: 0 }, rttUs: 5, mac: '02:00:00:00:00:02' }]]));
  const length = j.flush();
  j.records([tcp(BASE + 3, 80, SYN_ACK)]);
  j.hostWritten(BASE + 3);
  j.flush();
  j.close();
  const back = readJournal(file, length);
  t.is(back.batches.length, 1);
  t.is(back.batches[0][1].mac, '02:ab:cd:ef:01:23');
  t.deepEqual(back.written, [BASE + 1]);
  t.deepEqual(back.discovered?.get(BASE + 2), { status: { state: 'up', reason: 'arp-response', ttl: 0 }, rttUs: 5, mac: '02:00:00:00:00:02' });
  t.deepEqual(readJournal(file, readFileSync(file).length).written, [BASE + 1, BASE + 3]);
  t.throws(() => readJournal(file, length + 3), { message: /damaged/ });
  // A resumed run cuts the journal at the recorded length and appends.
  const cont = new ResumeJournal(file, length);
  cont.hostWritten(BASE + 7);
  cont.flush();
  cont.close();
  t.deepEqual(readJournal(file, readFileSync(file).length).written, [BASE + 1, BASE + 7]);
});

test('resume file: version 2 round-trips and is checked; version 1 still reads', (t) => {
  const dir = scratch(t);
  const path = join(dir, 'r.resume');
  const out = join(dir, 'o.xml');
  writeFileSync(out, '<?xml version="1.0"?>\n<nmaprun>');
  const state = { version: RESUME_VERSION, argv: ['-p', '80', '198.19.0.0/24'], seed: '9', startPosition: 17, phase: 'ports' as const, journal: { file: `${path}.journal`, length: 0 }, outputs: [{ format: 'xml', path: 'o.xml', file: out, writing: `${out}.part`, committed: true, offset: 10, fingerprint: fileFingerprint(out, 10) }], elapsedSeconds: 1.5 };
  writeResumeFile(path, state);
  t.false(existsSync(`${path}.tmp`));
  t.deepEqual(readResumeFile(path), state);
  writeFileSync(path, JSON.stringify({ ...state, phase: 'later' }));
  t.throws(() => readResumeFile(path), { message: /is not a ferroscan resume file of version 2/ });
  writeFileSync(path, JSON.stringify({ ...state, outputs: [{ ...state.outputs[0], offset: -1 }] }));
  t.throws(() => readResumeFile(path), { message: /is not a ferroscan resume file/ });
  writeFileSync(path, JSON.stringify({ version: 1, argv: ['x'], seed: '1', startPosition: 3 }));
  t.like(readResumeFile(path), { version: 1, startPosition: 3, outputs: [], phase: 'ports' });
  t.not(fileFingerprint(out, 10), fileFingerprint(out, 9));
  t.is(fileFingerprint(join(dir, 'missing'), 10), '');
});

test('a resumed run continues NAME.part (killed run) or NAME (closed run), and refuses a file that changed', (t) => {
  const dir = scratch(t);
  const name = join(dir, 'o.xml');
  writeFileSync(`${name}.part`, '<?xml version="1.0"?>\n<nmaprun>\n<host/>\n<half');
  const offset = Buffer.byteLength('<?xml version="1.0"?>\n<nmaprun>\n<host/>\n');
  const out = { format: 'xml', path: 'o.xml', file: name, writing: `${name}.part`, committed: false, offset, fingerprint: fileFingerprint(`${name}.part`, offset) };
  const state = { version: RESUME_VERSION, argv: [], seed: '1', startPosition: 0, phase: 'ports' as const, outputs: [out], elapsedSeconds: 0 };
  const targets = [{ format: 'xml' as const, path: 'o.xml' }, { format: 'list' as const, path: '-' }];
  t.deepEqual(continuedOutputs(targets, state), { targets: [{ format: 'xml', path: name }, targets[1]], continued: [{ source: `${name}.part`, offset }, undefined] });
  // Closed by an interrupted run: NAME holds it (and the part file is gone).
  writeFileSync(name, readFileSync(`${name}.part`));
  rmSync(`${name}.part`);
  t.deepEqual(continuedOutputs(targets, { ...state, outputs: [{ ...out, committed: true }] }).continued, [{ source: name, offset }, undefined]);
  // Changed since: refused before anything is sent.
  writeFileSync(name, '<?xml version="1.0"?>\n<other/>\n<host/>\n....');
  t.throws(() => continuedOutputs(targets, { ...state, outputs: [{ ...out, committed: true }] }), { message: `cannot resume: the output file "${name}" is missing or has changed since the interrupted run` });
});

test('the interrupted summary says how far the scan got', (t) => {
  const end = { finishedAt: new Date(), elapsedSeconds: 0.52, addresses: 65536, up: 1566 };
  t.is(doneSentence(end), '65536 IP addresses (1566 hosts up) scanned in 0.52 seconds');
  t.is(doneSentence({ ...end, progress: { phase: 'ports', probesSent: 31589, probes: 65536 } }), '65536 IP addresses, 48.2% probed (31589 of 65536 probes sent), 1566 hosts up so far, in 0.52 seconds');
  t.is(doneSentence({ ...end, up: 0, progress: { phase: 'discovery', probesSent: 0, probes: 0, found: 1 } }), '65536 IP addresses, host discovery not finished (1 host found up so far, no port scanned), in 0.52 seconds');
});

test('-sL writes every output file as nmap writes a list scan (XML valid, status unknown)', async (t) => {
  const dir = scratch(t);
  const f = (n: string): string => join(dir, n);
  let stdout = '';
  const code = await main(['-sL', '-n', '198.18.0.1-3', '-oX', f('l.xml'), '-oG', f('l.gnmap'), '-oN', f('l.nmap'), '--ndjson', f('l.ndjson')], (s) => void (stdout += s));
  t.is(code, 0);
  t.regex(stdout, /scan report for 198\.18\.0\.3\n/);
  const xml = readFileSync(f('l.xml'), 'utf8');
  t.is((xml.match(/<host><status state="unknown" reason="user-set" reason_ttl="0"\/>\n<address addr="198\.18\.0\.\d" addrtype="ipv4"\/>\n<\/host>/g) ?? []).length, 3);
  t.false(xml.includes('<scaninfo'));
  t.regex(xml, /<hosts up="0" down="3" total="3"\/>/);
  const r = spawnSync('xmllint', ['--noout', '--dtdvalid', NMAP_DTD, f('l.xml')], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(readFileSync(f('l.gnmap'), 'utf8'), /^Host: 198\.18\.0\.2 \(\)\tStatus: Unknown$/m);
  t.regex(readFileSync(f('l.nmap'), 'utf8'), /^# ferroscan \S+ scan initiated .*\nferroscan scan report for 198\.18\.0\.1\n.*\n.*\n# ferroscan done at .* -- 3 IP addresses \(0 hosts up\) scanned in/);
  const lines = readFileSync(f('l.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; status?: { state: string } });
  t.deepEqual(lines.map((l) => l.type), ['begin', 'host', 'host', 'host', 'end']);
  t.is(lines[1].status?.state, 'unknown');
});
