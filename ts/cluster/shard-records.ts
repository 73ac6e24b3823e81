// A shard's findings in transit: the engine's own records (the layout of
// crates/core/src/record.rs, decoded by ts/records.ts), in chunks of base64 text for Temporal's
// JSON payloads. Each chunk holds the records byte plane by byte plane (every record's byte 0,
// then every byte 1, ...), gzipped: the constant fields of a sweep then cost almost nothing,
// about 4 bytes a record instead of 9 for gzip alone. The log grows by a chunk per heartbeat,
// so a heartbeat compresses only what is new.
// Records rather than the verdicts of --ndjson: the merger folds them into one model exactly
// as a single-process run folds its batches, so every output format comes out as from one run.
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeBatch, encodeRecord, RECORD_SIZE, RecordKind, type EngineRecord } from '../engine/records.js';

/** Chunks a log keeps before it packs them into one (each costs a gzip header). */
const MAX_CHUNKS = 32;

/** Packs records in the engine's layout; decodeBatch() reads them back unchanged. */
export function encodeRecords(records: readonly EngineRecord[]): Buffer {
  const buf = Buffer.alloc(records.length * RECORD_SIZE);
  records.forEach((r, i) => encodeRecord(buf, i * RECORD_SIZE, r));
  return buf;
}

/** Byte planes of `n` records of `size` bytes: the transpose of the record matrix (and back, with `back`). */
function planes(buf: Buffer, size: number, back = false): Buffer {
  const n = buf.length / size;
  const out = Buffer.alloc(buf.length);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < size; b++) {
      if (back) out[i * size + b] = buf[b * n + i];
      else out[b * n + i] = buf[i * size + b];
    }
  }
  return out;
}

/** One chunk: records as gzipped byte planes, in base64. */
export function packRecords(records: readonly EngineRecord[]): string {
  return gzipSync(planes(encodeRecords(records), RECORD_SIZE)).toString('base64');
}

/** The records of one chunk. Throws on text that is not one. */
export function unpackRecords(chunk: string): EngineRecord[] {
  const raw = gunzipSync(Buffer.from(chunk, 'base64'));
  if (raw.length % RECORD_SIZE !== 0) throw new Error(`a record chunk of ${raw.length} bytes is not a whole number of records`);
  return decodeBatch(planes(raw, RECORD_SIZE, true));
}

/** The records of a whole log, chunk after chunk. */
export function decodeRecordLog(chunks: readonly string[]): EngineRecord[] {
  return chunks.flatMap(unpackRecords);
}

/** Records of one shard, appended batch by batch (probe-sent records are left out). */
export class RecordLog {
  private chunks: string[];
  private pending: EngineRecord[] = [];
  private count: number;

  /** Continues a log taken from a checkpoint (the chunks encode() gave). */
  constructor(chunks: readonly string[] = [], count = decodeRecordLog(chunks).length) {
    this.chunks = [...chunks];
    this.count = count;
  }

  add(records: readonly EngineRecord[]): void {
    for (const r of records) if (r.kind !== RecordKind.ProbeSent) this.pending.push(r);
  }

  /** Records held, earlier attempts' included. */
  get size(): number {
    return this.count + this.pending.length;
  }

  /** The whole log; compresses only what came since the last call (now and then everything again, into one chunk). */
  encode(): string[] {
    if (this.pending.length) {
      this.chunks.push(packRecords(this.pending));
      this.count += this.pending.length;
      this.pending = [];
    }
    if (this.chunks.length > MAX_CHUNKS) this.chunks = [packRecords(decodeRecordLog(this.chunks))];
    return [...this.chunks];
  }
}
