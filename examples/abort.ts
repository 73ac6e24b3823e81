// Cancelling with an AbortSignal: stop after the first open port or after 5 seconds,
// whichever comes first. The iterator ends with an AbortError, the engine's threads stop,
// and the process exits by itself: nothing is left running.
// Run (root or CAP_NET_RAW):  npx tsx examples/abort.ts [127.0.0.1 | 198.18.0.2]
import { AbortError, scan } from 'ferroscan';
import { exampleTarget } from './lab-guard.js';

const controller = new AbortController();
const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(5000)]);
const run = scan({ targets: [exampleTarget()], ports: '-', rate: 1000, signal });

try {
  for await (const result of run) {
    if (result.state !== 'open') continue;
    console.log(`${result.address}:${result.port} open (${result.reason})`);
    controller.abort(new Error('found an open port'));
  }
  console.log('the scan ran to its end');
} catch (e) {
  if (!(e instanceof AbortError)) throw e;
  console.log(`stopped: ${e.name}`);
}
const summary = await run.summary;
console.log(`aborted=${summary.aborted} sent=${summary.sent} of ${summary.addresses * summary.ports}`);
