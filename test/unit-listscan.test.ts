// The list scan and the target/port options as a user meets them: -sL's nmap layout,
// streaming of 0.0.0.0/0, the blocklist header, -iL from stdin, and one-line errors with
// exit 1 for bad specs. Runs the compiled bin/ferroscan.js; -sL never loads the engine.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listScan } from '../ts/targets/list-scan.js';
import { parseTargets } from '../ts/targets/targets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/ferroscan.js', import.meta.url));

test.before(() => {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
});

const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, input });

test('-sL prints nmap -sL -n lines: start, one report per target, names with their address, done', (t) => {
  const r = run(['-sL', '198.18.0,2.1-2', 'localhost']);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.regex(lines[0], /^Starting ferroscan \S+ \( \S+ \) at \d{4}-\d\d-\d\d \d\d:\d\d/);
  t.deepEqual(lines.slice(1, -1), [
    'ferroscan scan report for 198.18.0.1',
    'ferroscan scan report for 198.18.0.2',
    'ferroscan scan report for 198.18.2.1',
    'ferroscan scan report for 198.18.2.2',
    'ferroscan scan report for localhost (127.0.0.1)',
  ]);
  t.regex(lines[lines.length - 1], /^ferroscan done: 5 IP addresses \(0 hosts up\) scanned in \d+\.\d\d seconds$/);
});

test('a name with several addresses gets nmap\'s "Other addresses" line', async (t) => {
  const set = await parseTargets(['multi.example'], async () => ['198.18.0.7', '198.18.0.3']);
  let text = '';
  await listScan(set, (s) => void (text += s));
  t.true(text.includes('ferroscan scan report for multi.example (198.18.0.7)\nOther addresses for multi.example (not scanned): 198.18.0.3\n'));
  t.true(text.includes('ferroscan done: 1 IP address (0 hosts up)'));
});

