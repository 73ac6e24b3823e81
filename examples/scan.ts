// A scan from a TypeScript app: stream port results, watch progress, read the summary.
// Run (root or CAP_NET_RAW):  npx tsx examples/scan.ts [127.0.0.1 | 198.18.0.2]
import { scan, type PortResult, type ScanProgress } from 'ferroscan';
import { exampleTarget } from './lab-guard.js';

const run = scan({ targets: [exampleTarget()], ports: '1-1024', rate: 5000 });

run.on('progress', (p: ScanProgress) => {
  process.stderr.write(`${p.percent.toFixed(1)}% done, ${Math.round(p.rate)} pkt/s, ${p.found} open\n`);
});

const open: PortResult[] = [];
for await (const result of run) {
  if (result.state === 'open') open.push(result);
}

const summary = await run.summary;
for (const r of open) console.log(`${r.address}:${r.port} ${r.state} (${r.reason}, ttl ${r.ttl})`);
console.log(`${summary.sent} probes, ${summary.received} replies, ${summary.found} open in ${summary.elapsedSeconds.toFixed(2)} s`);
