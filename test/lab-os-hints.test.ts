// --os-hints against p0f itself: a SYN sweep of the OS lab's targets with --os-hints while
// tcpdump records the scanner's side of the lab's switch (its bridge port), then `p0f -r` on
// that capture. Per host, ferroscan's hint must be p0f's verdict: the same label (or none,
// p0f's "???"), the same distance, the same kind of match (exact, generic, fuzzy).
//
// One preparation of the capture, and why: p0f recognises ferroscan's SYNs as an nmap SYN
// scan (its "NMap SYN scan" application signature: window 1024, MSS 1460) and then drops the
// connection without looking at the answer. So before p0f reads the capture, each SYN's
// window is rewritten (65535, checksum fixed): the SYN+ACKs, which are what is judged, stay
// exactly as the targets sent them, and the SYN's MSS, which p0f weighs, is untouched.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from './helpers/lab.js';
import { useOsLab } from './helpers/lab-os.js';

const lab = useOsLab(test);

/** The one's-complement sum of RFC 1071 over `b`. */
function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

/** The capture with every bare SYN's window set to 65535 (see the header). */
function rewriteSynWindows(pcap: Buffer): Buffer {
  const out = Buffer.from(pcap);
  for (let at = 24; at + 16 <= out.length; ) {
    const len = out.readUInt32LE(at + 8);
    const ip = at + 16 + 14;
    const ihl = (out[ip] & 0x0f) * 4;
    const tcp = ip + ihl;
    if (out.readUInt16BE(at + 16 + 12) === 0x0800 && out[ip + 9] === 6 && out[tcp + 13] === 0x02) {
      const tcpLen = out.readUInt16BE(ip + 2) - ihl;
      out.writeUInt16BE(65535, tcp + 14);
      out.writeUInt16BE(0, tcp + 16);
      const pseudo = Buffer.concat([out.subarray(ip + 12, ip + 20), Buffer.from([0, 6, tcpLen >> 8, tcpLen & 0xff]), out.subarray(tcp, tcp + tcpLen)]);
      out.writeUInt16BE(checksum(pseudo), tcp + 16);
    }
    at += 16 + len;
  }
  return out;
}

test("ferroscan's passive hints are p0f's verdicts, host by host", async (t) => {
  const l = lab();
  const dir = mkdtempSync(join(tmpdir(), 'fs-hints-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const capture = join(dir, 'sweep.pcap');
  // tcpdump on the scanner's port of the lab's switch: it sees both directions, sends nothing
  // (--immediate-mode: else frames wait in a ring block for a second, and are lost at SIGINT;
  // -Z root: as user tcpdump it could not write into this private directory)
  const sw = l.facts.raw.LAB_SWITCH_NS;
  const tcpdump = spawn('ip', ['netns', 'exec', sw, 'tcpdump', '-Z', 'root', '--immediate-mode', '-i', 'p-scan', '-U', '-s', '0', '-w', capture, 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => void tcpdump.kill('SIGKILL'));
  let said = '';
  await new Promise<void>((resolve, reject) => {
    tcpdump.stderr.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('listening on')) resolve();
    });
    tcpdump.on('exit', (c) => reject(new Error(`tcpdump exited ${c}: ${said}`)));
  });
  const targets = [...l.facts.targets.values()];
  const ndjson = join(dir, 'hints.ndjson');
  const r = await l.ferroscan(['-n', '-Pn', '--os-hints', '-p', '22', '--ndjson', ndjson, ...targets]);
  t.is(r.code, 0, describe('ferroscan', r));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const stopped = new Promise((resolve) => tcpdump.on('exit', resolve));
  tcpdump.kill('SIGINT');
  await stopped;
  // everything the filter took was written
  const counts = /(\d+) packets? captured\n(\d+) packets? received by filter/.exec(said);
  t.truthy(counts && counts[1] === counts[2] && Number(counts[1]) > 0, said);
  const rewritten = join(dir, 'sweep-p0f.pcap');
  writeFileSync(rewritten, rewriteSynWindows(readFileSync(capture)));
  const log = join(dir, 'p0f.log');
  const p = await l.execInScanner('p0f', ['-r', rewritten, '-o', log]);
  t.is(p.code, 0, describe('p0f', p));

  // p0f: srv=ADDR/PORT|...|os=LABEL|dist=N|params=...
  const theirs = new Map<string, { os: string; dist: string; params: string }>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line.includes('mod=syn+ack|')) continue;
    const f = Object.fromEntries(line.split('|').map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
    theirs.set(String(f.srv).split('/')[0], { os: f.os, dist: f.dist, params: f.params });
  }
  const ours = new Map<string, { os?: string; match: string; distance: number; distanceAtMost: boolean }>();
  for (const line of readFileSync(ndjson, 'utf8').split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line) as { type: string; address: string; osHint?: { os?: string; match: string; distance: number; distanceAtMost: boolean } };
    if (o.type === 'host' && o.osHint) ours.set(o.address, o.osHint);
  }
  // every target with an open port 22 answered with a SYN+ACK: both judged it
  const open = targets.filter((a) => a !== l.facts.raw.LAB_ROUTER_ADDR);
  t.deepEqual([...ours.keys()].sort(), [...open].sort());
  t.deepEqual([...theirs.keys()].sort(), [...open].sort());
  for (const addr of open) {
    const p0f = theirs.get(addr);
    const h = ours.get(addr);
    if (!p0f || !h) continue;
    t.is(h.os ?? '???', p0f.os, `${addr}: label`);
    t.is(`${h.distanceAtMost ? '<= ' : ''}${h.distance}`, p0f.dist, `${addr}: distance`);
    const flags = p0f.params.split(' ');
    t.is(h.match === 'fuzzy', flags.includes('fuzzy'), `${addr}: fuzzy (${p0f.params})`);
    t.is(h.match === 'generic', flags.includes('generic'), `${addr}: generic (${p0f.params})`);
  }
  // the lab has one target p0f does put a label on (TTL 255, window 65535)
  t.true([...theirs.values()].some((v) => v.os !== '???'), 'p0f named at least one target');
});
