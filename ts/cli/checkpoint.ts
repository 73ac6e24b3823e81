// The CLI's resume checkpoints. While a resumable scan runs, every few seconds (and once more
// when it is interrupted) the resume file is rewritten with the settled position, the
// journal's length and where each output file stands, all taken at one instant of the JS
// thread, so they agree: every probe below the position has its record in the journal, and
// every host the files hold is marked written in it. A run killed outright (kill -9) thus
// loses at most one period; `--resume` cuts the journal and each file back to the recorded
// lengths, replays the journal and scans from the position: every host is written once.
// A scan that finishes removes both files; a failed one puts back what it resumed from.
//
// The position is the engine's settled cursor (engine.cursor()): every probe below it is
// settled and its record is in a batch JS has already taken, and JS takes each batch whole
// before a timer can run, so the journal holds every record below it.
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { NativeScan, NativeSummary } from '../engine/native.js';
import { ResumeJournal } from '../engine/resume-journal.js';
import { CHECKPOINT_MS, continueCommand, DEFAULT_RESUME_FILE, fileFingerprint, resumableArgv, resumeFileOwner, RESUME_VERSION, writeResumeFile, type ResumeOutput, type ResumeState } from '../engine/resume.js';
import type { ContinuedOutput, OutputMark, Outputs, OutputTarget } from '../output/outputs.js';
import { errnoReason, targetKind } from '../output/paths.js';
import { PRODUCT } from '../version.js';
import { currentDrop } from '../engine/privilege.js';
import { escapeText } from '../output/escape.js';

export interface CheckpointOptions {
  argv: readonly string[];
  seed: bigint;
  /** --resume-file, when given. */
  resumeFile: string | undefined;
  /** Why the run cannot be resumed (several techniques, several routes, -sn); undefined when it can. */
  notResumable: string | undefined;
  /** The state this run resumes, if any. */
  resumed?: ResumeState;
  /** The position the port scan starts from (resumed runs). */
  startPosition: number;
  /** Host discovery runs first (no -Pn). */
  discovery: boolean;
}

export class Checkpoints {
  readonly file: string;
  readonly journal: ResumeJournal | undefined;
  private timer: NodeJS.Timeout | undefined;
  private phase: 'discovery' | 'ports';
  private engine: NativeScan | undefined;
  private unwritable: string | undefined;
  private readonly t0 = performance.now();
  private written = false;

  private constructor(
    private readonly options: CheckpointOptions,
    private readonly outputs: Outputs,
  ) {
    this.file = resolve(options.resumeFile ?? DEFAULT_RESUME_FILE);
    this.phase = options.resumed?.phase === 'ports' || !options.discovery ? 'ports' : 'discovery';
    if (options.notResumable === undefined) {
      const keep = options.resumed?.phase === 'ports' ? (options.resumed.journal?.length ?? 0) : 0;
      this.journal = new ResumeJournal(options.resumed?.journal?.file ?? `${this.file}.journal`, keep);
    }
  }

  /**
   * Checks the resume file's path before the first packet: a bad --resume-file is a
   * UsageError; a default one that cannot be written only means the run is not resumable
   * (said when it is interrupted).
   */
  static open(options: CheckpointOptions, outputs: Outputs): Checkpoints {
    const c = new Checkpoints(options, outputs);
    try {
      targetKind(c.file, 'resume');
      targetKind(`${c.file}.journal`, 'resume journal');
    } catch (e) {
      if (options.resumeFile !== undefined) throw e;
      c.unwritable = e instanceof UsageError ? e.message : errnoReason(e);
    }
    return c;
  }

  get enabled(): boolean {
    return this.options.notResumable === undefined && this.unwritable === undefined;
  }

