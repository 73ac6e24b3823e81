// The portscanner drop-ins against the lab target, side by side with the npm package
// portscanner itself. Both run in one child process inside the lab's scanner namespace
// (test/helpers/portscanner-child.ts): nothing here sends from the host namespace. Expected
// answers come from scripts/lab-spec.json: listeners open, everything else not open.
// portscanner rejects on the ICMP host/net unreachables (and calls a dropped port closed
// after its timeout); ferroscan answers every port and never rejects for what the network says.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { describe, useLab } from './helpers/lab.js';
import { expectedTcp, labSpec, LAB_TTL, specPorts } from './helpers/lab-spec.js';
import type { Call, Outcome } from './helpers/portscanner-child.js';

const lab = useLab(test);
const child = fileURLToPath(new URL('./helpers/portscanner-child.ts', import.meta.url));
const T = labSpec.target.addr;

/** Makes the calls inside the scanner namespace; one outcome per call, in order. */
async function calls(t: import('ava').ExecutionContext, plan: Call[]): Promise<Outcome[]> {
  const r = await lab().execInScanner(process.execPath, ['--import=tsx', child, JSON.stringify(plan)], { timeoutMs: 180_000 });
  t.is(r.code, 0, describe('portscanner child', r));
  const out = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Outcome);
  t.is(out.length, plan.length, describe('portscanner child', r));
  return out;
}

const listening = (port: number): boolean => expectedTcp('connect', port).state === 'open';
/** Ports whose connect() ends in EHOSTUNREACH/ENETUNREACH: portscanner rejects there. */
const icmpUnreachable = (port: number): boolean => {
  const v = expectedTcp('connect', port);
  return v.state === 'filtered' && v.reason !== 'no-response';
};

test.serial('checkPortStatus on every lab port: the right answer, never a rejection; portscanner agrees except where it rejects', async (t) => {
  const plan: Call[] = specPorts.flatMap((port): Call[] => [
    { lib: 'ferroscan', fn: 'checkPortStatus', args: [port, T] },
    { lib: 'portscanner', fn: 'checkPortStatus', args: [port, T] },
  ]);
  const out = await calls(t, plan);
  for (let i = 0; i < specPorts.length; i++) {
    const port = specPorts[i];
    const [mine, theirs] = [out[2 * i], out[2 * i + 1]];
    const want = listening(port) ? 'open' : 'closed';
    t.like(mine, { ok: true, value: want }, `ferroscan ${port}`);
    if (icmpUnreachable(port)) {
      t.false(theirs.ok, `portscanner ${port} rejects (${JSON.stringify(theirs)})`);
      t.regex(theirs.error?.code ?? '', /^E(HOST|NET)UNREACH$/);
    } else {
      t.like(theirs, { ok: true, value: mine.value }, `portscanner ${port}`);
    }
  }
});

test.serial('checkPort / checkPorts: the full verdict of every lab port, SYN (root) and connect', async (t) => {
  const [syn, connect, single, dropped] = await calls(t, [
    { lib: 'ferroscan', fn: 'checkPorts', args: [specPorts, T] },
    { lib: 'ferroscan', fn: 'checkPorts', args: [specPorts, T, { technique: 'connect' }] },
    { lib: 'ferroscan', fn: 'checkPort', args: [22, T] },
    { lib: 'ferroscan', fn: 'checkPort', args: [25, T, { timeout: 200 }] },
  ]);
  for (const [technique, o] of [['syn', syn], ['connect', connect]] as const) {
    t.true(o.ok, JSON.stringify(o.error));
    const checks = o.value as { port: number; state: string; reason: string; ttl: number; status: string; technique: string }[];
    t.deepEqual(
      checks.map((c) => c.port),
      specPorts,
    );
    for (const c of checks) {
      const want = expectedTcp(technique, c.port);
      t.is(c.technique, technique);
      t.is(c.state, want.state, `${technique} ${c.port}`);
      t.is(c.reason, want.reason, `${technique} ${c.port}`);
      t.is(c.ttl, want.ttl ?? 0, `${technique} ${c.port} ttl`);
      t.is(c.status, want.state === 'open' ? 'open' : 'closed');
    }
  }
  t.like(single.value, { address: T, port: 22, state: 'open', reason: 'syn-ack', ttl: LAB_TTL, status: 'open', technique: 'syn' });
  t.like(dropped.value, { port: 25, state: 'filtered', reason: 'no-response', status: 'closed' });
  t.true(dropped.ms < 2000, `a dropped port with timeout 200 ms took ${dropped.ms} ms`);
});

