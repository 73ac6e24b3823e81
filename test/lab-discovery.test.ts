// Host discovery, reverse DNS and MAC addresses against nmap on the discovery lab
// (scripts/lab-discovery.sh): both scanners run inside the lab's scanner namespace, on the
// same targets, and must agree on which hosts are up, why (--reason), their names (from the
// lab's own DNS server, the only one asked) and the hardware address and vendor of on-link hosts.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from './helpers/lab.js';
import { parseReport, useDiscoveryLab, type ReportedHost } from './helpers/lab-discovery.js';

const lab = useDiscoveryLab(test);

/** "198.18.9.0/28" → its first `n` addresses as a range spec "198.18.9.0-3". */
const head = (cidr: string, n: number): string => {
  const base = cidr.split('/')[0];
  const [a, b, c, d] = base.split('.').map(Number);
  return `${a}.${b}.${c}.${d}-${d + n - 1}`;
};

const summary = (hosts: Map<string, ReportedHost>): string[] =>
  [...hosts.values()]
    .filter((h) => h.up)
    .map((h) => `${h.address} ${h.name ?? '-'} ${h.reason ?? '-'} ${h.mac ?? '-'} ${h.vendor ?? '-'} ${h.ports.join(',')}`)
    .sort();

async function both(args: string[]): Promise<{ nmap: Map<string, ReportedHost>; fs: Map<string, ReportedHost>; fsOut: string }> {
  const nm = await lab().nmap(args);
  if (nm.code !== 0) throw new Error(describe('nmap', nm));
  const fs = await lab().ferroscan(args);
  if (fs.code !== 0) throw new Error(describe('ferroscan', fs));
  return { nmap: parseReport(nm.stdout), fs: parseReport(fs.stdout), fsOut: fs.stdout };
}

test('-sn: the same hosts up, reasons, PTR names and MACs as nmap, on the link and through routers', async (t) => {
  const f = lab().facts;
  const targets = [head(f.cidr, 8), head(f.synRange, 4), head(f.echoRange, 4)];
  const { nmap, fs, fsOut } = await both(['-sn', '--reason', '--dns-servers', f.dnsServer, ...targets]);
  t.deepEqual(summary(fs), summary(nmap));
  // And what the lab says it is.
  const up = fs.get(f.upAddr)!;
  t.like(up, { up: true, reason: 'arp-response', name: f.names.get(f.upAddr), mac: f.upMac.toUpperCase() });
  t.like(fs.get(f.noicmpAddr), { up: true, reason: 'arp-response', name: 'noicmp.fslab.test', mac: f.noicmpMac.toUpperCase() });
  t.like(fs.get(f.arponlyAddr), { up: true, reason: 'arp-response', mac: f.arponlyMac.toUpperCase(), vendor: 'Unknown' });
  t.like(fs.get(f.scanAddr), { up: true, reason: 'localhost-response', name: 'scanner.fslab.test', mac: undefined });
  t.false(fs.has(f.absentAddr), 'the absent address is not reported without -v');
  t.like(fs.get('198.18.9.1'), { reason: 'syn-ack', name: 'syn1.fslab.test', mac: undefined });
  t.like(fs.get('198.18.10.1'), { reason: 'echo-reply', name: 'echo1.fslab.test', mac: undefined });
  t.regex(fsOut, /^ferroscan done: 16 IP addresses \(12 hosts up\) scanned in \d+\.\d\d seconds$/m);
});

// Each probe alone (ARP off, so the IP probes reach on-link hosts too): nmap's reasons.
for (const flag of ['-PE', '-PP', '-PM', '-PS', '-PS443', '-PA443', '-PU']) {
  test(`${flag} --disable-arp-ping: same hosts and reasons as nmap`, async (t) => {
    const f = lab().facts;
    const { nmap, fs } = await both(['-sn', '-n', '--reason', flag, '--disable-arp-ping', `${f.scanAddr}-5`.replace(/\.\d+-5$/, '.1-5'), '198.18.9.1', '198.18.10.1']);
    t.deepEqual(summary(fs), summary(nmap));
    // Linux answers no address mask request (RFC 1122 leaves it optional): -PM finds only this host
    const remoteUp = [...fs.values()].some((h) => h.up && h.address !== f.scanAddr);
    if (flag === '-PM') t.false(remoteUp, 'no host answers -PM');
    else t.true(remoteUp, 'some host answered');
  });
}

