// The service lab itself (scripts/lab-services.sh), before any scanner is judged on it: every
// daemon answers on its port as itself to a plain client run inside the scanner namespace, nmap
// -sV names each service as the lab says it is, two nmap runs agree under the golden test's
// rules, the AnyIP range is served by the same daemons, and `down` leaves no namespace and no
// process behind. Versions are not pinned here (they are whatever Debian installed); the golden
// test (lab-services.test.ts) compares scanners instead.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from './helpers/lab.js';
import { serviceScan, servicesLabUp, useServicesLab, type ServiceScan, type ServicesLab } from './helpers/lab-services.js';
import { compareServices, ndiffServices } from './helpers/service-compare.js';
import { serviceInfoLines } from './helpers/service-xml.js';
import type { Check, Outcome } from './helpers/service-clients-child.js';

const lab = useServicesLab(test);
const child = fileURLToPath(new URL('./helpers/service-clients-child.ts', import.meta.url));

async function clients(t: import('ava').ExecutionContext, plan: Check[]): Promise<Map<string, Outcome>> {
  const r = await lab().execInScanner(process.execPath, ['--import=tsx', child, JSON.stringify(plan)], { timeoutMs: 60_000 });
  t.is(r.code, 0, describe('service clients', r));
  const out = new Map<string, Outcome>();
  for (const l of r.stdout.split('\n')) {
    if (!l.startsWith('{')) continue;
    const o = JSON.parse(l) as Outcome;
    out.set(o.id, o);
  }
  t.is(out.size, plan.length, describe('service clients', r));
  return out;
}

const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** A DNS query (id 0x1234, recursion desired) for `name`, type A, class IN. */
function dnsQuery(name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from('123401000001000000000000', 'hex'), ...labels, Buffer.from('0000010001', 'hex')]);
}

/** BER: one TLV with a short-form length (every value here is under 128 bytes). */
const tlv = (type: number, value: Buffer): Buffer => {
  if (value.length > 127) throw new Error('tlv: value too long for this helper');
  return Buffer.concat([Buffer.from([type, value.length]), value]);
};

/** An SNMPv2c GetRequest for sysName.0 (1.3.6.1.2.1.1.5.0). */
function snmpGetSysName(community: string): Buffer {
  const int = (n: number) => tlv(0x02, Buffer.from([n]));
  const varbind = tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from('2b06010201010500', 'hex')), tlv(0x05, Buffer.alloc(0))]));
  const pdu = tlv(0xa0, Buffer.concat([int(0x2a), int(0), int(0), tlv(0x30, varbind)]));
  return tlv(0x30, Buffer.concat([int(1), tlv(0x04, Buffer.from(community)), pdu]));
}

const ip4 = (a: string): string => String.fromCharCode(...a.split('.').map(Number));