  /** Starts the periodic checkpoints. */
  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => this.tick(), CHECKPOINT_MS);
    this.timer.unref();
  }

  /** The port scan's engine has started (discovery, if any, is over). */
  portScanStarted(engine: NativeScan): void {
    this.phase = 'ports';
    this.engine = engine;
  }

  /** Host discovery is over (or skipped): a resumed run need not run it again. */
  discoveryDone(): void {
    this.phase = 'ports';
  }

  /** One periodic checkpoint. */
  tick(): void {
    if (!this.enabled) return;
    const position = this.position();
    this.save(position, this.outputs.marks(), false);
  }

  /**
   * The interrupted run's last checkpoint: `marks` were taken before the partial hosts and
   * the closing lines were written, `summary` is the stopped engine's (its records all
   * handed over). Says on stderr how to continue, or why the run cannot be continued.
   */
  interrupted(marks: OutputMark[], summary: NativeSummary | undefined): void {
    this.stop();
    if (this.options.notResumable !== undefined) {
      process.stderr.write(`${PRODUCT}: interrupted; ${this.options.notResumable}\n`);
      return;
    }
    const position = this.phase === 'discovery' ? 0 : (summary?.resumePosition ?? this.options.startPosition);
    if (this.unwritable === undefined && this.save(position, marks, true)) {
      process.stderr.write(`${PRODUCT}: interrupted; to continue: ${PRODUCT} --resume ${escapeText(this.options.resumeFile ?? DEFAULT_RESUME_FILE)}\n`);
      return;
    }
    // No resume file: the command line, seed and position continue the scan all the same
    // (the output files start afresh).
    const command = continueCommand(PRODUCT, this.options.argv, this.options.seed.toString(), position);
    process.stderr.write(`${PRODUCT}: interrupted; ${this.unwritable ?? 'no resume file'}; to continue: ${escapeText(command)}\n`);
  }

  /** The scan finished: nothing is left to resume. */
  finished(): void {
    this.stop();
    if (this.unwritable !== undefined && resumeFileOwner(this.file) !== undefined) return;
    this.journal?.remove();
    if (this.written || this.options.resumed) remove(this.file);
  }

  /** The run failed: the resume file of the run it resumed is put back; its own is removed. */
  failed(): void {
    this.stop();
    this.journal?.close();
    if (this.options.resumed) {
      try {
        writeResumeFile(this.file, this.options.resumed);
      } catch {
        // left as the last checkpoint wrote it
      }
    } else {
      this.journal?.remove();
      if (this.written) remove(this.file);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The settled position to record now. */
  private position(): number {
    if (this.phase === 'discovery') return 0;
    return this.engine ? this.engine.cursor() : this.options.startPosition;
  }

  private save(position: number, marks: OutputMark[], committed: boolean): boolean {
    if (!this.written) {
      // Another scan running in this directory keeps its resume file here: leave it be.
      const owner = resumeFileOwner(this.file);
      if (owner !== undefined) {
        this.unwritable = `"${this.file}" belongs to another running scan (pid ${owner}); give this one its own --resume-file`;
        this.stop();
        if (!committed) process.stderr.write(`${PRODUCT}: no resume checkpoints: ${this.unwritable}\n`);
        return false;
      }
    }
    try {
      const length = this.journal?.flush() ?? 0;
      const outputs: ResumeOutput[] = marks.map((m) => {
        const file = resolve(m.path);
        const writing = resolve(m.writing);
        const o: ResumeOutput = { format: m.format, path: m.path, file, writing, committed, offset: m.offset, fingerprint: fileFingerprint(committed ? file : writing, m.offset) };
        if (m.state) o.state = { ...m.state };
        return o;
      });
      const state: ResumeState = {
        version: RESUME_VERSION,
        argv: resumableArgv(this.options.argv),
        seed: this.options.seed.toString(),
        startPosition: position,
        phase: this.phase,
        ...(this.journal && { journal: { file: this.journal.file, length } }),
        outputs,
        elapsedSeconds: (this.options.resumed?.elapsedSeconds ?? 0) + (performance.now() - this.t0) / 1000,
        pid: process.pid,
      };
      writeResumeFile(this.file, state);
      this.written = true;
      return true;
    } catch (e) {
      // Checkpoints stop here; the scan goes on, and an interrupt prints the command that
      // continues it. Typically the account root was given up to (ts/engine/privilege.ts)
      // may not write where the resume file lives.
      const who = currentDrop();
      const code = (e as NodeJS.ErrnoException).code ?? errnoReason(e);
      this.unwritable = `cannot write the resume file "${this.options.resumeFile ?? DEFAULT_RESUME_FILE}" (${code}${who ? `, running as uid ${who.uid}` : ''})`;
      this.stop();
      this.journal?.close();
      return false;
    }
  }
}

function remove(path: string): void {
  try {
    if (existsSync(path)) unlinkSync(path);
  } catch {
    // nothing to undo
  }
}

/**
 * The files a resumed run goes on with: the output targets with the interrupted run's file
 * names (absolute, so that a run resumed from another directory writes the same files), and
 * for each one the file to continue (undefined: start afresh, for stdout and for targets the
 * state does not know). Targets pair with the state's files in order (the command line is the
 * same), format by format. Each is the interrupted run's NAME.part, or NAME once that run had
 * closed it, checked to be at least as long as recorded and to begin with the same bytes; a
 * file that changed since is a UsageError, before any packet.
 */
export function continuedOutputs(targets: readonly OutputTarget[], state: ResumeState): { targets: OutputTarget[]; continued: (ContinuedOutput | undefined)[] } {
  const left = [...state.outputs];
  const out: OutputTarget[] = [];
  const continued = targets.map((t) => {
    const i = t.path === '-' ? -1 : left.findIndex((o) => o.format === t.format);
    if (i < 0) {
      out.push(t);
      return undefined;
    }
    const [o] = left.splice(0, i + 1).slice(-1);
    out.push({ format: t.format, path: o.file });
    const candidates = o.committed ? [o.file, o.writing] : [o.writing, o.file];
    for (const source of candidates) {
      let size = -1;
      try {
        size = statSync(source).size;
      } catch {
        continue;
      }
      if (size >= o.offset && fileFingerprint(source, o.offset) === o.fingerprint) return { source, offset: o.offset, ...(o.state && { state: o.state }) };
    }
    throw new UsageError(`cannot resume: the output file "${o.file}" is missing or has changed since the interrupted run`);
  });
  return { targets: out, continued };
}
