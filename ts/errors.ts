// Typed errors of the library. Each carries a one-line message that names the offending
// input, so the CLI can print it as is and library users can tell input errors apart.

/** Base class: every error ferroscan raises on purpose. */
export class FerroscanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A target specification that is malformed or cannot be resolved. */
export class TargetError extends FerroscanError {
  constructor(message: string, readonly token: string) {
    super(message);
  }
}

/** A port specification that is malformed or out of range. */
export class PortError extends FerroscanError {
  constructor(message: string, readonly token: string) {
    super(message);
  }
}

/** A bad command-line option or option value. */
export class UsageError extends FerroscanError {}

/** The engine refused to start or failed; `code` is the engine's prefix (EPERM, EINVAL, EROUTE). */
export class ScanError extends FerroscanError {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/**
 * The scan was stopped through its AbortSignal. `name` is 'AbortError', as for fetch() and
 * the DOM, so `e.name === 'AbortError'` checks work; `cause` is the signal's reason.
 */
export class AbortError extends FerroscanError {
  constructor(message = 'the scan was aborted', options?: { cause?: unknown }) {
    super(message);
    if (options && 'cause' in options) this.cause = options.cause;
  }
}
