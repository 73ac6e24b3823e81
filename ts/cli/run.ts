// The executable's entry (bin/ferroscan.js): runs main() with a buffered stdout, turns any
// error into one "ferroscan: ..." line on stderr and exit status 1, and a closed pipe into a
// quiet exit.
import { PRODUCT } from '../version.js';
import { errorLine } from './error-line.js';
import { main } from './main.js';

/**
 * Standard output as C's stdio has it, and as nmap's output reaches a pipe or a file:
 * line by line on a terminal, in blocks otherwise (a /16 sweep prints 65,536 host reports;
 * one write each was a fifth of the run). A block waits at most 200 ms, and whatever is
 * pending goes out at exit, also on process.exit.
 */
function stdoutWriter(): { write: (s: string) => void; flush: () => void } {
  if (process.stdout.isTTY) return { write: (s) => void process.stdout.write(s), flush: () => {} };
  let chunks: string[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (size === 0) return;
    const text = chunks.join('');
    chunks = [];
    size = 0;
    process.stdout.write(text);
  };
  process.once('exit', flush);
  return {
    write: (s: string): void => {
      chunks.push(s);
      size += s.length;
      if (size >= 1 << 16) flush();
      else timer ??= setTimeout(flush, 200).unref();
    },
    flush,
  };
}

/** Entry point for bin/ferroscan.js. */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // A closed pipe (ferroscan ... | head) is not an error worth a trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const stdout = stdoutWriter();
  try {
    process.exitCode = await main(argv, stdout.write);
  } catch (e) {
    stdout.flush();
    process.stderr.write(`${PRODUCT}: ${errorLine(e)}\n`);
    process.exitCode = 1;
  } finally {
    stdout.flush();
  }
}
