// Bad input, as a user types it (issue 16): every case is refused up front with one
// "ferroscan: ..." line in words (no engine code such as EINVAL:, no stack trace), exit
// status 1, nothing on stdout, and no file created or changed, not even the output files the
// same command line names. Where nmap refuses the input, the case says what nmap says (nmap
// 7.93, run by hand on the lab); our wording is our own. Runs the compiled CLI; no case sends
// a packet (targets are loopback, in case a check ever let one through).
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/ferroscan.js', import.meta.url));

test.before(() => {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
});

interface Case {
  /** The command line; FILE_A, FILE_B, EVIL and RESUME stand for fixture files in the case's directory. */
  args: string[];
  /** The one error line, after "ferroscan: ". */
  message: RegExp;
  /** nmap's own refusal, where it has one (documentation: nmap is not run here). */
  nmap?: string;
  /** Append "-oA scan" (whose files must not appear): false where it would change the case. */
  outputs?: boolean;
}

const T = '127.0.0.1';

const cases: Case[] = [
  // Values an option needs and does not get.
  { args: [T, '--seed'], message: /^option "--seed" needs a value$/ },
  { args: ['--seed=', T], message: /^invalid --seed "" \(0 to 2\^64-1\)$/ },
  { args: ['--seed', 'abc', T], message: /^invalid --seed "abc"/ },
  { args: ['--seed', '-1', T], message: /^invalid --seed "-1"/ },
  { args: ['--seed', '18446744073709551616', T], message: /^invalid --seed "18446744073709551616"/ },
  { args: [T, '--rate'], message: /^option "--rate" needs a value$/ },
  { args: ['--rate', '0', T], message: /^invalid --rate "0"$/ },
  { args: ['--rate', 'fast', T], message: /^invalid --rate "fast"$/ },
  { args: ['--max-rate', '-5', T], message: /^invalid --max-rate "-5"$/, nmap: 'Argument to --max-rate must be a positive floating-point number' },
  { args: ['--min-rate', '0', T], message: /^invalid --min-rate "0"$/, nmap: 'Argument to --min-rate must be a positive floating-point number' },
  { args: ['--min-rate', '100', '--max-rate', '10', T], message: /^--min-rate \(100\) is above --max-rate \(10\)$/, nmap: '--min-rate=100 must be less than or equal to --max-rate=10' },
  { args: [T, '--max-retries'], message: /^option "--max-retries" needs a value$/ },
  { args: ['--max-retries', '999', T], message: /^invalid --max-retries "999" \(0 to 50, the most the engine tells apart\)$/ },
  { args: ['--max-retries', '51', T], message: /^invalid --max-retries "51" \(0 to 50/ },
  { args: ['--max-retries', '-1', T], message: /^invalid --max-retries "-1"$/, nmap: 'max-retries must be positive' },
  { args: ['--max-retries', '1.5', T], message: /^invalid --max-retries "1\.5"$/ },
  { args: [T, '--top-ports'], message: /^option "--top-ports" needs a value$/ },
  { args: ['--top-ports', '99999', T], message: /^invalid --top-ports "99999" \(1 to 65536\)$/, nmap: 'Level argument to gettoppts (99999) is too large' },
  { args: ['--top-ports', '65537', T], message: /^invalid --top-ports "65537" \(1 to 65536\)$/ },
  { args: ['--top-ports', '0', T], message: /^invalid --top-ports "0"$/, nmap: '--top-ports should be an integer 1 or greater' },
  { args: ['-T6', T], message: /^invalid timing template "-T6"/, nmap: 'Unknown timing mode (-T argument)' },
  { args: [T, '-T'], message: /^option -T needs a timing template/ },
  // Options that exclude each other, as nmap has them.
  { args: ['-sn', '-p', '80', T], message: /^-p selects ports to scan, but -sn \(no port scan\) scans none$/, nmap: 'You cannot use -F (fast scan) or -p (explicit port selection) when not doing a port scan' },
  { args: ['-sL', '-p', '80', T], message: /^-p selects ports to scan, but the list scan \(-sL\) scans none$/, nmap: 'You cannot use -F (fast scan) or -p (explicit port selection) when not doing a port scan' },
  { args: ['-sn', '-F', T], message: /^-F selects ports to scan, but -sn \(no port scan\) scans none$/ },
  { args: ['-sL', '-F', T], message: /^-F selects ports to scan, but the list scan \(-sL\) scans none$/ },
  { args: ['-p', '80', '-sn', '-Pn', T], message: /^-p selects ports to scan, but -sn/ },
  { args: ['-F', '-p', '80', T], message: /^-F \(the 100 most common ports\) and -p \(these ports\) exclude each other/, nmap: 'You cannot use -F (fast scan) with -p (explicit port selection)' },
  { args: ['-p-', '-F', T], message: /^-F \(the 100 most common ports\) and -p/ },
  { args: ['-p', '80', '-p', '443', T], message: /^-p given more than once: list every port in one -p/, nmap: 'Only 1 -p option allowed, separate multiple ranges with commas.' },
  { args: ['-p80', '-p443', T], message: /^-p given more than once/ },
  { args: ['-iL', 'FILE_A', '-iL', 'FILE_B'], message: /^-iL given more than once/, nmap: 'Only one input filename allowed' },
  { args: ['-sS', '-sT', T], message: /^more than one type of TCP scan \(-sS and -sT\)/, nmap: 'You specified more than one type of TCP scan.' },
  { args: ['-sL', '-sS', T], message: /^the list scan \(-sL\) cannot be combined with another scan type$/, nmap: '-sL and -sn (skip port scan) are not valid with any other scan types' },
  { args: ['-sn', '-sU', T], message: /^-sn \(no port scan\) cannot be combined with a port scan type$/, nmap: '-sL and -sn (skip port scan) are not valid with any other scan types' },
  { args: ['-sZ', T], message: /^scan type "-sZ" is not supported yet$/ },
  { args: ['-n', '-R', T], message: /^-n \(no reverse DNS\) and -R/ },
  { args: ['--scanflags', 'SYN', '-sA', T], message: /^--scanflags sets the probe flags itself/ },
  { args: ['-sS', '-sU', '--shard', '1/2', T], message: /^--shard works with one scan type at a time/ },
  // -S and -e, checked against this host before anything is sent.
  { args: ['-S', '300.1.1.1', T], message: /^invalid -S "300\.1\.1\.1" \(an IPv4 address\)$/, nmap: 'Failed to resolve/decode supposed IPv4 source address "300.1.1.1"' },
  { args: ['-S', 'foo.invalid', T], message: /^invalid -S "foo\.invalid"/ },
  { args: ['-S', '0.0.0.0', T], message: /^-S 0\.0\.0\.0 cannot be a source address/, nmap: 'Could not figure out what device to send the packet out on with the source address you gave me!' },
  { args: ['-S', '224.0.0.1', T], message: /^-S 224\.0\.0\.1 cannot be a source address/ },
  { args: ['-S', '255.255.255.255', T], message: /^-S 255\.255\.255\.255 cannot be a source address/ },
  { args: ['-S', '198.18.0.99', T], message: /^-S 198\.18\.0\.99 is not an address of this host: to send from another address, name the interface too \(-e\)$/ },
  { args: ['-sL', '-S', '300.1.1.1', T], message: /^invalid -S "300\.1\.1\.1"/ },
  { args: [T, '-S'], message: /^option "-S" needs a value$/ },
  { args: ['-e', 'nosuch0', T], message: /^no network interface "nosuch0" \(-e\)$/, nmap: 'I cannot figure out what source address to use for device nosuch0, does it even exist?' },
  { args: ['-e', '../../etc', T], message: /^no network interface "\.\.\/\.\.\/etc" \(-e\)$/ },
  { args: ['-e', 'averyveryverylongname0', T], message: /^no network interface "averyveryverylongname0"/ },
  { args: ['-sL', '-e', 'nosuch0', T], message: /^no network interface "nosuch0"/ },
  // Files: every one is checked before any is opened.
  { args: ['-oX', '/nonexistent/dir/f.xml', T], message: /^cannot open XML output file "\/nonexistent\/dir\/f\.xml" for writing: no such directory$/, nmap: 'Failed to open XML output file /nonexistent/dir/f.xml for writing' },
  { args: ['-oN', '.', T], message: /^cannot open normal output file "\." for writing: is a directory$/ },
  { args: ['-oA', '/nonexistent/base', T], message: /^cannot open normal output file "\/nonexistent\/base\.nmap" for writing: no such directory$/ },
  { args: ['-oG', 'FILE_A/x.gnmap', T], message: /^cannot open grepable output file "[^"]*\/a\.txt\/x\.gnmap" for writing: not a directory$/ },
  { args: ['--pcap', '/nonexistent/p.pcap', T], message: /^cannot open pcap file "\/nonexistent\/p\.pcap" for writing: no such directory$/ },
  { args: ['--resume-file', '/nonexistent/r', T], message: /^cannot open resume file "\/nonexistent\/r" for writing: no such directory$/ },
  { args: [T, '-oX'], message: /^option -oX needs a file name/, outputs: false },
  { args: ['-oQ', 'x', T], message: /^unknown output format "-oQ"/ },
  { args: ['-oX', '-', '-oN', '-', T], message: /^only one output format can go to stdout/ },
  { args: ['-iL', '/nonexistent/list'], message: /^cannot read -iL file "\/nonexistent\/list": ENOENT$/, nmap: 'Failed to open input file /nonexistent/list for reading' },
  { args: ['--excludefile', '/nonexistent/list', T], message: /^cannot read --excludefile file/ },
  { args: ['--resume', '/nonexistent/resume'], message: /^cannot read resume file "\/nonexistent\/resume": ENOENT$/, outputs: false },
  { args: ['--resume', 'RESUME', T], message: /^--resume takes the resume file and no other option or target$/, outputs: false },
  // Timing values nmap checks.
  { args: ['--max-rtt-timeout', '1ms', T], message: /^invalid --max-rtt-timeout "1ms" \(at least 5ms\)$/, nmap: 'Bogus --max-rtt-timeout argument specified, must be at least 5ms' },
  { args: ['--max-rtt-timeout', '0', T], message: /^invalid --max-rtt-timeout "0"/ },
  { args: ['--initial-rtt-timeout', '0', T], message: /^invalid --initial-rtt-timeout "0"/, nmap: 'Bogus --initial-rtt-timeout argument specified.  Must be positive' },
  { args: ['--min-rtt-timeout', '5s', '--max-rtt-timeout', '1s', T], message: /^--min-rtt-timeout \(5s\) is above --max-rtt-timeout \(1s\)$/ },
  { args: ['--host-timeout', 'abc', T], message: /^invalid --host-timeout "abc"/, nmap: 'Bogus --host-timeout argument specified' },
  { args: ['--scan-delay', '1x', T], message: /^invalid --scan-delay "1x"/, nmap: 'Bogus --scan-delay argument specified.' },
  { args: ['--stats-every', 'abc', T], message: /^invalid --stats-every "abc"/, nmap: 'Bogus --stats-every argument specified' },
  // Ports and discovery probes.
  { args: ['-p', '0-70000', T], message: /^invalid port specification "0-70000" \(ports are 0-65535\)$/, nmap: 'Ports specified must be between 0 and 65535 inclusive' },
  { args: ['-p', '80-20', T], message: /range ends before it starts/, nmap: 'Your port range 80-20 is backwards. Did you mean 20-80?' },
  { args: ['-p', 'abc', T], message: /unknown service name/, nmap: "Found no matches for the service mask 'abc' and your specified protocols" },
  { args: ['-p', 'X:80', T], message: /prefixes are T: and U:/, nmap: "Error parsing port list: Unknown protocol specifier 'X'." },
  { args: ['--exclude-ports', '1-65535', T], message: /^no TCP ports left to scan after --exclude-ports "1-65535"$/ },
  { args: ['--scanflags', '300', T], message: /^invalid --scanflags "300"/, nmap: '--scanflags option must be a number between 0 and 255 (inclusive)' },
  { args: ['-PS99999', T], message: /^invalid port list in -PS "99999"/, nmap: 'Ports specified must be between 0 and 65535 inclusive' },
  { args: ['-PX', T], message: /^unknown host discovery option "-PX"$/, nmap: 'Illegal Argument to -P, use -Pn, -PE, -PS, -PA, -PP, -PM, -PU, -PY, or -PO' },
  { args: ['--dns-servers', '999.1.1.1', T], message: /^invalid DNS server "999\.1\.1\.1"/ },
  { args: ['--shard', '5/4', T], message: /^invalid --shard "5\/4" \(i\/N with 1 <= i <= N, e\.g\. 1\/4\)$/ },
  { args: ['--start-position', '-5', T], message: /^invalid --start-position "-5"$/ },
  { args: ['--rst-policy', 'foo', T], message: /^invalid --rst-policy "foo" \(one of kernel, suppress\)$/ },
  { args: ['--bogus', T], message: /^unknown option "--bogus"$/, nmap: "nmap: unrecognized option '--bogus'" },
  // Targets: refused in words, and never echoed raw.
  { args: ['300.1.1.1'], message: /^invalid target "300\.1\.1\.1"$/ },
  { args: ['198.18.0.2/33'], message: /^invalid target "198\.18\.0\.2\/33": prefix length must be 0-32$/ },
  { args: ['\x1b[31mRED\x1b[0m'], message: /^invalid target "\\x1B\[31mRED\\x1B\[0m"$/ },
  { args: ['-iL', 'EVIL'], message: /^invalid target "\\x1B\]0;pwned\\x07bad"$/ },
  { args: ['--exclude', ',', T], message: /^invalid --exclude ",": empty entry$/ },
];

/** A directory with the fixtures a case may name, and a snapshot of it. */
function fixture(): { dir: string; files: Record<string, string>; snapshot: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-bad-input-'));
  const files = { FILE_A: join(dir, 'a.txt'), FILE_B: join(dir, 'b.txt'), EVIL: join(dir, 'evil.txt'), RESUME: join(dir, 'saved.resume') };
  writeFileSync(files.FILE_A, '127.0.0.1\n');
  writeFileSync(files.FILE_B, '127.0.0.2\n');
  // A target list with a terminal escape (set the window title) and a bell in it.
  writeFileSync(files.EVIL, '127.0.0.1\n\x1b]0;pwned\x07bad\n');
  writeFileSync(files.RESUME, JSON.stringify({ version: 1, argv: ['-p', '80', T], seed: '7', startPosition: 0 }));
  const snapshot = (): string[] =>
    readdirSync(dir)
      .sort()
      .map((name) => {
        const s = statSync(join(dir, name));
        return `${name} ${s.size} ${s.mtimeMs}`;
      });
  return { dir, files, snapshot };
}

test('the table holds at least 60 cases, each command line once', (t) => {
  t.true(cases.length >= 60, `${cases.length} cases`);
  const lines = cases.map((c) => JSON.stringify(c.args));
  t.is(new Set(lines).size, lines.length);
});

for (const c of cases) {
  test(`refused: ${JSON.stringify(c.args)}`, (t) => {
    const { dir, files, snapshot } = fixture();
    try {
      const args = c.args.map((a) => a.replace(/^(FILE_A|FILE_B|EVIL|RESUME)/, (k) => files[k as keyof typeof files]));
      const argv = c.outputs === false ? args : [...args, '-oA', 'scan'];
      const before = snapshot();
      const r = spawnSync(process.execPath, [bin, ...argv], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      t.is(r.status, 1, `exit status (stderr: ${r.stderr})`);
      t.is(r.stdout, '', 'nothing on stdout');
      const lines = r.stderr.split('\n');
      t.is(lines.pop(), '', 'stderr ends with a newline');
      t.is(lines.length, 1, `one line: ${JSON.stringify(r.stderr)}`);
      const m = /^ferroscan: (.*)$/.exec(lines[0]);
      t.truthy(m, lines[0]);
      t.regex(m?.[1] ?? '', c.message);
      t.false(/\bE[A-Z]{2,}:/.test(lines[0]), 'no engine code');
      t.false(r.stderr.includes('    at '), 'no stack trace');
      // eslint-disable-next-line no-control-regex
      t.false(/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stderr), 'no control byte reaches the terminal');
      t.deepEqual(snapshot(), before, 'no file created or changed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