test('default scan (-p 80,443): discovery first, same hosts, reasons, ports, names and MACs as nmap', async (t) => {
  const f = lab().facts;
  const targets = `${f.upAddr}-5`.replace(/\.\d+-5$/, '.2-5');
  const { nmap, fs, fsOut } = await both(['-p', '80,443', '--reason', '--dns-servers', f.dnsServer, targets]);
  t.deepEqual(summary(fs), summary(nmap));
  t.deepEqual(fs.get(f.noicmpAddr)?.ports, ['80/tcp filtered no-response', '443/tcp open syn-ack']);
  t.false(fs.has(f.absentAddr), 'the absent host is down, so not port-scanned');
  // nmap's layout: the MAC line closes the host block, after the port table.
  t.regex(fsOut, /443\/tcp open  https   syn-ack ttl 64\nMAC Address: 52:54:00:12:08:02 \(QEMU virtual NIC\)\n\n/);
});

test('-Pn -sn: every target up as user-set, nothing sent; -v lists down hosts with their reason', async (t) => {
  const f = lab().facts;
  const pn = await lab().ferroscan(['-sn', '-Pn', '-n', '--reason', `${f.arponlyAddr}`, f.absentAddr]);
  t.is(pn.code, 0, describe('ferroscan', pn));
  const hosts = parseReport(pn.stdout);
  t.like(hosts.get(f.absentAddr), { up: true, reason: 'user-set' });
  t.like(hosts.get(f.arponlyAddr), { up: true, reason: 'user-set', mac: undefined });
  const v = await both(['-sn', '-v', '--reason', '-R', '--dns-servers', f.dnsServer, f.arponlyAddr, f.absentAddr]);
  t.deepEqual(summary(v.fs), summary(v.nmap));
  t.like(v.fs.get(f.absentAddr), { up: false, reason: 'no-response' });
});

test('-sn XML: PTR names and MAC addresses, valid against nmap.dtd', async (t) => {
  const f = lab().facts;
  const dir = mkdtempSync(join(tmpdir(), 'fs-disc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const xml = join(dir, 'sn.xml');
  const r = await lab().ferroscan(['-sn', '--dns-servers', f.dnsServer, '-oX', xml, `${f.upAddr}`, f.arponlyAddr]);
  t.is(r.code, 0, describe('ferroscan', r));
  const text = readFileSync(xml, 'utf8');
  t.true(text.includes(`<address addr="${f.upMac.toUpperCase()}" addrtype="mac" vendor="QEMU virtual NIC"/>`), text);
  t.true(text.includes(`<address addr="${f.arponlyMac.toUpperCase()}" addrtype="mac"/>`), text);
  t.true(text.includes('<hostname name="up.fslab.test" type="PTR"/>'), text);
  t.false(text.includes('<scaninfo'), 'a ping scan has no scaninfo');
  const valid = await lab().execInScanner('xmllint', ['--noout', '--dtdvalid', '/usr/share/nmap/nmap.dtd', xml]);
  t.is(valid.code, 0, describe('xmllint', valid));
});

test('-n: no names; --dns-servers with a bad address is a one-line error', async (t) => {
  const f = lab().facts;
  const r = await lab().ferroscan(['-sn', '-n', f.upAddr]);
  t.is(r.code, 0, describe('ferroscan', r));
  t.regex(r.stdout, new RegExp(`^ferroscan scan report for ${f.upAddr.replace(/\./g, '\\.')}$`, 'm'));
  const bad = await lab().ferroscan(['-sn', '--dns-servers', 'nope', f.upAddr]);
  t.is(bad.code, 1);
  t.is(bad.stderr, 'ferroscan: invalid DNS server "nope" in --dns-servers (an IP address, optionally :port)\n');
});
