// IPv6 end to end against nmap -6 on the IPv6 lab (scripts/lab6.sh): every scan technique
// gives each port the same state, reason and reason TTL (hop limit) as nmap, the ports
// covering every lab rule (ip6tables DROP and each REJECT type); nmap's own report is held
// against lab-spec.json's expectations too, so a failure points at the right side. Also:
// neighbour discovery on the link (-sn: hosts up and MACs as nmap), ICMPv6 echo off the link,
// ::1 and a link-local target with its zone, the /112 AnyIP sweep (all 65,536 addresses),
// shards that cover an IPv6 range exactly once on the wire, an interrupted and resumed run,
// XML valid against nmap.dtd and ndiff-clean against nmap -6, and UDP under the target's
// default ICMPv6 rate limit.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, ferroscanBin, run } from './helpers/lab.js';
import { useLab6, withLab6, type Lab6 } from './helpers/lab6.js';
import { compareReports, diffAgainstExpected, labSpec, specPorts, specUdpPorts, type Technique, type Verdict } from './helpers/lab-spec.js';
import { expectedTcp6, expectedUdp6, labSpec6 } from './helpers/lab-spec6.js';
import { expandPorts, parseNormalOutput, type HostReport } from './helpers/normal-output.js';
import { grepableHostLines, ndiffDifferences, validateXml } from './helpers/output-tools.js';
import { probeKeys, readPcap } from './helpers/pcap.js';
import { formatIPv6, parseIPv6 } from '../ts/targets/address6.js';
import type { Call, Outcome } from './helpers/portscanner-child.js';
import { fileURLToPath } from 'node:url';

