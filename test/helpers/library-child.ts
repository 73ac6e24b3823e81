// Run by test/lab-library.test.ts as a child process inside the lab's scanner namespace
// (the library sends from the namespace of the process that calls it). Prints one JSON line
// per event. Modes:
//   iterate TARGET PORTS        scan to the end: "result" lines, then "summary"
//   abort TARGET PORTS RATE     abort after the first result: "result", "error", "summary",
//                               then return without exiting: the process must end by itself
import { AbortError, scan } from '../../ts/index.js';

const [mode, target, ports, rate] = process.argv.slice(2);
const print = (obj: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(obj)}\n`);

if (mode === 'iterate') {
  const run = scan({ targets: [target], ports, assumeUp: true, progressInterval: 50 });
  let progress = 0;
  run.on('progress', () => progress++);
  for await (const r of run) print({ type: 'result', ...r });
  print({ type: 'summary', progress, ...(await run.summary) });
} else if (mode === 'abort') {
  const controller = new AbortController();
  const run = scan({ targets: [target], ports, rate: Number(rate), signal: controller.signal, progressInterval: 100 });
  run.on('progress', () => undefined);
  const t0 = Date.now();
  try {
    for await (const r of run) {
      print({ type: 'result', ...r });
      controller.abort();
    }
    print({ type: 'completed' });
  } catch (e) {
    print({ type: 'error', name: (e as Error).name, isAbortError: e instanceof AbortError, ms: Date.now() - t0 });
  }
  const summary = await run.summary;
  print({ type: 'summary', aborted: summary.aborted, completed: summary.completed, sent: summary.sent });
  // What keeps the event loop alive now, besides stdio: must be nothing.
  print({ type: 'handles', resources: process.getActiveResourcesInfo() });
}
