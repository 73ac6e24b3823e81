// Hosts scanned by two techniques (-sS -sU): every writer against literal nmap 7.93 output
// captured on the lab (198.18.0.2, `nmap -sS -sU -Pn -n --reason -p T:...,U:...`), and the
// CombinedModel that folds a TCP and a UDP model into such hosts. No scan runs here.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import type { Verdict } from '../ts/verdicts/classify.js';
import { answeredCount, answeredOnly, CombinedModel, ScanModel, type HostReport, type PortSection } from '../ts/hosts/model.js';
import { CsvWriter } from '../ts/output/csv.js';
import { GrepableWriter } from '../ts/output/grepable.js';
import { JsonWriter } from '../ts/output/json.js';
import { NormalWriter } from '../ts/output/normal.js';
import type { Sink } from '../ts/output/sink.js';
import type { OutputWriter, RunEnd, RunInfo } from '../ts/output/writer.js';
import { XmlWriter } from '../ts/output/xml.js';
import { RecordKind, TCP, type EngineRecord } from '../ts/engine/records.js';
import { parseNmapServices, setServiceTable } from '../ts/targets/services.js';
import { parseTargets } from '../ts/targets/targets.js';

test.before(() => {
  const tcp: [string, number][] = [['ftp-data', 20], ['ftp', 21], ['ssh', 22], ['telnet', 23], ['priv-mail', 24], ['smtp', 25]];
  const udp: [string, number][] = [['domain', 53], ['tftp', 69], ['rpcbind', 111], ['ntp', 123], ['snmp', 161]];
  const lines = [...tcp.map(([n, p]) => `${n}\t${p}/tcp\t0.1`), ...udp.map(([n, p]) => `${n}\t${p}/udp\t0.1`)];
  setServiceTable(parseNmapServices(lines.join('\n'), 'test'));
});
test.after(() => setServiceTable(undefined));

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const v = (state: Verdict['state'], reason: string, ttl = 64): Verdict => ({ state, reason, ttl });
const START = new Date(2026, 10, 26, 2, 43, 19);
const END = new Date(2026, 10, 26, 2, 43, 23);

/** The lab's TCP answers (ports 1-30): 21-25 as the lab rules make them, the rest closed. */
function tcpSection(ports: number[]): PortSection {
  const special: Record<number, Verdict> = { 21: v('filtered', 'host-unreach'), 22: v('open', 'syn-ack'), 23: v('filtered', 'net-unreach') };
  const answered = new Map<number, Verdict>();
  for (const p of ports) if (p !== 25) answered.set(p, special[p] ?? v('closed', 'reset'));
  return { protocol: 'tcp', ports: answered, totalPorts: ports.length, unanswered: v('filtered', 'no-response', 0), scanned: ports };
}

/** The lab's UDP answers: 53/123/161 answer, 69 is dropped, the rest (111 too) port-unreachable. */
function udpSection(ports: number[]): PortSection {
  const answered = new Map<number, Verdict>();
  for (const p of ports) {
    if ([53, 123, 161].includes(p)) answered.set(p, v('open', 'udp-response'));
    else if (p !== 69) answered.set(p, v('closed', 'port-unreach'));
  }
  return { protocol: 'udp', ports: answered, totalPorts: ports.length, unanswered: v('open|filtered', 'no-response', 0), scanned: ports };
}

function mixedHost(tcp: PortSection, udp: PortSection): HostReport {
  return { address: '198.18.0.2', status: { state: 'up', reason: 'arp-response', ttl: 0 }, latency: 0.00002, ...tcp, sections: [tcp, udp] };
}

const TCP_1_30 = range(1, 30);
const UDP_FEW = [53, 69, 111, 123, 161];

function info(tcp: number[], udp: number[], over: Partial<RunInfo> = {}): RunInfo {
  const args = ['ferroscan', '-sS', '-sU', '-Pn', '-n', '--reason', '-p', 'T:1-30,U:53,69,111,123,161', '198.18.0.2'];
  return { startedAt: START, args, technique: 'syn', ports: tcp, scans: [{ technique: 'syn', ports: tcp }, { technique: 'udp', ports: udp }], addresses: 1, verbose: 0, open: false, reason: true, ...over };
}
const END_OK: RunEnd = { finishedAt: END, elapsedSeconds: 4.37, addresses: 1, up: 1 };

