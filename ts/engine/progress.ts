// Progress of a running scan, computed from the engine's counters (polled, never pushed per
// packet): the snapshot handed to `progress` listeners and the small stateful meter that makes
// it. How a snapshot is shown (Stats lines, the live line) is the CLI's (ts/cli/progress.ts).

/** A snapshot of a scan's progress, as handed to `progress` listeners. */
export interface ScanProgress {
  /** Probes sent so far, retransmissions included. */
  sent: number;
  /** Retransmissions among `sent`. */
  retransmits: number;
  /** Valid replies received (cookie checked), duplicates included. */
  received: number;
  /** Probes to send in all, first sends only: addresses × ports. */
  total: number;
  /** Percent of first probes sent, 0..100; 100 only once the scan has finished. */
  percent: number;
  /** Packets per second sent over the last sampling interval. */
  rate: number;
  /** Seconds since the engine started. */
  elapsedSeconds: number;
  /** Estimated seconds until the last first probe leaves; undefined until it can be estimated. */
  etaSeconds: number | undefined;
  /** Ports found open (or open|filtered) so far. */
  found: number;
  /** True once the engine has stopped. */
  finished: boolean;
}

/** The engine counters a progress snapshot is computed from (a subset of the native summary). */
export interface ProgressCounters {
  sent: number;
  retransmits: number;
  received: number;
  total: number;
  elapsedMs: number;
  finished: boolean;
}

/** Rates closer together than this reuse the previous rate: too few packets to measure. */
const MIN_RATE_WINDOW_S = 0.05;

/**
 * Turns successive engine counters into progress snapshots: keeps the previous sample to
 * measure the current packet rate.
 */
export class ProgressMeter {
  private lastSeconds = 0;
  private lastSent = 0;
  private lastRate = 0;

  sample(counters: ProgressCounters, found: number): ScanProgress {
    const elapsedSeconds = counters.elapsedMs / 1000;
    const firsts = Math.max(0, counters.sent - counters.retransmits);
    const dt = elapsedSeconds - this.lastSeconds;
    if (dt >= MIN_RATE_WINDOW_S) {
      this.lastRate = Math.max(0, counters.sent - this.lastSent) / dt;
      this.lastSeconds = elapsedSeconds;
      this.lastSent = counters.sent;
    }
    let percent: number;
    if (counters.total <= 0) percent = counters.finished ? 100 : 0;
    // An aborted scan ends with probes unsent: its last percent says how far it got.
    else if (counters.finished) percent = firsts >= counters.total ? 100 : (firsts / counters.total) * 100;
    // Replies to the last probes are still awaited after every first send: never claim 100%.
    else percent = Math.min(99.99, (firsts / counters.total) * 100);
    let etaSeconds: number | undefined;
    if (counters.finished) etaSeconds = 0;
    else if (firsts > 0 && elapsedSeconds > 0) {
      const remaining = Math.max(0, counters.total - firsts);
      etaSeconds = remaining / (firsts / elapsedSeconds);
    }
    return {
      sent: counters.sent,
      retransmits: counters.retransmits,
      received: counters.received,
      total: counters.total,
      percent,
      rate: this.lastRate,
      elapsedSeconds,
      etaSeconds,
      found,
      finished: counters.finished,
    };
  }
}
