// The one line the CLI prints for any error (after "ferroscan: "), never a stack trace, and
// never a raw control byte: messages quote what the user typed or a file held, so they are
// escaped as every screen line is (ts/output/escape.ts).
import { FerroscanError, ScanError } from '../errors.js';
import { escapeText } from '../output/escape.js';

/** The one line printed for an error: ours as is, the engine's without its code, EPERM explained; escaped. */
export function errorLine(e: unknown): string {
  if (e instanceof ScanError && e.code === 'EPERM') {
    return 'raw sockets are not permitted: this scan type needs root or CAP_NET_RAW (the connect scan, -sT, does not)';
  }
  // The engine's messages start with a code for programs ("EIO: ..."); people get the words.
  if (e instanceof ScanError) return escapeText(e.message.replace(/^[A-Z]+:\s*/, '').replace(/ \(os error \d+\)/g, ''));
  if (e instanceof FerroscanError) return escapeText(e.message);
  const message = e instanceof Error ? e.message : String(e);
  return escapeText(message.split('\n')[0]);
}
