// The portscanner drop-ins (ts/compat/portscanner.ts) against the npm package portscanner itself,
// on 127.0.0.1 only (the one address these tests may probe from the host namespace): the
// same answers for open and closed ports in every argument form portscanner accepts, the
// callback form, the "nothing found" rejection, a free port a server can then bind, and the
// connect-scan fallback when raw sockets are not permitted (a child without CAP_NET_RAW).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { AbortError, checkPort, checkPorts, checkPortStatus, findAPortInUse, findAPortNotInUse, PortError, TargetError } from '../ts/index.js';
import type { Outcome } from './helpers/portscanner-child.js';

type Fn = (...args: unknown[]) => Promise<unknown> | void;
const require = createRequire(import.meta.url);
const portscanner = require('portscanner') as { checkPortStatus: Fn; findAPortInUse: Fn; findAPortNotInUse: Fn };
const ours = { checkPortStatus, findAPortInUse, findAPortNotInUse } as unknown as typeof portscanner;

const HOST = '127.0.0.1';

/** A listener on 127.0.0.1; connections are reset by the connect scan, which must not crash it. */
async function listen(port = 0): Promise<net.Server> {
  const server = net.createServer((socket) => socket.on('error', () => undefined));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  return server;
}
const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;
const close = (s: net.Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

/** A port nothing listens on: bound once, then released. */
async function freePort(): Promise<number> {
  const s = await listen();
  const p = portOf(s);
  await close(s);
  return p;
}

/** Settles a promise into {ok, value} or {ok: false, message}, for comparing two libraries. */
async function settle(p: Promise<unknown> | void): Promise<{ ok: boolean; value?: unknown; message?: string }> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

/**
 * The hosts portscanner would probe for these arguments (its own shuffle: a string in the
 * host position, even a numeric one, or opts.host), so that it is never run against anything
 * but 127.0.0.1 from the host namespace.
 */
function portscannerHosts(fn: keyof typeof portscanner, args: unknown[]): unknown[] {
  void fn; // the host or options come second or third in every function
  const hosts: unknown[] = [];
  for (const a of args.slice(1, 3)) {
    if (typeof a === 'string') hosts.push(a);
    else if (a && typeof a === 'object' && !Array.isArray(a) && 'host' in a) hosts.push((a as { host: unknown }).host);
  }
  return hosts;
}

/** Both libraries called the same way agree. */
async function same(t: import('ava').ExecutionContext, fn: keyof typeof portscanner, ...args: unknown[]): Promise<unknown> {
  const hosts = portscannerHosts(fn, args);
  if (hosts.some((h) => h !== HOST)) throw new Error(`refusing to run portscanner against ${hosts.join(', ')}: only ${HOST} here`);
  const theirs = await settle(portscanner[fn](...args));
  const mine = await settle(ours[fn](...args));
  t.deepEqual(mine, theirs, `${fn}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
  return mine.value;
}

let open: net.Server;
let open2: net.Server;
let P: number;
let P2: number;
let C: number;

test.before(async () => {
  open = await listen();
  open2 = await listen();
  P = portOf(open);
  P2 = portOf(open2);
  C = await freePort();
});
test.after.always(async () => {
  await close(open);
  await close(open2);
});

test.serial('checkPortStatus: the same answers as portscanner in every argument form', async (t) => {
  t.is(await same(t, 'checkPortStatus', P), 'open');
  t.is(await same(t, 'checkPortStatus', C), 'closed');
  t.is(await same(t, 'checkPortStatus', P, HOST), 'open');
  t.is(await same(t, 'checkPortStatus', C, HOST), 'closed');
  t.is(await same(t, 'checkPortStatus', P, { host: HOST, timeout: 200 }), 'open');
  t.is(await same(t, 'checkPortStatus', P, HOST, { timeout: 200 }), 'open');
  t.is(await same(t, 'checkPortStatus', String(P), HOST), 'open');
});

test.serial('checkPortStatus callback form: (error, status), as portscanner', async (t) => {
  for (const port of [P, C]) {
    const theirs = await new Promise((resolve) => portscanner.checkPortStatus(port, HOST, (e: unknown, s: unknown) => resolve([e, s])));
    const mine = await new Promise((resolve) => {
      const r = checkPortStatus(port, HOST, (e, s) => resolve([e, s]));
      t.is(r, undefined, 'the callback form returns nothing');
    });
    t.deepEqual(mine, theirs);
  }
  const mine = await new Promise((resolve) => checkPortStatus(P, { timeout: 300 }, (e, s) => resolve([e, s])));
  t.deepEqual(mine, [null, 'open']);
});

test.serial('findAPortInUse / findAPortNotInUse: the same port as portscanner for ranges, lists and every argument shuffle', async (t) => {
  const lo = Math.min(P, P2, C);
  const hi = Math.max(P, P2, C);
  // a range: the lowest match (portscanner walks up from start)
  await same(t, 'findAPortInUse', C, C + 5);
  await same(t, 'findAPortInUse', P, P + 3, HOST);
  await same(t, 'findAPortInUse', P, P + 3, { host: HOST });
  await same(t, 'findAPortInUse', P + 3, P, HOST); // reversed: swapped, as portscanner does
  await same(t, 'findAPortInUse', String(P), P + 3, HOST);
  // portscanner reads a numeric string in the end position as a host (and probes it):
  // ferroscan reads it as the end port, and never sends anywhere else than asked
  const [a, b] = [Math.min(P, C), Math.max(P, C)];
  t.is(await findAPortInUse(String(a), String(b)), (await portscanner.findAPortInUse(a, b, HOST)) as number);
  await same(t, 'findAPortNotInUse', P, P + 5, HOST);
  await same(t, 'findAPortNotInUse', C, C + 5);
  // a list: the first match in list order, not the lowest
  t.is(await same(t, 'findAPortInUse', [C, hi === C ? P : hi, lo === C ? P : lo], HOST), hi === C ? P : hi);
  t.is(await same(t, 'findAPortInUse', [P2, P]), P2);
  t.is(await same(t, 'findAPortInUse', [P, P2]), P);
  t.is(await same(t, 'findAPortNotInUse', [P, P2, C], HOST), C);
  t.is(await same(t, 'findAPortNotInUse', [P, C]), C);
  // start only: end is 65535, host 127.0.0.1
  t.is(await same(t, 'findAPortInUse', P), P);
  t.is(await same(t, 'findAPortInUse', P, HOST), P);
  await same(t, 'findAPortNotInUse', P, { host: HOST });
});

test.serial('nothing found: the promise rejects with "No open port found", the callback gets false', async (t) => {
  await same(t, 'findAPortInUse', [C]);
  await same(t, 'findAPortNotInUse', [P, P2], HOST);
  await same(t, 'findAPortInUse', []);
  const e = await t.throwsAsync(findAPortNotInUse([P]));
  t.is(e?.message, 'No open port found');
  for (const [fn, args] of [
    ['findAPortInUse', [[C], HOST]],
    ['findAPortNotInUse', [[P], HOST]],
    ['findAPortInUse', [C, C]],
  ] as const) {
    const theirs = await new Promise((resolve) => portscanner[fn](...args, (err: unknown, port: unknown) => resolve([err, port])));
    const mine = await new Promise((resolve) => ours[fn](...args, (err: unknown, port: unknown) => resolve([err, port])));
    t.deepEqual(mine, theirs, `${fn} callback`);
    t.deepEqual(mine, [null, false]);
  }
});

test.serial('findAPortNotInUse returns a port that a server can then bind on 127.0.0.1', async (t) => {
  const port = await findAPortNotInUse(P, P + 50, HOST);
  t.not(port, P);
  const server = await listen(port);
  t.is(portOf(server), port);
  t.is(await checkPortStatus(port), 'open', 'and it is in use once bound');
  await close(server);
  // the default end (65535): settled as soon as a free port answers, not after the whole range
  const t0 = performance.now();
  const next = await findAPortNotInUse(P);
  t.true(performance.now() - t0 < 3000, `${Math.round(performance.now() - t0)} ms`);
  const again = await listen(next);
  t.is(portOf(again), next);
  await close(again);
});

test.serial('checkPort: ferroscan\'s full verdict', async (t) => {
  const o = await checkPort(P);
  t.like(o, { address: HOST, port: P, protocol: 'tcp', state: 'open', status: 'open' });
  t.is(o.reason, 'syn-ack');
  const c = await checkPort(C, HOST);
  t.like(c, { port: C, state: 'closed', status: 'closed' });
  t.is(c.reason, c.technique === 'syn' ? 'reset' : 'conn-refused');
  const viaConnect = await checkPort(P, HOST, { technique: 'connect' });
  t.like(viaConnect, { state: 'open', reason: 'syn-ack', technique: 'connect' });
  t.like(await checkPort(C, HOST, { technique: 'connect' }), { state: 'closed', reason: 'conn-refused', technique: 'connect' });
});

test.serial('checkPorts: one scan of a range, every port judged as portscanner judges it', async (t) => {
  const lo = Math.max(1, Math.min(P, P2) - 20);
  const hi = Math.min(65535, Math.max(P, P2) + 20);
  const ports = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).filter((p) => p <= lo + 300 || [P, P2].includes(p));
  const checks = await checkPorts(ports, HOST);
  t.deepEqual(
    checks.map((c) => c.port),
    ports,
  );
  const theirs = await Promise.all(ports.map((p) => portscanner.checkPortStatus(p, HOST) as Promise<string>));
  t.deepEqual(
    checks.map((c) => c.status),
    theirs,
  );
  t.is(checks.find((c) => c.port === P)?.state, 'open');
  const range = await checkPorts({ start: P + 1, end: P - 1 }, HOST);
  t.deepEqual(
    range.map((c) => c.port),
    [P - 1, P, P + 1],
  );
});

test.serial('bad input rejects with typed errors; the callback gets them', async (t) => {
  await t.throwsAsync(checkPortStatus(70000), { instanceOf: PortError });
  await t.throwsAsync(checkPort(-1), { instanceOf: PortError });
  await t.throwsAsync(checkPortStatus(P, '127.0.0.0/30'), { instanceOf: TargetError });
  await t.throwsAsync(findAPortInUse(1, 70000), { instanceOf: PortError });
  await t.throwsAsync(findAPortInUse('x' as unknown as number), { instanceOf: PortError });
  const err = await new Promise((resolve) => checkPortStatus(70000, (e) => resolve(e)));
  t.true(err instanceof PortError);
  await t.throwsAsync(checkPorts({ start: 1, end: 100 }, HOST, { signal: AbortSignal.abort() }), { instanceOf: AbortError });
});

/** Ports with a listening TCP socket on 127.0.0.1 or 0.0.0.0, from /proc/net/tcp. */
function listeners(): Set<number> {
  const out = new Set<number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== '0A') continue; // LISTEN
    const [addr, port] = f[1].split(':');
    if (addr === '0100007F' || addr === '00000000') out.add(parseInt(port, 16));
  }
  return out;
}

test.serial('the connect scan over the ephemeral range: open is exactly what listens (no self-connects)', async (t) => {
  // a connect() whose kernel-chosen source port equals its destination connects to itself:
  // portscanner calls that port open; ferroscan checks every local 'open' once more
  const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const before = listeners();
  const checks = await checkPorts({ start: lo, end: hi }, HOST, { technique: 'connect' });
  const after = listeners();
  const open = checks.filter((c) => c.state === 'open').map((c) => c.port);
  t.true(open.includes(P) && open.includes(P2));
  for (const port of open) t.true(before.has(port) || after.has(port), `port ${port} reported open, but nothing listens there`);
  for (const port of before) if (port >= lo && port <= hi && after.has(port)) t.true(open.includes(port), `listener ${port} missed`);
});

const child = fileURLToPath(new URL('./helpers/portscanner-child.ts', import.meta.url));
const canDropRaw = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;

(canDropRaw ? test.serial : test.serial.skip)('without CAP_NET_RAW: the connect scan, the same answers, no rejection', async (t) => {
  const plan = [
    { lib: 'ferroscan', fn: 'checkPort', args: [P, HOST] },
    { lib: 'ferroscan', fn: 'checkPortStatus', args: [C, HOST] },
    { lib: 'portscanner', fn: 'checkPortStatus', args: [C, HOST] },
    { lib: 'ferroscan', fn: 'findAPortInUse', args: [[C, P2, P]] },
    { lib: 'portscanner', fn: 'findAPortInUse', args: [[C, P2, P]] },
    { lib: 'ferroscan', fn: 'findAPortNotInUse', args: [[P, C]] },
  ];
  const r = spawnSync('setpriv', ['--bounding-set=-net_raw', '--inh-caps=-net_raw', process.execPath, '--import=tsx', child, JSON.stringify(plan)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(r.status, 0, r.stderr);
  const out = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Outcome);
  t.is(out.length, plan.length, r.stdout + r.stderr);
  t.like(out[0], { ok: true, value: { state: 'open', reason: 'syn-ack', technique: 'connect' } });
  t.like(out[1], { ok: true, value: 'closed' });
  t.deepEqual(out[1].value, out[2].value);
  t.deepEqual(out[3].value, out[4].value);
  t.is(out[3].value, P2);
  t.like(out[5], { ok: true, value: C });
});
