// Run by test/lab-cursor.test.ts inside the lab's scanner namespace. Prints one JSON line per
// event. Modes:
//   order SEED SHARD/N TARGET PORT      a dry run: every address of the shard in permutation
//                                       order ("order" line; its index in the list is its
//                                       position minus the shard's first position)
//   scan SEED SHARD/N TARGET PORT RATE [START]
//                                       scan() with a cursor listener: "result" and "cursor"
//                                       lines in the order the library handed them out
//   hooks SEED SHARD/N TARGET PORT RATE  the same through runPrepared's onResult and onCursor
import { prepareScan } from '../../ts/engine/prepare.js';
import { runPrepared, scan } from '../../ts/engine/scan.js';
import { RecordKind } from '../../ts/engine/records.js';

const [mode, seed, shardText, target, port, rate, start] = process.argv.slice(2);
const [index, count] = shardText.split('/').map(Number);
const print = (obj: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(obj)}\n`);

if (mode === 'order') {
  const prepared = await prepareScan({ targets: [target], ports: [Number(port)], seed: BigInt(seed), shard: { index, count }, trace: true, rate: Infinity });
  prepared.native.dryRun = true;
  const order: string[] = [];
  const report = await runPrepared(prepared, {}, { onRecords: (rs) => rs.forEach((r) => r.kind === RecordKind.ProbeSent && order.push(r.address)) });
  print({ type: 'order', first: report.summary.firstPosition, end: report.summary.endPosition, order });
} else if (mode === 'scan') {
  const run = scan({ targets: [target], ports: [Number(port)], seed: BigInt(seed), shard: { index, count }, rate: Number(rate), assumeUp: true, ...(start !== undefined && { startPosition: Number(start) }) });
  run.on('cursor', (position) => print({ type: 'cursor', position }));
  for await (const r of run) print({ type: 'result', address: r.address, state: r.state });
  print({ type: 'summary', ...(await run.summary) });
} else if (mode === 'hooks') {
  const prepared = await prepareScan({ targets: [target], ports: [Number(port)], seed: BigInt(seed), shard: { index, count }, rate: Number(rate) });
  const report = await runPrepared(prepared, { assumeUp: true }, {
    onResult: (r) => print({ type: 'result', address: r.address, state: r.state }),
    onCursor: (position) => print({ type: 'cursor', position }),
  });
  print({ type: 'summary', sent: report.summary.sent, retransmits: report.summary.retransmits });
}
