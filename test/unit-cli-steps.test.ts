// The CLI's steps one at a time (ts/cli/): parse (parseCommand) and the plan (scanKind,
// planScan), called directly with no process, engine or network, to show what each step hands
// the next.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommand, type CliArgs } from '../ts/cli/flags.js';
import { planScan, scanKind } from '../ts/cli/plan.js';
import { UsageError } from '../ts/errors.js';
import type { OutputTarget } from '../ts/output/outputs.js';

/** parseCommand's scan (its options and output targets), or a thrown error. */
function scanArgs(argv: string[]): { args: CliArgs; outputs: OutputTarget[] } {
  const c = parseCommand(argv);
  if (c.kind !== 'scan') throw new Error(`expected a scan, got ${c.kind}`);
  return { args: c.args, outputs: c.outputs };
}

const plan = (argv: string[]) => {
  const { args, outputs } = scanArgs(argv);
  return planScan(argv, args, outputs, scanKind(args), { specs: args._.map(String), targetOptions: { resolveAll: false, exclude: [], defaultBlocklist: true } });
};

test('parse: help, version and a scan are told apart; output options are taken out first', (t) => {
  t.deepEqual(parseCommand(['-h']), { kind: 'help' });
  t.deepEqual(parseCommand(['-V']), { kind: 'version' });
  const c = parseCommand(['-oX', '-', '-p', '22', '198.18.0.2']);
  t.is(c.kind, 'scan');
  if (c.kind !== 'scan') return;
  t.deepEqual(c.outputs.map((o) => [o.format, o.path]), [['xml', '-']]);
  t.is(c.args.ports, '22');
  t.deepEqual(c.args._, ['198.18.0.2']);
});

test('parse: --resume hands back the saved command line with its seed and position', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-steps-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'r.resume');
  writeFileSync(file, JSON.stringify({ version: 1, argv: ['-p', '80', '198.18.0.0/24'], seed: '7', startPosition: 42 }));
  t.like(parseCommand(['--resume', file]), { kind: 'resume', argv: ['-p', '80', '198.18.0.0/24', '--seed', '7', '--start-position', '42'], state: { startPosition: 42, outputs: [] } });
  t.throws(() => parseCommand(['--resume', file, '-p', '22']), { instanceOf: UsageError, message: /--resume takes the resume file and no other option/ });
});

test('plan: the scan kind — technique, --scanflags, -sU beside a TCP scan', (t) => {
  t.is(scanKind(scanArgs(['198.18.0.2']).args).technique, 'syn');
  const flags = scanKind(scanArgs(['--scanflags', 'SYNFIN', '-sU']).args);
  t.is(flags.technique, 'flags');
  t.is(flags.tcpFlags, 0x03);
  t.true(flags.udpToo);
  t.throws(() => scanKind(scanArgs(['-sA', '--scanflags', 'SYN']).args), { instanceOf: UsageError });
});

test('plan: ports per protocol, the second scan of -sS -sU, and -sn', (t) => {
  const both = plan(['-sS', '-sU', '-p', 'T:22,80,U:53', '198.18.0.2']);
  t.is(both.technique, 'syn');
  t.deepEqual(both.ports, [22, 80]);
  t.deepEqual(both.udpScan, { technique: 'udp', ports: [53] });
  // a protocol left without ports is not scanned: -sS -sU -p U:53 is a UDP scan
  const udpOnly = plan(['-sS', '-sU', '-p', 'U:53', '198.18.0.2']);
  t.is(udpOnly.technique, 'udp');
  t.deepEqual(udpOnly.ports, [53]);
  t.is(udpOnly.udpScan, undefined);
  const ping = plan(['-sn', '198.18.0.0/24']);
  t.true(ping.pingScan);
  t.deepEqual(ping.ports, [0]);
  t.is(plan(['--seed', '9', '198.18.0.2']).seed, 9n);
  t.throws(() => plan(['-sS', '-sU', '--shard', '1/2', '198.18.0.2']), { instanceOf: UsageError, message: /--shard works with one scan type at a time/ });
  t.throws(() => plan(['-n', '-R', '198.18.0.2']), { instanceOf: UsageError, message: /-n \(no reverse DNS\) and -R/ });
});