function run(make: (sink: Sink) => OutputWriter, i: RunInfo, hosts: HostReport[]): string {
  let s = '';
  const w = make({ write: (t) => void (s += t), flush() {}, close() {} });
  w.begin(i);
  if (i.verbose) {
    w.phase?.({ kind: 'begin', technique: 'syn', at: START });
    w.phase?.({ kind: 'end', technique: 'syn', at: START, totalPorts: i.ports.length });
    w.phase?.({ kind: 'begin', technique: 'udp', at: START });
    w.phase?.({ kind: 'end', technique: 'udp', at: END, totalPorts: i.scans![1].ports.length });
  }
  w.scanEnded?.(END);
  for (const h of hosts) w.host?.(h);
  w.end(END_OK);
  return s;
}

function normal(h: HostReport, ports: number[], reason = true, open = false): string {
  let s = '';
  new NormalWriter((t) => void (s += t), ports, { reason, open }).host(h);
  return s;
}

test('normal: one PORT table, tcp rows then udp rows; one state folded across both protocols', (t) => {
  const h = mixedHost(tcpSection(TCP_1_30), udpSection(UDP_FEW));
  t.is(
    normal(h, TCP_1_30),
    `ferroscan scan report for 198.18.0.2
Host is up, received arp-response (0.000020s latency).
Not shown: 26 closed tcp ports (reset), 1 closed udp ports (port-unreach)
PORT    STATE         SERVICE REASON
21/tcp  filtered      ftp     host-unreach ttl 64
22/tcp  open          ssh     syn-ack ttl 64
23/tcp  filtered      telnet  net-unreach ttl 64
25/tcp  filtered      smtp    no-response
53/udp  open          domain  udp-response ttl 64
69/udp  open|filtered tftp    no-response
123/udp open          ntp     udp-response ttl 64
161/udp open          snmp    udp-response ttl 64

`,
  );
});

test('normal: the larger reason first; "ports" follows the state total; all ignored counts both protocols', (t) => {
  // nmap -sS -sU -p T:20,22,U:1-30: "Not shown: 30 closed udp ports (port-unreach), 1 closed tcp ports (reset)"
  const h = mixedHost(tcpSection([20, 22]), udpSection(range(1, 30)));
  t.is(
    normal(h, [20, 22]),
    `ferroscan scan report for 198.18.0.2
Host is up, received arp-response (0.000020s latency).
Not shown: 30 closed udp ports (port-unreach), 1 closed tcp ports (reset)
PORT   STATE SERVICE REASON
22/tcp open  ssh     syn-ack ttl 64

`,
  );
  // nmap -sS -sU -p T:1-20,U:1-30
  const all = mixedHost(tcpSection(range(1, 20)), udpSection(range(1, 30)));
  t.is(
    normal(all, range(1, 20), false),
    `ferroscan scan report for 198.18.0.2
Host is up (0.000020s latency).
All 50 scanned ports on 198.18.0.2 are in ignored states.
Not shown: 30 closed udp ports (port-unreach), 20 closed tcp ports (reset)

`,
  );
  // nmap -sS -sU -p T:1-30,U:1-30 --open: ties within a state go to the later port.
  const open = mixedHost(tcpSection(TCP_1_30), udpSection(range(1, 30)));
  t.true(
    normal(open, TCP_1_30, true, true).includes(
      'Not shown: 30 closed udp ports (port-unreach), 26 closed tcp ports (reset), 1 filtered tcp ports (no-response), 1 filtered tcp ports (net-unreach), 1 filtered tcp ports (host-unreach)\n',
    ),
  );
});

