// Hardening (issue 16) on the lab, beside nmap where nmap has an answer:
// - a target with no route is reported and skipped, the rest scanned (nmap: "setup_target:
//   failed to determine route", <target status="skipped">); a name that does not resolve too;
// - a hostile reverse zone (PTR names with terminal escapes) shows as nmap shows it, and no
//   control byte reaches stdout or the files;
// - least privilege: run as root, the process becomes nobody (or the sudo user) once its raw
//   sockets are open, with only CAP_NET_RAW and CAP_NET_ADMIN on the main thread, as read from
//   /proc/<pid>/status while the scan runs, and still scans everything (later engine starts,
//   the UDP scan); --no-drop-privileges keeps root; and the whole CLI works with nothing but
//   CAP_NET_RAW + CAP_NET_ADMIN (setpriv), no root at all.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, ferroscanBin, repoRoot, run, useLab, type ExecResult, type Lab } from './helpers/lab.js';
import { validateXml } from './helpers/output-tools.js';

const lab = useLab(test);

/** An address of the lab's own prefix that no route leads to. */
const NO_ROUTE = '198.18.1.1';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

function scratch(t: { teardown(fn: () => void): void }, mode = 0o700): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferroscan-lab-hd-'));
  chmodSync(dir, mode);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test.serial('no route to one target: it is reported and skipped, the rest scanned, as nmap does', async (t) => {
  const l = lab();
  const dir = scratch(t);
  const args = ['-n', '-p', '22,80', l.facts.targetAddr, NO_ROUTE];
  const nm = await l.nmap([...args, '-oX', join(dir, 'nmap.xml')]);
  t.is(nm.code, 0, describe('nmap', nm));
  t.regex(nm.stderr, /failed to determine route to 198\.18\.1\.1/, 'nmap skips it the same way (the lab has no route there)');
  const fs = await l.ferroscan([...args, '-oX', join(dir, 'fs.xml')]);
  t.is(fs.code, 0, describe('ferroscan', fs));
  t.is(fs.stderr, `ferroscan: no route to ${NO_ROUTE}; skipping it\n`);
  for (const [who, out, xml] of [['nmap', nm.stdout, 'nmap.xml'], ['ferroscan', fs.stdout, 'fs.xml']]) {
    t.regex(out, /^22\/tcp\s+open\s/m, who);
    t.regex(out, /done: 1 IP address \(1 host up\)/, `${who}: the skipped target is not counted`);
    const text = readFileSync(join(dir, xml), 'utf8');
    t.true(text.includes(`<target specification="${NO_ROUTE}" status="skipped" reason="invalid"/>`), `${who} XML`);
    t.regex(text, /<hosts up="1" down="0" total="1"\/>/, who);
  }
  const v = validateXml(join(dir, 'fs.xml'));
  t.true(v.ok, v.out);
});

test.serial('no route: a whole range is one line; with host discovery too; only skipped targets means no scan', async (t) => {
  const l = lab();
  const r = await l.ferroscan(['-n', '-p', '80', '198.18.1.0/24', l.facts.targetAddr, '198.18.2.7']);
  t.is(r.code, 0, describe('ferroscan', r));
  t.is(r.stderr, 'ferroscan: no route to 198.18.1.0-198.18.1.255 (256 addresses); skipping them\nferroscan: no route to 198.18.2.7; skipping it\n');
  t.regex(r.stdout, /^80\/tcp\s+open\s/m);
  const none = await l.ferroscan(['-n', '-Pn', '-p', '80', NO_ROUTE]);
  t.is(none.code, 0, describe('ferroscan', none));
  t.is(none.stderr, `ferroscan: no route to ${NO_ROUTE}; skipping it\nWARNING: No targets were specified, so 0 hosts scanned.\n`);
  t.regex(none.stdout, /done: 0 IP addresses \(0 hosts up\)/);
});

