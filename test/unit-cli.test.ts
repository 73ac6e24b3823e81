// The CLI as a user meets it: help, version, and one-line errors with a non-zero exit for
// bad input. Runs the compiled bin/ferroscan.js; no case here reaches the engine.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { preprocessArgv } from '../ts/cli/flags.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/ferroscan.js', import.meta.url));

test.before(() => {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
});

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

test('--help prints grouped help and exits 0', (t) => {
  const r = run('--help');
  t.is(r.status, 0);
  t.regex(r.stdout, /^ferroscan 0\.1\.0/);
  for (const group of ['TARGET SPECIFICATION:', 'HOST DISCOVERY:', 'SCAN TECHNIQUES:', 'PORT SPECIFICATION AND SCAN ORDER:', 'OUTPUT:']) t.true(r.stdout.includes(group), group);
  t.is(r.stderr, '');
});

test('--version', (t) => {
  const r = run('--version');
  t.is(r.status, 0);
  t.is(r.stdout, 'ferroscan version 0.1.0 ( https://github.com/ferroscan )\n');
});

const bad: [string[], string][] = [
  [['-p', '70000'], 'ferroscan: invalid port specification "70000" (ports are 0-65535)'],
  [['-p22,abc', '127.0.0.1'], 'ferroscan: invalid port specification "abc" (unknown service name)'],
  [['-p-', '198.18.0.300'], 'ferroscan: invalid target "198.18.0.300"'],
  [['--bogus'], 'ferroscan: unknown option "--bogus"'],
  [['-e'], 'ferroscan: option "-e" needs a value'],
  [['--rate', 'fast'], 'ferroscan: invalid --rate "fast"'],
  [['--max-retries', '-1'], 'ferroscan: invalid --max-retries "-1"'],
  [['-sY'], 'ferroscan: scan type "-sY" is not supported yet'],
  // nmap: one TCP technique per run ("You specified more than one type of TCP scan"), plus -sU if wanted.
  [['-sS', '-sA'], 'ferroscan: more than one type of TCP scan (-sS and -sA): choose only one of -sA, -sF, -sM, -sN, -sS, -sT, -sW and -sX, plus -sU if wanted'],
  [['-sU', '-sF', '-sX'], 'ferroscan: more than one type of TCP scan (-sF and -sX): choose only one of -sA, -sF, -sM, -sN, -sS, -sT, -sW and -sX, plus -sU if wanted'],
  [['-sT', '-sU', '-sS', '198.18.0.2'], 'ferroscan: more than one type of TCP scan (-sT and -sS): choose only one of -sA, -sF, -sM, -sN, -sS, -sT, -sW and -sX, plus -sU if wanted'],
  [['-sA', '-sU', '--scanflags', 'SYN', '198.18.0.2'], 'ferroscan: --scanflags sets the probe flags itself; combine it with -sS, -sU or nothing'],
  [['-sS', '-sU', '-sn', '198.18.0.2'], 'ferroscan: -sn (no port scan) cannot be combined with a port scan type'],
  [['-sS', '-sU', '-sL', '198.18.0.2'], 'ferroscan: the list scan (-sL) cannot be combined with another scan type'],
  [['-sS', '-sU', '--shard', '1/2', '198.18.0.2'], 'ferroscan: --shard works with one scan type at a time; run the TCP and the UDP scan (-sU) separately'],
  [['-sU', '-sS', '--dry-run', '198.18.0.2'], 'ferroscan: --dry-run works with one scan type at a time; run the TCP and the UDP scan (-sU) separately'],
  [['-sS', '-sU', '-p', 'T:22,U:53', '--pcap', 'x.pcap', '198.18.0.2'], 'ferroscan: --pcap works with one scan type at a time; run the TCP and the UDP scan (-sU) separately'],
  [['-sS', '-sU', '-p', 'T:22,U:1-3', '--exclude-ports', '1-65535', '198.18.0.2'], 'ferroscan: no TCP/UDP ports left to scan in "T:22,U:1-3" after --exclude-ports "1-65535"'],
  [['-T9'], 'ferroscan: invalid timing template "-T9" (0-5, or paranoid, sneaky, polite, normal, aggressive, insane)'],
  [['--max-rtt-timeout', 'soon'], 'ferroscan: invalid --max-rtt-timeout "soon" (a time such as 500ms, 2s or 1m; a bare number is seconds)'],
  [['--min-rate', '100', '--max-rate', '10'], 'ferroscan: --min-rate (100) is above --max-rate (10)'],
  [['--host-timeout'], 'ferroscan: option "--host-timeout" needs a value'],
  [['--scanflags', 'SYNBOGUS'], 'ferroscan: invalid --scanflags "SYNBOGUS" (a number up to 255, or flag names such as SYNFIN)'],
];
for (const [args, line] of bad) {
  test(`bad input ${args.join(' ')} → one line, exit 1`, (t) => {
    const r = run(...args);
    t.is(r.status, 1);
    t.is(r.stdout, '');
    t.is(r.stderr, `${line}\n`);
    t.false(r.stderr.includes('    at '), 'no stack trace');
  });
}

test('nmap-style flags are rewritten for yargs', (t) => {
  t.deepEqual(preprocessArgv(['-sS', '-Pn', '-p-', '198.18.0.1']), ['--technique=syn', '--Pn', '--ports=-', '198.18.0.1']);
  t.deepEqual(preprocessArgv(['-p80', '-p', '22,25', '-v', '--', '-p9']), ['--ports=80', '--ports=22,25', '-v', '--', '-p9']);
  t.throws(() => preprocessArgv(['-p']), { message: 'option -p needs a port specification' });
});

test('-sU beside one TCP technique: both run, in either order; repeats are harmless', (t) => {
  t.deepEqual(preprocessArgv(['-sU']), ['--technique=udp']);
  t.deepEqual(preprocessArgv(['-sS', '-sU', '-p', 'T:22,U:53']), ['--technique=syn', '--udp-scan', '--ports=T:22,U:53']);
  t.deepEqual(preprocessArgv(['-sU', '-Pn', '-sT']), ['--udp-scan', '--Pn', '--technique=connect']);
  t.deepEqual(preprocessArgv(['-sU', '-sA', '-sU', '-sA']), ['--udp-scan', '--technique=ack']);
  t.deepEqual(preprocessArgv(['-sS', '-sS']), ['--technique=syn']);
  // --scanflags is a TCP scan of its own: -sU stays a technique and main() runs both.
  t.deepEqual(preprocessArgv(['--scanflags', 'SYN', '-sU']), ['--scanflags', 'SYN', '--technique=udp']);
  for (const [a, b] of [['-sS', '-sT'], ['-sA', '-sW'], ['-sF', '-sN'], ['-sM', '-sX']]) {
    t.throws(() => preprocessArgv([a, '-sU', b]), { message: `more than one type of TCP scan (${a} and ${b}): choose only one of -sA, -sF, -sM, -sN, -sS, -sT, -sW and -sX, plus -sU if wanted` });
  }
});
