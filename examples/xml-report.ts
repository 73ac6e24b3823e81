// The building blocks: scan, then write nmap XML of the results with the library's own
// writer, so that tools reading nmap's XML (ndiff, Metasploit's db_import, ...) read it.
// Run (root or CAP_NET_RAW):  npx tsx examples/xml-report.ts [127.0.0.1 | 198.18.0.2] > scan.xml
import { scan, StdoutSink, XmlWriter } from 'ferroscan';
import { exampleTarget } from './lab-guard.js';

const target = exampleTarget();
const run = scan({ targets: [target], ports: '1-1024' });
for await (const result of run) {
  if (result.state === 'open') process.stderr.write(`open: ${result.port}\n`);
}
const summary = await run.summary;
const model = run.model!;

const writer = new XmlWriter(new StdoutSink((text) => void process.stdout.write(text)));
writer.begin({ startedAt: summary.startedAt, args: ['xml-report', target], technique: model.technique, ports: model.ports, addresses: summary.addresses, verbose: 0, open: false, reason: true });
for (const host of model.upReports()) writer.host(host);
writer.end({ finishedAt: new Date(), elapsedSeconds: summary.elapsedSeconds, addresses: summary.addresses, up: summary.hostsUp });