test.serial('a name that does not resolve is reported and skipped, the rest scanned', async (t) => {
  // The scanner namespace has no route to any name server: the lookup fails at once, offline.
  const r = await lab().ferroscan(['-n', '-Pn', '-p', '22', 'nosuch.invalid', lab().facts.targetAddr]);
  t.is(r.code, 0, describe('ferroscan', r));
  t.is(r.stderr, 'ferroscan: failed to resolve "nosuch.invalid"; skipping it\n');
  t.regex(r.stdout, /^22\/tcp\s+open\s/m);
  t.regex(r.stdout, /done: 1 IP address \(1 host up\)/);
});

/** Runs the hostile DNS server (test/helpers/hostile-dns.mjs) in the target namespace until the test ends. */
async function hostileDns(t: { teardown(fn: () => void): void }, l: Lab, address: string, name: Buffer[]): Promise<void> {
  const labels = name.map((b) => b.toString('hex')).join('.');
  const child = spawn('ip', ['netns', 'exec', l.facts.targetNs, process.execPath, join(repoRoot, 'test/helpers/hostile-dns.mjs'), address, '53', labels], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`hostile-dns exited ${code}`)));
  });
}

test.serial('a hostile PTR record shows as nmap shows it; nothing hostile reaches stdout or the files', async (t) => {
  const l = lab();
  const dns = '198.18.0.53';
  // A second address on the target for the server: the lab's own listener holds port 53 of .2.
  const add = await run('ip', ['netns', 'exec', l.facts.targetNs, 'ip', 'addr', 'add', `${dns}/24`, 'dev', l.facts.targetIf]);
  t.is(add.code, 0, add.stderr);
  await hostileDns(t, l, dns, [Buffer.from('evil\x1b[31mred\x07'), Buffer.from('example')]);
  const dir = scratch(t);
  const args = ['-R', '--dns-servers', dns, '-p', '80', l.facts.targetAddr];
  const nm = await l.nmap([...args, '-oX', join(dir, 'nmap.xml')]);
  t.is(nm.code, 0, describe('nmap', nm));
  const fs = await l.ferroscan([...args, '-oX', join(dir, 'fs.xml'), '-oN', join(dir, 'fs.nmap'), '-oG', join(dir, 'fs.gnmap')]);
  t.is(fs.code, 0, describe('ferroscan', fs));
  const ptr = (xml: string): string | undefined => /<hostname name="([^"]*)" type="PTR"\/>/.exec(readFileSync(join(dir, xml), 'utf8'))?.[1];
  t.is(ptr('nmap.xml'), 'evil**31mred*.example', 'nmap replaces each illegal byte with *');
  t.is(ptr('fs.xml'), ptr('nmap.xml'));
  t.regex(fs.stdout, /^ferroscan scan report for evil\*\*31mred\*\.example \(198\.18\.0\.2\)$/m);
  t.regex(fs.stdout, /^Illegal character\(s\) in the host name of 198\.18\.0\.2 -- replacing with '\*'$/m);
  for (const text of [fs.stdout, fs.stderr, ...['fs.xml', 'fs.nmap', 'fs.gnmap'].map((f) => readFileSync(join(dir, f), 'utf8'))]) t.false(CONTROL.test(text.replace(/[\n\t]/g, '')), text);
  const v = validateXml(join(dir, 'fs.xml'));
  t.true(v.ok, v.out);
});

/** What /proc/<pid>/status says of a process: its user and group IDs, groups and capability sets. */
interface Creds {
  uid: number[];
  gid: number[];
  groups: number[];
  capEff: bigint;
  capPrm: bigint;
  capBnd: bigint;
  capAmb: bigint;
  noNewPrivs: number;
}

function readCreds(path: string): Creds | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1].trim() ?? '';
  const ids = (name: string): number[] => field(name).split(/\s+/).filter(Boolean).map(Number);
  return { uid: ids('Uid'), gid: ids('Gid'), groups: ids('Groups'), capEff: BigInt(`0x${field('CapEff')}`), capPrm: BigInt(`0x${field('CapPrm')}`), capBnd: BigInt(`0x${field('CapBnd')}`), capAmb: BigInt(`0x${field('CapAmb')}`), noNewPrivs: Number(field('NoNewPrivs')) };
}

const NET_RAW_ADMIN = (1n << 13n) | (1n << 12n);

/**
 * Starts ferroscan in the scanner namespace (ip netns exec runs it in place, so the child's
 * pid is ferroscan's) and samples its credentials and those of every thread until it exits.
 */
