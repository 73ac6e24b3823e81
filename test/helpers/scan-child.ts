// Run by lab tests as a child process inside the lab's scanner namespace: one library scan
// (ts/index.ts scan()) of TARGET and PORTS at RATE packets/s with -Pn, printing JSON lines:
// "start" (wall clock, ms) when the scan begins, each "result", then "summary" (with the
// engine's sent/received/discarded counters) and "end". Used where a test needs the
// engine's counters, which the CLI does not print.
import { scan } from '../../ts/index.js';

const [target, ports, rate] = process.argv.slice(2);
const print = (obj: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(obj)}\n`);

print({ type: 'start', at: Date.now() });
const run = scan({ targets: [target], ports, rate: Number(rate), assumeUp: true });
for await (const r of run) print({ type: 'result', ...r });
print({ type: 'summary', ...(await run.summary) });
print({ type: 'end', at: Date.now() });
