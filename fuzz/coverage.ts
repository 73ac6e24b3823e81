// V8 block coverage of the project's own code, as the fuzzer's feedback: which blocks of
// ts/ an execution (or a batch of them) reached. Read through the inspector protocol
// (Profiler.startPreciseCoverage with callCount and detailed: per-block counters, reset by
// every take) from the thread that runs the parsers.
//
// V8 reports a function as nested ranges with counts, and drops a nested range whose count
// equals its parent's: a block that runs exactly as often as its function is not listed.
// So each block's coverage is resolved against every range ever seen for its function:
// a known block's count is the count of the innermost range reported now that contains it.
// A feature is "block B ran" (count > 0); features get small integer ids.
import { Session } from 'node:inspector';

interface Range {
  startOffset: number;
  endOffset: number;
  count: number;
}

interface FunctionCoverage {
  functionName: string;
  ranges: Range[];
}

interface ScriptCoverage {
  url: string;
  functions: FunctionCoverage[];
}

/** The blocks ever seen in one function, and their feature ids. */
interface KnownFunction {
  starts: number[];
  ends: number[];
  ids: number[];
  byKey: Map<string, number>;
}

export class BlockCoverage {
  private readonly session = new Session();
  private readonly known = new Map<string, KnownFunction>();
  private nextId = 0;

  /** `wanted(url)`: whose blocks count (the code under test, not the fuzzer or node). */
  constructor(private readonly wanted: (url: string) => boolean) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    this.take();
  }

  /** How many distinct blocks have been seen so far (covered or not). */
  get blocks(): number {
    return this.nextId;
  }

  // The in-thread session answers synchronously: the callback has run when post returns.
  private post(method: string, params?: object): unknown {
    let result: unknown;
    let error: Error | null = null;
    this.session.post(method, params ?? {}, (e, r) => {
      error = e;
      result = r;
    });
    if (error) throw error;
    return result;
  }

  /** The features reached since the last take (the counters restart at zero). */
  take(): number[] {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const out: number[] = [];
    for (const script of result) {
      if (!this.wanted(script.url)) continue;
      for (const fn of script.functions) {
        const r = fn.ranges;
        if (r.length === 0) continue;
        const key = `${script.url}#${r[0].startOffset}`;
        let k = this.known.get(key);
        if (!k) {
          k = { starts: [], ends: [], ids: [], byKey: new Map() };
          this.known.set(key, k);
        }
        for (const range of r) {
          const rk = `${range.startOffset}:${range.endOffset}`;
          if (!k.byKey.has(rk)) {
            k.byKey.set(rk, this.nextId);
            k.starts.push(range.startOffset);
            k.ends.push(range.endOffset);
            k.ids.push(this.nextId++);
          }
        }
        if (r[0].count === 0) continue;
        for (let b = 0; b < k.ids.length; b++) {
          // the innermost reported range around block b decides its count
          let count = 0;
          let width = Infinity;
          for (const range of r) {
            if (range.startOffset <= k.starts[b] && k.ends[b] <= range.endOffset && range.endOffset - range.startOffset < width) {
              width = range.endOffset - range.startOffset;
              count = range.count;
            }
          }
          if (count > 0) out.push(k.ids[b]);
        }
      }
    }
    return out;
  }
}