const lab = useLab6(test);
const dir = mkdtempSync(join(tmpdir(), 'ferroscan-ipv6-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const tcpSpec = `1-1024,${specPorts.filter((p) => p > 1024).join(',')}`;
const udpSpec = `1-1024,${specUdpPorts.filter((p) => p > 1024).join(',')}`;

function hostOf(t: ExecutionContext, stdout: string, addr: string): HostReport | undefined {
  const host = parseNormalOutput(stdout).hosts.get(addr);
  if (!host) t.fail(`no scan report for ${addr} in:\n${stdout.slice(0, 4000)}`);
  return host;
}

interface Case {
  name: string;
  args: string[];
  technique: Technique;
  tcpFlags?: number;
}

const cases: Case[] = [
  { name: '-sS', args: ['-sS'], technique: 'syn' },
  { name: '-sT', args: ['-sT'], technique: 'connect' },
  { name: '-sU', args: ['-sU'], technique: 'udp' },
  { name: '-sA', args: ['-sA'], technique: 'ack' },
  { name: '-sW', args: ['-sW'], technique: 'window' },
  { name: '-sM', args: ['-sM'], technique: 'maimon' },
  { name: '-sF', args: ['-sF'], technique: 'fin' },
  { name: '-sN', args: ['-sN'], technique: 'null' },
  { name: '-sX', args: ['-sX'], technique: 'xmas' },
  { name: '--scanflags URGPSH', args: ['--scanflags', 'URGPSH'], technique: 'flags', tcpFlags: 0x28 },
];

/** nmap -6 and ferroscan -6 on `addr` (scanned as `target`: with its zone, for a link-local address). */
async function golden(t: ExecutionContext, l: Lab6, c: Case, addr: string, portSpec: string, want?: (port: number) => Verdict, target = addr): Promise<void> {
  const udp = c.technique === 'udp';
  const proto = udp ? 'udp' : 'tcp';
  const ports = expandPorts(portSpec);
  const args = ['-6', ...c.args, '--reason', '-Pn', '-n', '-p', portSpec, target];
  const nm = await l.nmap(args);
  t.is(nm.code, 0, describe('nmap', nm));
  const fs = await l.ferroscan(args);
  t.is(fs.code, 0, describe('ferroscan', fs));
  const a = hostOf(t, nm.stdout, addr);
  const b = hostOf(t, fs.stdout, addr);
  if (!a || !b) return;
  if (want) {
    const labDiffs = diffAgainstExpected(a, ports, want, { reasons: true, proto });
    if (labDiffs.length) t.log(`nmap -6 ${c.name} differs from lab-spec.json:\n${labDiffs.slice(0, 50).join('\n')}`);
    t.deepEqual(labDiffs, [], `nmap -6 ${c.name} sees the lab as lab-spec.json describes`);
  }
  const cmp = compareReports(a, b, ports, ['nmap', 'ferroscan'], proto);
  t.log(`-6 ${c.name} ${addr}: ${cmp.compared} ports compared, ${cmp.agree} agree (nmap ${(nm.ms / 1000).toFixed(1)} s, ferroscan ${(fs.ms / 1000).toFixed(1)} s)`);
  if (cmp.diffs.length) t.log(`${cmp.diffs.length} differences:\n${cmp.diffs.slice(0, 50).join('\n')}`);
  t.deepEqual(cmp.diffs, []);
  t.is(cmp.agree, cmp.compared);
}

for (const c of cases) {
  test.serial(`golden -6 ${c.name}: same state, reason and hop limit as nmap -6 for every port`, async (t) => {
    const udp = c.technique === 'udp';
    const want = (port: number): Verdict => (udp ? expectedUdp6(port) : expectedTcp6(c.technique as Exclude<Technique, 'udp'>, port, c.tcpFlags));
    await golden(t, lab(), c, lab().facts.targetAddr, udp ? udpSpec : tcpSpec, want);
    for (const p of udp ? specUdpPorts : specPorts) t.true(expandPorts(udp ? udpSpec : tcpSpec).includes(p), `rule port ${p} scanned`);
  });
}

test.serial('golden -6 on ::1 and on a link-local target named by its zone', async (t) => {
  const f = lab().facts;
  await golden(t, lab(), cases[0], '::1', `${f.loopbackOpen},${f.loopbackClosed},1-100`);
  await golden(t, lab(), cases[0], f.targetLinkLocal, '22,80,443,8080', undefined, `${f.targetLinkLocal}%${f.scanIf}`);
});

test.serial('golden -6 on an AnyIP address of the routed sweep prefix (next hop: the target\'s link-local address)', async (t) => {
  const f = lab().facts;
  const addr = formatIPv6(parseIPv6(f.sweepCidr.split('/')[0])! + 0x1234n);
  await golden(t, lab(), cases[0], addr, '22,80,443,1000-1010');
});

/** A -sn report's hosts up: "address mac reason". */
function hostsUp(stdout: string): string[] {
  const out: string[] = [];
  let cur: { addr: string; mac: string; reason: string } | undefined;
  for (const line of stdout.split('\n')) {
    const m = /scan report for (\S+)/.exec(line);
    if (m) {
      if (cur) out.push(`${cur.addr} ${cur.mac} ${cur.reason}`);
      cur = { addr: m[1], mac: '-', reason: '-' };
    }
    const up = /^Host is up(?:, received ([\w-]+))?/.exec(line);
    if (up && cur) cur.reason = up[1] ?? 'up';
    const mac = /^MAC Address: (\S+)/.exec(line);
    if (mac && cur) cur.mac = mac[1];
  }
  if (cur) out.push(`${cur.addr} ${cur.mac} ${cur.reason}`);
  return out.sort();
}

test.serial('-6 -sn on the link: the same hosts up, reasons and MACs as nmap -6 (neighbour discovery)', async (t) => {
  const f = lab().facts;
  const args = ['-6', '-sn', '-n', '--reason', '2001:2::/125'];
  const nm = await lab().nmap(args);
  const fs = await lab().ferroscan(args);
  t.is(nm.code, 0, describe('nmap', nm));
  t.is(fs.code, 0, describe('ferroscan', fs));
  t.deepEqual(hostsUp(fs.stdout), hostsUp(nm.stdout));
  const mac = f.targetMac.toUpperCase();
  t.deepEqual(hostsUp(fs.stdout), [`${f.scanAddr} - localhost-response`, `${f.targetAddr} ${mac} nd-response`, `${f.targetAlias} ${mac} nd-response`].sort());
  t.false(fs.stdout.includes(f.absentAddr), 'the absent address is down');
  t.regex(fs.stdout, /done: 8 IP addresses \(3 hosts up\)/);
});

test.serial('-6 -sn off the link: ICMPv6 echo, SYN 443 and ACK 80 through the router, as nmap -6', async (t) => {
  const f = lab().facts;
  const base = parseIPv6(f.sweepCidr.split('/')[0])!;
  const targets = [formatIPv6(base + 5n), formatIPv6(base + 6n)];
  for (const probes of [[], ['-PE'], ['-PS443'], ['-PA80']]) {
    const args = ['-6', '-sn', '-n', '--reason', ...probes, ...targets];
    const nm = await lab().nmap(args);
    const fs = await lab().ferroscan(args);
    t.is(fs.code, 0, describe('ferroscan', fs));
    t.deepEqual(hostsUp(fs.stdout), hostsUp(nm.stdout), `${probes.join(' ') || 'default probes'}\n${fs.stdout}\n${nm.stdout}`);
    t.is(hostsUp(fs.stdout).length, 2);
  }
});

test.serial('the /112 AnyIP sweep finds all 65,536 addresses', async (t) => {
  const f = lab().facts;
  const r = await lab().ferroscan(['-6', '-sS', '-Pn', '-n', '-p', String(f.sweepPort), '--open', '--rate', '100000', '-oG', '-', f.sweepCidr], { timeoutMs: 180_000 });
  t.is(r.code, 0, describe('ferroscan', r));
  const lines = grepableHostLines(r.stdout).filter((l) => l.includes(`${f.sweepPort}/open/tcp`));
  const found = new Set(lines.map((l) => l.split(/\s+/)[1]));
  const base = parseIPv6(f.sweepCidr.split('/')[0])!;
  let inRange = 0;
  for (const a of found) {
    const v = parseIPv6(a);
    if (v !== undefined && v >= base && v < base + 65536n) inRange++;
  }
  t.log(`/112 sweep: ${found.size} of 65536 found in ${(r.ms / 1000).toFixed(1)} s`);
  t.is(lines.length, 65536, 'one line per address');
  t.is(inRange, 65536);
});

test.serial('shards cover an IPv6 range exactly once on the wire', async (t) => {
  const f = lab().facts;
  const base = parseIPv6(f.sweepCidr.split('/')[0])!;
  const range = `${formatIPv6(base)}/116`; // 4096 addresses
  const seen: string[] = [];
  for (let i = 1; i <= 3; i++) {
    const r = await lab().ferroscan(['-6', '-Pn', '-n', '-p', '80', '--open', '--seed', '99', '--shard', `${i}/3`, '-oG', '-', range]);
    t.is(r.code, 0, describe(`shard ${i}/3`, r));
    const part = grepableHostLines(r.stdout).filter((l) => l.includes('80/open/tcp')).map((l) => l.split(/\s+/)[1]);
    t.true(part.length > 1300 && part.length < 1430, `a third each, got ${part.length}`);
    seen.push(...part);
  }
  t.is(seen.length, 4096, 'no address in two shards');
  t.is(new Set(seen).size, 4096, 'every address in one');
});

test.serial('an interrupted IPv6 dry run and its resume together build every probe', async (t) => {
  const pcap = join(dir, 'part6.pcap');
  const resumeFile = join(dir, 'scan6.resume');
  const args = ['-6', '--dry-run', '-n', '--rate', '4000', '--seed', '5', '--pcap', pcap, '--resume-file', resumeFile, '-p', '1-16', '2001:2:0:1::/118'];
  const child = spawn('ip', ['netns', 'exec', lab().facts.scanNs, process.execPath, ferroscanBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  setTimeout(() => child.kill('SIGINT'), 1500);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 130, stderr);
  t.true(existsSync(resumeFile));
  const saved = JSON.parse(readFileSync(resumeFile, 'utf8')) as { startPosition: number };
  const all = new Set<string>();
  const base = parseIPv6('2001:2:0:1::')!;
  for (let a = 0n; a < 1024n; a++) for (let p = 1; p <= 16; p++) all.add(`${formatIPv6(base + a)}:${p}`);
  t.true(saved.startPosition > 0 && saved.startPosition < all.size, `resume position ${saved.startPosition}`);
  const first = probeKeys(readPcap(pcap));
  renameSync(pcap, join(dir, 'part6-1.pcap'));
  const r = await lab().ferroscan(['--resume', resumeFile]);
  t.is(r.code, 0, describe('ferroscan --resume', r));
  const second = probeKeys(readPcap(pcap));
  t.is(second.length, all.size - saved.startPosition, 'the resume starts at the saved position');
  t.deepEqual([...new Set([...first, ...second])].sort(), [...all].sort());
});

test.serial('-6 -oX: valid against nmap.dtd, addrtype ipv6, no ndiff differences from nmap -6; grepable and JSON carry IPv6', async (t) => {
  const f = lab().facts;
  const nmapXml = join(dir, 'nmap6.xml');
  const fsXml = join(dir, 'fs6.xml');
  const ports = specPorts.join(',');
  const nm = await lab().nmap(['-6', '-sS', '--reason', '-n', '-p', ports, '-oX', nmapXml, f.targetAddr]);
  t.is(nm.code, 0, describe('nmap', nm));
  const json = join(dir, 'fs6.json');
  const fs = await lab().ferroscan(['-6', '-sS', '--reason', '-n', '-p', ports, '-oX', fsXml, '-oJ', json, f.targetAddr]);
  t.is(fs.code, 0, describe('ferroscan', fs));
  const v = validateXml(fsXml);
  t.true(v.ok, v.out);
  const xml = readFileSync(fsXml, 'utf8');
  t.true(xml.includes(`<address addr="${f.targetAddr}" addrtype="ipv6"/>`), xml);
  t.true(xml.includes(`addrtype="mac"`), 'the on-link target has its MAC');
  const { diffs, text } = ndiffDifferences(nmapXml, fsXml);
  t.deepEqual(diffs, [], text);
  const doc = JSON.parse(readFileSync(json, 'utf8')) as { hosts: { address: string; addrtype: string }[] };
  t.like(doc.hosts[0], { address: f.targetAddr, addrtype: 'ipv6' });
  const g = await lab().ferroscan(['-6', '-sS', '-n', '-p', '22,80', '-oG', '-', f.targetAddr]);
  t.regex(g.stdout, new RegExp(`^Host: ${f.targetAddr} \\(\\)\\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///`, 'm'));
});

test.serial('the lab itself: ip6tables mirrors every DROP and REJECT rule of lab-spec.json with its ICMPv6 type', async (t) => {
  const f = lab().facts;
  const r = await run('ip', ['netns', 'exec', f.targetNs, 'ip6tables', '-w', '-S', 'INPUT']);
  t.is(r.code, 0, describe('ip6tables -S', r));
  const rules = r.stdout.split('\n');
  const has = (proto: string, port: number, action: string): boolean => rules.some((l) => l.includes(`-d ${f.targetAddr}/128`) && l.includes(`-p ${proto}`) && new RegExp(`--dport ${port}( |$)`).test(l) && l.endsWith(action));
  const v6 = labSpec6.reject;
  for (const p of labSpec.ports) {
    if (p.rule === 'drop') t.true(has('tcp', p.port, '-j DROP'), `tcp ${p.port} DROP\n${r.stdout}`);
    if (p.rule === 'reject') t.true(has('tcp', p.port, `--reject-with ${v6[p.with]}`), `tcp ${p.port} REJECT ${v6[p.with]}\n${r.stdout}`);
  }
  for (const p of labSpec.udp) {
    if (p.rule === 'drop') t.true(has('udp', p.port, '-j DROP'), `udp ${p.port} DROP`);
    if (p.rule === 'reject') t.true(has('udp', p.port, `--reject-with ${v6[p.with]}`), `udp ${p.port} REJECT`);
  }
  // no default route, no IPv4, and only lab addresses in either namespace
  for (const ns of [f.scanNs, f.targetNs]) {
    t.is((await run('ip', ['-n', ns, '-6', 'route', 'show', 'default'])).stdout.trim(), '', `${ns}: no IPv6 default route`);
    t.is((await run('ip', ['-n', ns, '-4', 'addr', 'show', 'scope', 'global'])).stdout.trim(), '', `${ns}: no IPv4 address`);
    const addrs = (await run('ip', ['-n', ns, '-6', '-o', 'addr', 'show', 'scope', 'global'])).stdout.trim().split('\n');
    for (const line of addrs) t.regex(line, /inet6 2001:2::/, `${ns}: ${line}`);
  }
});

test.serial('-6 -sU under the target\'s default ICMPv6 rate limit: closed ports stay closed, as nmap -6 finds them', async (t) => {
  await withLab6(
    t,
    async (l) => {
      t.is(l.facts.raw.LAB_ICMP_LIMITS, '1000/1000/50', 'the target keeps the default ICMPv6 limits');
      const addr = l.facts.targetAddr;
      const spec = labSpec.ratelimit.udpClosed;
      const ports = expandPorts(spec);
      const args = ['-6', '-sU', '--reason', '-Pn', '-n', '-p', spec, addr];
      const fs = await l.ferroscan(args, { timeoutMs: 150_000 });
      t.is(fs.code, 0, describe('ferroscan', fs));
      await new Promise((r) => setTimeout(r, 5000));
      const nm = await l.nmap(args, { timeoutMs: 150_000 });
      t.is(nm.code, 0, describe('nmap', nm));
      const a = hostOf(t, nm.stdout, addr);
      const b = hostOf(t, fs.stdout, addr);
      if (!a || !b) return;
      const closed = (): Verdict => ({ state: 'closed', reason: 'port-unreach', ttl: 64 });
      const cmp = compareReports(a, b, ports, ['nmap', 'ferroscan'], 'udp');
      t.log(`-6 -sU (ICMPv6 rate limit): ${cmp.compared} ports compared, ${cmp.agree} agree (nmap ${(nm.ms / 1000).toFixed(1)} s, ferroscan ${(fs.ms / 1000).toFixed(1)} s)`);
      t.deepEqual(diffAgainstExpected(b, ports, closed, { reasons: true, proto: 'udp' }), [], `ferroscan: all closed\n${fs.stdout}`);
      // as for IPv4: nmap's rate-limit detection is a heuristic; hold ferroscan to nmap only
      // when nmap found what the lab defines
      const nmapDiffs = diffAgainstExpected(a, ports, closed, { reasons: true, proto: 'udp' });
      if (nmapDiffs.length) t.log(`nmap -6 missed closed ports this run (not held against ferroscan):\n${nmapDiffs.join('\n')}`);
      else t.deepEqual(cmp.diffs, []);
    },
    { icmp: 'default' },
  );
});

test.serial('the portscanner drop-in over IPv6: every lab port as the connect scan and the npm package see it', async (t) => {
  const f = lab().facts;
  const child = fileURLToPath(new URL('./helpers/portscanner-child.ts', import.meta.url));
  const plan: Call[] = specPorts.flatMap((port): Call[] => [
    { lib: 'ferroscan', fn: 'checkPortStatus', args: [port, f.targetAddr] },
    { lib: 'portscanner', fn: 'checkPortStatus', args: [port, f.targetAddr] },
  ]);
  plan.push({ lib: 'ferroscan', fn: 'checkPort', args: [f.loopbackOpen, '::1'] }, { lib: 'ferroscan', fn: 'checkPorts', args: [specPorts, f.targetAddr] });
  const r = await lab().execInScanner(process.execPath, ['--import=tsx', child, JSON.stringify(plan)], { timeoutMs: 180_000 });
  t.is(r.code, 0, describe('portscanner child', r));
  const out = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Outcome);
  t.is(out.length, plan.length, describe('portscanner child', r));
  for (let i = 0; i < specPorts.length; i++) {
    const port = specPorts[i];
    const want = expectedTcp6('connect', port).state === 'open' ? 'open' : 'closed';
    t.like(out[2 * i], { ok: true, value: want }, `ferroscan ${port}`);
    // portscanner rejects where connect() fails with an ICMPv6 error; elsewhere it agrees
    if (out[2 * i + 1].ok) t.is(out[2 * i + 1].value, want, `portscanner ${port}`);
  }
  t.like(out[plan.length - 2], { ok: true, value: { address: '::1', state: 'open', status: 'open' } });
  const checks = out[plan.length - 1].value as { port: number; state: string; reason: string }[];
  for (const c of checks) t.like(c, { state: expectedTcp6('syn', c.port).state, reason: expectedTcp6('syn', c.port).reason }, `checkPorts ${c.port}`);
});
