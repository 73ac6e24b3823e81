// The structured writers (XML, grepable, -oN file, JSON, NDJSON, CSV, list) on hand-built
// hosts, against literal nmap 7.93 output captured on the lab (198.18.0.2, ports 1-1000,
// 20-25, --open), and XML against nmap's DTD with xmllint. No scan runs here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Verdict } from '../ts/verdicts/classify.js';
import type { HostReport } from '../ts/hosts/model.js';
import { CsvWriter } from '../ts/output/csv.js';
import { ctime, csvField, portRanges, xmlArgs } from '../ts/output/format.js';
import { GrepableWriter } from '../ts/output/grepable.js';
import { JsonWriter, NdjsonWriter } from '../ts/output/json.js';
import { ListWriter } from '../ts/output/list.js';
import { NormalFileWriter } from '../ts/output/normal-file.js';
import { extractOutputOptions, Outputs } from '../ts/output/outputs.js';
import type { Sink } from '../ts/output/sink.js';
import type { OutputWriter, RunEnd, RunInfo } from '../ts/output/writer.js';
import { XmlWriter } from '../ts/output/xml.js';
import { parseNmapServices, setServiceTable } from '../ts/targets/services.js';

const NMAP_DTD = '/usr/share/nmap/nmap.dtd';

test.before(() => {
  const names: [string, number][] = [['ftp-data', 20], ['ftp', 21], ['ssh', 22], ['telnet', 23], ['priv-mail', 24], ['smtp', 25], ['http', 80], ['pop3', 110], ['ident', 113], ['msrpc', 135], ['imap', 143], ['https', 443], ['microsoft-ds', 445]];
  setServiceTable(parseNmapServices(names.map(([n, p]) => `${n}\t${p}/tcp\t0.1`).join('\n'), 'test'));
});
test.after(() => setServiceTable(undefined));

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const v = (state: Verdict['state'], reason: string, ttl = 64): Verdict => ({ state, reason, ttl });
const START = new Date(2026, 10, 26, 1, 51, 19);
const END = new Date(2026, 10, 26, 1, 51, 22);

/** The lab target's answers to ports 1-1000, as nmap saw them (Not shown: 989 closed). */
function labHost(ports: number[]): HostReport {
  const special: Record<number, Verdict> = {
    21: v('filtered', 'host-unreach'), 22: v('open', 'syn-ack'), 23: v('filtered', 'net-unreach'), 80: v('open', 'syn-ack'), 110: v('filtered', 'host-prohibited'),
    113: v('filtered', 'port-unreach'), 143: v('filtered', 'net-prohibited'), 443: v('open', 'syn-ack'), 445: v('filtered', 'admin-prohibited'),
  };
  const answered = new Map<number, Verdict>();
  for (const p of ports) if (p !== 25 && p !== 135) answered.set(p, special[p] ?? v('closed', 'reset'));
  return { address: '198.18.0.2', protocol: 'tcp', status: { state: 'up', reason: 'reset', ttl: 64 }, latency: 0.000013, ports: answered, totalPorts: ports.length, unanswered: v('filtered', 'no-response', 0) };
}
const downHost = (address: string): HostReport => ({ address, protocol: 'tcp', status: { state: 'down', reason: 'no-response', ttl: 0 }, ports: new Map(), totalPorts: 6, unanswered: v('filtered', 'no-response', 0) });

function info(ports: number[], over: Partial<RunInfo> = {}): RunInfo {
  return { startedAt: START, args: ['ferroscan', '-sS', '-n', '-p', '1-1000', '198.18.0.2'], technique: 'syn', ports, addresses: 2, verbose: 0, open: false, reason: false, ...over };
}
const END_OK: RunEnd = { finishedAt: END, elapsedSeconds: 2.49, addresses: 2, up: 1 };

