// The distributed sweep's pieces that need no server: the record chunks that carry a shard's
// findings (a round trip through the engine's layout), the shard cut (the same as the
// engine's), checkpoint validation, and the SDK's absence: plain scanning loads none of it,
// and asking for a worker without it is one line naming what to install.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkpointOf, shardScan, targetSetOf } from '../ts/cluster/activities.js';
import { clusterScanOf, shardBounds } from '../ts/cluster/submit.js';
import { decodeRecordLog, encodeRecords, packRecords, RecordLog, unpackRecords } from '../ts/cluster/shard-records.js';
import { native } from '../ts/engine/native.js';
import { decodeBatch, RECORD_SIZE, RecordKind, type EngineRecord } from '../ts/engine/records.js';
import { prepareScan } from '../ts/engine/prepare.js';
import { rng } from './helpers/rng.js';

/** Engine-layout records (version 2) with every field varied (reserved bytes zero; family 4, or 6 with `v6`). */
function randomBatch(n: number, seed: number, v6 = false): Buffer {
  const r = rng(seed);
  const byte = (): number => Math.floor(r() * 256);
  const buf = Buffer.alloc(n * RECORD_SIZE);
  for (let i = 0; i < n; i++) {
    const off = i * RECORD_SIZE;
    buf[off] = 1 + Math.floor(r() * 4);
    for (const k of [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]) buf[off + k] = byte();
    // addresses: IPv4 in the first 4 bytes of each 16-byte field, IPv6 all 16
    for (let k = 0; k < (v6 ? 16 : 4); k++) {
      buf[off + 16 + k] = byte();
      buf[off + 32 + k] = byte();
    }
    buf[off + 5] = v6 ? 6 : 4;
    if (r() < 0.5) for (let k = 48; k < 54; k++) buf[off + k] = byte();
  }
  return buf;
}

test('records survive the engine layout, the chunks and the log unchanged', (t) => {
  const buf = randomBatch(3000, 1);
  const records = decodeBatch(buf);
  t.deepEqual(encodeRecords(records), buf, 'encodeRecords is decodeBatch backwards');
  t.deepEqual(unpackRecords(packRecords(records)), records);
  const buf6 = randomBatch(500, 2, true);
  t.deepEqual(encodeRecords(decodeBatch(buf6)), buf6, 'IPv6 records too');
  const log = new RecordLog();
  for (let i = 0; i < 3000; i += 60) {
    log.add(records.slice(i, i + 60));
    log.encode();
  }
  const probe: EngineRecord = { ...records[0], kind: RecordKind.ProbeSent };
  log.add([probe]);
  const chunks = log.encode();
  t.is(log.size, 3000, 'probe-sent records are left out');
  t.true(chunks.length <= 33, `chunks are packed together now and then (${chunks.length})`);
  t.deepEqual(decodeRecordLog(chunks), records, 'in order');
  const resumed = new RecordLog(chunks, 3000);
  resumed.add(records.slice(0, 10));
  t.deepEqual(decodeRecordLog(resumed.encode()), [...records, ...records.slice(0, 10)], 'a log continued from a checkpoint');
  t.throws(() => unpackRecords(Buffer.from('not gzip').toString('base64')));
});

test('a sweep of the same record costs a few bytes a record', (t) => {
  // 5000 SYN/ACKs from one /16 on port 80: what a shard of the lab sweep carries
  const r = rng(2);
  const records: EngineRecord[] = Array.from({ length: 5000 }, () => {
    const target = 0xc6130000 + Math.floor(r() * 65536);
    const address = `198.19.${(target >> 8) & 255}.${target & 255}`;
    return { kind: RecordKind.Tcp, flags: 0x12, ttl: 64, icmpType: 0, icmpCode: 0, port: 80, window: 64240, technique: 1, attempt: 0, rttUs: 200 + Math.floor(r() * 800), address, target, responder: address, mac: '02:00:00:00:00:02' };
  });
  const bytes = packRecords(records).length;
  t.log(`${(bytes / records.length).toFixed(1)} base64 bytes a record`);
  t.true(bytes / records.length < 9, `${bytes} bytes for ${records.length} records`);
});

