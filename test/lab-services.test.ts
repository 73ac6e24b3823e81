// Golden service and version detection: nmap -sV and ferroscan -sV, run live one after the other
// inside the service lab's scanner namespace (scripts/lab-services.sh: real Debian daemons,
// TLS on a standard and a non-standard port, services on non-standard ports, a tcpwrapped port,
// a banner nmap does not know), must agree on every port: state, service name, product, version,
// extrainfo, hostname, ostype, devicetype, tunnel, method, conf, fingerprint and CPEs (values
// that change between runs by shape: test/helpers/service-compare.ts, VOLATILE), ndiff must
// report no difference, and normal output must carry the same "Service Info" line.
// Nothing is recorded from an earlier nmap run: nmap is the reference each time.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceScan, useServicesLab } from './helpers/lab-services.js';
import { compareServices, ndiffServices } from './helpers/service-compare.js';
import { serviceInfoLines } from './helpers/service-xml.js';

const lab = useServicesLab(test);

function scratch(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-golden-sv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs both scanners with the same arguments (plus -oX and -oN files of their own) and checks
 * they agree. `minPorts`: how many ports nmap must have reported, so that an empty scan on both
 * sides can never pass.
 */
async function golden(t: ExecutionContext, args: string[], minPorts: number): Promise<void> {
  const dir = scratch(t);
  const withNormal = (name: string) => [...args, '-oN', join(dir, `${name}.nmap`)];
  const nm = await serviceScan(lab(), 'nmap', withNormal('nmap'), dir, 'nmap', { timeoutMs: 280_000 });
  const fs = await serviceScan(lab(), 'ferroscan', withNormal('ferroscan'), dir, 'ferroscan', { timeoutMs: 280_000 });
  t.true(nm.ports.size >= minPorts, `nmap reported ${nm.ports.size} ports`);
  t.true([...nm.ports.values()].every((p) => p.service !== undefined), 'nmap named every port');
  const diffs = compareServices(nm.ports, fs.ports);
  t.deepEqual(diffs, [], `-sV differences:\n${diffs.join('\n')}`);
  const nd = ndiffServices(nm.xmlPath, fs.xmlPath, join(dir, 'ndiff'));
  t.is(nd.code, 0, `ndiff:\n${nd.text}`);
  const info = (name: string) => serviceInfoLines(readFileSync(join(dir, `${name}.nmap`), 'utf8'));
  t.deepEqual(info('ferroscan'), info('nmap'), 'the Service Info line');
}

test.serial('-sV on every TCP service of the lab: the same per-port results as nmap', async (t) => {
  const f = lab().facts;
  await golden(t, ['-sV', '-n', '-Pn', '-p', f.tcpPorts.join(','), f.targetAddr], f.tcpPorts.length);
});

test.serial('-sU -sV on the lab UDP services (DNS, SNMP): the same per-port results as nmap', async (t) => {
  const f = lab().facts;
  await golden(t, ['-sU', '-sV', '-n', '-Pn', '-p', f.udpPorts.join(','), f.targetAddr], f.udpPorts.length);
});

test.serial('-sV on eight AnyIP hosts x the bench ports: the same per-host, per-port results as nmap', async (t) => {
  const f = lab().facts;
  const base = f.multiRange.split('/')[0].split('.').slice(0, 3).join('.');
  await golden(t, ['-sV', '-n', '-Pn', '-p', f.multiPorts.join(','), `${base}.0-7`], 8 * f.multiPorts.length);
});
