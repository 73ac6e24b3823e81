// The resume journal: an append-only file beside the resume file holding what a running scan
// has learnt, so that a resumed run starts from the same state: every verdict record (in the
// engine's record layout, records.ts, replayed through the same model), the hosts host
// discovery found up, and the hosts the streaming outputs have written. Frames are
// [type u8][length u32 LE][payload]; the resume file names the length up to which the
// journal matches its checkpoint, and a resumed run cuts it there and appends.
// Nothing reaches the disk before the first checkpoint (a scan of a few seconds leaves no
// file behind); after that, frames are buffered and written at each checkpoint, or sooner
// when 4 MiB are waiting.
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { DiscoveredHost } from '../hosts/discovery.js';
import { decodeBatch, encodeRecord, RECORD_SIZE, RecordKind, type EngineRecord } from './records.js';

const enum Frame {
  Records = 1,
  Written = 2,
  Discovered = 3,
}

/** Bytes buffered before they are written even between checkpoints (bounds the memory). */
const BUFFER_LIMIT = 4 << 20;

/** Packs records in the engine's layout (crates/core/src/record.rs), as decodeBatch reads it. */
export function encodeRecords(records: readonly EngineRecord[]): Buffer {
  const kept = records.filter((r) => r.kind !== RecordKind.ProbeSent);
  const buf = Buffer.alloc(kept.length * RECORD_SIZE);
  kept.forEach((r, i) => encodeRecord(buf, i * RECORD_SIZE, r));
  return buf;
}

function frame(type: Frame, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32LE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** What a journal holds, read back. */
export interface JournalContents {
  /** Record batches in the order they arrived. */
  batches: EngineRecord[][];
  /** Hosts the streaming outputs had written. */
  written: number[];
  /** Host discovery's hosts up (absent: -Pn, or discovery did not finish). */
  discovered?: Map<number, DiscoveredHost>;
}

/** Reads the first `length` bytes of a journal; a damaged one is a UsageError. */
export function readJournal(file: string, length: number): JournalContents {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read the resume journal "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (buf.length < length) throw new UsageError(`the resume journal "${file}" is shorter than its resume file says (${buf.length} < ${length} bytes)`);
  const out: JournalContents = { batches: [], written: [] };
  let off = 0;
  while (off < length) {
    if (off + 5 > length) throw new UsageError(`the resume journal "${file}" is damaged at byte ${off}`);
    const type = buf[off];
    const size = buf.readUInt32LE(off + 1);
    const start = off + 5;
    const end = start + size;
    if (end > length) throw new UsageError(`the resume journal "${file}" is damaged at byte ${off}`);
    const payload = buf.subarray(start, end);
    if (type === Frame.Records) out.batches.push(decodeBatch(payload));
    else if (type === Frame.Written) for (let i = 0; i + 4 <= payload.length; i += 4) out.written.push(payload.readUInt32LE(i));
    else if (type === Frame.Discovered) out.discovered = parseDiscovered(payload.toString('utf8'), file);
    else throw new UsageError(`the resume journal "${file}" is damaged at byte ${off}`);
    off = end;
  }
  return out;
}

type DiscoveredRow = [number, string, number, number, string?];

function parseDiscovered(text: string, file: string): Map<number, DiscoveredHost> {
  let rows: DiscoveredRow[];
  try {
    rows = JSON.parse(text) as DiscoveredRow[];
  } catch {
    throw new UsageError(`the resume journal "${file}" is damaged (discovered hosts)`);
  }
  const up = new Map<number, DiscoveredHost>();
  for (const [value, reason, ttl, rttUs, mac] of rows) {
    const host: DiscoveredHost = { status: { state: 'up', reason, ttl }, rttUs };
    if (mac !== undefined) host.mac = mac;
    up.set(value, host);
  }
  return up;
}

/** The journal of a running scan. */
export class ResumeJournal {
  private fd = -1;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private length: number;
  private written: number[] = [];
  /** Set by the first checkpoint: until then nothing is written (the file may be another scan's). */
  private armed = false;
  /** The error that stopped the journal (it is then dropped; the next flush rethrows it). */
  private broken: unknown;

  /** `keep`: the length of an interrupted run's journal to go on from (--resume); 0 starts afresh. */
  constructor(
    readonly file: string,
    private readonly keep = 0,
  ) {
    this.length = keep;
  }

  /** Records, packed as the engine packs them (probe-sent records are left out). */
  records(records: readonly EngineRecord[]): void {
    if (records.length === 0) return;
    this.flushWritten();
    this.push(frame(Frame.Records, encodeRecords(records)));
  }

  /** A batch as the engine handed it over (its Buffer, kept as is: nothing to encode). */
  batch(batch: Buffer): void {
    if (batch.length === 0) return;
    this.flushWritten();
    const head = Buffer.alloc(5);
    head[0] = Frame.Records;
    head.writeUInt32LE(batch.length, 1);
    this.push(head);
    this.push(batch);
  }

  /** A host the streaming outputs have written. */
  hostWritten(value: number): void {
    this.written.push(value);
    if (this.written.length >= 4096) this.flushWritten();
  }

  /** Host discovery's hosts up, once it has finished. */
  discovered(up: ReadonlyMap<number, DiscoveredHost>): void {
    this.flushWritten();
    const rows: DiscoveredRow[] = [];
    for (const [value, h] of up) rows.push(h.mac === undefined ? [value, h.status.reason, h.status.ttl, h.rttUs] : [value, h.status.reason, h.status.ttl, h.rttUs, h.mac]);
    this.push(frame(Frame.Discovered, Buffer.from(JSON.stringify(rows))));
  }

  /** Writes what is buffered; returns the journal's length, everything in it on disk. */
  flush(): number {
    if (this.broken !== undefined) throw this.broken;
    this.armed = true;
    this.flushWritten();
    if (this.pending.length === 0) return this.length;
    if (this.fd < 0) this.open();
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done);
    this.length += data.length;
    return this.length;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Closes and deletes the journal (the scan finished: nothing to resume), if this run wrote or continued it. */
  remove(): void {
    const mine = this.armed || this.keep > 0;
    this.close();
    this.pending = [];
    this.written = [];
    if (!mine) return;
    try {
      unlinkSync(this.file);
    } catch {
      // never written
    }
  }

  private flushWritten(): void {
    if (this.written.length === 0) return;
    const buf = Buffer.alloc(this.written.length * 4);
    this.written.forEach((v, i) => buf.writeUInt32LE(v >>> 0, i * 4));
    this.written = [];
    this.push(frame(Frame.Written, buf));
  }

  private push(buf: Buffer): void {
    if (this.broken !== undefined) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.armed && this.pendingBytes >= BUFFER_LIMIT) {
      // between checkpoints: a failure is the next checkpoint's to report (flush rethrows it)
      try {
        this.flush();
      } catch (e) {
        this.broken = e;
        this.pending = [];
        this.pendingBytes = 0;
      }
    }
  }

  private open(): void {
    if (this.keep > 0 && existsSync(this.file) && statSync(this.file).size >= this.keep) {
      this.fd = openSync(this.file, 'a');
      ftruncateSync(this.fd, this.keep);
    } else {
      this.fd = openSync(this.file, 'w');
      if (this.keep > 0) throw new UsageError(`the resume journal "${this.file}" is missing or too short`);
    }
  }
}
