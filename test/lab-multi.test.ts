// Several techniques in one run (issue 3): `-sS -sU -p T:...,U:...` against the lab target,
// golden against nmap with the same arguments. Both tools must give every TCP and every UDP
// port the same state, reason and reason TTL; nmap's own report is first held against
// scripts/lab-spec.json so that a failure points at the right side. The run's XML must be
// valid against nmap.dtd, and ndiff must see no port difference between the two XML files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, type Lab, useLab } from './helpers/lab.js';
import { compareReports, diffAgainstExpected, expectedSyn, expectedUdp, specPorts, specUdpPorts } from './helpers/lab-spec.js';
import { expandPorts, type HostReport, parseNormalOutput } from './helpers/normal-output.js';
import { ndiffDifferences, scratch, validateXml } from './helpers/output-tools.js';

const lab = useLab(test);

function hostOf(t: ExecutionContext, stdout: string, addr: string): HostReport | undefined {
  const host = parseNormalOutput(stdout).hosts.get(addr);
  if (!host) t.fail(`no scan report for ${addr} in:\n${stdout.slice(0, 4000)}`);
  return host;
}

const extras = (ports: number[]): string => ports.filter((p) => p > 1024).join(',');

async function golden(t: ExecutionContext, l: Lab, tcpSpec: string, udpSpec: string): Promise<void> {
  const addr = l.facts.targetAddr;
  const dir = scratch(t);
  const args = ['-sS', '-sU', '-Pn', '-n', '--reason', '-p', `T:${tcpSpec},U:${udpSpec}`];
  const nmapXml = join(dir, 'nmap.xml');
  const oursXml = join(dir, 'ferroscan.xml');
  const nm = await l.nmap([...args, '-oX', nmapXml, addr]);
  t.is(nm.code, 0, describe('nmap', nm));
  const fs = await l.ferroscan([...args, '-oX', oursXml, addr]);
  t.is(fs.code, 0, describe('ferroscan', fs));
  const a = hostOf(t, nm.stdout, addr);
  const b = hostOf(t, fs.stdout, addr);
  if (!a || !b) return;
  const plan = [
    { proto: 'tcp', ports: expandPorts(tcpSpec), want: (p: number) => expectedSyn(addr, p), rules: specPorts },
    { proto: 'udp', ports: expandPorts(udpSpec), want: expectedUdp, rules: specUdpPorts },
  ];
  for (const { proto, ports, want, rules } of plan) {
    const labDiffs = diffAgainstExpected(a, ports, want, { reasons: true, proto });
    if (labDiffs.length) t.log(`nmap ${proto} differs from lab-spec.json:\n${labDiffs.slice(0, 50).join('\n')}`);
    t.deepEqual(labDiffs, [], `nmap -sS -sU sees the lab's ${proto} ports as lab-spec.json describes`);
    const cmp = compareReports(a, b, ports, ['nmap', 'ferroscan'], proto);
    t.log(`-sS -sU ${proto}: ${cmp.compared} ports compared, ${cmp.agree} agree`);
    if (cmp.diffs.length) t.log(`${cmp.diffs.length} differences:\n${cmp.diffs.slice(0, 50).join('\n')}`);
    t.deepEqual(cmp.diffs, []);
    t.is(cmp.agree, cmp.compared);
    for (const p of rules) t.true(ports.includes(p), `rule port ${p}/${proto} scanned`);
  }
  t.log(`nmap ${(nm.ms / 1000).toFixed(1)} s, ferroscan ${(fs.ms / 1000).toFixed(1)} s`);
  // One PORT table: every tcp row before the first udp row, as nmap prints it.
  const protos = [...b.ports.keys()].map((k) => k.split('/')[1]);
  t.deepEqual(protos, [...protos].sort((x, y) => (x === y ? 0 : x === 'tcp' ? -1 : 1)), 'tcp rows, then udp rows');
  t.true(protos.includes('udp') && protos.includes('tcp'), `both protocols listed:\n${fs.stdout}`);
  // The "Not shown" groups agree too (state, protocol, reason and count).
  const groups = (h: HostReport) => h.hidden.map((g) => `${g.count} ${g.state} ${g.proto} (${g.reason})`).sort();
  t.deepEqual(groups(b), groups(a));
  // XML: valid, one scaninfo per technique, and ndiff sees no port difference.
  const valid = validateXml(oursXml);
  t.true(valid.ok, valid.out);
  const xml = readFileSync(oursXml, 'utf8');
  t.deepEqual(
    [...xml.matchAll(/<scaninfo type="(\w+)" protocol="(\w+)"/g)].map((m) => `${m[1]}/${m[2]}`),
    ['syn/tcp', 'udp/udp'],
  );
  const nd = ndiffDifferences(nmapXml, oursXml);
  if (nd.diffs.length) t.log(nd.text);
  t.deepEqual(nd.diffs, []);
}

test.serial('golden -sS -sU on the lab rule ports: same state and reason as nmap for every TCP and UDP port', async (t) => {
  await golden(t, lab(), specPorts.join(','), specUdpPorts.join(','));
});

test.serial('golden -sS -sU on 1-1024 of both protocols and the extra rule ports', async (t) => {
  await golden(t, lab(), `1-1024,${extras(specPorts)}`, `1-1024,${extras(specUdpPorts)}`);
});

test.serial('-v: the SYN scan runs first, then the UDP scan, each announced with its own port count', async (t) => {
  const addr = lab().facts.targetAddr;
  const r = await lab().ferroscan(['-v', '-sU', '-sS', '-Pn', '-n', '-p', `T:${specPorts.join(',')},U:${specUdpPorts.join(',')}`, addr]);
  t.is(r.code, 0, describe('ferroscan', r));
  const phases = r.stdout.split('\n').filter((l) => /^(Initiating|Scanning|Completed) /.test(l)).map((l) => l.replace(/ at \d\d:\d\d(, [\d.]+s elapsed)?/, ''));
  t.deepEqual(phases, [
    'Initiating SYN Stealth Scan',
    `Scanning ${addr} [${specPorts.length} ports]`,
    `Completed SYN Stealth Scan (${specPorts.length} total ports)`,
    'Initiating UDP Scan',
    `Scanning ${addr} [${specUdpPorts.length} ports]`,
    `Completed UDP Scan (${specUdpPorts.length} total ports)`,
  ]);
});

test.serial('without -p: the top 1000 ports of each protocol, as nmap -sS -sU', async (t) => {
  const addr = lab().facts.targetAddr;
  const dir = scratch(t);
  const json = join(dir, 'scan.json');
  const r = await lab().ferroscan(['-sS', '-sU', '-Pn', '-n', '-oJ', json, addr]);
  t.is(r.code, 0, describe('ferroscan', r));
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  t.deepEqual(
    doc.scaninfo.map((s: { type: string; numservices: number }) => `${s.type}:${s.numservices}`),
    ['syn:1000', 'udp:1000'],
  );
  const host = doc.hosts[0];
  const total = host.ports.length + host.extraports.reduce((n: number, x: { count: number }) => n + x.count, 0);
  t.is(total, 2000, 'every port of both protocols is accounted for');
});
