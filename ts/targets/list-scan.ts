// The list scan (-sL): prints every target as `nmap -sL -n` does, one "scan report" line
// per address in target order, and sends nothing: the engine is never loaded. Output is
// produced in chunks and waits for the sink to drain, so 0.0.0.0/0 streams in constant memory.
import { blocklistNotice } from './blocklist.js';
import { formatTimestamp } from '../output/normal.js';
import { isIPv6Set, targetEntries, type AnyTargetSet } from './targets.js';
import { PRODUCT, URL, VERSION } from '../version.js';

/** The note a run prints when specs name an address again: ferroscan probes it once (nmap would scan it again). */
export function repeatedNotice(repeated: number, verb: 'listed' | 'scanned' = 'scanned'): string {
  return `Note: ${repeated} repeated ${repeated === 1 ? 'address' : 'addresses'} in the targets: each address is ${verb} once.`;
}

/** Writes a chunk; may return a promise that settles when the sink can take more. */
export type ChunkSink = (chunk: string) => void | Promise<void>;

/** Lines gathered before a write: large enough to be cheap, small enough to stream. */
const LINES_PER_CHUNK = 4096;

/** Runs the list scan; resolves with the number of addresses listed. */
export async function listScan(set: AnyTargetSet, write: ChunkSink, startedAt = new Date()): Promise<number> {
  const t0 = performance.now();
  await write(`Starting ${PRODUCT} ${VERSION} ( ${URL} ) at ${formatTimestamp(startedAt)}\n`);
  const notice = blocklistNotice(set.blocklist ?? []);
  if (notice) await write(`${notice}\n`);
  if (set.repeated) await write(`${repeatedNotice(set.repeated, 'listed')}\n`);
  let lines: string[] = [];
  let listed = 0;
  const flush = async (): Promise<void> => {
    if (lines.length >= LINES_PER_CHUNK) {
      await write(lines.join('\n') + '\n');
      lines = [];
    }
  };
  if (isIPv6Set(set)) {
    for (const e of targetEntries(set)) {
      lines.push(e.hostname !== undefined ? `${PRODUCT} scan report for ${e.hostname} (${e.address})` : `${PRODUCT} scan report for ${e.address}`);
      if (e.otherAddresses && e.otherAddresses.length > 0) lines.push(`Other addresses for ${e.hostname} (not scanned): ${e.otherAddresses.join(' ')}`);
      listed++;
      await flush();
    }
  }
  for (const p of isIPv6Set(set) ? [] : set.pieces) {
    for (let v = p.start; v <= p.end; v++) {
      const address = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
      lines.push(p.hostname !== undefined ? `${PRODUCT} scan report for ${p.hostname} (${address})` : `${PRODUCT} scan report for ${address}`);
      if (p.otherAddresses && p.otherAddresses.length > 0) lines.push(`Other addresses for ${p.hostname} (not scanned): ${p.otherAddresses.join(' ')}`);
      listed++;
      if (lines.length >= LINES_PER_CHUNK) {
        await write(lines.join('\n') + '\n');
        lines = [];
      }
    }
  }
  if (lines.length > 0) await write(lines.join('\n') + '\n');
  const seconds = (performance.now() - t0) / 1000;
  await write(`${PRODUCT} done: ${listed} IP ${listed === 1 ? 'address' : 'addresses'} (0 hosts up) scanned in ${seconds.toFixed(2)} seconds\n`);
  return listed;
}

/** Wraps a plain writer so that the list waits whenever `stream` (stdout) has a full buffer. */
export function drainingSink(write: (chunk: string) => void, stream: NodeJS.WritableStream & { writableNeedDrain?: boolean } = process.stdout): ChunkSink {
  return (chunk) => {
    write(chunk);
    if (!stream.writableNeedDrain) return undefined;
    return new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  };
}