test('XML: one scaninfo per technique, one extraports per state with a reason per protocol; valid against nmap.dtd', (t) => {
  const h = mixedHost(tcpSection(TCP_1_30), udpSection(UDP_FEW));
  const xml = run((s) => new XmlWriter(s, null), info(TCP_1_30, UDP_FEW), [h]);
  t.true(xml.includes('<scaninfo type="syn" protocol="tcp" numservices="30" services="1-30"/>\n<scaninfo type="udp" protocol="udp" numservices="5" services="53,69,111,123,161"/>\n<verbose level="0"/>'), xml);
  t.true(
    xml.includes(`<ports><extraports state="closed" count="27">
<extrareasons reason="reset" count="26" proto="tcp" ports="1-20,24,26-30"/>
<extrareasons reason="port-unreach" count="1" proto="udp" ports="111"/>
</extraports>
<port protocol="tcp" portid="21"><state state="filtered" reason="host-unreach" reason_ttl="64"/><service name="ftp" method="table" conf="3"/></port>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="ssh" method="table" conf="3"/></port>
<port protocol="tcp" portid="23"><state state="filtered" reason="net-unreach" reason_ttl="64"/><service name="telnet" method="table" conf="3"/></port>
<port protocol="tcp" portid="25"><state state="filtered" reason="no-response" reason_ttl="0"/><service name="smtp" method="table" conf="3"/></port>
<port protocol="udp" portid="53"><state state="open" reason="udp-response" reason_ttl="64"/><service name="domain" method="table" conf="3"/></port>
<port protocol="udp" portid="69"><state state="open|filtered" reason="no-response" reason_ttl="0"/><service name="tftp" method="table" conf="3"/></port>
<port protocol="udp" portid="123"><state state="open" reason="udp-response" reason_ttl="64"/><service name="ntp" method="table" conf="3"/></port>
<port protocol="udp" portid="161"><state state="open" reason="udp-response" reason_ttl="64"/><service name="snmp" method="table" conf="3"/></port>
</ports>`),
    xml,
  );
  // -v: each technique's taskbegin and taskend, in order (nmap -v -sS -sU).
  const verbose = run((s) => new XmlWriter(s, null), info(TCP_1_30, UDP_FEW, { verbose: 1 }), [h]);
  const tasks = verbose.split('\n').filter((l) => l.startsWith('<task'));
  t.deepEqual(
    tasks.map((l) => l.replace(/ time="\d+"/, '')),
    ['<taskbegin task="SYN Stealth Scan"/>', '<taskend task="SYN Stealth Scan" extrainfo="30 total ports"/>', '<taskbegin task="UDP Scan"/>', '<taskend task="UDP Scan" extrainfo="5 total ports"/>'],
  );
  for (const doc of [xml, verbose]) {
    const r = spawnSync('xmllint', ['--noout', '--dtdvalid', '/usr/share/nmap/nmap.dtd', '-'], { input: doc, encoding: 'utf8' });
    if (r.error) t.log(`xmllint not run: ${r.error.message}`);
    else t.is(r.status, 0, `${r.stdout}${r.stderr}`);
  }
});

test('grepable: tcp then udp entries, one ignored state counted across protocols; -v lists both port sets', (t) => {
  const h = mixedHost(tcpSection(TCP_1_30), udpSection(UDP_FEW));
  const lines = run((s) => new GrepableWriter(s), info(TCP_1_30, UDP_FEW), [h]).split('\n');
  t.is(
    lines[2],
    'Host: 198.18.0.2 ()\tPorts: 21/filtered/tcp//ftp///, 22/open/tcp//ssh///, 23/filtered/tcp//telnet///, 25/filtered/tcp//smtp///, 53/open/udp//domain///, 69/open|filtered/udp//tftp///, 123/open/udp//ntp///, 161/open/udp//snmp///\tIgnored State: closed (27)',
  );
  const verbose = run((s) => new GrepableWriter(s), info([20, 22], range(1, 30), { verbose: 1 }), [mixedHost(tcpSection([20, 22]), udpSection(range(1, 30)))]);
  t.is(verbose.split('\n')[1], '# Ports scanned: TCP(2;20,22) UDP(30;1-30) SCTP(0;) PROTOCOLS(0;)');
});