async function sampleWhileScanning(l: Lab, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; wrap?: string[] } = {}): Promise<{ result: ExecResult; main: Creds[]; threads: Creds[] }> {
  const started = Date.now();
  const cmd = [...(opts.wrap ?? []), process.execPath, ferroscanBin, ...args];
  const child: ChildProcess = spawn('ip', ['netns', 'exec', l.facts.scanNs, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd ?? repoRoot });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const main: Creds[] = [];
  const threads: Creds[] = [];
  let exited = false;
  const done = new Promise<ExecResult>((resolve) =>
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started });
    }),
  );
  const pid = child.pid!;
  while (!exited) {
    // Only once the pid runs ferroscan itself (not yet ip netns exec or setpriv before it).
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // gone
    }
    if (cmdline.split('\0')[0] !== process.execPath) {
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    const c = readCreds(`/proc/${pid}/status`);
    if (c) main.push(c);
    try {
      // The task whose id is the pid is the main thread; the rest are Node's, libuv's and the engine's.
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        if (Number(tid) === pid) continue;
        const tc = readCreds(`/proc/${pid}/task/${tid}/status`);
        if (tc) threads.push(tc);
      }
    } catch {
      // the process is gone
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { result: await done, main, threads };
}

/** A scan that takes a few seconds: 3,000 ports at 1,000 packets per second, discovery first. */
const slowScan = (l: Lab): string[] => ['-n', '--rate', '1000', '-p', '1-3000', l.facts.targetAddr];

test.serial('run as root: nobody once the sockets are open, with CAP_NET_RAW and CAP_NET_ADMIN only, and every port still found', async (t) => {
  const l = lab();
  const { result, main, threads } = await sampleWhileScanning(l, slowScan(l));
  t.is(result.code, 0, describe('ferroscan', result));
  t.regex(result.stdout, /^22\/tcp\s+open\s/m);
  t.regex(result.stdout, /^80\/tcp\s+open\s/m);
  t.regex(result.stdout, /^443\/tcp\s+open\s/m);
  t.true(main.length > 0, 'sampled while running');
  const dropped = main.filter((c) => c.uid.every((u) => u === 65534));
  t.true(dropped.length > 0, `seen as nobody while scanning (uids seen: ${[...new Set(main.map((c) => c.uid.join('/')))].join(', ')})`);
  // Root first (sockets not yet open), then nobody for good: never back.
  const firstDropped = main.findIndex((c) => c.uid[0] === 65534);
  t.true(main.slice(firstDropped).every((c) => c.uid.every((u) => u === 65534) && c.gid.every((g) => g === 65534)), 'never root again');
  const after = main[main.length - 1];
  t.deepEqual(after.groups, [65534]);
  t.is(after.capEff, NET_RAW_ADMIN, 'main thread: CAP_NET_RAW and CAP_NET_ADMIN only');
  t.is(after.capPrm, NET_RAW_ADMIN);
  t.is(after.capBnd, NET_RAW_ADMIN, 'nothing else can come back through exec');
  t.is(after.noNewPrivs, 1);
  t.is(after.capAmb, 0n, 'no ambient capabilities: child processes get none');
  // Threads that were running at the drop lose every capability; threads the main thread
  // starts later (the next engine's) inherit its two. None ever holds anything else.
  const otherThreads = threads.filter((c) => c.uid[0] === 65534);
  t.true(otherThreads.length > 0);
  t.true(otherThreads.some((c) => c.capEff === 0n), 'threads alive at the drop keep no capability');
  t.true(otherThreads.every((c) => (c.capEff & ~NET_RAW_ADMIN) === 0n && (c.capPrm & ~NET_RAW_ADMIN) === 0n), 'no thread holds more than CAP_NET_RAW and CAP_NET_ADMIN');
});

test.serial('the drop keeps later engine starts working: -sS -sU after host discovery finds TCP and UDP ports', async (t) => {
  const l = lab();
  const { result, main } = await sampleWhileScanning(l, ['-n', '-sS', '-sU', '-p', 'T:22,80,U:53,161', l.facts.targetAddr]);
  t.is(result.code, 0, describe('ferroscan', result));
  t.regex(result.stdout, /^22\/tcp\s+open\s/m);
  t.regex(result.stdout, /^53\/udp\s+open\s/m, 'the UDP scan, started after root was given up');
  t.true(main.some((c) => c.uid[0] === 65534));
});

