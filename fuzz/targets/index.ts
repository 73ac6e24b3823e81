// The fuzz targets of the TypeScript layer, by name: each wraps one parser of text that
// comes from the user or from a file, with the parser's documented error class allowed
// and everything else (another exception, a broken invariant) a crash.

export interface FuzzTarget {
  /** Longest input tried (bytes). */
  maxLen: number;
  /** An input running longer than this is a hang (default: run.ts's --timeout, 2 s). */
  timeoutMs?: number;
  /** Words of the grammar, for the mutator. */
  dictionary: readonly string[];
  /** Runs one input; throws only on a bug (documented errors are caught inside). */
  run(input: Buffer): void | Promise<void>;
}

const TARGETS: Record<string, () => Promise<{ target: FuzzTarget }>> = {
  targets: () => import('./targets.js'),
  ports: () => import('./ports.js'),
  resume: () => import('./resume.js'),
  services: () => import('./services.js'),
  payloads: () => import('./payloads.js'),
};

export const TARGET_NAMES = Object.keys(TARGETS);

export async function loadTarget(name: string): Promise<FuzzTarget> {
  const load = TARGETS[name];
  if (!load) throw new Error(`no fuzz target "${name}" (targets: ${TARGET_NAMES.join(', ')})`);
  return (await load()).target;
}

/** A broken invariant: always a crash. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

/** Rethrows `e` unless it is one of the documented error classes. */
export function allow(e: unknown, ...classes: (abstract new (...args: never[]) => Error)[]): void {
  if (!classes.some((c) => e instanceof c)) throw e;
}