test.serial('findAPortInUse / findAPortNotInUse in the lab: portscanner\'s answers where it has one, an answer where it rejects', async (t) => {
  const both = (fn: Call['fn'], ...args: unknown[]): Call[] => [
    { lib: 'ferroscan', fn, args },
    { lib: 'portscanner', fn, args },
  ];
  const plan: Call[] = [
    ...both('findAPortInUse', 20, 30, T),
    ...both('findAPortInUse', [25, 135, 113, 443], T),
    ...both('findAPortInUse', 23, 79, T),
    ...both('findAPortNotInUse', [22, 80, 25], T),
    ...both('findAPortNotInUse', [22, 443, 113], { host: T }),
    ...both('findAPortInUse', [3389, 8080, 80], T),
    ...both('findAPortNotInUse', 21, 25, T),
    { lib: 'ferroscan', fn: 'findAPortNotInUse', args: [21, 25, T], callback: true },
    { lib: 'portscanner', fn: 'findAPortNotInUse', args: [21, 25, T], callback: true },
    { lib: 'ferroscan', fn: 'findAPortInUse', args: [1, 65535, T] },
    { lib: 'ferroscan', fn: 'findAPortInUse', args: [23, 65535, T] },
    { lib: 'ferroscan', fn: 'findAPortNotInUse', args: [22, 65535, T] },
    { lib: 'ferroscan', fn: 'findAPortInUse', args: [20, 30, { host: T, technique: 'connect' }] },
  ];
  const out = await calls(t, plan);
  const pair = (i: number): [Outcome, Outcome] => [out[2 * i], out[2 * i + 1]];
  const agree = (i: number, value: unknown): void => {
    const [mine, theirs] = pair(i);
    if (value === 'none') {
      t.like(mine, { ok: false, error: { message: 'No open port found' } }, JSON.stringify(mine));
      t.like(theirs, { ok: false, error: { message: 'No open port found' } }, JSON.stringify(theirs));
    } else {
      t.like(mine, { ok: true, value }, JSON.stringify(mine));
      t.like(theirs, { ok: true, value }, JSON.stringify(theirs));
    }
  };
  agree(0, 22);
  agree(1, 443);
  agree(2, 'none');
  agree(3, 25); // a dropped port is not in use
  agree(4, 113); // ICMP port-unreachable: refused
  agree(5, 8080); // the first in list order, not the lowest
  // 21 answers ICMP host-unreachable: portscanner rejects, ferroscan says it is not in use
  const [mine, theirs] = pair(6);
  t.like(mine, { ok: true, value: 21 });
  t.like(theirs, { ok: false, error: { code: 'EHOSTUNREACH' } });
  t.like(out[14], { ok: true, value: 21, cbValue: 21 });
  t.like(out[15], { ok: false, error: { code: 'EHOSTUNREACH' }, cbValue: 21 });
  t.like(out[16], { ok: true, value: 22 });
  t.true(out[16].ms < 10_000, `the whole range took ${out[16].ms} ms`);
  t.like(out[17], { ok: true, value: 80 });
  t.like(out[18], { ok: true, value: 23 });
  t.like(out[19], { ok: true, value: 22 });
});

test.serial('loopback inside the scanner namespace: the same answers as portscanner', async (t) => {
  const { addr, open, closed } = labSpec.loopback;
  const out = await calls(t, [
    { lib: 'ferroscan', fn: 'checkPortStatus', args: [open, addr] },
    { lib: 'portscanner', fn: 'checkPortStatus', args: [open, addr] },
    { lib: 'ferroscan', fn: 'checkPortStatus', args: [closed, { host: addr }] },
    { lib: 'portscanner', fn: 'checkPortStatus', args: [closed, { host: addr }] },
    { lib: 'ferroscan', fn: 'findAPortNotInUse', args: [open, open + 1, addr] },
    { lib: 'portscanner', fn: 'findAPortNotInUse', args: [open, open + 1, addr] },
  ]);
  t.like(out[0], { ok: true, value: 'open' });
  t.like(out[1], { ok: true, value: 'open' });
  t.like(out[2], { ok: true, value: 'closed' });
  t.like(out[3], { ok: true, value: 'closed' });
  t.like(out[4], { ok: true, value: closed });
  t.like(out[5], { ok: true, value: closed });
});
