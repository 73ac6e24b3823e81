// -sV on the command line: the flags nmap has for it (-sV, -A, --version-intensity/-light/-all,
// --version-trace, --versiondb, --allports, --version-parallelism) become the service scan's
// options in the plan, bad values are one-line usage errors, and a missing probe database is
// refused before anything is sent. No process, engine or network.
import test from 'ava';
import { existsSync } from 'node:fs';
import { parseCommand } from '../ts/cli/flags.js';
import { planScan, scanKind } from '../ts/cli/plan.js';
import { UsageError } from '../ts/errors.js';

const plan = (argv: string[]) => {
  const c = parseCommand(argv);
  if (c.kind !== 'scan') throw new Error(`expected a scan, got ${c.kind}`);
  return planScan(argv, c.args, c.outputs, scanKind(c.args), { specs: c.args._.map(String), targetOptions: { resolveAll: false, exclude: [], defaultBlocklist: true } });
};

const haveDb = existsSync('/usr/share/nmap/nmap-service-probes');

test('without -sV there is no service scan', (t) => {
  t.is(plan(['-p', '22', '198.18.0.2']).versionScan, undefined);
});

test('-sV, -A and the intensity flags', (t) => {
  if (!haveDb) return t.pass('nmap-service-probes not installed');
  t.like(plan(['-sV', '-p', '22', '198.18.0.2']).versionScan, { intensity: 7, allPorts: false, trace: false });
  t.like(plan(['-A', '-p', '22', '198.18.0.2']).versionScan, { intensity: 7 });
  t.like(plan(['-sV', '--version-intensity', '3', '198.18.0.2']).versionScan, { intensity: 3 });
  t.like(plan(['-sV', '--version-light', '198.18.0.2']).versionScan, { intensity: 2 });
  t.like(plan(['-sV', '--version-all', '198.18.0.2']).versionScan, { intensity: 9 });
  t.like(plan(['-sV', '--version-trace', '--allports', '--version-parallelism', '64', '198.18.0.2']).versionScan, { trace: true, allPorts: true, parallelism: 64 });
  // -sV with -sU is a UDP service scan; with -sn there is no port to probe
  t.is(plan(['-sU', '-sV', '-p', '53', '198.18.0.2']).technique, 'udp');
  t.is(plan(['-sn', '-sV', '198.18.0.2']).versionScan, undefined);
});

test('bad values and a missing database are one-line usage errors', (t) => {
  for (const bad of [['--version-intensity', '10'], ['--version-intensity', 'x'], ['--version-parallelism', '0']]) {
    const e = t.throws(() => plan(['-sV', ...bad, '198.18.0.2']), { instanceOf: UsageError });
    t.false(e!.message.includes('\n'));
  }
  const e = t.throws(() => plan(['-sV', '--versiondb', '/nonexistent/nmap-service-probes', '198.18.0.2']), { instanceOf: UsageError });
  t.regex(e!.message, /nmap-common/);
  t.false(e!.message.includes('\n'));
});
