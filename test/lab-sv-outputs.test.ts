// -sV in the other output formats, against live nmap in the service lab: the grepable
// Ports line must be nmap's (service with '?' and "ssl|", version with '/' as '|'), the
// normal report's port table and its unrecognized-services block the same lines (values
// that change between runs by shape), and the XML valid against nmap's DTD.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceScan, useServicesLab } from './helpers/lab-services.js';

const lab = useServicesLab(test);

// memcached's uptime and the fingerprint's date and clock change from run to run
const shape = (s: string) =>
  s
    .replace(/uptime \d+ seconds/g, 'uptime N seconds')
    .replace(/%D=\d+\/\d+%Time=[0-9A-F]+%/g, '%D=M/D%Time=T%')
    .replace(/\nSF:/g, '');

function portLines(normal: string): string[] {
  return normal.split('\n').filter((l) => /^\d+\/(tcp|udp) /.test(l) || l.startsWith('PORT '));
}

function fingerprints(normal: string): string[] {
  const out: string[] = [];
  const lines = normal.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('SF-Port')) continue;
    let fp = lines[i];
    while (lines[i + 1]?.startsWith('SF:')) fp += `\n${lines[++i]}`;
    out.push(shape(fp));
  }
  return out;
}

test.serial('-sV grepable, normal and XML outputs are nmap\'s', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-sv-outputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = lab().facts;
  const ports = ['21', '22', '80', '443', String(f.unknownPort), String(f.tcpwrappedPort)].join(',');
  const run = async (who: 'nmap' | 'ferroscan') => {
    const args = ['-sV', '-n', '-Pn', '-p', ports, '-oG', join(dir, `${who}.gnmap`), '-oN', join(dir, `${who}.nmap`), f.targetAddr];
    await serviceScan(lab(), who, args, dir, who, { timeoutMs: 280_000 });
    return { grep: readFileSync(join(dir, `${who}.gnmap`), 'utf8'), normal: readFileSync(join(dir, `${who}.nmap`), 'utf8') };
  };
  const nm = await run('nmap');
  const fs = await run('ferroscan');
  const portsLine = (g: string) => shape(g.split('\n').find((l) => l.includes('\tPorts: ')) ?? '').replace(/^Host: \S+ \([^)]*\)\t/, '');
  t.not(portsLine(nm.grep), '');
  t.is(portsLine(fs.grep), portsLine(nm.grep));
  t.deepEqual(portLines(fs.normal).map(shape), portLines(nm.normal).map(shape));
  t.deepEqual(fingerprints(fs.normal), fingerprints(nm.normal));
  t.true(fingerprints(nm.normal).length >= 1, 'the unknown service gives nmap a fingerprint');
  const dtd = '/usr/share/nmap/nmap.dtd';
  if (existsSync(dtd)) {
    const v = spawnSync('xmllint', ['--noout', '--dtdvalid', dtd, join(dir, 'ferroscan.xml')], { encoding: 'utf8' });
    t.is(v.status, 0, v.stderr);
  }
});
