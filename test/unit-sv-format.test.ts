// -sV text forms against real nmap 7.93 output: nmap -sV scanned the loopback corpus
// servers (scripts/sv-corpus.mjs --serve 10000) and wrote sv-loopback.nmap.txt and .xml;
// the <service> elements of the XML, fed to ts/service/format.ts, must give back the
// SERVICE and VERSION columns, the Service Info line and the fingerprint block of the
// normal output, and the XML attributes themselves.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fullVersion, grepableVersion, serviceColumn, serviceInfoLine, unrecognizedBlock, xmlServiceAttributes, type ServiceInfo } from '../ts/service/format.js';

const dir = new URL('./fixtures/', import.meta.url);
const xml = readFileSync(new URL('sv-loopback.nmap.xml', dir), 'utf8');
const normal = readFileSync(new URL('sv-loopback.nmap.txt', dir), 'utf8');

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

interface Port {
  port: number;
  attrs: [string, string][];
  service: ServiceInfo;
}

function ports(): Port[] {
  const out: Port[] = [];
  for (const m of xml.matchAll(/<port protocol="tcp" portid="(\d+)">([\s\S]*?)<\/port>/g)) {
    const svc = m[2].match(/<service ([^>]*?)\/?>/);
    if (!svc) continue;
    const attrs = [...svc[1].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], unescape(a[2])] as [string, string]);
    const a = Object.fromEntries(attrs);
    const cpe = [...m[2].matchAll(/<cpe>([^<]*)<\/cpe>/g)].map((c) => c[1]);
    const s: ServiceInfo = { method: a.method, conf: Number(a.conf), cpe, state: 'hardmatched' };
    if (a.name !== 'unknown') s.name = a.name;
    for (const k of ['product', 'version', 'extrainfo', 'hostname', 'ostype', 'devicetype'] as const) if (a[k]) s[k] = a[k];
    if (a.tunnel === 'ssl') s.tunnel = 'ssl';
    out.push({ port: Number(m[1]), attrs, service: s });
  }
  return out;
}

test('SERVICE and VERSION columns are nmap\'s', (t) => {
  const ps = ports();
  t.true(ps.length >= 10);
  for (const p of ps) {
    const line = normal.split('\n').find((l) => l.startsWith(`${p.port}/tcp `));
    t.truthy(line, `port ${p.port}`);
    const cols = line!.split(/\s+/);
    t.is(cols[2], serviceColumn(p.service, undefined, 'open', true), `port ${p.port}`);
    const version = line!.replace(/^\S+\s+\S+\s+\S+\s*/, '');
    t.is(version, fullVersion(p.service), `port ${p.port}`);
    t.is(grepableVersion(p.service), version.replace(/\//g, '|'));
  }
});

test('Service Info line is nmap\'s', (t) => {
  const want = normal.split('\n').find((l) => l.startsWith('Service Info:'));
  t.is(serviceInfoLine(ports().map((p) => p.service)), want);
});

test('XML service attributes in nmap\'s order', (t) => {
  for (const p of ports()) {
    // the formatter gets the fingerprint as printed (with "\nSF:" breaks), the XML drops them
    const s: ServiceInfo = { ...p.service };
    if (p.attrs.some(([k]) => k === 'servicefp')) s.servicefp = extractFp(p.port);
    t.deepEqual(xmlServiceAttributes(s), p.attrs, `port ${p.port}`);
  }
});

function extractFp(port: number): string {
  const lines = normal.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`SF-Port${port}-`));
  const out = [lines[i]];
  for (let j = i + 1; j < lines.length && lines[j].startsWith('SF:'); j++) out.push(lines[j]);
  return out.join('\n');
}

test('the unrecognized-services block is nmap\'s', (t) => {
  const fps = ports()
    .filter((p) => p.attrs.some(([k]) => k === 'servicefp'))
    .map((p) => extractFp(p.port));
  const block = unrecognizedBlock(fps)!;
  const start = normal.indexOf(block.split('\n')[0]);
  t.true(start > 0);
  t.is(normal.slice(start, start + block.length), block);
});

test('column widths and truncation', (t) => {
  t.is(fullVersion({ product: 'p', version: 'v', extrainfo: 'e' }), 'p v (e)');
  const long = 'x'.repeat(200);
  const v = fullVersion({ product: long });
  t.is(v.length, 159);
  t.true(v.endsWith('...'));
  t.is(serviceColumn(undefined, 'http', 'open', true), 'http?');
  t.is(serviceColumn(undefined, 'http', 'open', false), 'http');
  t.is(serviceColumn({ method: 'table', conf: 3, cpe: [], state: 'nomatch', tunnel: 'ssl' }, undefined, 'open', true), 'ssl/unknown');
});