function run(make: (sink: Sink) => OutputWriter, i: RunInfo, hosts: HostReport[], end: RunEnd = END_OK): string {
  let s = '';
  const w = make({ write: (t) => void (s += t), flush() {}, close() {} });
  w.begin(i);
  w.scanEnded?.(END);
  for (const h of hosts) w.host?.(h);
  w.end(end);
  return s;
}

function xmllint(xml: string): { ok: boolean; out: string } {
  const r = spawnSync('xmllint', ['--noout', '--dtdvalid', NMAP_DTD, '-'], { input: xml, encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

const NMAP_PORTS_1_1000 = `<ports><extraports state="closed" count="989">
<extrareasons reason="reset" count="989" proto="tcp" ports="1-20,24,26-79,81-109,111-112,114-134,136-142,144-442,444,446-1000"/>
</extraports>
<port protocol="tcp" portid="21"><state state="filtered" reason="host-unreach" reason_ttl="64"/><service name="ftp" method="table" conf="3"/></port>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="ssh" method="table" conf="3"/></port>
<port protocol="tcp" portid="23"><state state="filtered" reason="net-unreach" reason_ttl="64"/><service name="telnet" method="table" conf="3"/></port>
<port protocol="tcp" portid="25"><state state="filtered" reason="no-response" reason_ttl="0"/><service name="smtp" method="table" conf="3"/></port>
<port protocol="tcp" portid="80"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="http" method="table" conf="3"/></port>
<port protocol="tcp" portid="110"><state state="filtered" reason="host-prohibited" reason_ttl="64"/><service name="pop3" method="table" conf="3"/></port>
<port protocol="tcp" portid="113"><state state="filtered" reason="port-unreach" reason_ttl="64"/><service name="ident" method="table" conf="3"/></port>
<port protocol="tcp" portid="135"><state state="filtered" reason="no-response" reason_ttl="0"/><service name="msrpc" method="table" conf="3"/></port>
<port protocol="tcp" portid="143"><state state="filtered" reason="net-prohibited" reason_ttl="64"/><service name="imap" method="table" conf="3"/></port>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="https" method="table" conf="3"/></port>
<port protocol="tcp" portid="445"><state state="filtered" reason="admin-prohibited" reason_ttl="64"/><service name="microsoft-ds" method="table" conf="3"/></port>
</ports>`;

test('XML: nmap 7.93 layout for ports 1-1000 of the lab target, valid against nmap.dtd', (t) => {
  const ports = range(1, 1000);
  const xml = run((s) => new XmlWriter(s), info(ports), [labHost(ports)]);
  t.true(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n<?xml-stylesheet href="'), xml.slice(0, 200));
  t.true(xml.includes(`<!-- ferroscan 0.1.0 scan initiated ${ctime(START)} as: ferroscan -sS -n -p 1-1000 198.18.0.2 -->\n<nmaprun scanner="nmap" args="ferroscan -sS -n -p 1-1000 198.18.0.2" start="${Math.floor(START.getTime() / 1000)}" startstr="${ctime(START)}" version="0.1.0" xmloutputversion="1.05">\n<scaninfo type="syn" protocol="tcp" numservices="1000" services="1-1000"/>\n<verbose level="0"/>\n<debugging level="0"/>\n<host `));
  t.true(xml.includes(`<address addr="198.18.0.2" addrtype="ipv4"/>\n<hostnames>\n</hostnames>\n${NMAP_PORTS_1_1000}\n<times srtt="13" rttvar="7" to="100000"/>\n</host>\n`), xml);
  const done = ctime(END);
  t.true(xml.endsWith(`<runstats><finished time="${Math.floor(END.getTime() / 1000)}" timestr="${done}" summary="ferroscan done at ${done}; 2 IP addresses (1 host up) scanned in 2.49 seconds" elapsed="2.49" exit="success"/><hosts up="1" down="1" total="2"/>\n</runstats>\n</nmaprun>\n`));
  const lint = xmllint(xml);
  t.true(lint.ok, lint.out);
});

test('XML: -v adds taskbegin/taskend and down hosts; --open folds every other state', (t) => {
  const ports = range(20, 25);
  const xml = run((s) => new XmlWriter(s), info(ports, { verbose: 1 }), [labHost(ports), downHost('198.18.0.7')]);
  t.regex(xml, /<debugging level="0"\/>\n<taskbegin task="SYN Stealth Scan" time="\d+"\/>\n<taskend task="SYN Stealth Scan" time="\d+" extrainfo="12 total ports"\/>\n<host /);
  t.true(xml.includes('<host><status state="down" reason="no-response" reason_ttl="0"/>\n<address addr="198.18.0.7" addrtype="ipv4"/>\n</host>\n'));
  t.true(xml.includes('<port protocol="tcp" portid="20"><state state="closed" reason="reset" reason_ttl="64"/><service name="ftp-data" method="table" conf="3"/></port>'));
  t.true(xmllint(xml).ok, xmllint(xml).out);
  const open = run((s) => new XmlWriter(s), info(ports, { open: true }), [labHost(ports), downHost('198.18.0.7')]);
  // As nmap 7.93 wrote it for the lab with --open -p 20-25.
  t.true(open.includes(`<ports><extraports state="filtered" count="3">
<extrareasons reason="no-response" count="1" proto="tcp" ports="25"/>
<extrareasons reason="net-unreach" count="1" proto="tcp" ports="23"/>
<extrareasons reason="host-unreach" count="1" proto="tcp" ports="21"/>
</extraports>
<extraports state="closed" count="2">
<extrareasons reason="reset" count="2" proto="tcp" ports="20,24"/>
</extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="ssh" method="table" conf="3"/></port>
</ports>`), open);
  t.false(open.includes('198.18.0.7'));
  t.true(xmllint(open).ok);
});

test('XML: escaping, hostnames, reason_ip, unknown services, interrupted runstats stay valid', (t) => {
  const h: HostReport = {
    address: '198.18.0.9', protocol: 'tcp', hostname: 'a&b<"c">', status: { state: 'up', reason: 'user-set', ttl: 0 },
    ports: new Map([[61234, v('closed', 'reset')], [21, { ...v('filtered', 'host-unreach'), reasonIp: '198.18.0.254' }]]), totalPorts: 2, unanswered: v('filtered', 'no-response', 0),
  };
  const i = info([21, 61234], { args: ['ferroscan', '--reason', 'x"y&z<w>--', 'tab\there', '---'] });
  const xml = run((s) => new XmlWriter(s), i, [h], { ...END_OK, error: 'caught SIGINT signal, <cleaning> up & "out"' });
  t.true(xml.includes('args="ferroscan -&#45;reason x&quot;y&amp;z&lt;w&gt;-&#45; tab&#9;here -&#45;-"'), xml);
  t.true(xml.includes('<hostname name="a&amp;b&lt;&quot;c&quot;&gt;" type="user"/>'));
  t.true(xml.includes('<port protocol="tcp" portid="21"><state state="filtered" reason="host-unreach" reason_ttl="64" reason_ip="198.18.0.254"/><service name="ftp" method="table" conf="3"/></port>'));
  t.true(xml.includes('<port protocol="tcp" portid="61234"><state state="closed" reason="reset" reason_ttl="64"/></port>'), 'nmap writes no <service> for unnamed ports');
  t.true(xml.includes('<times srtt="-1" rttvar="-1" to="1000000"/>'));
  t.true(xml.includes('exit="error" errormsg="caught SIGINT signal, &lt;cleaning&gt; up &amp; &quot;out&quot;"/>'));
  const lint = xmllint(xml);
  t.true(lint.ok, lint.out);
});

test('XML: a document closed before any host is still valid', (t) => {
  const xml = run((s) => new XmlWriter(s), info([22]), [], { ...END_OK, up: 0, error: 'caught SIGTERM signal, cleaning up' });
  t.true(xmllint(xml).ok, xmllint(xml).out);
});

test('grepable: nmap 7.93 lines, Ignored State only for a single folded state', (t) => {
  const ports = range(1, 1000);
  const g = run((s) => new GrepableWriter(s), info(ports), [labHost(ports)]).split('\n');
  t.is(g[0], `# ferroscan 0.1.0 scan initiated ${ctime(START)} as: ferroscan -sS -n -p 1-1000 198.18.0.2`);
  t.is(g[1], 'Host: 198.18.0.2 ()\tStatus: Up');
  t.is(g[2], 'Host: 198.18.0.2 ()\tPorts: 21/filtered/tcp//ftp///, 22/open/tcp//ssh///, 23/filtered/tcp//telnet///, 25/filtered/tcp//smtp///, 80/open/tcp//http///, 110/filtered/tcp//pop3///, 113/filtered/tcp//ident///, 135/filtered/tcp//msrpc///, 143/filtered/tcp//imap///, 443/open/tcp//https///, 445/filtered/tcp//microsoft-ds///\tIgnored State: closed (989)');
  t.is(g[3], `# ferroscan done at ${ctime(END)} -- 2 IP addresses (1 host up) scanned in 2.49 seconds`);
  const p = range(20, 25);
  const verbose = run((s) => new GrepableWriter(s), info(p, { verbose: 1 }), [downHost('198.18.0.7'), labHost(p)]).split('\n');
  t.is(verbose[1], '# Ports scanned: TCP(6;20-25) UDP(0;) SCTP(0;) PROTOCOLS(0;)');
  t.is(verbose[2], 'Host: 198.18.0.7 ()\tStatus: Down');
  t.is(verbose[4], 'Host: 198.18.0.2 ()\tPorts: 20/closed/tcp//ftp-data///, 21/filtered/tcp//ftp///, 22/open/tcp//ssh///, 23/filtered/tcp//telnet///, 24/closed/tcp//priv-mail///, 25/filtered/tcp//smtp///');
  const open = run((s) => new GrepableWriter(s), info(p, { open: true }), [labHost(p)]).split('\n');
  t.is(open[2], 'Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///');
  const openOne = run((s) => new GrepableWriter(s), info([22, 53, 139], { open: true }), [labHost([22, 53, 139])]).split('\n');
  t.is(openOne[2], 'Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///\tIgnored State: closed (2)');
  const none = run((s) => new GrepableWriter(s), info(range(1000, 1100)), [labHost(range(1000, 1100))]).split('\n');
  t.is(none[2], 'Host: 198.18.0.2 ()\tPorts: \tIgnored State: closed (101)');
});

test('-oN file: nmap log file frame around the normal report', (t) => {
  const p = range(20, 25);
  const out = run((s) => new NormalFileWriter(s), info(p, { verbose: 1 }), [downHost('198.18.0.9'), labHost(p)], { ...END_OK, dataSource: '/usr/share/nmap' });
  t.is(out, [
    `# ferroscan 0.1.0 scan initiated ${ctime(START)} as: ferroscan -sS -n -p 1-1000 198.18.0.2`,
    'ferroscan scan report for 198.18.0.9 [host down]',
    'ferroscan scan report for 198.18.0.2',
    'Host is up (0.000013s latency).',
    '',
    'PORT   STATE    SERVICE',
    '20/tcp closed   ftp-data',
    '21/tcp filtered ftp',
    '22/tcp open     ssh',
    '23/tcp filtered telnet',
    '24/tcp closed   priv-mail',
    '25/tcp filtered smtp',
    '',
    'Read data files from: /usr/share/nmap',
    `# ferroscan done at ${ctime(END)} -- 2 IP addresses (1 host up) scanned in 2.49 seconds`,
    ''].join('\n'));
});

test('JSON: one document, extraports as in XML, still one document when interrupted', (t) => {
  const ports = range(1, 1000);
  const doc = JSON.parse(run((s) => new JsonWriter(s), info(ports), [labHost(ports), downHost('198.18.0.7')]));
  t.like(doc, { scanner: 'ferroscan', version: '0.1.0', schema: 1, args: 'ferroscan -sS -n -p 1-1000 198.18.0.2', start: START.toISOString() });
  t.deepEqual(doc.scaninfo, [{ type: 'syn', protocol: 'tcp', numservices: 1000, services: '1-1000' }]);
  t.is(doc.hosts.length, 1, 'down hosts only with -v');
  const h = doc.hosts[0];
  t.deepEqual(Object.keys(h), ['address', 'addrtype', 'status', 'latency', 'ports', 'extraports']);
  t.deepEqual(h.status, { state: 'up', reason: 'reset', reason_ttl: 64 });
  t.is(h.ports.length, 11);
  t.deepEqual(h.ports[1], { protocol: 'tcp', port: 22, state: 'open', reason: 'syn-ack', reason_ttl: 64, service: 'ssh' });
  t.deepEqual(h.extraports, [{ state: 'closed', count: 989, reasons: [{ reason: 'reset', count: 989, protocol: 'tcp', ports: '1-20,24,26-79,81-109,111-112,114-134,136-142,144-442,444,446-1000' }] }]);
  t.deepEqual(doc.runstats, { finished: END.toISOString(), elapsed: 2.49, exit: 'success', hosts: { up: 1, down: 1, total: 2 } });
  const cut = JSON.parse(run((s) => new JsonWriter(s), info([22], { args: ['ferroscan', '"quoted"\n'] }), [], { ...END_OK, error: 'caught SIGINT signal, cleaning up' }));
  t.deepEqual(cut.hosts, []);
  t.is(cut.args, 'ferroscan "quoted"\n');
  t.like(cut.runstats, { exit: 'error', errormsg: 'caught SIGINT signal, cleaning up' });
});

test('NDJSON: begin, a port line per verdict as it arrives, host lines, end', (t) => {
  let s = '';
  const w = new NdjsonWriter({ write: (x) => void (s += x), flush() {}, close() {} });
  const i = info([22, 23], { addresses: 1 });
  w.begin(i);
  w.result({ address: '198.18.0.2', port: 22, protocol: 'tcp', state: 'open', reason: 'syn-ack', ttl: 64 }, END);
  t.is(s.split('\n').length, 3, 'the port line is written at once');
  w.host(labHost([22, 23]));
  w.end({ ...END_OK, addresses: 1 });
  const lines = s.trimEnd().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(lines.map((l) => l.type), ['begin', 'port', 'host', 'end']);
  t.deepEqual(lines[1], { type: 'port', time: END.toISOString(), address: '198.18.0.2', protocol: 'tcp', port: 22, state: 'open', reason: 'syn-ack', reason_ttl: 64, service: 'ssh' });
  t.is(lines[2].ports.length, 2);
});

test('CSV: header, one row per listed port, RFC 4180 quoting', (t) => {
  const h = { ...labHost([21, 22, 61234]), hostname: 'we,ird "name"' };
  const csv = run((s) => new CsvWriter(s), info([21, 22, 61234]), [h, downHost('198.18.0.7')]);
  t.is(csv, [
    'address,hostname,protocol,port,state,reason,reason_ttl,reason_ip,service',
    '198.18.0.2,"we,ird ""name""",tcp,21,filtered,host-unreach,64,,ftp',
    '198.18.0.2,"we,ird ""name""",tcp,22,open,syn-ack,64,,ssh',
    '198.18.0.2,"we,ird ""name""",tcp,61234,closed,reset,64,,',
    ''].join('\r\n'));
  t.is(csvField('a\nb'), '"a\nb"');
});

test('-oL: masscan list lines for open ports as they arrive', (t) => {
  let s = '';
  const w = new ListWriter({ write: (x) => void (s += x), flush() {}, close() {} });
  w.begin();
  w.result({ address: '198.18.0.2', port: 80, protocol: 'tcp', state: 'open', reason: 'syn-ack', ttl: 64 }, new Date(1700000000_500));
  w.result({ address: '198.18.0.2', port: 81, protocol: 'tcp', state: 'closed', reason: 'reset', ttl: 64 }, new Date(1700000000_500));
  w.end();
  t.is(s, '#masscan\nopen tcp 80 198.18.0.2 1700000000\n# end\n');
});

test('formatting helpers', (t) => {
  t.is(ctime(new Date(2026, 10, 6, 1, 2, 3)), 'Fri Nov  6 01:02:03 2026');
  t.is(portRanges([1, 2, 3, 5, 7, 8]), '1-3,5,7-8');
  t.is(portRanges([]), '');
  t.is(xmlArgs('a --b ---c'), 'a -&#45;b -&#45;-c');
});

test('output options: extraction, -oA, stdout and errors', (t) => {
  const r = extractOutputOptions(['-sS', '-oX', 'a.xml', '-p', '22', '--ndjson', '-', '-oA', 'base', '--csv=c.csv', '198.18.0.2']);
  t.deepEqual(r.rest, ['-sS', '-p', '22', '198.18.0.2']);
  t.deepEqual(r.outputs, [
    { format: 'xml', path: 'a.xml' }, { format: 'ndjson', path: '-' },
    { format: 'normal', path: 'base.nmap' }, { format: 'xml', path: 'base.xml' }, { format: 'grepable', path: 'base.gnmap' },
    { format: 'csv', path: 'c.csv' },
  ]);
  t.deepEqual(extractOutputOptions(['--', '-oX', 'f']).rest, ['--', '-oX', 'f']);
  t.throws(() => extractOutputOptions(['-oX']), { message: 'option -oX needs a file name ("-" for stdout)' });
  t.throws(() => extractOutputOptions(['-oX', '-', '-oG', '-']), { message: 'only one output format can go to stdout ("-")' });
  t.throws(() => extractOutputOptions(['-oA', '-']), { message: /-oA cannot write to stdout/ });
  t.throws(() => extractOutputOptions(['-oZ', 'f']), { message: /unknown output format "-oZ"/ });
  t.throws(() => extractOutputOptions(['-oX', 'f', '-oG', 'f']), { message: 'two output formats name the same file "f"' });
});

test('Outputs: files opened up front (as NAME.part), unwritable paths are one-line errors, end closes once and puts files in place', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-out-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.throws(() => Outputs.open([{ format: 'xml', path: join(dir, 'missing', 'x.xml') }], () => {}), { message: `cannot open XML output file "${join(dir, 'missing', 'x.xml')}" for writing: no such directory` });
  let stdout = '';
  const outputs = Outputs.open([{ format: 'json', path: join(dir, 'a.json') }, { format: 'list', path: '-' }], (s) => void (stdout += s));
  t.true(outputs.toStdout);
  t.true(existsSync(join(dir, 'a.json.part')));
  t.false(existsSync(join(dir, 'a.json')), 'NAME appears only when the run ends');
  outputs.begin(info([22], { addresses: 1 }));
  outputs.result({ address: '198.18.0.2', port: 22, protocol: 'tcp', state: 'open', reason: 'syn-ack', ttl: 64 }, END);
  outputs.end({ ...END_OK, error: 'caught SIGINT signal, cleaning up' });
  outputs.end(END_OK);
  outputs.host(labHost([22]));
  t.like(JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')), { hosts: [], runstats: { exit: 'error' } });
  t.false(existsSync(join(dir, 'a.json.part')));
  t.is(stdout, `#masscan\nopen tcp 22 198.18.0.2 ${Math.floor(END.getTime() / 1000)}\n# end\n`);
});
