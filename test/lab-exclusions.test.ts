// Exclusions hold on the wire: tcpdump in the lab's target namespace captures every frame
// while the scanner scans with --exclude and --excludefile, once per technique (-sS -sA -sW
// -sM -sF -sN -sX --scanflags -sU -sT) and with host discovery (no -Pn, and -sn). No frame
// the scanner sends may be for an excluded address, every frame carries lab addresses
// only, and every address left in the scan does get probed. The default blocklist applies
// to sets larger than a /8, which cannot be sent inside the lab (the lab's own range is
// on the list): dry runs (--pcap) over such sets build no probe for a blocklisted address,
// and the capture shows that nothing at all goes out.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BLOCKLIST } from '../ts/targets/blocklist.js';
import { type Frame, startCapture } from './helpers/capture.js';
import { describe, useLab } from './helpers/lab.js';
import { readPcap } from './helpers/pcap.js';

const lab = useLab(test);
const dir = mkdtempSync(join(tmpdir(), 'ferroscan-excl-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const excludeFile = fileURLToPath(new URL('./fixtures/exclude-list.txt', import.meta.url));
const toInt = (a: string): number => a.split('.').reduce((v, o) => v * 256 + Number(o), 0);
const inLab = (a: string): boolean => toInt(a) >>> 17 === toInt('198.18.0.0') >>> 17;

// On-link 198.18.0.0/29 (the scanner .1, the target .2, nothing else answers) and the routed
// sweep range's 198.19.0.0/24 (every address answered by the target's kernel).
const TARGETS = ['198.18.0.0/29', '198.19.0.0/24'];
const EXCLUDE = '198.19.0.0/26,198.19.0.200';
/** What the options exclude, spelt out here: --exclude above, and test/fixtures/exclude-list.txt (198.18.0.1, .2, .6/31, .9-10). */
const excluded = new Set<string>(['198.19.0.200', '198.18.0.1', '198.18.0.2', '198.18.0.6', '198.18.0.7', '198.18.0.9', '198.18.0.10']);
for (let i = 0; i < 64; i++) excluded.add(`198.19.0.${i}`);
/** The routed addresses left in the scan: each must see a probe. */
const routedLeft: string[] = [];
for (let i = 64; i < 256; i++) if (!excluded.has(`198.19.0.${i}`)) routedLeft.push(`198.19.0.${i}`);

const COMMON = ['-n', '--max-retries', '1', '--max-rtt-timeout', '300ms', '-p', '80,81', '--exclude', EXCLUDE, '--excludefile', excludeFile, ...TARGETS];

const SCANS: [string, string[]][] = [
  ['-sS', ['-sS', '-Pn']],
  ['-sA', ['-sA', '-Pn']],
  ['-sW', ['-sW', '-Pn']],
  ['-sM', ['-sM', '-Pn']],
  ['-sF', ['-sF', '-Pn']],
  ['-sN', ['-sN', '-Pn']],
  ['-sX', ['-sX', '-Pn']],
  ['--scanflags SYNFIN', ['--scanflags', 'SYNFIN', '-Pn']],
  ['-sU', ['-sU', '-Pn']],
  ['-sT', ['-sT', '-Pn']],
  ['discovery, then -sS', ['-sS']],
  ['discovery only (-sn)', ['-sn']],
];

/** What is wrong with the frames the scanner sent during one scan. */
function problems(frames: readonly Frame[], scanAddr: string, gateway: string): string[] {
  const out: string[] = [];
  const probed = new Set<string>();
  for (const f of frames) {
    if (f.kind === 'other') continue;
    if (!inLab(f.src) || !inLab(f.dst)) out.push(`${f.kind} ${f.src} > ${f.dst}: not a lab address`);
    if (f.src !== scanAddr) continue;
    if (f.kind === 'ipv4') {
      probed.add(f.dst);
      if (excluded.has(f.dst)) out.push(`ipv4 (protocol ${f.proto}) to excluded ${f.dst}`);
    } else if (f.proto === 1 && excluded.has(f.dst) && f.dst !== gateway) {
      // asking for the router's address is routing, not probing it
      out.push(`ARP request for excluded ${f.dst}`);
    }
  }
  const missed = routedLeft.filter((a) => !probed.has(a));
  if (missed.length) out.push(`${missed.length} addresses left in the scan got no probe: ${missed.slice(0, 10).join(' ')}`);
  return out;
}

for (const [name, args] of SCANS) {
  test.serial(`${name}: nothing on the wire for --exclude / --excludefile addresses`, async (t) => {
    const { targetNs, targetIf, scanAddr, targetAddr } = lab().facts;
    const capture = await startCapture(targetNs, targetIf, join(dir, `${name.replace(/[^a-z]/gi, '')}.pcap`));
    const r = await lab().ferroscan([...args, ...COMMON]);
    const frames = await capture.stop();
    t.is(r.code, 0, describe('ferroscan', r));
    const fromScanner = frames.filter((f) => f.src === scanAddr).length;
    t.log(`${frames.length} frames captured, ${fromScanner} from the scanner`);
    t.deepEqual(problems(frames, scanAddr, targetAddr), []);
  });
}

test.serial('default blocklist: a dry run over a set larger than a /8 builds probes only outside it, and nothing is sent', async (t) => {
  const { targetNs, targetIf, scanAddr } = lab().facts;
  // 10/8, the lab's 198.18/15 and 192.168/16 are all blocklisted: only 11.22.33.0/24 is left
  const pcap = join(dir, 'blocklist.pcap');
  const capture = await startCapture(targetNs, targetIf, join(dir, 'blocklist-wire.pcap'));
  const r = await lab().ferroscan(['--dry-run', '-n', '-p', '80', '--pcap', pcap, '10.0.0.0/8', '198.18.0.0/15', '192.168.0.0/16', '11.22.33.0/24']);
  const wire = await capture.stop();
  t.is(r.code, 0, describe('ferroscan --dry-run', r));
  t.regex(r.stdout, /Excluding IANA special-purpose ranges/);
  const probes = readPcap(pcap);
  t.is(probes.length, 256);
  t.deepEqual(probes.filter((p) => !p.dst.startsWith('11.22.33.')), []);
  t.deepEqual(wire.filter((f) => f.src === scanAddr), [], 'a dry run sends nothing');
});

test.serial('default blocklist: a sample of the whole space (0.0.0.0/0, one shard in 65536) has no probe in a blocklisted range', async (t) => {
  const { targetNs, targetIf, scanAddr } = lab().facts;
  const pcap = join(dir, 'all.pcap');
  const capture = await startCapture(targetNs, targetIf, join(dir, 'all-wire.pcap'));
  const r = await lab().ferroscan(['--dry-run', '-n', '-p', '80', '--seed', '3', '--shard', '1/65536', '--pcap', pcap, '0.0.0.0/0']);
  const wire = await capture.stop();
  t.is(r.code, 0, describe('ferroscan --dry-run', r));
  const probes = readPcap(pcap);
  const blocked = probes.filter((p) => {
    const v = toInt(p.dst);
    return DEFAULT_BLOCKLIST.some((b) => v >= b.start && v <= b.end);
  });
  // the blocklist holds about 14% of the space: without it, thousands of these would be in it
  const blockedShare = DEFAULT_BLOCKLIST.reduce((n, b) => n + (b.end - b.start + 1), 0) / 2 ** 32;
  t.log(`${probes.length} probes sampled; the blocklist is ${(blockedShare * 100).toFixed(1)}% of the space`);
  t.true(probes.length > 50_000, `${probes.length} probes`);
  t.deepEqual(blocked.map((p) => p.dst).slice(0, 20), []);
  t.deepEqual(wire.filter((f) => f.src === scanAddr), [], 'a dry run sends nothing');
});
