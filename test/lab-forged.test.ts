// Forged and stray replies never count: while the lab's target is SYN-scanned on all 65535
// ports, a forger inside the target's namespace (test/helpers/forge-replies.py) sends the
// scanner ≥ 100,000 SYN/ACKs, RSTs and ICMP unreachables to its source ports, with random
// and near-miss cookies (derived from the probes it sees on the wire). Every verdict must
// still be the lab's, and the engine must have discarded what was forged.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { describe, run, useLab } from './helpers/lab.js';
import { expectedSyn, specPorts } from './helpers/lab-spec.js';

const lab = useLab(test);
const forger = fileURLToPath(new URL('./helpers/forge-replies.py', import.meta.url));
const child = fileURLToPath(new URL('./helpers/scan-child.ts', import.meta.url));
const FORGED = 120_000;

const lines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test.serial('≥ 100,000 forged SYN/ACKs, RSTs and ICMP unreachables with wrong cookies change no verdict', async (t) => {
  const f = lab().facts;
  const forging = run(
    'ip',
    ['netns', 'exec', f.targetNs, 'python3', forger, '--iface', f.targetIf, '--src', f.targetAddr, '--dst', f.scanAddr,
      '--src-mac', f.targetMac, '--dst-mac', f.scanMac, '--count', String(FORGED), '--ports', specPorts.join(','), '--seed', String(Date.now() % 1e9)],
    { timeoutMs: 300_000 },
  );
  // the forger is listening before the first probe leaves
  await new Promise((r) => setTimeout(r, 1000));
  const scanning = lab().execInScanner(process.execPath, ['--import=tsx', child, f.targetAddr, '1-65535', '3000'], { timeoutMs: 300_000 });
  const [forged, scanned] = await Promise.all([forging, scanning]);
  t.is(scanned.code, 0, describe('scan', scanned));
  t.is(forged.code, 0, describe('forger', forged));
  const report = lines(forged.stdout)[0] ?? {};
  t.log(`forger: ${JSON.stringify(report)}`);
  const out = lines(scanned.stdout);
  const start = out.find((l) => l.type === 'start')?.at as number;
  const end = out.find((l) => l.type === 'end')?.at as number;
  const summary = out.find((l) => l.type === 'summary') ?? {};
  t.log(`scan: ${(end - start) / 1000} s, sent ${summary.sent}, received ${summary.received}, discarded ${summary.discarded}`);

  // the forgery overlapped the scan: all of it went out between the scan's start and end
  t.true((report.sent as number) >= 100_000, `forged ${report.sent}`);
  t.true((report.firstSentAt as number) >= start && (report.lastSentAt as number) <= end, 'every forged frame went out while the scan ran');
  t.true((report.cookiesLearnt as number) > 1000, 'near misses were made from the probes seen');
  t.true((report.nearMissesOnUnanswered as number) > 1000, 'near misses went to ports whose verdict they could have decided');
  // every forged frame that reached the engine failed validation
  t.true((summary.discarded as number) >= 100_000, `discarded ${summary.discarded}`);

  // zero wrong verdicts, port by port (unanswered ports are not streamed)
  const got = new Map(out.filter((l) => l.type === 'result').map((l) => [l.port as number, l]));
  const wrong: string[] = [];
  for (let port = 1; port <= 65535; port++) {
    const want = expectedSyn(f.targetAddr, port);
    const r = got.get(port);
    if (want.reason === 'no-response') {
      if (r) wrong.push(`${port}: ${r.state} ${r.reason}, want ${want.state} (no reply)`);
    } else if (!r || r.state !== want.state || r.reason !== want.reason || r.ttl !== want.ttl) {
      wrong.push(`${port}: ${r ? `${r.state} ${r.reason} ttl ${r.ttl}` : 'no result'}, want ${want.state} ${want.reason} ttl ${want.ttl}`);
    }
  }
  if (wrong.length) t.log(`${wrong.length} wrong verdicts:\n${wrong.slice(0, 50).join('\n')}`);
  t.is(wrong.length, 0);
  t.is(summary.completed, true);
});
