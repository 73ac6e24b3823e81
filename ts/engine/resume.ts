// Interrupted sweeps and their continuation: the resume file records the command line, the
// permutation's seed and the position below which every probe was sent and resolved, so a
// resumed run covers the rest and the union of both parts equals an uninterrupted run.
// Beside it, the journal (resume-journal.ts) holds what the run learnt: its verdict records,
// the hosts found up by discovery and the hosts already written; and for each output file,
// how many bytes of it belong to that state. The resume file is rewritten every few seconds
// while a scan runs (atomically: written beside, renamed over), so a run killed outright
// (kill -9) loses only the last seconds; a resumed run cuts each output back to its recorded
// length and appends, so every host is written once (ts/cli/checkpoint.ts).
// Sharding (--shard i/N) is arithmetic on the same permutation: shard i sends positions
// [(i-1)·n/N, i·n/N), so N shards with one seed cover the scan exactly once.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export const RESUME_VERSION = 2;
/** Where an interrupted scan leaves its resume file unless --resume-file says otherwise. */
export const DEFAULT_RESUME_FILE = 'ferroscan.resume';
/** How often a running scan rewrites its resume file. */
export const CHECKPOINT_MS = 2000;

/** One output file of the interrupted run and how much of it to keep. */
export interface ResumeOutput {
  format: string;
  /** The path as given on the command line. */
  path: string;
  /** NAME and NAME.part, absolute. */
  file: string;
  writing: string;
  /** True once NAME.part was renamed over NAME (the run ended, interrupted). */
  committed: boolean;
  /** Bytes to keep: the prologue and every host written before the checkpoint. */
  offset: number;
  /** SHA-256 of the first min(offset, 4096) bytes: the file is the one the run wrote. */
  fingerprint: string;
  /** The writer's counters (e.g. JSON's hosts written). */
  state?: Record<string, number>;
}

export interface ResumeState {
  version: number;
  /** The original command line (options and targets), without the program name. */
  argv: string[];
  /** The seed the scan ran with (decimal): resuming needs the same order. */
  seed: string;
  /** Every position below this one was sent and resolved. */
  startPosition: number;
  /** 'discovery': stopped before the port scan began; host discovery runs again. */
  phase: 'discovery' | 'ports';
  /** The journal and its length at this checkpoint (absent: nothing learnt yet). */
  journal?: { file: string; length: number };
  outputs: ResumeOutput[];
  /** Seconds the interrupted run (and the ones it resumed) took. */
  elapsedSeconds: number;
  /** The process that writes it (two scans in one directory must not share a resume file). */
  pid?: number;
}

/** A seed from the OS's random source, for runs that name none. */
export function randomSeed(): bigint {
  return randomBytes(8).readBigUInt64BE();
}

/** Parses --shard "i/N" (1 ≤ i ≤ N). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || count > 2 ** 32 || index < 1 || index > count) {
    throw new UsageError(`invalid --shard "${text}" (i/N with 1 <= i <= N, e.g. 1/4)`);
  }
  return { index, count };
}

/** Writes the resume file beside itself and renames it over: a reader sees the old one or the new one. */
export function writeResumeFile(path: string, state: ResumeState): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1) + '\n');
  renameSync(tmp, path);
}

/** The pid in the resume file at `path`, if it has one and that process still runs (and is not this one). */
export function resumeFileOwner(path: string): number | undefined {
  let pid: unknown;
  try {
    pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid;
  } catch {
    return undefined;
  }
  if (!isCount(pid) || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: it runs, as another user
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** SHA-256 of a file's first min(length, 4096) bytes ("" when it cannot be read). */
export function fileFingerprint(path: string, length: number): string {
  const n = Math.min(length, 4096);
  const buf = Buffer.alloc(n);
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    let got = 0;
    while (got < n) {
      const k = readSync(fd, buf, got, n - got, got);
      if (k === 0) return '';
      got += k;
    }
  } catch {
    return '';
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  return createHash('sha256').update(buf).digest('hex');
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

function validOutput(o: Partial<ResumeOutput>): boolean {
  return (
    typeof o.format === 'string' &&
    typeof o.path === 'string' &&
    typeof o.file === 'string' &&
    typeof o.writing === 'string' &&
    typeof o.committed === 'boolean' &&
    isCount(o.offset) &&
    typeof o.fingerprint === 'string' &&
    (o.state === undefined || (typeof o.state === 'object' && o.state !== null && Object.values(o.state).every(isCount)))
  );
}

/** Reads and checks a resume file (version 1 or 2); every problem is one UsageError line. */
export function readResumeFile(path: string): ResumeState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read resume file "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseResumeFile(text, path);
}

/** Checks a resume file's text (`path` names it in errors); every problem is one UsageError line. */
export function parseResumeFile(text: string, path: string): ResumeState {
  let v: Partial<ResumeState>;
  try {
    v = JSON.parse(text) as Partial<ResumeState>;
  } catch {
    throw new UsageError(`resume file "${path}" is not a ferroscan resume file (not JSON)`);
  }
  const common = typeof v === 'object' && v !== null && Array.isArray(v.argv) && v.argv.every((a) => typeof a === 'string') && typeof v.seed === 'string' && /^\d+$/.test(v.seed) && isCount(v.startPosition);
  // Version 1 files (before journals) carry the position only: outputs start afresh.
  if (common && v.version === 1) return { version: 1, argv: v.argv!, seed: v.seed!, startPosition: v.startPosition!, phase: 'ports', outputs: [], elapsedSeconds: 0 };
  const ok =
    common &&
    v.version === RESUME_VERSION &&
    (v.phase === 'discovery' || v.phase === 'ports') &&
    (v.journal === undefined || (typeof v.journal === 'object' && v.journal !== null && typeof v.journal.file === 'string' && isCount(v.journal.length))) &&
    Array.isArray(v.outputs) &&
    v.outputs.every((o) => typeof o === 'object' && o !== null && validOutput(o)) &&
    typeof v.elapsedSeconds === 'number' &&
    v.elapsedSeconds >= 0 &&
    (v.pid === undefined || isCount(v.pid));
  if (!ok) throw new UsageError(`resume file "${path}" is not a ferroscan resume file of version ${RESUME_VERSION}`);
  return v as ResumeState;
}

/** The saved command line without the options that only steer resuming itself. */
/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * The command that continues an interrupted run without a resume file: its command line, its
 * seed and the settled position, as a shell reads it (said when the resume file cannot be written).
 */
export function continueCommand(product: string, argv: readonly string[], seed: string, position: number): string {
  return [product, ...resumableArgv(argv), '--seed', seed, '--start-position', String(position)].map(shellWord).join(' ');
}

export function resumableArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seed' || a === '--start-position') {
      i++;
      continue;
    }
    if (a.startsWith('--seed=') || a.startsWith('--start-position=')) continue;
    out.push(a);
  }
  return out;
}
