// Where an output format's text goes: a file or stdout ("-"). A file is never written in
// place: its text streams into NAME.part beside it, which replaces NAME by a rename when the
// run ends (normally or interrupted, after the document is closed), so a run that fails
// leaves the file as it was, and a reader of NAME never sees half a document. Tail
// NAME.part to follow a scan live. Special files (/dev/stdout, a FIFO) are written directly.
// Writes are synchronous, from a small buffer flushed often, so that what was written
// survives an interruption and a signal handler can close every document with plain calls;
// `bytes` counts what reached the file, for the resume checkpoints.
import { closeSync, existsSync, ftruncateSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { errnoReason, partPath, targetKind } from './paths.js';

export interface Sink {
  write(text: string): void;
  /** Pushes buffered text to the file now. */
  flush(): void;
  /** Ends the output: flushes, and a file takes its place (renamed from NAME.part). */
  close(): void;
}

/** Bytes buffered before a write reaches the file; a timer flushes smaller amounts. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 200;
/** The buffer text is encoded into (UTF-8, straight from each write: no joined string). */
const BUFFER_BYTES = 256 * 1024;

export interface FileSinkOptions {
  /**
   * Continue a file instead of starting it: `from` (the file or its .part) is copied to
   * NAME.part, cut to `offset` bytes, and writing goes on from there (--resume).
   */
  continueFrom?: { source: string; offset: number };
}

export class FileSink implements Sink {
  /** The file written while the run goes on: NAME.part, or NAME itself for a special file. */
  readonly writing: string;
  private fd: number;
  private readonly buf = Buffer.allocUnsafe(BUFFER_BYTES);
  private size = 0;
  private written = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Continuing NAME.part itself (a run killed outright): a failed run must not remove it. */
  private inPlace = false;

  constructor(
    readonly path: string,
    readonly what: string,
    options: FileSinkOptions = {},
  ) {
    const kind = targetKind(path, what);
    this.writing = kind === 'special' ? path : partPath(path);
    try {
      if (options.continueFrom && kind !== 'special') {
        this.inPlace = sameFile(options.continueFrom.source, this.writing);
        this.fd = continueFile(options.continueFrom.source, this.writing, options.continueFrom.offset);
        this.written = options.continueFrom.offset;
      } else this.fd = openSync(this.writing, kind === 'special' ? 'a' : 'w');
    } catch (e) {
      // ENOENT for a file in a directory that exists: one that takes no new files (/proc, /sys).
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(dirname(this.writing)) ? 'cannot create a file there' : errnoReason(e);
      throw new UsageError(`cannot open ${what} file "${path}" for writing: ${reason}`);
    }
  }

  /** Bytes that have reached the file (after the last flush). */
  get bytes(): number {
    return this.written;
  }

  write(text: string): void {
    if (this.fd < 0) return;
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    if (this.size + text.length * 3 > BUFFER_BYTES) {
      this.flush();
      if (text.length * 3 > BUFFER_BYTES) {
        this.writeOut(text);
        return;
      }
    }
    this.size += this.buf.write(text, this.size, 'utf8');
    if (this.size >= FLUSH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      // A pending flush must not keep the process alive; close() flushes anyway.
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd < 0 || this.size === 0) return;
    const n = this.size;
    this.size = 0;
    this.writeOut(this.buf, n);
  }

  /** Writes all of `data` (the buffer's first `n` bytes, or a string) to the file. */
  private writeOut(data: Buffer | string, n?: number): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const end = n ?? bytes.length;
    try {
      let done = 0;
      while (done < end) done += writeSync(this.fd, bytes, done, end - done);
      this.written += end;
    } catch (e) {
      throw new UsageError(`cannot write ${this.what} file "${this.path}": ${errnoReason(e)}`);
    }
  }

  /** Flushes, closes and puts the file in place of NAME. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
    if (this.writing !== this.path) {
      try {
        renameSync(this.writing, this.path);
      } catch (e) {
        throw new UsageError(`cannot write ${this.what} file "${this.path}": ${errnoReason(e)} (the output is in "${this.writing}")`);
      }
    }
  }

  /**
   * Closes and removes NAME.part, leaving NAME as it was (a failed run). Idempotent. A part
   * file this run continued in place holds the interrupted run's hosts: it stays, for the
   * resume file (put back by the CLI) cuts it to their end again.
   */
  discard(): void {
    if (this.fd < 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.size = 0;
    closeSync(this.fd);
    this.fd = -1;
    if (this.writing !== this.path && !this.inPlace) {
      try {
        unlinkSync(this.writing);
      } catch {
        // already gone: nothing to undo
      }
    }
  }
}

/**
 * Opens `part` as a copy of `source` cut to `offset` bytes, positioned at its end. When the
 * source is the part file itself (a run killed with -9), it is cut in place.
 */
function continueFile(source: string, part: string, offset: number): number {
  if (!sameFile(source, part)) {
    const from = openSync(source, 'r');
    const to = openSync(part, 'w');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let done = 0;
      while (done < offset) {
        const n = readSync(from, buf, 0, Math.min(buf.length, offset - done), done);
        if (n === 0) break;
        writeSync(to, buf, 0, n);
        done += n;
      }
    } finally {
      closeSync(from);
      closeSync(to);
    }
  }
  // 'a': every write lands at the end, which the cut has just set to `offset`.
  const fd = openSync(part, 'a');
  ftruncateSync(fd, offset);
  return fd;
}

/** Whether two paths name one file (so that copying one onto the other would empty it). */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** stdout ("-"): process.stdout writes are synchronous for files and pipes on Linux. */
export class StdoutSink implements Sink {
  constructor(private readonly out: (text: string) => void) {}
  write(text: string): void {
    this.out(text);
  }
  flush(): void {}
  close(): void {}
}
