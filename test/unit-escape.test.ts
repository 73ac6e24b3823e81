// Hostile bytes never reach a terminal (issue 16): the escaping rule (ts/output/escape.ts,
// nmap's escape_for_screen and protect_xml), nmap's host name rule for PTR records, and the
// writers that use them — normal output, grepable, XML (still valid for nmap.dtd), JSON — fed
// a host whose PTR name, vendor and command line carry terminal escapes and C0/C1 controls.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorLine } from '../ts/cli/error-line.js';
import { ScanError, TargetError } from '../ts/errors.js';
import { reverseLookup, sanitizeHostname } from '../ts/hosts/rdns.js';
import type { HostReport } from '../ts/hosts/model.js';
import { escapeLines, escapeText, protectXml, safeJson } from '../ts/output/escape.js';
import { GrepableWriter } from '../ts/output/grepable.js';
import { JsonWriter } from '../ts/output/json.js';
import { macLine, nameIp, NormalWriter } from '../ts/output/normal.js';
import { NormalFileWriter } from '../ts/output/normal-file.js';
import type { Sink } from '../ts/output/sink.js';
import type { RunInfo } from '../ts/output/writer.js';
import { XmlWriter } from '../ts/output/xml.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const HOSTILE = 'a\x1b[31mred\x1b[0m\r\n\tb\x07c\x00d\x7f\u009b2Je\u202e';

test('escapeText: printable ASCII kept, everything else as \\xHH of its UTF-8 bytes (nmap rule)', (t) => {
  t.is(escapeText('plain text, 0-9 ~!@#$%^&*()'), 'plain text, 0-9 ~!@#$%^&*()');
  t.is(escapeText('\x1b[31mRED'), '\\x1B[31mRED');
  t.is(escapeText('\r\n\t'), '\\x0D\\x0A\\x09');
  t.is(escapeText('\u009b'), '\\xC2\\x9B', 'C1 CSI, which terminals obey');
  t.is(escapeText('é'), '\\xC3\\xA9');
  t.is(escapeText('😀'), '\\xF0\\x9F\\x98\\x80', 'a whole code point, not its surrogates');
  t.is(escapeText('\ud800'), '\\xEF\\xBF\\xBD', 'a lone surrogate as U+FFFD');
  t.is(escapeText('back\\slash'), 'back\\slash', 'backslashes are left alone, as nmap leaves them');
  t.false(CONTROL.test(escapeText(HOSTILE)));
});

test('escapeLines keeps tabs and newlines, nothing else', (t) => {
  t.is(escapeLines('a\tb\nc\r\x1b'), 'a\tb\nc\\x0D\\x1B');
});

test('protectXml: what XML 1.0 cannot carry and terminal controls become \\xHH; text and Unicode stay', (t) => {
  t.is(protectXml('ok <&> é 😀 \t\r\n'), 'ok <&> é 😀 \t\r\n');
  t.is(protectXml('\x00\x01\x1b\x7f\u0085\uffff'), '\\x00\\x01\\x1B\\x7F\\xC2\\x85\\xEF\\xBF\\xBF');
  t.is(protectXml('x\udc00y'), 'x\\xEF\\xBF\\xBDy', 'lone low surrogate');
  t.is(protectXml('\ud83d\ude00'), '\ud83d\ude00', 'a surrogate pair is a character');
});

test('safeJson: the same JSON value, with DEL, C1 and U+2028/U+2029 escaped', (t) => {
  const value = { s: 'a\x7f\u009b\u2028b\x1b' };
  const text = safeJson(JSON.stringify(value));
  t.deepEqual(JSON.parse(text), value);
  t.false(CONTROL.test(text));
  t.false(text.includes('\u2028'));
});

test("PTR names: nmap's host name alphabet, the rest as '*'", (t) => {
  t.is(sanitizeHostname('host-1.example.org'), 'host-1.example.org');
  t.is(sanitizeHostname('a_b+c=d:e~f*g'), 'a_b+c=d:e~f*g');
  t.is(sanitizeHostname('\x1b[31mevil\x1b[0m.example'), '**31mevil**0m.example');
  t.is(sanitizeHostname('sp ace\\027'), 'sp*ace*027');
});

test("reverseLookup cleans what a resolver returns and says which addresses needed it", async (t) => {
  // c-ares hands control bytes back escaped ("\\027" is ESC): they are undone first, so the
  // name reads as nmap shows it (nmap parses DNS itself): one '*' per byte.
  const answers: Record<string, string> = { '198.18.0.7': '\x1b]0;pwn\x07.example.', '198.18.0.8': 'fine.example.', '198.18.0.9': 'evil\\027[31mred.example.', '198.18.0.10': 'a\\.b\\\\c\\200.example.' };
  const resolver = { reverse: async (a: string) => [answers[a]] };
  const flagged: string[] = [];
  const names = await reverseLookup(Object.keys(answers), { resolver, onIllegalName: (a) => flagged.push(a) });
  t.is(names.get('198.18.0.7'), '**0*pwn*.example');
  t.is(names.get('198.18.0.8'), 'fine.example');
  t.is(names.get('198.18.0.9'), 'evil**31mred.example', 'what nmap prints for the same record (lab, nmap 7.93)');
  t.is(names.get('198.18.0.10'), 'a.b*c*.example');
  t.deepEqual(flagged.sort(), ['198.18.0.10', '198.18.0.7', '198.18.0.9']);
});

test('errorLine: messages quoting input are escaped; engine codes are left out', (t) => {
  t.is(errorLine(new TargetError('invalid target "\x1b[31mRED"', '\x1b[31mRED')), 'invalid target "\\x1B[31mRED"');
  t.is(errorLine(new ScanError('EIO: reading type of interface x0: No such file or directory (os error 2)', 'EIO')), 'reading type of interface x0: No such file or directory');
  t.is(errorLine(new Error('first line\nsecond')), 'first line');
});

/** A host whose every outside-supplied field is hostile. */
function hostileHost(): HostReport {
  return {
    address: '198.18.0.7',
    ptr: HOSTILE,
    mac: '02:00:00:00:00:07',
    vendor: `Vendor${HOSTILE}`,
    status: { state: 'up', reason: 'syn-ack', ttl: 64 },
    latency: 0.0001,
    ports: new Map([[80, { state: 'open', reason: 'syn-ack', ttl: 64 }]]),
    totalPorts: 2,
    unanswered: { state: 'filtered', reason: 'no-response', ttl: 0 },
    protocol: 'tcp',
  };
}

const info = (): RunInfo => ({ startedAt: new Date(0), args: ['ferroscan', '-p', '80,81', `\x1b[2J${HOSTILE}`], technique: 'syn', ports: [80, 81], addresses: 1, verbose: 0, open: false, reason: false });

function collect(): { sink: Sink; text: () => string } {
  const chunks: string[] = [];
  return { sink: { write: (s) => void chunks.push(s), flush: () => {}, close: () => {} }, text: () => chunks.join('') };
}

test('normal output (screen and -oN) and grepable output carry no control byte', (t) => {
  const screen: string[] = [];
  const normal = new NormalWriter((s) => void screen.push(s), [80, 81]);
  normal.start(new Date(0));
  normal.host(hostileHost());
  normal.end({ addresses: 1, up: 1, elapsedSeconds: 0.1 });
  t.false(CONTROL.test(screen.join('').replace(/\n/g, '')), screen.join(''));
  t.regex(screen.join(''), /MAC Address: 02:00:00:00:00:07 \(Vendora\\x1B\[31mred/);
  t.is(nameIp({ address: '198.18.0.7', ptr: '\x1b' }), '\\x1B (198.18.0.7)');
  t.is(macLine({ mac: 'M', vendor: '\u009b' }), 'MAC Address: M (\\xC2\\x9B)');
  for (const Writer of [NormalFileWriter, GrepableWriter]) {
    const out = collect();
    const w = new Writer(out.sink);
    w.begin(info());
    w.host?.(hostileHost());
    w.end({ finishedAt: new Date(0), elapsedSeconds: 0.1, addresses: 1, up: 1 });
    t.false(CONTROL.test(out.text().replace(/[\n\t]/g, '')), `${Writer.name}: ${JSON.stringify(out.text())}`);
  }
});

test('XML with hostile fields stays valid against nmap.dtd; JSON parses back to the same strings', (t) => {
  const xml = collect();
  const x = new XmlWriter(xml.sink, null);
  x.begin(info());
  x.host(hostileHost());
  x.end({ finishedAt: new Date(0), elapsedSeconds: 0.1, addresses: 1, up: 1, error: `stopped: ${HOSTILE}` });
  // eslint-disable-next-line no-control-regex
  t.false(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/.test(xml.text()));
  const dtd = '/usr/share/nmap/nmap.dtd';
  const check = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
  if (check.status === 0 && spawnSync('test', ['-f', dtd]).status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'ferroscan-escape-'));
    try {
      writeFileSync(join(dir, 'h.xml'), xml.text());
      const v = spawnSync('xmllint', ['--noout', '--dtdvalid', dtd, join(dir, 'h.xml')], { encoding: 'utf8' });
      t.is(v.status, 0, v.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else t.log('xmllint or nmap.dtd missing: validity not checked');

  const json = collect();
  const j = new JsonWriter(json.sink);
  j.begin(info());
  j.host(hostileHost());
  j.end({ finishedAt: new Date(0), elapsedSeconds: 0.1, addresses: 1, up: 1 });
  t.false(CONTROL.test(json.text().replace(/\n/g, '')));
  const doc = JSON.parse(json.text()) as { hosts: { vendor: string }[] };
  t.is(doc.hosts[0].vendor, `Vendor${HOSTILE}`, 'JSON keeps the value, escaped the JSON way');
});

test('-sV fields handed to the writers raw are escaped too: VERSION column, Service Info, grepable', (t) => {
  const host: HostReport = {
    ...hostileHost(),
    services: new Map([['80/tcp', { name: 'http', product: `Evil\x1b[2J${HOSTILE}`, version: '1.0\r', extrainfo: '\u009b', hostname: 'h\x07', method: 'probed' as const, conf: 10, cpe: [], state: 'hardmatched' as const }]]),
  };
  const screen: string[] = [];
  const normal = new NormalWriter((s) => void screen.push(s), [80, 81], { versionScan: true });
  normal.host(host);
  const text = screen.join('');
  t.false(CONTROL.test(text.replace(/\n/g, '')), text);
  t.regex(text, /80\/tcp\s+open\s+http\s+Evil\\x1B\[2Ja\\x1B\[31mred/);
  t.regex(text, /Service Info: Host: h\\x07/);
  const grep = collect();
  const g = new GrepableWriter(grep.sink);
  g.begin({ ...info(), versionScan: true });
  g.host(host);
  t.false(CONTROL.test(grep.text().replace(/[\n\t]/g, '')), grep.text());
});