test.serial('every daemon answers on its port, as itself, to a plain client in the scanner namespace', async (t) => {
  const f = lab().facts;
  const T = f.targetAddr;
  const get = hex('GET / HTTP/1.0\r\nHost: svc\r\n\r\n');
  const q = dnsQuery(`svc.${f.domain}`);
  const plan: Check[] = [
    { id: 'ftp21', kind: 'banner', host: T, port: 21, enough: 1 },
    { id: 'ssh22', kind: 'banner', host: T, port: 22, enough: 1 },
    { id: 'ssh2222', kind: 'banner', host: T, port: 2222, enough: 1 },
    { id: 'smtp25', kind: 'banner', host: T, port: 25, enough: 1 },
    { id: 'smtp587', kind: 'banner', host: T, port: 587, enough: 1 },
    { id: 'dns53tcp', kind: 'request', host: T, port: 53, sendHex: Buffer.concat([Buffer.from([0, q.length]), q]).toString('hex'), waitMs: 2000 },
    { id: 'http80', kind: 'request', host: T, port: 80, sendHex: get },
    { id: 'http8081', kind: 'request', host: T, port: 8081, sendHex: get },
    { id: 'http8080', kind: 'request', host: T, port: 8080, sendHex: get },
    { id: 'https443', kind: 'tls', host: T, port: 443, sendHex: get },
    { id: 'https8443', kind: 'tls', host: T, port: 8443, sendHex: get },
    { id: 'redis6379', kind: 'request', host: T, port: 6379, sendHex: hex('PING\r\n'), enough: 7 },
    { id: 'redis7000', kind: 'request', host: T, port: 7000, sendHex: hex('PING\r\n'), enough: 7 },
    { id: 'memcached', kind: 'request', host: T, port: 11211, sendHex: hex('version\r\n'), enough: 10 },
    { id: 'wrapped', kind: 'banner', host: T, port: f.tcpwrappedPort, waitMs: 3000 },
    { id: 'unknown', kind: 'banner', host: T, port: f.unknownPort, waitMs: 1000 },
    { id: 'dns53udp', kind: 'udp', host: T, port: 53, sendHex: q.toString('hex') },
    { id: 'snmp161', kind: 'udp', host: T, port: 161, sendHex: snmpGetSysName(f.snmpCommunity).toString('hex') },
  ];
  const o = await clients(t, plan);
  const data = (id: string): string => {
    const r = o.get(id)!;
    t.true(r.ok, `${id}: ${r.error ?? ''}`);
    return r.data;
  };
  t.regex(data('ftp21'), /^220 \(vsFTPd [\d.]+\)\r\n/);
  t.regex(data('ssh22'), /^SSH-2\.0-OpenSSH_\S+/);
  t.regex(data('ssh2222'), /^SSH-2\.0-OpenSSH_\S+/);
  t.regex(data('smtp25'), new RegExp(`^220 mail\\.${f.domain.replace('.', '\\.')} ESMTP Exim [\\d.]+ `));
  t.regex(data('smtp587'), /^220 mail\.\S+ ESMTP Exim /);
  // The A record the lab's dnsmasq serves, over TCP and UDP alike.
  t.true(data('dns53tcp').includes(ip4(T)), 'DNS over TCP answers svc.<domain> with the target address');
  t.true(data('dns53udp').includes(ip4(T)), 'DNS over UDP answers svc.<domain> with the target address');
  t.regex(data('http80'), /^HTTP\/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*Server: nginx\/[\d.]+\r\n/);
  t.regex(data('http8081'), /\r\nServer: nginx\/[\d.]+\r\n/);
  t.regex(data('http8080'), /\r\nServer: lighttpd\/[\d.]+\r\n/);
  for (const id of ['https443', 'https8443']) {
    t.regex(data(id), /\r\nServer: nginx\/[\d.]+\r\n/, id);
    t.is(o.get(id)!.certCn, `svc.${f.domain}`, `${id}: the lab's self-signed certificate`);
  }
  t.is(data('redis6379'), '+PONG\r\n');
  t.is(data('redis7000'), '+PONG\r\n');
  t.regex(data('memcached'), /^VERSION [\d.]+\r\n/);
  t.true(data('snmp161').includes(`snmp.${f.domain}`), 'snmpd answers sysName.0 to the lab community');
  // tcpwrapped: the connection ends at once, and nothing was said.
  const w = o.get('wrapped')!;
  t.like(w, { ok: true, data: '', eof: true });
  t.true((w.firstMs ?? Infinity) < 1000, `closed after ${w.firstMs} ms`);
  // The unknown service greets and then waits for the client.
  t.like(o.get('unknown'), { ok: true, data: `${f.unknownBanner}\r\n`, eof: false });
});

test.serial('the unknown service answers anything with one line of its own and closes', async (t) => {
  const f = lab().facts;
  const o = await clients(t, [{ id: 'u', kind: 'request', host: f.targetAddr, port: f.unknownPort, sendHex: hex('HELP\r\n') }]);
  t.like(o.get('u'), { ok: true, eof: true });
  t.regex(o.get('u')!.data, new RegExp(`^${f.unknownBanner}\\r\\nFERRO-LAB-7 \\S+\\r\\n$`));
});

// What nmap -sV names each daemon (service name, product, tunnel): the lab is what it claims.
const expected: Record<string, { name: string; product?: RegExp; tunnel?: string }> = {
  vsftpd: { name: 'ftp', product: /^vsftpd$/ },
  ssh: { name: 'ssh', product: /^OpenSSH$/ },
  exim: { name: 'smtp', product: /^Exim smtpd$/ },
  dnsmasq: { name: 'domain', product: /^dnsmasq$/ },
  nginx: { name: 'http', product: /^nginx$/ },
  'nginx-tls': { name: 'http', product: /^nginx$/, tunnel: 'ssl' },
  redis: { name: 'redis', product: /^Redis key-value store$/ },
  redis7000: { name: 'redis', product: /^Redis key-value store$/ },
  lighttpd: { name: 'http', product: /^lighttpd$/ },
  memcached: { name: 'memcached', product: /^Memcached$/ },
  wrapped: { name: 'tcpwrapped' },
  snmpd: { name: 'snmp', product: /net-snmp/ },
};

