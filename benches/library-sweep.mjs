#!/usr/bin/env node
// One sweep through the library API, timed inside the process: what a TypeScript program that
// imports ferroscan sees, without the CLI's start-up (module loading) and report writing.
//
//   ip netns exec <lab scanner ns> node benches/library-sweep.mjs 198.19.0.0/16 80 [RATE]
//
// Without RATE the engine finds the rate (the library's default). Prints one JSON line:
// { seconds, found, sent, retransmits, peakRate, backoffs }. Used by benches/run.mjs.
// SAFETY: refuses targets outside 198.18.0.0/15; run it inside a lab's scanner namespace.
import { scan } from '../dist/index.js';

const [cidr, port, rate] = process.argv.slice(2);
if (!/^198\.1[89]\.\d+\.\d+(\/\d+)?$/.test(cidr ?? '')) {
  console.error('library-sweep: the target must lie in 198.18.0.0/15');
  process.exit(2);
}
const t0 = performance.now();
const run = scan({ targets: [cidr], ports: String(port), ...(rate === undefined ? {} : { rate: Number(rate) }), assumeUp: true });
let found = 0;
for await (const r of run) if (r.state === 'open') found++;
const seconds = (performance.now() - t0) / 1000;
const s = await run.summary;
console.log(JSON.stringify({ seconds, found, sent: s.sent, retransmits: s.retransmits, peakRate: s.peakRate, backoffs: s.backoffs }));
