// The CLI's status display on stderr while a scan runs: on a terminal, a live progress line
// (log-update) redrawn a few times a second; otherwise nmap-style "Stats:" lines every few
// seconds; and, when stdin is a terminal, the Stats lines on any keypress, as nmap does.
// Every timer is unref'd and stop() undoes everything, so a finished scan exits by itself.
import type { createLogUpdate } from 'log-update';
import { UsageError } from '../errors.js';
import { formatProgressLine, formatStats, styleFor, type StatsContext } from './progress.js';
import type { ScanProgress } from '../engine/progress.js';

/** Stats lines every this many seconds when stderr is not a terminal and --stats-every is not given. */
export const DEFAULT_STATS_EVERY_S = 10;
/** Redraws of the live line per second. */
const LIVE_INTERVAL_MS = 250;

/** The parts of stderr the reporter uses. */
export interface StatusOutput {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  write(text: string): unknown;
}

/** The parts of stdin the reporter uses for keypresses. */
export interface KeyInput {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  off(event: 'data', listener: (data: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface StatusOptions {
  /** Current progress and the facts the Stats lines name. */
  progress(): ScanProgress;
  context(): StatsContext;
  /** Where the display goes (process.stderr). */
  output?: StatusOutput;
  /** Keypresses (process.stdin); ignored unless it is a terminal. */
  input?: KeyInput;
  /** --stats-every in seconds: Stats lines at this period, on a terminal too. */
  statsEvery?: number;
  /** Called for Ctrl-C while stdin is in raw mode (the terminal sends no SIGINT then). */
  onInterrupt?(): void;
  env?: NodeJS.ProcessEnv;
}

/** Parses nmap's time values: "10", "10s", "500ms", "2m", "1h"; returns seconds. */
export function parseTimeSpec(text: string, option = '--stats-every'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  const seconds = m ? Number(m[1]) * unit[m[2] ?? 's'] : NaN;
  if (!(seconds > 0)) throw new UsageError(`invalid ${option} "${text}" (a time such as 10s, 500ms or 2m)`);
  return seconds;
}

let liveFactory: typeof createLogUpdate | undefined;

/**
 * Loads the live-line library. Only a terminal needs it, and it weighs some megabytes, so it
 * is loaded on demand: call this before start() when the live line may be shown.
 */
export async function loadLiveLine(): Promise<void> {
  liveFactory ??= (await import('log-update')).createLogUpdate;
}

export class StatusReporter {
  private readonly output: StatusOutput;
  private readonly input: KeyInput | undefined;
  private live: ReturnType<typeof createLogUpdate> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private rawMode = false;
  private stopped = false;
  private readonly onKey = (data: Buffer): void => {
    if (data.includes(0x03)) this.options.onInterrupt?.();
    else this.printStats();
  };

  constructor(private readonly options: StatusOptions) {
    this.output = options.output ?? process.stderr;
    this.input = options.input ?? process.stdin;
  }

  /** Whether the live line is shown: stderr is a terminal that understands cursor movement. */
  get isLive(): boolean {
    const env = this.options.env ?? process.env;
    return this.output.isTTY === true && env.TERM !== 'dumb';
  }

  start(): void {
    if (this.isLive && liveFactory) {
      // log-update needs only write, isTTY and the size; a terminal that reports no size
      // (a pty nobody sized: 0x0) would make it clip every frame away, so fall back to 80x24.
      // The cursor stays visible, so an interrupted run never leaves it hidden.
      const out = this.output;
      const view = {
        isTTY: true,
        get columns(): number {
          return out.columns || 80;
        },
        get rows(): number {
          return out.rows || 24;
        },
        write: (text: string): unknown => out.write(text),
      };
      this.live = liveFactory(view as unknown as NodeJS.WriteStream, { showCursor: true });
      this.every(LIVE_INTERVAL_MS, () => this.render());
      this.render();
    }
    const statsEvery = this.options.statsEvery ?? (this.isLive ? undefined : DEFAULT_STATS_EVERY_S);
    if (statsEvery !== undefined) this.every(statsEvery * 1000, () => this.printStats());
    if (this.input?.isTTY && this.input.setRawMode) {
      this.input.setRawMode(true);
      this.rawMode = true;
      this.input.on('data', this.onKey);
      this.input.resume();
    }
  }

  /** Runs `write` (output to stdout) with the live line lifted out of the way. */
  around(write: () => void): void {
    if (!this.live || this.stopped) return write();
    this.live.clear();
    write();
    this.render();
  }

  /** nmap's Stats lines, now (a keypress, or the --stats-every period). */
  printStats(): void {
    if (this.stopped) return;
    const text = formatStats(this.options.progress(), this.options.context());
    if (this.live) this.live.clear();
    this.output.write(text);
    if (this.live) this.render();
  }

  /** Removes the live line, stops every timer and gives the terminal back. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.live) {
      this.live.clear();
      this.live.done();
    }
    if (this.rawMode && this.input) {
      this.input.off('data', this.onKey);
      this.input.setRawMode?.(false);
      this.input.pause();
      this.rawMode = false;
    }
  }

  private render(): void {
    if (!this.live || this.stopped) return;
    this.live(formatProgressLine(this.options.progress(), styleFor(this.output, this.options.env ?? process.env)));
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
}
