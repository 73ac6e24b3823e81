// Normal output against literal nmap 7.93 layouts (captured on loopback), models built by
// hand so no scan runs.
import test from 'ava';
import type { Verdict } from '../ts/verdicts/classify.js';
import { ScanModel, type HostReport } from '../ts/hosts/model.js';
import { formatLatency, NormalWriter, type NormalOptions } from '../ts/output/normal.js';
import { RecordKind, TCP, type EngineRecord } from '../ts/engine/records.js';
import { parseNmapServices, setServiceTable } from '../ts/targets/services.js';
import { parseTargets } from '../ts/targets/targets.js';

test.before(() => {
  const names: [string, number][] = [['ssh', 22], ['telnet', 23], ['smtp', 25], ['http', 80], ['pop3', 110], ['rpcbind', 111], ['https', 443]];
  setServiceTable(parseNmapServices(names.map(([n, p]) => `${n}\t${p}/tcp\t0.1`).join('\n'), 'test'));
});
test.after(() => setServiceTable(undefined));

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const v = (state: Verdict['state'], reason: string, ttl = 64): Verdict => ({ state, reason, ttl });

function host(ports: [number, Verdict][], total: number, over: Partial<HostReport> = {}): HostReport {
  return { address: '127.0.0.1', hostname: 'localhost', status: { state: 'up', reason: 'localhost-response', ttl: 0 }, latency: 0.000005, ports: new Map(ports), totalPorts: total, unanswered: v('filtered', 'no-response', 0), protocol: 'tcp', ...over };
}

function render(h: HostReport, ports: number[], options: NormalOptions = {}): string {
  let s = '';
  new NormalWriter((t) => void (s += t), ports, options).host(h);
  return s;
}

const closedAll = (ports: number[], except: number[]): [number, Verdict][] => ports.filter((p) => !except.includes(p)).map((p) => [p, v('closed', 'reset')]);

test('latency keeps two significant digits', (t) => {
  t.is(formatLatency(0.000005), '0.0000050');
  t.is(formatLatency(0.000017), '0.000017');
  t.is(formatLatency(0.00012), '0.00012');
  t.is(formatLatency(0.0011), '0.0011');
  t.is(formatLatency(0.17), '0.17');
  t.is(formatLatency(1.5), '1.5');
  t.is(formatLatency(12.3), '12');
});

test('open, filtered and folded closed ports', (t) => {
  const ports = range(1, 1000);
  const h = host([...closedAll(ports, [22, 25, 80, 110, 443]), [22, v('open', 'syn-ack')], [80, v('open', 'syn-ack')], [443, v('open', 'syn-ack')], [110, v('filtered', 'admin-prohibited')]], 1000);
  t.is(render(h, ports), [
    'ferroscan scan report for localhost (127.0.0.1)',
    'Host is up (0.0000050s latency).',
    'Not shown: 995 closed tcp ports (reset)',
    'PORT    STATE    SERVICE',
    '22/tcp  open     ssh',
    '25/tcp  filtered smtp',
    '80/tcp  open     http',
    '110/tcp filtered pop3',
    '443/tcp open     https',
    '', ''].join('\n'));
  t.is(render(h, ports, { reason: true }), [
    'ferroscan scan report for localhost (127.0.0.1)',
    'Host is up, received localhost-response (0.0000050s latency).',
    'Not shown: 995 closed tcp ports (reset)',
    'PORT    STATE    SERVICE REASON',
    '22/tcp  open     ssh     syn-ack ttl 64',
    '25/tcp  filtered smtp    no-response',
    '80/tcp  open     http    syn-ack ttl 64',
    '110/tcp filtered pop3    admin-prohibited ttl 64',
    '443/tcp open     https   syn-ack ttl 64',
    '', ''].join('\n'));
});

test('--open folds every other state, reasons by count then later first port', (t) => {
  const ports = range(1, 400);
  const h = host([...closedAll(ports, [22, 25, 110, 111, 300, 301]), [22, v('open', 'syn-ack')], [110, v('filtered', 'admin-prohibited')], [301, v('filtered', 'admin-prohibited')], [111, v('filtered', 'host-unreach')]], 400);
  t.is(render(h, ports, { open: true }), [
    'ferroscan scan report for localhost (127.0.0.1)',
    'Host is up (0.0000050s latency).',
    'Not shown: 394 closed tcp ports (reset), 2 filtered tcp ports (admin-prohibited), 2 filtered tcp ports (no-response), 1 filtered tcp ports (host-unreach)',
    'Some closed ports may be reported as filtered due to --defeat-rst-ratelimit',
    'PORT   STATE SERVICE',
    '22/tcp open  ssh',
    '', ''].join('\n'));
});

test('--open with a single folded closed port says "port"', (t) => {
  const h = host([[22, v('open', 'syn-ack')], [23, v('closed', 'reset')]], 2, { hostname: undefined });
  t.is(render(h, [22, 23], { open: true }), 'ferroscan scan report for 127.0.0.1\nHost is up (0.0000050s latency).\nNot shown: 1 closed tcp port (reset)\nPORT   STATE SERVICE\n22/tcp open  ssh\n\n');
});

test('--open hides a host without open ports', (t) => {
  t.is(render(host(closedAll([22, 23], []), 2), [22, 23], { open: true }), '');
});

