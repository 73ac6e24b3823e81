// Interrupted sweeps and their continuation: the resume file records the command line, the
// permutation's seed and the position below which every probe was sent and resolved, so a
// resumed run covers the rest and the union of both parts equals an uninterrupted run.
// Sharding (--shard i/N) is arithmetic on the same permutation: shard i sends positions
// [(i-1)·n/N, i·n/N), so N shards with one seed cover the scan exactly once.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export const RESUME_VERSION = 1;
/** Where an interrupted scan leaves its resume file unless --resume-file says otherwise. */
export const DEFAULT_RESUME_FILE = 'ferroscan.resume';

export interface ResumeState {
  version: number;
  /** The original command line (options and targets), without the program name. */
  argv: string[];
  /** The seed the scan ran with (decimal): resuming needs the same order. */
  seed: string;
  /** Every position below this one was sent and resolved. */
  startPosition: number;
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
    throw new UsageError(`invalid --shard "${text}" (i/N with 1 ≤ i ≤ N, e.g. 1/4)`);
  }
  return { index, count };
}

export function writeResumeFile(path: string, state: ResumeState): void {
  writeFileSync(path, JSON.stringify(state, null, 2) + '\n');
}

/** Reads and checks a resume file; every problem is one UsageError line. */
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
  const ok =
    // JSON.parse may give null or a non-object ("null", "1", "[]"): not a state
    typeof v === 'object' &&
    v !== null &&
    v.version === RESUME_VERSION &&
    Array.isArray(v.argv) &&
    v.argv.every((a) => typeof a === 'string') &&
    typeof v.seed === 'string' &&
    /^\d+$/.test(v.seed) &&
    Number.isSafeInteger(v.startPosition) &&
    (v.startPosition ?? -1) >= 0;
  if (!ok) throw new UsageError(`resume file "${path}" is not a ferroscan resume file of version ${RESUME_VERSION}`);
  return v as ResumeState;
}

/** The saved command line without the options that only steer resuming itself. */
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
