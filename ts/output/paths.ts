// Output paths, checked before the first packet: what a name refers to (a new or existing
// regular file, replaced by a rename from NAME.part; or a special file such as /dev/stdout,
// written directly), and the errors that stop a run at once, in words. Also used for the
// resume file, which is replaced the same way.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';

/** The file a regular output file is written to until the run ends. */
export const partPath = (path: string): string => `${path}.part`;

const REASONS: Record<string, string> = {
  ENOENT: 'no such directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  ENOTDIR: 'not a directory',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EEXIST: 'file exists',
};

/** A file system error in a few words. */
export function errnoReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return (err.code && REASONS[err.code]) ?? err.message?.split('\n')[0] ?? String(e);
}

/**
 * What `path` is for writing: 'special' (an existing device, FIFO or socket: written in
 * place) or 'file' (a regular file, new or to be replaced). Throws a UsageError naming the
 * file when it cannot be written: a directory, a missing or unwritable directory.
 */
export function targetKind(path: string, what: string): 'special' | 'file' {
  const fail = (reason: string): never => {
    throw new UsageError(`cannot open ${what} file "${path}" for writing: ${reason}`);
  };
  if (path === '') fail('empty file name');
  let kind: 'special' | 'file' = 'file';
  try {
    const st = statSync(path);
    if (st.isDirectory()) fail('is a directory');
    if (!st.isFile()) kind = 'special';
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') fail(errnoReason(e));
  }
  try {
    if (kind === 'special') accessSync(path, constants.W_OK);
    else {
      const dir = dirname(path);
      if (!statSync(dir).isDirectory()) fail('not a directory');
      accessSync(dir, constants.W_OK | constants.X_OK);
      try {
        if (statSync(partPath(path)).isDirectory()) fail(`"${partPath(path)}" is a directory`);
      } catch (e) {
        if (e instanceof UsageError) throw e;
      }
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    fail(errnoReason(e));
  }
  return kind;
}
