// The one line the CLI prints for any error (after "ferroscan: "), never a stack trace.
import { FerroscanError, ScanError } from '../errors.js';

/** The one line printed for an error: ours as is, the engine's EPERM explained. */
export function errorLine(e: unknown): string {
  if (e instanceof ScanError && e.code === 'EPERM') {
    return 'raw sockets are not permitted: this scan type needs root or CAP_NET_RAW (the connect scan, -sT, does not)';
  }
  if (e instanceof FerroscanError) return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0];
}
