#!/usr/bin/env node
// Builds test/fixtures/sv-corpus.json: the expected -sV answers for a corpus of service
// responses, taken from real nmap. Each entry is served on 127.0.0.1 by a tiny server
// (a banner on connect, a reply to one probe's bytes, an immediate close, ...); nmap -sV
// scans them all over loopback, and its XML gives the fields the Rust corpus test
// (crates/core/tests/sv_corpus.rs) must reproduce from the same bytes.
// Usage: node scripts/sv-corpus.mjs [--out FILE]   (needs nmap; loopback only)
//        node scripts/sv-corpus.mjs --serve OFFSET  (only serve, each entry on port+OFFSET)
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const b = (s) => Buffer.from(s, 'latin1');
// kind: banner (sent on every connection), reply (sent when the client's bytes start with
// trigger), close (closed at once); closeAfter: close once sent.
const corpus = [
  { id: 'openssh-debian', port: 22022, kind: 'banner', send: b('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n') },
  { id: 'vshell-subst', port: 22023, kind: 'banner', send: b('SSH-2.0-VShell_4_2_1 VShell\r\n') },
  { id: 'vsftpd', port: 22021, kind: 'banner', send: b('220 (vsFTPd 3.0.3)\r\n') },
  { id: 'exim-hostname', port: 22025, kind: 'banner', send: b('220 mail.lab.test ESMTP Exim 4.96 Tue, 01 Dec 2026 20:00:00 +0000\r\n') },
  { id: 'cmd-backdoor-subst-os', port: 22099, kind: 'banner', send: b('Microsoft Windows XP [Version 5.1.2600]\r\n(C) Copyright 1985-2001 Microsoft Corp.\r\n\r\nC:\\WINDOWS>') },
  { id: 'vport-soft-binary', port: 22098, kind: 'banner', send: b('\x02\x83\x00vPORT Rev:+D2Tech+ VPORT  VPORT_R_1_2_3 \n') },
  { id: 'nginx-get', port: 22080, kind: 'reply', trigger: b('GET / HTTP/1.0\r\n'), closeAfter: true,
    send: b('HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 20:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello') },
  { id: 'lighttpd-get', port: 22081, kind: 'reply', trigger: b('GET / HTTP/1.0\r\n'), closeAfter: true,
    send: b('HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 0\r\nDate: Tue, 01 Dec 2026 20:00:00 GMT\r\nServer: lighttpd/1.4.69\r\n\r\n') },
  { id: 'mssql-int', port: 1433, kind: 'reply', trigger: b('\x12\x01\x00\x34'),
    send: b('\x04\x01\x00\x25\x00\x00\x01\x00\x00\x00\x15\x00\x06\x01\x00\x1b\x00\x01\x02\x00\x1c\x00\x01\x03\x00\x1d\x00\x00\xff\x0a\x00\x06\x40\x00\x00\x00\x00\x00') },
  { id: 'redis-ping', port: 6379, kind: 'reply', trigger: b('*1\r\n$4\r\ninfo\r\n'),
    send: b('$120\r\n# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\nos:Linux 6.1.0 x86_64\r\narch_bits:64\r\n\r\n') },
  { id: 'tcpwrapped', port: 22111, kind: 'close' },
  { id: 'unknown-banner', port: 22112, kind: 'banner', send: b('XYZZY-7 service ready \x01\x02\x00\x007\r\n') },
  { id: 'unknown-banner-close', port: 22113, kind: 'banner', closeAfter: true, send: b('* plugh ok\r\n') },
  { id: 'soft-ftp-only', port: 22114, kind: 'banner', send: b('220 Welcome to the frobnitz FTP service\r\n') },
];

function serve(entry) {
  const srv = net.createServer((sock) => {
    sock.on('error', () => {});
    if (entry.kind === 'close') return sock.destroy();
    if (entry.kind === 'banner') {
      sock.write(entry.send);
      if (entry.closeAfter) sock.end();
      return;
    }
    let acc = Buffer.alloc(0);
    let sent = false;
    sock.on('data', (d) => {
      acc = Buffer.concat([acc, d]);
      if (!sent && acc.length >= entry.trigger.length && acc.subarray(0, entry.trigger.length).equals(entry.trigger)) {
        sent = true;
        sock.write(entry.send);
        if (entry.closeAfter) sock.end();
      }
    });
  });
  return new Promise((res) => srv.listen(entry.port + offset, '127.0.0.1', () => res(srv)));
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
  if (!m) return undefined;
  return m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
}

const serveOnly = process.argv.includes('--serve');
const offset = serveOnly ? Number(process.argv[process.argv.indexOf('--serve') + 1]) : 0;
if (serveOnly) {
  await Promise.all(corpus.map(serve));
  console.log(`serving ${corpus.map((e) => e.port + offset).join(',')}`);
  await new Promise(() => {});
}
const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : 'test/fixtures/sv-corpus.json';
const servers = await Promise.all(corpus.map(serve));
const ports = corpus.map((e) => e.port).join(',');
// nmap runs in the background of this event loop: spawnSync would block the servers
const { spawn } = await import('node:child_process');
const xml = await new Promise((res, rej) => {
  const p = spawn('nmap', ['-sV', '-Pn', '-n', '-sT', '--min-parallelism', '64', '-p', ports, '-oX', '-', '127.0.0.1']);
  let s = '';
  p.stdout.on('data', (d) => (s += d));
  p.stderr.on('data', (d) => process.stderr.write(d));
  p.on('close', (code) => (code === 0 ? res(s) : rej(new Error(`nmap exited ${code}`))));
});
servers.forEach((s) => s.close());
const version = spawnSync('nmap', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
const entries = corpus.map((e) => {
  const portRe = new RegExp(`<port protocol="tcp" portid="${e.port}">([\\s\\S]*?)</port>`);
  const block = (xml.match(portRe) || [])[1] || '';
  const svcTag = (block.match(/<service[^>]*>/) || [''])[0];
  const cpe = [...block.matchAll(/<cpe>([^<]*)<\/cpe>/g)].map((m) => m[1]);
  const nmap = {};
  for (const k of ['name', 'product', 'version', 'extrainfo', 'hostname', 'ostype', 'devicetype', 'tunnel', 'method', 'conf', 'servicefp']) {
    const v = attr(svcTag, k);
    if (v !== undefined) nmap[k] = v;
  }
  nmap.cpe = cpe;
  return {
    id: e.id,
    port: e.port,
    kind: e.kind,
    closeAfter: Boolean(e.closeAfter),
    send: e.send ? e.send.toString('hex') : '',
    trigger: e.trigger ? e.trigger.toString('hex') : '',
    nmap,
  };
});
writeFileSync(out, JSON.stringify({ generatedBy: 'scripts/sv-corpus.mjs', nmap: version, intensity: 7, entries }, null, 2) + '\n');
console.log(`wrote ${out}: ${entries.length} entries`);