test('shard bounds are the engine own cut of the permutation', (t) => {
  for (const [addresses, ports, shards] of [[65536, 1, 12], [1000, 3, 7], [5, 1, 8], [256, 1000, 3]]) {
    for (let i = 1; i <= shards; i++) {
      const engine = native().startScan({ ranges: [0xc6130000, 0xc6130000 + addresses - 1], ports: Array.from({ length: ports }, (_, k) => k + 1), technique: 'syn', rate: Infinity, maxRetries: 0, dryRun: true, shardIndex: i, shardCount: shards });
      const s = engine.summary();
      engine.abort();
      t.deepEqual(shardBounds(addresses * ports, shards, i), [s.firstPosition, s.endPosition], `${addresses}×${ports} in ${shards}, shard ${i}`);
    }
  }
});

test('what travels to a worker rebuilds the same engine options there', async (t) => {
  const prepared = await prepareScan({ targets: ['198.19.0.0/16', '198.18.0.2'], exclude: ['198.19.7.0/24'], ports: '22,80', seed: 5n, rate: 3000, maxRetries: 4, minRttTimeoutMs: 50 });
  const scan = clusterScanOf(prepared);
  t.deepEqual(JSON.parse(JSON.stringify(scan)), scan, 'plain JSON');
  const shard = shardScan({ scan, seed: '5', shard: 3, shards: 4, heartbeatEveryMs: 1000 }, { interface: 'veth0' }, 1234);
  t.deepEqual(shard.native.ranges, prepared.native.ranges);
  t.deepEqual(shard.ports, prepared.ports);
  t.like(shard.native, { seed: 5n, shardIndex: 3, shardCount: 4, startPosition: 1234, rate: 3000, maxRetries: 4, minRttTimeoutMs: 50, interface: 'veth0' });
  t.is(shard.targets.count, prepared.targets.count);
  t.is(targetSetOf([1, 5, 10, 10]).count, 6);
  t.is(clusterScanOf({ ...prepared, native: { ...prepared.native, rate: Infinity } }).rate, null, 'no limit travels as null');
});

test('only a checkpoint of the same shard resumes it', (t) => {
  const good = { version: 1, shard: 2, firstPosition: 10, endPosition: 20, cursor: 15, records: [], recordCount: 0, sent: 7, found: 0, startedAt: [10], worker: '1@h' };
  t.deepEqual(checkpointOf(good, 2), good);
  t.is(checkpointOf(good, 3), undefined, 'another shard');
  t.is(checkpointOf(undefined, 2), undefined);
  t.is(checkpointOf({ ...good, cursor: 25 }, 2), undefined, 'cursor past the end');
  t.is(checkpointOf({ ...good, records: 'x' }, 2), undefined);
  t.is(checkpointOf({ ...good, version: 2 }, 2), undefined);
});

const hide = fileURLToPath(new URL('./fixtures/hide-temporal.mjs', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

test('without the Temporal SDK: the library loads and scans, the worker is one line naming the packages', (t) => {
  const script = `
    const lib = await import('./ts/index.ts');
    if (typeof lib.scan !== 'function') throw new Error('no scan');
    const { runWorker } = await import('./ts/cluster/worker.ts');
    try { await runWorker({ address: '127.0.0.1:1' }); console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }
  `;
  const r = spawnSync(process.execPath, ['--import', hide, '--import=tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'ClusterError: distributed scans need the Temporal SDK, which is not installed: npm install @temporalio/client @temporalio/worker @temporalio/workflow @temporalio/activity');
});

test('without the Temporal SDK the CLI runs, and its distributed commands are one line naming the packages', (t) => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', hide, `${root}bin/ferroscan.js`, ...args], { cwd: root, encoding: 'utf8' });
  const help = cli(['--help']);
  t.is(help.status, 0, help.stderr);
  t.regex(help.stdout, /--temporal <host:port> --shards <N>/);
  // a list scan sends nothing
  const list = cli(['-sL', '-n', '198.18.0.0/30']);
  t.is(list.status, 0, list.stderr);
  t.regex(list.stdout, /198\.18\.0\.3/);
  const line = 'ferroscan: distributed scans need the Temporal SDK, which is not installed: npm install @temporalio/client @temporalio/worker @temporalio/workflow @temporalio/activity\n';
  // both fail on loading the SDK, before any connection or packet
  for (const args of [['worker', '--temporal', '127.0.0.1:1'], ['--temporal', '127.0.0.1:1', '--shards', '2', '-Pn', '-n', '-p', '80', '198.18.0.0/30']]) {
    const r = cli(args);
    t.is(r.status, 1, args.join(' '));
    t.is(r.stderr, line, args.join(' '));
  }
});