test('JSON and CSV: every port with its protocol, extraports reasons per protocol, one scaninfo per technique', (t) => {
  const h = mixedHost(tcpSection(TCP_1_30), udpSection(UDP_FEW));
  const doc = JSON.parse(run((s) => new JsonWriter(s), info(TCP_1_30, UDP_FEW), [h]));
  t.deepEqual(doc.scaninfo, [
    { type: 'syn', protocol: 'tcp', numservices: 30, services: '1-30' },
    { type: 'udp', protocol: 'udp', numservices: 5, services: '53,69,111,123,161' },
  ]);
  const host = doc.hosts[0];
  t.deepEqual(
    host.ports.map((p: { protocol: string; port: number; state: string }) => `${p.port}/${p.protocol} ${p.state}`),
    ['21/tcp filtered', '22/tcp open', '23/tcp filtered', '25/tcp filtered', '53/udp open', '69/udp open|filtered', '123/udp open', '161/udp open'],
  );
  t.deepEqual(host.extraports, [
    {
      state: 'closed',
      count: 27,
      reasons: [
        { reason: 'reset', count: 26, protocol: 'tcp', ports: '1-20,24,26-30' },
        { reason: 'port-unreach', count: 1, protocol: 'udp', ports: '111' },
      ],
    },
  ]);
  const rows = run((s) => new CsvWriter(s), info(TCP_1_30, UDP_FEW), [h]).split('\r\n');
  t.is(rows[1], '198.18.0.2,,tcp,21,filtered,host-unreach,64,,ftp');
  t.is(rows[5], '198.18.0.2,,udp,53,open,udp-response,64,,domain');
  t.is(rows[8], '198.18.0.2,,udp,161,open,udp-response,64,,snmp');
  t.is(rows.length, 10);
});

test('a single-technique host is written exactly as before (no sections)', (t) => {
  const tcp = tcpSection(TCP_1_30);
  const single: HostReport = { address: '198.18.0.2', status: { state: 'up', reason: 'arp-response', ttl: 0 }, latency: 0.00002, protocol: 'tcp', ports: tcp.ports, totalPorts: tcp.totalPorts, unanswered: tcp.unanswered };
  const withOne: HostReport = { ...single, sections: [tcp] };
  t.is(normal(withOne, TCP_1_30), normal(single, TCP_1_30));
  const i = info(TCP_1_30, []);
  delete i.scans;
  t.is(run((s) => new XmlWriter(s, null), i, [withOne]), run((s) => new XmlWriter(s, null), i, [single]));
});

const rec = (address: string, port: number, over: Partial<EngineRecord>): EngineRecord => ({
  kind: RecordKind.Tcp, address, port, ttl: 64, flags: 0, window: 0, icmpType: 0, icmpCode: 0, responder: address, attempt: 0, rttUs: 100, ...over,
});

test('CombinedModel: a TCP and a UDP model fold into hosts with both sections, up when either saw the host', async (t) => {
  const targets = await parseTargets(['198.18.0.2-3']);
  const tcp = new ScanModel({ targets, ports: [22, 80], technique: 'syn', isLocal: () => false });
  const udp = new ScanModel({ targets, ports: [53, 161], technique: 'udp', isLocal: () => false });
  tcp.add(rec('198.18.0.2', 22, { flags: TCP.SYN | TCP.ACK, rttUs: 300 }));
  udp.add(rec('198.18.0.2', 53, { kind: RecordKind.Udp, rttUs: 120 }));
  udp.add(rec('198.18.0.3', 161, { kind: RecordKind.Icmp, icmpType: 3, icmpCode: 3 }));
  const model = new CombinedModel([tcp, udp]);
  t.is(model.hostsUp, 2);
  const up = [...model.upReports()];
  t.deepEqual(up.map((h) => h.address), ['198.18.0.2', '198.18.0.3']);
  const [a, b] = up;
  t.deepEqual(a.sections?.map((s) => [s.protocol, [...s.ports.keys()], s.totalPorts, s.scanned]), [['tcp', [22], 2, [22, 80]], ['udp', [53], 2, [53, 161]]]);
  t.is(a.latency, 0.00012);
  t.is(a.status.state, 'up');
  t.is(b.status.reason, 'port-unreach');
  t.is(b.sections?.[1].ports.get(161)?.state, 'closed');
  t.is([...model.reports()].length, 2);
  t.is(answeredCount(a), 2);
  // An interrupted run reports only what answered, in every section.
  t.deepEqual(answeredOnly(a).sections?.map((s) => s.totalPorts), [1, 1]);
  const assumed = new CombinedModel([new ScanModel({ targets, ports: [22], technique: 'syn', assumeUp: true }), new ScanModel({ targets, ports: [53], technique: 'udp', assumeUp: true })]);
  t.is(assumed.hostsUp, 2);
  t.deepEqual([...assumed.upReports()].map((h) => h.status.reason), ['user-set', 'user-set']);
});
