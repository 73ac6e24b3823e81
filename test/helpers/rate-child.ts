// Run by test/lab-rate.test.ts as a child process inside the lab's scanner namespace: one
// library scan with the rate options given, then one JSON line with the ports found open and
// the summary's counters (sent, elapsed, rate, peak rate, back-offs).
//   rate-child.ts TARGET PORTS '{"maxRate": 15000, ...}'
import { scan, type ScanOptions } from '../../ts/index.js';

const [target, ports, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as Partial<ScanOptions>;
const run = scan({ targets: [target], ports, assumeUp: true, ...options });
let open = 0;
for await (const r of run) if (r.state === 'open') open++;
const s = await run.summary;
process.stdout.write(
  `${JSON.stringify({ open, sent: s.sent, retransmits: s.retransmits, elapsedSeconds: s.elapsedSeconds, rate: s.rate, peakRate: s.peakRate, backoffs: s.backoffs, ringDrops: s.ringDrops, completed: s.completed })}\n`,
);