test.serial('--rst-policy suppress after the drop: iptables still removes its rule (ambient CAP_NET_ADMIN for that child only)', async (t) => {
  const l = lab();
  const { result, main } = await sampleWhileScanning(l, ['-n', '-Pn', '--rst-policy', 'suppress', '--rate', '1000', '-p', '1-2000', l.facts.targetAddr]);
  t.is(result.code, 0, describe('ferroscan', result));
  t.regex(result.stdout, /^22\/tcp\s+open\s/m);
  const last = main[main.length - 1];
  t.is(last.uid[0], 65534);
  t.is(last.capAmb, NET_RAW_ADMIN);
  const rules = await l.execInScanner('iptables', ['-w', '-t', 'raw', '-S', 'PREROUTING']);
  t.false(rules.stdout.includes('ferroscan-rst:'), rules.stdout);
});

test.serial('under sudo, root is given up to the invoking user (SUDO_UID/SUDO_GID)', async (t) => {
  const l = lab();
  const env = { ...process.env, SUDO_UID: '4242', SUDO_GID: '4343', SUDO_USER: 'no-such-user-here' };
  const { result, main } = await sampleWhileScanning(l, slowScan(l), { env });
  t.is(result.code, 0, describe('ferroscan', result));
  const last = main[main.length - 1];
  t.deepEqual(last.uid, [4242, 4242, 4242, 4242]);
  t.deepEqual(last.gid, [4343, 4343, 4343, 4343]);
  t.deepEqual(last.groups, [4343], 'an unknown name: its primary group only');
});

test.serial('output files where the unprivileged user may not rename them: root is kept (-v says so in one line), and every file is whole', async (t) => {
  const l = lab();
  const closed = scratch(t); // root's, mode 700
  const { result, main } = await sampleWhileScanning(l, [...slowScan(l), '-v', '-oX', join(closed, 'kept.xml')]);
  t.is(result.code, 0, describe('ferroscan', result));
  t.regex(result.stderr, /^ferroscan: keeping root for this run: uid 65534 \(nobody\) may not rename files in ".*ferroscan-lab-hd-[^"]+", where its output goes \(.*\)$/m);
  t.true(main.length > 0 && main.every((c) => c.uid[0] === 0), 'root throughout');
  t.regex(readFileSync(join(closed, 'kept.xml'), 'utf8'), /<\/nmaprun>\n$/);
  t.false(existsSync(join(closed, 'kept.xml.part')));
  // where nobody may write, the drop happens and the file is renamed into place all the same
  const open = scratch(t, 0o755);
  chownSync(open, 65534, 65534);
  const dropped = await sampleWhileScanning(l, [...slowScan(l), '-v', '-oX', join(open, 'dropped.xml')]);
  t.is(dropped.result.code, 0, describe('ferroscan', dropped.result));
  t.false(/keeping root/.test(dropped.result.stderr), dropped.result.stderr);
  t.true(dropped.main.some((c) => c.uid[0] === 65534));
  t.regex(readFileSync(join(open, 'dropped.xml'), 'utf8'), /<\/nmaprun>\n$/);
});

test.serial('--no-drop-privileges keeps root for the whole run', async (t) => {
  const l = lab();
  const { result, main } = await sampleWhileScanning(l, ['--no-drop-privileges', ...slowScan(l)]);
  t.is(result.code, 0, describe('ferroscan', result));
  t.true(main.length > 0 && main.every((c) => c.uid[0] === 0));
});

