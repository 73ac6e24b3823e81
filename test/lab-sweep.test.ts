// The stateless sweep, checked on the packets a dry run builds (--dry-run --pcap): every
// probe exactly once, shards disjoint and complete, an interrupted run plus its resume equal
// to a whole run, exclusions never probed, memory flat however large the space. Dry runs
// open no socket at all; they still run inside the lab's scanner namespace, which has no
// route out, so that nothing could leave even if a bug sent a packet.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, ferroscanBin, useLab } from './helpers/lab.js';
import { probeKeys, readPcap } from './helpers/pcap.js';

const lab = useLab(test);
const dir = mkdtempSync(join(tmpdir(), 'ferroscan-sweep-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

// 1024 addresses × 16 ports: big enough to be interesting, small enough to list
const TARGETS = '198.18.4.0/22';
const PORTS = '1-16';
const ALL = new Set<string>();
for (let a = 0; a < 1024; a++) for (let p = 1; p <= 16; p++) ALL.add(`198.18.${4 + (a >> 8)}.${a & 255}:${p}`);

async function dryRun(args: string[], pcap: string): Promise<string[]> {
  const r = await lab().ferroscan(['--dry-run', '-n', '--pcap', pcap, ...args]);
  if (r.code !== 0) throw new Error(describe('ferroscan --dry-run', r));
  return probeKeys(readPcap(pcap));
}

function assertExactly(t: import('ava').ExecutionContext, keys: string[], expected: ReadonlySet<string>) {
  const seen = new Set(keys);
  t.is(keys.length, seen.size, 'no probe built twice');
  t.is(seen.size, expected.size);
  t.deepEqual([...seen].filter((k) => !expected.has(k)), [], 'nothing outside the scan');
}

test.serial('a dry run builds every probe of the space exactly once, in a seeded order', async (t) => {
  const a = await dryRun(['--seed', '7', '-p', PORTS, TARGETS], join(dir, 'all-a.pcap'));
  assertExactly(t, a, ALL);
  const b = await dryRun(['--seed', '7', '-p', PORTS, TARGETS], join(dir, 'all-b.pcap'));
  t.deepEqual(b, a, 'the same seed gives the same order');
  const c = await dryRun(['--seed', '8', '-p', PORTS, TARGETS], join(dir, 'all-c.pcap'));
  t.notDeepEqual(c, a, 'another seed another order');
  const r = await dryRun(['-r', '-p', '1-2', '198.18.4.0/31'], join(dir, 'seq.pcap'));
  t.deepEqual(r, ['198.18.4.0:1', '198.18.4.0:2', '198.18.4.1:1', '198.18.4.1:2'], '-r: address and port order');
});

test.serial('shards are disjoint and together cover the scan', async (t) => {
  const parts: string[][] = [];
  for (let i = 1; i <= 3; i++) parts.push(await dryRun(['--seed', '11', '--shard', `${i}/3`, '-p', PORTS, TARGETS], join(dir, `shard${i}.pcap`)));
  for (const p of parts) t.true(p.length > 5000 && p.length < 5600, `a third each, got ${p.length}`);
  assertExactly(t, parts.flat(), ALL);
  const bad = await lab().ferroscan(['--dry-run', '--shard', '4/3', TARGETS]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^ferroscan: invalid --shard "4\/3"/);
});

test.serial('an interrupted run and its resume together equal an uninterrupted run', async (t) => {
  const pcap = join(dir, 'part.pcap');
  const resumeFile = join(dir, 'scan.resume');
  // slow enough to interrupt midway: 16384 probes at 4000/s
  const args = ['--dry-run', '-n', '--rate', '4000', '--seed', '5', '--pcap', pcap, '--resume-file', resumeFile, '-p', PORTS, TARGETS];
  const child = spawn('ip', ['netns', 'exec', lab().facts.scanNs, process.execPath, ferroscanBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  setTimeout(() => child.kill('SIGINT'), 1500);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 130, stderr);
  t.regex(stderr, /interrupted; to continue: ferroscan --resume /);
  t.true(existsSync(resumeFile));
  const saved = JSON.parse(readFileSync(resumeFile, 'utf8')) as { startPosition: number; seed: string };
  t.is(saved.seed, '5');
  t.true(saved.startPosition > 0 && saved.startPosition < ALL.size, `resume position ${saved.startPosition}`);
  const first = probeKeys(readPcap(pcap));
  renameSync(pcap, join(dir, 'part1.pcap'));
  const r = await lab().ferroscan(['--resume', resumeFile]);
  t.is(r.code, 0, describe('ferroscan --resume', r));
  const second = probeKeys(readPcap(pcap));
  t.true(first.length >= saved.startPosition, 'the first part covers the saved position');
  t.is(second.length, ALL.size - saved.startPosition, 'the resume starts at the saved position');
  t.deepEqual([...new Set([...first, ...second])].sort(), [...ALL].sort());
  const bad = await lab().ferroscan(['--resume', join(dir, 'nope.resume')]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^ferroscan: cannot read resume file/);
});

test.serial('excluded addresses are never probed', async (t) => {
  const keys = await dryRun(['--exclude', '198.18.5.0/24,198.18.6.7', '-p', PORTS, TARGETS], join(dir, 'excl.pcap'));
  const expected = new Set([...ALL].filter((k) => !k.startsWith('198.18.5.') && !k.startsWith('198.18.6.7:')));
  assertExactly(t, keys, expected);
});

test.serial('memory stays flat: a dry run over 0.0.0.0/0 × 1 port holds its peak RSS under 64 MiB', async (t) => {
  // a slice of the whole space (1/256: 16.8 million probes) through the same code path; the
  // engine's state does not grow with the space, so the peak is the same for every slice
  const r = await lab().execInScanner('/usr/bin/time', ['-f', 'peak-rss-kb=%M', process.execPath, ferroscanBin, '--dry-run', '-n', '-p', '80', '--shard', '1/256', '0.0.0.0/0']);
  t.is(r.code, 0, describe('dry run', r));
  t.regex(r.stdout, /dry run: \d+ of \d+ packets built, none sent/);
  const kb = Number(/peak-rss-kb=(\d+)/.exec(r.stderr)?.[1]);
  t.log(`peak RSS ${(kb / 1024).toFixed(1)} MiB; ${r.stdout.trim()}`);
  t.true(kb > 0 && kb < 64 * 1024, `peak RSS ${kb} KiB`);
});
