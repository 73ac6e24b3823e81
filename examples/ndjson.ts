// Streaming to NDJSON: one JSON object per port verdict on stdout, as replies arrive, and
// a closing summary line. Pipe it into jq, a file or another process.
// Run (root or CAP_NET_RAW):  npx tsx examples/ndjson.ts [127.0.0.1 | 198.18.0.2] > ports.ndjson
import { scan } from 'ferroscan';
import { exampleTarget } from './lab-guard.js';

const run = scan({ targets: [exampleTarget()], ports: '1-1024' });
for await (const result of run) {
  process.stdout.write(`${JSON.stringify({ type: 'port', time: new Date().toISOString(), ...result })}\n`);
}
const summary = await run.summary;
process.stdout.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
