// Where an output format's text goes: a file or stdout ("-"). Files are opened before the
// scan starts (so a bad path fails at once, with one line) and written with synchronous
// writes from a small buffer that is flushed often, so that what was written survives an
// interruption: a signal handler can close every document with plain synchronous calls.
import { closeSync, openSync, writeSync } from 'node:fs';
import { UsageError } from '../errors.js';

export interface Sink {
  write(text: string): void;
  /** Pushes buffered text to the file now. */
  flush(): void;
  close(): void;
}

/** Bytes buffered before a write reaches the file; a timer flushes smaller amounts. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 200;

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const map: Record<string, string> = { ENOENT: 'no such directory', EACCES: 'permission denied', EISDIR: 'is a directory', EROFS: 'read-only file system', ENOSPC: 'no space left on device', ENOTDIR: 'not a directory' };
  return (err.code && map[err.code]) ?? err.message?.split('\n')[0] ?? String(e);
}

export class FileSink implements Sink {
  private fd: number;
  private chunks: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly path: string, readonly what: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new UsageError(`cannot open ${what} file "${path}" for writing: ${reason(e)}`);
    }
  }

  write(text: string): void {
    if (this.fd < 0) return;
    this.chunks.push(text);
    this.size += text.length;
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
    const text = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    try {
      writeSync(this.fd, text);
    } catch (e) {
      throw new UsageError(`cannot write ${this.what} file "${this.path}": ${reason(e)}`);
    }
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
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