test('-sL 0.0.0.0/0 streams: the first lines come at once, after the blocklist header', (t) => {
  const script = `"${process.execPath}" "${bin}" -sL 0.0.0.0/0 | head -4`;
  const out = execFileSync('sh', ['-c', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  const lines = out.trimEnd().split('\n');
  t.true(lines[1].startsWith('Excluding IANA special-purpose ranges (default blocklist for target sets larger than a /8; --no-default-blocklist to scan them): 0.0.0.0/8, 10.0.0.0/8,'), lines[1]);
  t.deepEqual(lines.slice(2), ['ferroscan scan report for 1.0.0.0', 'ferroscan scan report for 1.0.0.1']);
  const raw = execFileSync('sh', ['-c', `"${process.execPath}" "${bin}" -sL --no-default-blocklist 0.0.0.0/0 | head -3`], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  t.deepEqual(raw.trimEnd().split('\n').slice(1), ['ferroscan scan report for 0.0.0.0', 'ferroscan scan report for 0.0.0.1']);
});

test('-iL - reads targets from standard input; --exclude and --excludefile are never listed', (t) => {
  const r = run(['-sL', '-iL', '-', '--exclude', '198.18.0.2', '--excludefile', 'test/fixtures/exclude-list.txt'], '198.18.0.0/28 # all of it\n198.18.1.1\n');
  t.is(r.status, 0, r.stderr);
  const listed = r.stdout.split('\n').filter((l) => l.includes('scan report for')).map((l) => l.split(' ').pop());
  t.deepEqual(listed, ['198.18.0.0', '198.18.0.3', '198.18.0.4', '198.18.0.5', '198.18.0.8', '198.18.0.11', '198.18.0.12', '198.18.0.13', '198.18.0.14', '198.18.0.15', '198.18.1.1']);
});

test('everything excluded: nmap\'s warning, 0 addresses, exit 0', (t) => {
  const r = run(['-sL', '198.18.0.0/30', '--exclude', '198.18.0.0/30']);
  t.is(r.status, 0);
  t.is(r.stderr, 'WARNING: No targets were specified, so 0 hosts scanned.\n');
  t.regex(r.stdout, /ferroscan done: 0 IP addresses \(0 hosts up\)/);
});

const bad: [string[], string][] = [
  [['-sL', '198.18.0.1-300'], 'ferroscan: invalid target "198.18.0.1-300"'],
  [['-sL', '198.18.0.1,,2'], 'ferroscan: invalid target "198.18.0.1,,2"'],
  [['-sL', '198.18.0.9-3'], 'ferroscan: invalid target "198.18.0.9-3": range ends before it starts'],
  [['-sL', '198.18.0.0/33'], 'ferroscan: invalid target "198.18.0.0/33": prefix length must be 0-32'],
  [['-sL', 'fe80::/64'], 'ferroscan: fe80::/64 looks like an IPv6 target specification -- you have to use the -6 option.'],
  [['-sL', '-6', '198.18.0.1'], 'ferroscan: Hostname 198.18.0.1 resolves, but not to any IPv6 address. Try scanning without -6'],
  [['-sL', '-6', '2001:2::1/129'], 'ferroscan: invalid target "2001:2::1/129": prefix length must be 0-128'],
  [['-sL', '-6', '2001:2::1-5'], 'ferroscan: invalid target "2001:2::1-5": IPv6 targets are addresses and CIDR blocks, not ranges'],
  [['-sL', '-6', 'fe80::1%a', 'fe80::2%b'], 'ferroscan: targets name two interfaces (%a, %b); scan each link separately'],
  [['-6', '-PP', '2001:2::1'], 'ferroscan: ICMP Timestamp and Address Mask pings are only valid for IPv4.'],
  [['-p', '::1'], 'ferroscan: invalid port specification "::1"'],
  [['-sL', '198.18.0.1', '--exclude', '198.18.0.1,,198.18.0.2'], 'ferroscan: invalid --exclude "198.18.0.1,,198.18.0.2": empty entry'],
  [['-sL', '198.18.0.1', '--exclude', '198.18.300.1'], 'ferroscan: invalid exclusion "198.18.300.1"'],
  [['-sL', '-iL', 'test/fixtures/no-such-file.txt'], 'ferroscan: cannot read -iL file "test/fixtures/no-such-file.txt": ENOENT'],
  [['-sL', '0-255.0-255.0-255.1'], 'ferroscan: target "0-255.0-255.0-255.1" splits into more than 262144 separate ranges, the most ferroscan holds; narrow it or split the scan'],
  // nmap refuses -p without a port scan ("You cannot use -F or -p ... when not doing a port scan").
  [['-sL', '-p', 'S:80', '198.18.0.1'], 'ferroscan: -p selects ports to scan, but the list scan (-sL) scans none'],
  [['-p', 'S:80', '198.18.0.300'], 'ferroscan: invalid port specification "S:80" (SCTP ports (S:) are not supported)'],
  [['-p', 'T:22,X:1', '198.18.0.300'], 'ferroscan: invalid port specification "X:1" (prefixes are T: and U:)'],
  [['-p', 'U:53', '198.18.0.300'], 'ferroscan: no TCP ports left to scan in "U:53"'],
  [['--exclude-ports', '1-65535', '-p-', '198.18.0.300'], 'ferroscan: no TCP ports left to scan in "-" after --exclude-ports "1-65535"'],
  [['-p', 'ssh', '--exclude-ports', 'bogus', '198.18.0.300'], 'ferroscan: invalid port specification "bogus" (unknown service name)'],
];
// Scans that are not -sL name an invalid target too, so that if the port error ever went
// away the run would still stop before sending anything.
for (const [args, line] of bad) {
  test(`bad input ${args.join(' ')} → one line, exit 1, nothing sent`, (t) => {
    const r = run(args);
    t.is(r.status, 1);
    t.is(r.stdout, '');
    t.is(r.stderr, `${line}\n`);
  });
}