test('nothing folded leaves an empty line where "Not shown" goes', (t) => {
  const h = host([[22, v('open', 'syn-ack')], [23, v('closed', 'reset')]], 3, { hostname: undefined });
  t.is(render(h, [22, 23, 25]), 'ferroscan scan report for 127.0.0.1\nHost is up (0.0000050s latency).\n\nPORT   STATE    SERVICE\n22/tcp open     ssh\n23/tcp closed   telnet\n25/tcp filtered smtp\n\n');
});

test('all ports folded, and state ties go to closed first', (t) => {
  t.is(render(host(closedAll(range(1, 1000), []), 1000), range(1, 1000)), 'ferroscan scan report for localhost (127.0.0.1)\nHost is up (0.0000050s latency).\nAll 1000 scanned ports on localhost (127.0.0.1) are in ignored states.\nNot shown: 1000 closed tcp ports (reset)\n\n');
  const ports = [...range(1000, 1029), ...range(2000, 2029)];
  const h = host(closedAll(range(2000, 2029), []), 60, { hostname: undefined });
  t.is(render(h, ports), 'ferroscan scan report for 127.0.0.1\nHost is up (0.0000050s latency).\nAll 60 scanned ports on 127.0.0.1 are in ignored states.\nNot shown: 30 closed tcp ports (reset), 30 filtered tcp ports (no-response)\n\n');
});

test('-v raises the fold threshold to 50 and shows down hosts', (t) => {
  const ports = range(1, 40);
  const out = render(host(closedAll(ports, []), 40), ports, { verbose: 1 });
  t.true(out.includes('\n\nPORT   STATE  SERVICE\n1/tcp  closed unknown\n'), out);
  t.is(out.split('\n').filter((l) => l.endsWith('/tcp closed unknown') || / closed /.test(l)).length, 40);
  const down = host([], 2, { hostname: undefined, address: '198.18.0.5', status: { state: 'down', reason: 'no-response', ttl: 0 } });
  t.is(render(down, [22, 80]), '');
  t.is(render(down, [22, 80], { verbose: 1 }), 'ferroscan scan report for 198.18.0.5 [host down]\n');
});

test('-Pn host without replies: user-set, no latency, silent ports listed', (t) => {
  const h = host([], 2, { hostname: undefined, address: '198.19.0.9', status: { state: 'up', reason: 'user-set', ttl: 0 }, latency: undefined });
  t.is(render(h, [22, 80], { reason: true }), 'ferroscan scan report for 198.19.0.9\nHost is up, received user-set.\n\nPORT   STATE    SERVICE REASON\n22/tcp filtered ssh     no-response\n80/tcp filtered http    no-response\n\n');
});

test('start and closing lines', (t) => {
  let s = '';
  const w = new NormalWriter((x) => void (s += x), []);
  w.end({ addresses: 1, up: 1, elapsedSeconds: 0.0512 });
  w.end({ addresses: 256, up: 0, elapsedSeconds: 3 });
  w.end({ addresses: 1, up: 0, elapsedSeconds: 1.466 });
  t.is(s, [
    'ferroscan done: 1 IP address (1 host up) scanned in 0.05 seconds',
    'ferroscan done: 256 IP addresses (0 hosts up) scanned in 3.00 seconds',
    'Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn',
    'ferroscan done: 1 IP address (0 hosts up) scanned in 1.47 seconds',
    ''].join('\n'));
  s = '';
  w.start(new Date());
  t.regex(s, /^Starting ferroscan 0\.1\.0 \( https:\/\/github\.com\/ferroscan \) at \d{4}-\d\d-\d\d \d\d:\d\d( \S+)?\n$/);
});

function record(over: Partial<EngineRecord>): EngineRecord {
  return { kind: RecordKind.Tcp, flags: TCP.RST | TCP.ACK, ttl: 64, icmpType: 0, icmpCode: 0, address: '198.18.0.2', port: 22, window: 0, attempt: 0, rttUs: 0, responder: '198.18.0.2', ...over };
}

test('model: replies make hosts up, silence is counted not stored, router ICMP alone is not "up"', async (t) => {
  const targets = await parseTargets(['198.18.0.1-4']);
  const model = new ScanModel({ targets, ports: [22, 80, 443], isLocal: () => false });
  t.truthy(model.add(record({ flags: TCP.SYN | TCP.ACK, rttUs: 300 })));
  t.truthy(model.add(record({ port: 80, rttUs: 120 })));
  t.is(model.add(record({ port: 80, kind: RecordKind.Icmp, icmpType: 3, icmpCode: 13 })), undefined, 'closed stays closed');
  t.truthy(model.add(record({ address: '198.18.0.3', kind: RecordKind.Icmp, icmpType: 3, icmpCode: 1, responder: '198.18.0.254' })));
  t.is(model.add(record({ address: '198.18.0.9' })), undefined, 'not a target');
  t.is(model.add(record({ port: 25 })), undefined, 'not a scanned port');
  const reports = [...model.reports()];
  t.deepEqual(reports.map((r) => r.status.state), ['down', 'up', 'down', 'down']);
  t.deepEqual(reports[1].status, { state: 'up', reason: 'syn-ack', ttl: 64 });
  t.is(reports[1].latency, 0.00012);
  t.is(reports[1].ports.size, 2);
  t.is(model.hostsUp, 1);
  t.deepEqual([...model.upReports()].map((r) => r.address), ['198.18.0.2']);
  const pn = new ScanModel({ targets, ports: [22], assumeUp: true });
  t.is(pn.hostsUp, 4);
  t.deepEqual([...pn.reports()][0].status, { state: 'up', reason: 'user-set', ttl: 0 });
});
