// How a scan's progress is shown: nmap's "Stats:" lines and a one-line live summary.
// Pure functions over a ScanProgress snapshot (ts/engine/progress.ts makes them), so
// everything here is tested without a scan.
import type { ScanProgress } from '../engine/progress.js';

/** A duration as nmap prints it: H:MM:SS ("0:00:05", "12:03:09"). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** A packet rate for people: "950", "12.3k", "1.20M". */
export function formatRate(rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)}M`;
  if (rate >= 1e4) return `${(rate / 1e3).toFixed(1)}k`;
  return String(Math.round(rate));
}

export interface StatsContext {
  /** nmap's name of the technique: "SYN Stealth Scan". */
  title: string;
  /** Target addresses in all, and hosts seen up so far. */
  hosts: number;
  up: number;
  /** The wall clock, for the ETC (estimated time of completion). */
  now?: Date;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * nmap's status report (what a keypress or --stats-every prints), two lines:
 * "Stats: 0:00:05 elapsed; 1 host (1 up) undergoing SYN Stealth Scan; 3 open ports found"
 * "SYN Stealth Scan Timing: About 45.00% done; ETC: 02:10 (0:00:06 remaining)"
 */
export function formatStats(p: ScanProgress, ctx: StatsContext): string {
  const now = ctx.now ?? new Date();
  const first = `Stats: ${formatDuration(p.elapsedSeconds)} elapsed; ${plural(ctx.hosts, 'host')} (${ctx.up} up) undergoing ${ctx.title}; ${plural(p.found, 'open port')} found\n`;
  let timing = `${ctx.title} Timing: About ${p.percent.toFixed(2)}% done`;
  if (p.etaSeconds !== undefined && p.sent > 0) {
    const etc = new Date(now.getTime() + p.etaSeconds * 1000);
    const hhmm = `${String(etc.getHours()).padStart(2, '0')}:${String(etc.getMinutes()).padStart(2, '0')}`;
    timing += `; ETC: ${hhmm} (${formatDuration(p.etaSeconds)} remaining)`;
  }
  return `${first}${timing}\n`;
}

/** ANSI styling for the live line; identity functions when colour is off. */
export interface Style {
  bold(s: string): string;
  green(s: string): string;
  dim(s: string): string;
}

const plain: Style = { bold: (s) => s, green: (s) => s, dim: (s) => s };
const ansi: Style = {
  bold: (s) => `\x1b[1m${s}\x1b[22m`,
  green: (s) => `\x1b[32m${s}\x1b[39m`,
  dim: (s) => `\x1b[2m${s}\x1b[22m`,
};

/** The styling to use: colours only on a terminal, never with NO_COLOR set (no-color.org) or TERM=dumb. */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return stream.isTTY === true && !noColor && env.TERM !== 'dumb' ? ansi : plain;
}

/** The live progress line: " 45.00% done | 10.0k pkt/s | ETA 0:00:06 | 3 found | 12345/27000 probes". */
export function formatProgressLine(p: ScanProgress, style: Style = plain): string {
  const eta = p.etaSeconds === undefined ? '--:--:--' : formatDuration(p.etaSeconds);
  const sep = style.dim(' | ');
  return [
    style.bold(`${p.percent.toFixed(2).padStart(6)}% done`),
    `${formatRate(p.rate)} pkt/s`,
    `ETA ${eta}`,
    style.green(`${p.found} found`),
    `${p.sent - p.retransmits}/${p.total} probes`,
  ].join(sep);
}