const dir = mkdtempSync(join(tmpdir(), 'ferroscan-svclab-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
/** The first TCP run of nmap -sV, for the next test to compare a second run with. */
let firstTcp: ServiceScan | undefined;
const tcpArgs = (): string[] => ['-sV', '-n', '-Pn', '-p', lab().facts.tcpPorts.join(','), lab().facts.targetAddr];

test.serial('nmap -sV (TCP) and -sU -sV (UDP) name every service of the lab as the lab describes it', async (t) => {
  const f = lab().facts;
  const tcp = await serviceScan(lab(), 'nmap', tcpArgs(), dir, 'tcp');
  firstTcp = tcp;
  const udp = await serviceScan(lab(), 'nmap', ['-sU', '-sV', '-n', '-Pn', '-p', f.udpPorts.join(','), f.targetAddr], dir, 'udp');
  for (const s of f.services) {
    const key = `${f.targetAddr} ${s.port}/${s.proto}`;
    const p = (s.proto === 'tcp' ? tcp : udp).ports.get(key);
    t.is(p?.state, 'open', key);
    const svc = p?.service;
    if (s.daemon === 'unknown') {
      // No match: a service fingerprint that starts with what the lab's banner said.
      t.is(svc?.product, undefined, key);
      t.true(svc?.servicefp?.includes(`r(NULL,`) && svc.servicefp.includes(f.unknownBanner.replace(/ /g, '\\x20')), `${key}: ${svc?.servicefp}`);
      continue;
    }
    const want = expected[s.daemon];
    t.truthy(want, `no expectation for ${s.daemon}`);
    t.is(svc?.name, want.name, key);
    if (want.product) t.regex(svc?.product ?? '', want.product, key);
    t.is(svc?.tunnel, want.tunnel, key);
    t.is(svc?.method, 'probed', key);
  }
});

// The golden test's rules (service-compare.ts) hold nmap to itself: what differs between two
// nmap runs on this lab is only what VOLATILE compares by shape, so a scanner that does what nmap
// does can pass the golden test, and the rules are no looser than the lab needs.
test.serial('two nmap -sV runs on the lab agree under the golden rules, and ndiff sees no difference', async (t) => {
  if (!firstTcp) {
    t.fail('the first nmap run (previous test) did not complete');
    return;
  }
  const again = await serviceScan(lab(), 'nmap', tcpArgs(), dir, 'tcp-again');
  t.deepEqual(compareServices(firstTcp.ports, again.ports, { names: ['first', 'second'] }), []);
  t.like(ndiffServices(firstTcp.xmlPath, again.xmlPath, join(dir, 'again')), { code: 0 });
  t.deepEqual(serviceInfoLines(again.run.stdout), serviceInfoLines(firstTcp.run.stdout));
  t.is(serviceInfoLines(again.run.stdout).length, 1, 'nmap printed a Service Info line');
});

test.serial('the AnyIP range: any of its 256 addresses is served by the same daemons on the bench ports', async (t) => {
  const f = lab().facts;
  t.is(f.multiHosts, 256);
  const base = f.multiRange.split('/')[0].split('.').slice(0, 3).join('.');
  const plan: Check[] = [0, 1, 137, 255].flatMap((last) =>
    f.multiPorts.map((port): Check => ({ id: `${last}:${port}`, kind: port === 22 ? 'banner' : 'request', host: `${base}.${last}`, port, sendHex: port === 22 ? undefined : port === 80 ? hex('HEAD / HTTP/1.0\r\n\r\n') : hex('PING\r\n'), enough: port === 6379 ? 7 : 1 })),
  );
  const o = await clients(t, plan);
  t.deepEqual(f.multiPorts, [22, 80, 6379]);
  for (const last of [0, 1, 137, 255]) {
    t.regex(o.get(`${last}:22`)!.data, /^SSH-2\.0-/, `${base}.${last}:22`);
    t.regex(o.get(`${last}:80`)!.data, /^HTTP\/1\.1 200/, `${base}.${last}:80`);
    t.is(o.get(`${last}:6379`)!.data, '+PONG\r\n', `${base}.${last}:6379`);
  }
});

/** A process is gone when /proc has no entry for it, or only a zombie's. */
const gone = (pid: number): boolean => {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};

test.serial('down removes both namespaces, every daemon and child, and the state directory', async (t) => {
  const own: ServicesLab = servicesLabUp();
  t.teardown(() => own.down());
  const f = own.facts;
  const pids = (ns: string): number[] =>
    execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  const before = [...pids(f.targetNs), ...pids(f.scanNs)];
  const recorded = readdirSync(f.stateDir).filter((n) => n.endsWith('.pid'));
  t.deepEqual(recorded.map((n) => n.slice(0, -4)).sort(), ['dnsmasq', 'exim', 'lighttpd', 'memcached', 'nginx', 'odd', 'redis', 'redis7000', 'snmpd', 'sshd', 'vsftpd']);
  // nginx's worker and the like run beside the recorded pids: down must end them too.
  t.true(before.length > recorded.length, `${before.length} processes in the lab's namespaces`);
  own.down();
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  t.false(netns.includes(f.targetNs), netns);
  t.false(netns.includes(f.scanNs), netns);
  t.false(existsSync(f.stateDir), 'the state directory is gone');
  const until = Date.now() + 3000;
  while (before.some((p) => !gone(p)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(before.filter((p) => !gone(p)), [], 'no process of the lab is left');
});
