// The CLI as a user meets it: help, version, and one-line errors with a non-zero exit for
// bad input. Runs the compiled bin/ferroscan.js; no case here reaches the engine.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { preprocessArgv } from '../ts/cli.js';

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
  [['-sS', '-sA'], 'ferroscan: several scan types in one run (-sS and -sA) are not supported yet; run them one at a time'],
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