test.serial('with only CAP_NET_RAW + CAP_NET_ADMIN (setpriv, uid nobody) the SYN scan runs as with root', async (t) => {
  const l = lab();
  const wrap = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+net_raw,+net_admin', '--ambient-caps=+net_raw,+net_admin', '--'];
  const dir = scratch(t, 0o755);
  chownSync(dir, 65534, 65534);
  const { result, main } = await sampleWhileScanning(l, ['-n', '-p', '22,80,81,443', l.facts.targetAddr, '-oX', join(dir, 'caps.xml')], { wrap, cwd: dir });
  t.is(result.code, 0, describe('ferroscan', result));
  t.false(result.stderr.includes('connect scan'), 'no fallback to -sT: raw sockets work with the capabilities alone');
  t.regex(result.stdout, /^22\/tcp\s+open\s/m);
  t.regex(result.stdout, /^81\/tcp\s+closed\s/m);
  t.regex(result.stdout, /^MAC Address: /m, 'ARP discovery (packet sockets) worked');
  t.true(main.every((c) => c.uid[0] === 65534));
  t.true(validateXml(join(dir, 'caps.xml')).ok);
  t.is(statSync(join(dir, 'caps.xml')).uid, 65534);
  // The same without the capabilities: the SYN scan is not permitted and falls back, as nmap's unprivileged scan.
  const bare = await l.execInScanner('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, ferroscanBin, '-n', '-Pn', '-p', '22', l.facts.targetAddr]);
  t.is(bare.code, 0, describe('ferroscan', bare));
  t.regex(bare.stderr, /raw sockets are not permitted .*: using the connect scan \(-sT\) instead/);
});

test.serial('interrupted after the drop: the resume file is written as nobody, or the command to continue is printed', async (t) => {
  const l = lab();
  for (const writable of [true, false]) {
    const dir = scratch(t, writable ? 0o755 : 0o700);
    if (writable) chownSync(dir, 65534, 65534);
    const child = spawn('ip', ['netns', 'exec', l.facts.scanNs, process.execPath, ferroscanBin, '-n', '-Pn', '--rate', '200', '-p', '1-5000', '--seed', '9', l.facts.targetAddr], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    // Interrupt once root is gone.
    const until = Date.now() + 20_000;
    while (Date.now() < until && readCreds(`/proc/${child.pid}/status`)?.uid[0] !== 65534) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    t.is(await code, 130, stderr);
    const file = join(dir, 'ferroscan.resume');
    if (writable) {
      t.is(stderr, 'ferroscan: interrupted; to continue: ferroscan --resume ferroscan.resume\n');
      t.is(statSync(file).uid, 65534, 'written by the unprivileged user');
      t.like(JSON.parse(readFileSync(file, 'utf8')), { seed: '9' });
    } else {
      t.false(existsSync(file));
      t.regex(stderr, /^ferroscan: interrupted; cannot write the resume file "ferroscan\.resume" \(EACCES, running as uid 65534\); to continue: ferroscan -n -Pn --rate 200 -p 1-5000 198\.18\.0\.2 --seed 9 --start-position \d+\n$/);
    }
  }
});

test.serial('-sV with a probe database only root can read: refused before anything is sent, as the scan would read it after the drop', async (t) => {
  const l = lab();
  const dir = scratch(t);
  const db = join(dir, 'probes');
  writeFileSync(db, readFileSync('/usr/share/nmap/nmap-service-probes'));
  // an output directory nobody may write: the run would give root up (elsewhere it keeps it)
  const out = scratch(t, 0o755);
  chownSync(out, 65534, 65534);
  const r = await l.ferroscan(['-n', '-sV', '--versiondb', db, '-p', '22', l.facts.targetAddr, '-oX', join(out, 'x.xml')]);
  t.is(r.code, 1, describe('ferroscan', r));
  t.is(r.stdout, '');
  t.regex(r.stderr, /^ferroscan: --versiondb ".*\/probes" cannot be read by uid 65534 \(nobody\), whom the scan runs as once its sockets are open: put it where that user can read it, or keep root with --no-drop-privileges\n$/);
  t.deepEqual(readdirSync(out), [], 'no output file created');
  const kept = await l.ferroscan(['-n', '-sV', '--no-drop-privileges', '--versiondb', db, '-p', '22', l.facts.targetAddr]);
  t.is(kept.code, 0, describe('ferroscan', kept));
  t.regex(kept.stdout, /^22\/tcp\s+open\s+ssh\s/m);
  t.regex(kept.stdout, /^Service detection performed\./m);
});
